//! The incident catalogue: the closed set of root causes the built-in reasoner scores, the
//! signals that speak for or against each, and the runbook that fixes it. It is data
//! (`catalogue.toml`, embedded in the binary) so a reviewer can read every likelihood ratio.
//!
//! Loading must never panic on a bad file: every problem is an [`IncidentError::Catalogue`]
//! that names the cause or signal and the field.

use std::collections::{BTreeMap, BTreeSet};

use ooda_core::Severity;
use serde::Deserialize;

use crate::IncidentError;

/// The catalogue shipped with ooda.
pub const EMBEDDED: &str = include_str!("../catalogue.toml");

/// Which side of its band a metric must be on for a metric signal to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    High,
    Low,
}

/// How evidence becomes a named signal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalRule {
    pub id: String,
    /// Substrings of metric names (lower case).
    #[serde(default)]
    pub metric: Vec<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Substrings of log templates (lower case).
    #[serde(default)]
    pub log: Vec<String>,
    /// A symptom nearly every fault produces (slow responses): a cause that does not list it is
    /// not less likely for it, so it never costs the "unexplained" ratio.
    #[serde(default)]
    pub generic: bool,
}

/// The name ending that marks a fill-rate reading (see `responder::fill_rate_name`).
pub const FILL_RATE: &str = "_fill_rate";

impl SignalRule {
    /// Whether a metric (lower case) feeds this rule. A fill rate ("disk climbs 2 %/h") only
    /// matches fill-rate patterns and anything else only the other patterns, whatever words the
    /// two names share: `disk_used_pct_fill_rate_per_hour` must never read as a full disk.
    fn matches_metric(&self, name: &str) -> bool {
        let rate = name.contains(FILL_RATE);
        self.metric
            .iter()
            .any(|m| m.contains(FILL_RATE) == rate && name.contains(m.as_str()))
    }
}

/// One candidate root cause.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The runbook id that fixes it.
    pub runbook: String,
    /// Base rate among incidents, before any evidence.
    pub prior: f64,
    /// Words that, in an alert's text, suggest this cause (classification and search).
    pub keywords: Vec<String>,
    /// Signal → likelihood ratio when the signal is observed.
    pub supports: BTreeMap<String, f64>,
    /// Signal → likelihood ratio when a probe looked for the signal and did not find it.
    #[serde(default)]
    pub expects: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    cause: Vec<Cause>,
    signal: Vec<SignalRule>,
}

/// Signals that come from probes other than metrics and logs; always known.
pub const BUILT_IN_SIGNALS: &[&str] = &[
    "change.recent_deploy",
    "change.recent_patch",
    "change.recent_config",
    "maintenance.open",
    "topology.upstream_unhealthy",
    "topology.downstream_unhealthy",
    "cmdb.class.database",
    "cmdb.class.web",
];

/// The loaded, validated catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    causes: Vec<Cause>,
    signals: Vec<SignalRule>,
}

impl Catalogue {
    /// The catalogue shipped in the binary. It is validated by this crate's tests, so a failure
    /// here is a build defect; it still returns an error rather than panicking.
    pub fn embedded() -> Result<Self, IncidentError> {
        Self::parse(EMBEDDED)
    }

