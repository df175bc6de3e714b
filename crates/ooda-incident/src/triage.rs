//! Triage: within a second of an alert, find similar past incidents (BM25 over alert text,
//! metric names and log templates), classify into the catalogue, set the severity, and decide
//! whether a runbook could apply or a human is needed at once.
//!
//! Triage never acts. Its decision is a first guess that evidence and the reasoner confirm or
//! overturn; an alert without a host is escalated here because nothing could be done to it.

use std::collections::{BTreeMap, BTreeSet};

use ooda_core::Severity;
use serde::{Deserialize, Serialize};

use crate::catalogue::{tokens, Catalogue};
use crate::lifecycle::Incident;
use crate::IncidentError;

/// A past incident as the similar-incident index holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastIncident {
    pub id: String,
    pub cause: Option<String>,
    /// Alert summaries, metric names and log templates, space separated.
    pub text: String,
    pub resolved: bool,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Similar {
    pub incident: String,
    pub cause: Option<String>,
    pub score: f32,
}

/// Full-text search over past incidents. Implementations: tantivy (feature `tantivy`, the
/// default) and [`Bm25Index`], a small in-crate index for builds without it.
pub trait SimilarIndex: Send + Sync {
    fn add(&mut self, incidents: &[PastIncident]) -> Result<(), IncidentError>;
    fn search(&self, text: &str, limit: usize) -> Result<Vec<Similar>, IncidentError>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The default index for this build.
pub fn default_index() -> Result<Box<dyn SimilarIndex>, IncidentError> {
    #[cfg(feature = "tantivy")]
    {
        Ok(Box::new(tantivy_index::TantivyIndex::new()?))
    }
    #[cfg(not(feature = "tantivy"))]
    {
        Ok(Box::new(Bm25Index::default()))
    }
}

/// Okapi BM25 (k1 = 1.2, b = 0.75) over an in-memory inverted index.
#[derive(Debug, Clone, Default)]
pub struct Bm25Index {
    docs: Vec<(PastIncident, usize)>,
    postings: BTreeMap<String, Vec<(usize, u32)>>,
    total_len: usize,
}

impl SimilarIndex for Bm25Index {
    fn add(&mut self, incidents: &[PastIncident]) -> Result<(), IncidentError> {
        for incident in incidents {
            let doc = self.docs.len();
            let mut freqs: BTreeMap<String, u32> = BTreeMap::new();
            let mut length = 0;
            for token in tokens(&incident.text) {
                *freqs.entry(token).or_default() += 1;
                length += 1;
            }
            for (token, freq) in freqs {
                self.postings.entry(token).or_default().push((doc, freq));
            }
            self.total_len += length;
            self.docs.push((incident.clone(), length));
        }
        Ok(())
    }

    fn search(&self, text: &str, limit: usize) -> Result<Vec<Similar>, IncidentError> {
        let n = self.docs.len() as f64;
        if n == 0.0 {
            return Ok(Vec::new());
        }
        let avg = self.total_len as f64 / n;
        let mut scores: BTreeMap<usize, f64> = BTreeMap::new();
        let query: BTreeSet<String> = tokens(text).collect();
        for token in &query {
            let Some(postings) = self.postings.get(token) else {
                continue;
            };
            let df = postings.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for (doc, freq) in postings {
                let tf = f64::from(*freq);
                let len = self.docs[*doc].1 as f64;
                let s = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / avg));
                *scores.entry(*doc).or_default() += s;
            }
        }
        let mut hits: Vec<(usize, f64)> = scores.into_iter().collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(hits
            .into_iter()
            .take(limit)
            .map(|(doc, score)| Similar {
                incident: self.docs[doc].0.id.clone(),
                cause: self.docs[doc].0.cause.clone(),
                score: score as f32,
            })
            .collect())
    }

    fn len(&self) -> usize {
        self.docs.len()
    }
}

#[cfg(feature = "tantivy")]
pub mod tantivy_index {
    //! The tantivy-backed index: an in-RAM index rebuilt from the history at start.

    use tantivy::collector::TopDocs;
    use tantivy::query::BooleanQuery;
    use tantivy::schema::{Field, Schema, Value, STORED, STRING, TEXT};
    use tantivy::{doc, Index, IndexReader, IndexWriter, TantivyDocument, Term};

    use super::{PastIncident, Similar, SimilarIndex};
    use crate::catalogue::tokens;
    use crate::IncidentError;

    fn index_error(e: tantivy::TantivyError) -> IncidentError {
        IncidentError::Index(e.to_string())
    }

    pub struct TantivyIndex {
        writer: IndexWriter,
        reader: IndexReader,
        id: Field,
        cause: Field,
        body: Field,
        count: usize,
    }

    impl TantivyIndex {
        pub fn new() -> Result<Self, IncidentError> {
            let mut schema = Schema::builder();
            let id = schema.add_text_field("id", STRING | STORED);
            let cause = schema.add_text_field("cause", STRING | STORED);
            let body = schema.add_text_field("body", TEXT);
            let index = Index::create_in_ram(schema.build());
            // One indexing thread: this shares a small box with the rest of the agent.
            let writer = index
                .writer_with_num_threads(1, 30_000_000)
                .map_err(index_error)?;
            let reader = index.reader().map_err(index_error)?;
            Ok(Self {
                writer,
                reader,
                id,
                cause,
                body,
                count: 0,
            })
        }
    }

    impl SimilarIndex for TantivyIndex {
        fn add(&mut self, incidents: &[PastIncident]) -> Result<(), IncidentError> {
            for incident in incidents {
                self.writer
                    .add_document(doc!(
                        self.id => incident.id.clone(),
                        self.cause => incident.cause.clone().unwrap_or_default(),
                        self.body => incident.text.clone(),
                    ))
                    .map_err(index_error)?;
            }
            self.writer.commit().map_err(index_error)?;
            self.reader.reload().map_err(index_error)?;
            self.count += incidents.len();
            Ok(())
        }