    pub fn parse(text: &str) -> Result<Self, IncidentError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|e| IncidentError::Catalogue {
            field: "catalogue".into(),
            reason: e.message().to_owned(),
        })?;
        let catalogue = Self {
            causes: file.cause,
            signals: file.signal,
        };
        catalogue.validate()?;
        Ok(catalogue)
    }

    fn validate(&self) -> Result<(), IncidentError> {
        let bad = |field: String, reason: String| Err(IncidentError::Catalogue { field, reason });
        let mut known: BTreeSet<&str> = BUILT_IN_SIGNALS.iter().copied().collect();
        for (i, rule) in self.signals.iter().enumerate() {
            if !known.insert(rule.id.as_str()) {
                return bad(
                    format!("signal[{i}].id"),
                    format!("duplicate signal {:?}", rule.id),
                );
            }
            let is_metric = !rule.metric.is_empty();
            let is_log = !rule.log.is_empty();
            if is_metric == is_log {
                return bad(
                    format!("signal[{i}] ({})", rule.id),
                    "expected exactly one of `metric` or `log`".into(),
                );
            }
            if is_metric && rule.direction.is_none() {
                return bad(
                    format!("signal[{i}].direction ({})", rule.id),
                    "a metric signal needs `direction = \"high\"` or `\"low\"`".into(),
                );
            }
        }
        let mut ids = BTreeSet::new();
        for (i, cause) in self.causes.iter().enumerate() {
            if !ids.insert(cause.id.as_str()) {
                return bad(
                    format!("cause[{i}].id"),
                    format!("duplicate cause {:?}", cause.id),
                );
            }
            if !(cause.prior > 0.0 && cause.prior < 1.0) {
                return bad(
                    format!("cause[{i}].prior ({})", cause.id),
                    format!("expected a probability in (0, 1), found {}", cause.prior),
                );
            }
            for (table, ratios) in [("supports", &cause.supports), ("expects", &cause.expects)] {
                for (signal, ratio) in ratios {
                    if !known.contains(signal.as_str()) {
                        return bad(
                            format!("cause[{i}].{table}.{signal} ({})", cause.id),
                            "unknown signal; declare it in a [[signal]] entry".into(),
                        );
                    }
                    if !(ratio.is_finite() && *ratio > 0.0) {
                        return bad(
                            format!("cause[{i}].{table}.{signal} ({})", cause.id),
                            format!("expected a positive likelihood ratio, found {ratio}"),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    pub fn causes(&self) -> &[Cause] {
        &self.causes
    }

    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|c| c.id == id)
    }

    pub fn signals(&self) -> &[SignalRule] {
        &self.signals
    }

    /// Signals that a metric named `metric` with `value` outside `[low, high]` produces.
    pub fn metric_signals(&self, metric: &str, value: f64, low: f64, high: f64) -> Vec<&str> {
        let name = metric.to_ascii_lowercase();
        self.signals
            .iter()
            .filter(|rule| rule.matches_metric(&name))
            .filter(|rule| match rule.direction {
                Some(Direction::High) => value > high,
                Some(Direction::Low) => value < low,
                None => false,
            })
            .map(|rule| rule.id.as_str())
            .collect()
    }

    /// The metric signals a metric named `metric` could ever produce (in or out of band): a
    /// probe that returned this metric in band has *looked* for them.
    pub fn metric_signals_watched(&self, metric: &str) -> Vec<&str> {
        let name = metric.to_ascii_lowercase();
        self.signals
            .iter()
            .filter(|rule| rule.matches_metric(&name))
            .map(|rule| rule.id.as_str())
            .collect()
    }

    /// Log signals a log template produces.
    pub fn log_signals(&self, template: &str) -> Vec<&str> {
        let text = template.to_ascii_lowercase();
        self.signals
            .iter()
            .filter(|rule| rule.log.iter().any(|l| text.contains(l.as_str())))
            .map(|rule| rule.id.as_str())
            .collect()
    }

    /// Whether `signal` is a generic symptom (see [`SignalRule::generic`]).
    pub fn is_generic(&self, signal: &str) -> bool {
        self.signals.iter().any(|r| r.generic && r.id == signal)
    }

    /// All log signal ids (a log probe that answered has looked for all of them).
    pub fn log_signal_ids(&self) -> impl Iterator<Item = &str> {
        self.signals
            .iter()
            .filter(|rule| !rule.log.is_empty())
            .map(|rule| rule.id.as_str())
    }

    /// Classification by keywords alone: the cause whose keywords best cover `text`, with the
    /// number of keyword hits. Used by triage before any evidence is in.
    pub fn classify_text(&self, text: &str) -> Option<(&Cause, usize)> {
        let words: BTreeSet<String> = tokens(text).collect();
        self.causes
            .iter()
            .map(|cause| {
                let hits = cause
                    .keywords
                    .iter()
                    .filter(|k| words.contains(k.as_str()))
                    .count();
                (cause, hits)
            })
            .filter(|(_, hits)| *hits > 0)
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.id.cmp(&a.0.id)))
    }
}

/// Lower-case alphanumeric words of `text` (underscores split words, so `disk_used_pct` gives
/// `disk`, `used`, `pct`).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_loads_with_twenty_causes() {
        let catalogue = Catalogue::embedded().unwrap();
        assert_eq!(catalogue.causes().len(), 20);
        assert!(catalogue.cause("disk_full").is_some());
    }

    #[test]
    fn metric_and_log_signals_are_derived() {
        let catalogue = Catalogue::embedded().unwrap();
        assert_eq!(
            catalogue.metric_signals("node_disk_used_pct", 97.0, 0.0, 85.0),
            vec!["metric.disk_used.high"]
        );
        assert!(catalogue
            .metric_signals("node_disk_used_pct", 50.0, 0.0, 85.0)
            .is_empty());
        assert_eq!(
            catalogue.log_signals("write /var/tmp/x: No space left on device"),
            vec!["log.no_space"]
        );
    }

    #[test]
    fn bad_catalogues_name_the_field() {
        let text = r#"
            [[cause]]
            id = "x"
            title = "X"
            severity = "warning"
            runbook = "x"
            prior = 0.1
            keywords = []
            supports = { "metric.nope.high" = 2.0 }
            [[signal]]
            id = "log.a"
            log = ["a"]
        "#;
        let err = Catalogue::parse(text).unwrap_err().to_string();
        assert!(err.contains("cause[0].supports.metric.nope.high"), "{err}");
        let err = Catalogue::parse("cause = 3").unwrap_err().to_string();
        assert!(err.contains("catalogue"), "{err}");
    }

    #[test]
    fn keyword_classification_picks_the_best_cover() {
        let catalogue = Catalogue::embedded().unwrap();
        let (cause, _) = catalogue
            .classify_text("filesystem /var almost full: disk space 97%")
            .unwrap();
        assert_eq!(cause.id, "disk_full");
        assert!(catalogue.classify_text("zzz qqq").is_none());
    }
}