        fn search(&self, text: &str, limit: usize) -> Result<Vec<Similar>, IncidentError> {
            // Terms built from our own tokenizer (same split and case as tantivy's default), so
            // no alert text can inject query syntax.
            let terms: Vec<Term> = tokens(text)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|t| Term::from_field_text(self.body, &t))
                .collect();
            if terms.is_empty() || limit == 0 {
                return Ok(Vec::new());
            }
            let query = BooleanQuery::new_multiterms_query(terms);
            let searcher = self.reader.searcher();
            let hits = searcher
                .search(&query, &TopDocs::with_limit(limit))
                .map_err(index_error)?;
            let mut out = Vec::with_capacity(hits.len());
            for (score, address) in hits {
                let doc: TantivyDocument = searcher.doc(address).map_err(index_error)?;
                let get = |field| {
                    doc.get_first(field)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                let cause = get(self.cause);
                out.push(Similar {
                    incident: get(self.id),
                    cause: (!cause.is_empty()).then_some(cause),
                    score,
                });
            }
            Ok(out)
        }

        fn len(&self) -> usize {
            self.count
        }
    }
}

/// What triage decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum TriageDecision {
    /// A catalogue cause with a runbook fits: investigate, then decide by confidence.
    Runbook { runbook: String },
    /// Nothing ooda can do itself: investigate for the report, then hand to a human.
    Escalate { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub cause: Option<String>,
    pub severity: Severity,
    pub similar: Vec<Similar>,
    pub decision: TriageDecision,
}

/// Triage an incident: classify by keywords, then by the majority cause of similar incidents.
pub fn triage(
    incident: &Incident,
    catalogue: &Catalogue,
    index: &dyn SimilarIndex,
) -> Result<Triage, IncidentError> {
    let text = incident.text.join(" ");
    let similar = index.search(&text, 5)?;
    let by_keywords = catalogue.classify_text(&text).map(|(c, _)| c.id.clone());
    let by_history = {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &similar {
            if let Some(cause) = &s.cause {
                *votes.entry(cause.as_str()).or_default() += 1;
            }
        }
        votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| c.to_owned())
    };
    let cause = by_keywords.or(by_history);
    let cause_entry = cause.as_deref().and_then(|c| catalogue.cause(c));
    let severity = cause_entry
        .map(|c| c.severity.max(incident.severity))
        .unwrap_or(incident.severity);
    let decision = match (&incident.host, cause_entry) {
        (None, _) => TriageDecision::Escalate {
            reason: "the alert names no host: nothing can be acted on".into(),
        },
        (Some(_), Some(entry)) => TriageDecision::Runbook {
            runbook: entry.runbook.clone(),
        },
        (Some(_), None) => TriageDecision::Escalate {
            reason: "no catalogue cause matches the alert".into(),
        },
    };
    Ok(Triage {
        cause,
        severity,
        similar,
        decision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::clock::from_millis;
    use ooda_core::IncidentId;

    fn history() -> Vec<PastIncident> {
        vec![
            PastIncident {
                id: "a".into(),
                cause: Some("disk_full".into()),
                text: "filesystem /var 97% full disk_used_pct no space left on device".into(),
                resolved: true,
            },
            PastIncident {
                id: "b".into(),
                cause: Some("memory_leak".into()),
                text: "memory_used_pct high oom-kill java".into(),
                resolved: true,
            },
        ]
    }

    fn check(index: &mut dyn SimilarIndex) {
        index.add(&history()).unwrap();
        assert_eq!(index.len(), 2);
        let hits = index
            .search("disk_used_pct high on web-1: No space left", 5)
            .unwrap();
        assert_eq!(hits[0].incident, "a");
        assert_eq!(hits[0].cause.as_deref(), Some("disk_full"));
        assert!(index.search("\"(( AND OR:*", 5).unwrap().is_empty());
        assert!(index.search("", 5).unwrap().is_empty());
    }

    #[test]
    fn bm25_finds_the_similar_incident() {
        check(&mut Bm25Index::default());
    }

    #[cfg(feature = "tantivy")]
    #[test]
    fn tantivy_finds_the_similar_incident() {
        check(&mut tantivy_index::TantivyIndex::new().unwrap());
    }

    fn incident(host: Option<&str>, text: &str) -> Incident {
        let mut i = Incident::open(
            IncidentId::from_u128(9),
            host.map(str::to_owned),
            "t".into(),
            Severity::Warning,
            from_millis(0),
        );
        i.text.push(text.into());
        i
    }

    #[test]
    fn triage_classifies_sets_severity_and_escalates_hostless_alerts() {
        let catalogue = Catalogue::embedded().unwrap();
        let mut index = Bm25Index::default();
        index.add(&history()).unwrap();
        let t = triage(
            &incident(Some("web-1"), "disk_used_pct 97% filesystem full"),
            &catalogue,
            &index,
        )
        .unwrap();
        assert_eq!(t.cause.as_deref(), Some("disk_full"));
        assert_eq!(t.severity, Severity::Critical);
        assert_eq!(
            t.decision,
            TriageDecision::Runbook {
                runbook: "disk_full".into()
            }
        );
        let t = triage(&incident(None, "disk full"), &catalogue, &index).unwrap();
        assert!(matches!(t.decision, TriageDecision::Escalate { .. }));
        let t = triage(&incident(Some("x"), "zzz qqq"), &catalogue, &index).unwrap();
        assert!(matches!(t.decision, TriageDecision::Escalate { .. }));
    }
}
