//! The built-in reasoner: deterministic likelihood-ratio scoring of every catalogue cause
//! against the evidence, no network.
//!
//! For cause c: `score(c) = ln prior(c) + Σ ln LR(signal | c)` over the signals observed (from
//! `supports`), the expected signals looked for and not found (from `expects`), and every observed
//! *symptom* (a metric, log or topology signal) the cause does not list at all, which costs it the
//! "unexplained" ratio: a cause that cannot produce what is going wrong is less likely than one
//! that can. Without that term a cause with no evidence either way kept its whole prior against a
//! cause that explains the alert, so a lone clear signal (a filling disk) never reached the act
//! band however unambiguous it was. Context signals (CMDB class, deploys, maintenance) are not
//! symptoms and never cost anything, nor do generic symptoms nearly every fault produces (slow
//! responses: `generic = true` in the catalogue). Confidences are
//! a softmax over the scores of all causes plus an "unknown cause" that takes the remaining prior
//! mass and no evidence, divided by a temperature fitted on labelled scenarios
//! ([`crate::calibration`]). Every term is kept as a [`Contribution`] so a person can check the
//! arithmetic.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::Catalogue;
use crate::evidence::{Evidence, EvidenceRef, Observation};
use crate::reasoner::{
    Case, Contribution, Hypothesis, ProposedAction, ReasonFuture, Reasoner, Report, Tools,
};

/// The temperature measured by `calibration::tests::fit_and_report` on the generated scenarios
/// (see BENCHMARKS.md, "Incident response").
pub const DEFAULT_TEMPERATURE: f64 = 1.1;

/// The prior weight of "a cause the catalogue does not know", fitted with the temperature.
pub const DEFAULT_UNKNOWN_PRIOR: f64 = 0.05;

/// The ratio an observed symptom costs a cause that does not list it, fitted with the
/// temperature. In theory it is P(symptom | an unrelated cause) / P(symptom): well below 1 for a
/// symptom few causes produce.
pub const DEFAULT_UNEXPLAINED: f64 = 0.5;

/// Whether a signal is a symptom (something going wrong) rather than context.
pub fn is_symptom(signal: &str) -> bool {
    signal.starts_with("metric.") || signal.starts_with("log.") || signal.starts_with("topology.")
}

/// How many hypotheses a report keeps.
const KEEP: usize = 5;

/// Signals seen in the evidence, and the signals the evidence could have shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Signal → the items that show it.
    pub observed: BTreeMap<String, Vec<EvidenceRef>>,
    /// Signal → the items that looked for it (a probe that answered and could have shown it).
    pub looked: BTreeMap<String, Vec<EvidenceRef>>,
}

impl Signals {
    fn see(&mut self, signal: &str, item: &EvidenceRef) {
        let refs = self.observed.entry(signal.to_owned()).or_default();
        if !refs.contains(item) {
            refs.push(item.clone());
        }
        self.look(signal, item);
    }

    fn look(&mut self, signal: &str, item: &EvidenceRef) {
        let refs = self.looked.entry(signal.to_owned()).or_default();
        if !refs.contains(item) {
            refs.push(item.clone());
        }
    }

    /// Builds a signal set directly (calibration scenarios, tests).
    pub fn from_names(observed: &[&str], looked: &[&str]) -> Self {
        let none = EvidenceRef("scenario".into());
        let mut signals = Signals::default();
        for s in looked {
            signals.look(s, &none);
        }
        for s in observed {
            signals.see(s, &none);
        }
        signals
    }
}

/// Turns evidence into signals through the catalogue's signal table.
pub fn signals(catalogue: &Catalogue, evidence: &Evidence) -> Signals {
    let mut signals = Signals::default();
    for item in &evidence.items {
        let id = &item.id;
        match &item.observation {
            Observation::Metrics { readings } => {
                for r in readings {
                    for s in catalogue.metric_signals_watched(&r.metric) {
                        signals.look(s, id);
                    }
                    for s in catalogue.metric_signals(&r.metric, r.value, r.low, r.high) {
                        signals.see(s, id);
                    }
                }
            }
            Observation::Logs { templates } => {
                // Only a log probe looked at all logs; an alert's attached lines are a sample.
                if item.probe != "alert" {
                    for s in catalogue.log_signal_ids() {
                        signals.look(s, id);
                    }
                }
                for t in templates.iter().filter(|t| t.count > 0) {
                    for s in catalogue.log_signals(&t.template) {
                        signals.see(s, id);
                    }
                }
            }
            Observation::Topology {
                upstream,
                downstream,
            } => {
                signals.look("topology.upstream_unhealthy", id);
                signals.look("topology.downstream_unhealthy", id);
                if upstream.iter().any(|s| !s.healthy) {
                    signals.see("topology.upstream_unhealthy", id);
                }
                if downstream.iter().any(|s| !s.healthy) {
                    signals.see("topology.downstream_unhealthy", id);
                }
            }
            Observation::Deploys { deploys } => {
                signals.look("change.recent_deploy", id);
                if !deploys.is_empty() {
                    signals.see("change.recent_deploy", id);
                }
            }
            Observation::Cmdb { record } => {
                signals.look("cmdb.class.database", id);
                signals.look("cmdb.class.web", id);
                match record.class.as_str() {
                    "database" | "db" => signals.see("cmdb.class.database", id),
                    "web" => signals.see("cmdb.class.web", id),
                    _ => {}
                }
            }
            Observation::Maintenance { windows } => {
                signals.look("maintenance.open", id);
                if !windows.is_empty() {
                    signals.see("maintenance.open", id);
                }
            }
            // Host facts name targets; the metrics already carry the symptoms they explain.
            Observation::Host { .. } => {}
            Observation::Changes { changes } => {
                signals.look("change.recent_patch", id);
                signals.look("change.recent_config", id);
                for c in changes {
                    match c.kind.as_str() {
                        "patch" => signals.see("change.recent_patch", id),
                        "config" => signals.see("change.recent_config", id),
                        _ => {}
                    }
                }
            }
        }
    }
    signals
}

/// The deterministic reasoner.
#[derive(Debug, Clone)]
pub struct BuiltinReasoner {
    catalogue: Catalogue,
    temperature: f64,
    unknown_prior: f64,
    unexplained: f64,
}

impl BuiltinReasoner {
    pub fn new(catalogue: Catalogue) -> Self {
        Self {
            catalogue,
            temperature: DEFAULT_TEMPERATURE,
            unknown_prior: DEFAULT_UNKNOWN_PRIOR,
            unexplained: DEFAULT_UNEXPLAINED,
        }
    }

    /// The ratio for an observed symptom a cause does not list (1 turns the term off).
    pub fn with_unexplained(mut self, ratio: f64) -> Self {
        if ratio.is_finite() && ratio > 0.0 && ratio <= 1.0 {
            self.unexplained = ratio;
        }
        self
    }

    pub fn with_unknown_prior(mut self, prior: f64) -> Self {
        if prior.is_finite() && prior > 0.0 && prior < 1.0 {
            self.unknown_prior = prior;
        }
        self
    }

    pub fn with_temperature(mut self, temperature: f64) -> Self {
        if temperature.is_finite() && temperature > 0.0 {
            self.temperature = temperature;
        }
        self
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Scores every cause against `signals`; best first. `similar` holds the causes of similar
    /// past incidents (each adds a small, capped ratio to its cause).
    pub fn rank(&self, signals: &Signals, similar: &[String]) -> Vec<Hypothesis> {
        let mut scored: Vec<Hypothesis> = Vec::new();
        for cause in self.catalogue.causes() {
            let mut contributions = vec![Contribution {
                signal: "prior".into(),
                observed: true,
                ratio: cause.prior,
                evidence: vec![],
            }];
            let mut supporting = BTreeSet::new();
            let mut contradicting = BTreeSet::new();
            for (signal, ratio) in &cause.supports {
                if let Some(refs) = signals.observed.get(signal) {
                    contributions.push(Contribution {
                        signal: signal.clone(),
                        observed: true,
                        ratio: *ratio,
                        evidence: refs.clone(),
                    });
                    let side = if *ratio >= 1.0 {
                        &mut supporting
                    } else {
                        &mut contradicting
                    };
                    side.extend(refs.iter().cloned());
                }
            }
            if self.unexplained < 1.0 {
                for (signal, refs) in &signals.observed {
                    if is_symptom(signal)
                        && !cause.supports.contains_key(signal)
                        && !self.catalogue.is_generic(signal)
                    {
                        contributions.push(Contribution {
                            signal: signal.clone(),
                            observed: true,
                            ratio: self.unexplained,
                            evidence: refs.clone(),
                        });
                        contradicting.extend(refs.iter().cloned());
                    }
                }
            }
            for (signal, ratio) in &cause.expects {
                if signals.observed.contains_key(signal) {
                    continue;
                }
                // Absent: counts only if some probe that answered could have shown it.
                if let Some(refs) = signals.looked.get(signal) {
                    contributions.push(Contribution {
                        signal: signal.clone(),
                        observed: false,
                        ratio: *ratio,
                        evidence: refs.clone(),
                    });
                    contradicting.extend(refs.iter().cloned());
                }
            }
            let history = similar.iter().filter(|c| **c == cause.id).count();
            if history > 0 {
                // Capped: the past suggests, the present evidence decides.
                let ratio = (1.0 + 0.25 * history as f64).min(2.0);
                contributions.push(Contribution {
                    signal: "history.similar".into(),
                    observed: true,
                    ratio,
                    evidence: vec![],
                });
            }
            let log_score: f64 = contributions.iter().map(|c| c.ratio.ln()).sum();
            scored.push(Hypothesis {
                cause: cause.id.clone(),
                title: cause.title.clone(),
                confidence: 0.0,
                log_score,
                contributions,
                supporting: supporting.into_iter().collect(),
                contradicting: contradicting.into_iter().collect(),
                runbook: Some(cause.runbook.clone()),
            });
        }
        // The unknown cause: a cause outside the catalogue, with no evidence for or against.
        let unknown = self.unknown_prior.ln();
        let t = self.temperature;
        let max = scored.iter().map(|h| h.log_score).fold(unknown, f64::max);
        let norm: f64 = scored
            .iter()
            .map(|h| ((h.log_score - max) / t).exp())
            .sum::<f64>()
            + ((unknown - max) / t).exp();
        for h in &mut scored {
            h.confidence = ((h.log_score - max) / t).exp() / norm;
        }
        scored.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.cause.cmp(&b.cause))
        });
        scored
    }

    /// The full report for a case.
    pub fn report(&self, case: Case<'_>) -> Report {
        let signals = signals(&self.catalogue, case.evidence);
        let similar: Vec<String> = case
            .similar
            .iter()
            .filter_map(|s| s.cause.clone())
            .collect();
        let mut hypotheses = self.rank(&signals, &similar);
        hypotheses.truncate(KEEP);
        // A cause nothing observed speaks for (only its prior, or past incidents) is no
        // diagnosis: an alert ooda cannot read (an external latency alert with no host metrics)
        // is "unknown", never the likeliest prior at a few percent.
        let top = hypotheses.first().filter(|h| {
            h.contributions.iter().any(|c| {
                c.observed && c.ratio > 1.0 && c.signal != "prior" && c.signal != "history.similar"
            })
        });
        let root_cause = top.map(|h| h.cause.clone());
        let confidence = top.map(|h| h.confidence).unwrap_or(0.0);
        let proposed_actions = top
            .and_then(|h| h.runbook.clone().map(|r| (h, r)))
            .map(|(h, runbook)| {
                vec![ProposedAction {
                    runbook,
                    reason: format!("fixes {} ({:.0}% confident)", h.title, h.confidence * 100.0),
                }]
            })
            .unwrap_or_default();
        let post_mortem = narrative(&hypotheses, &signals, case.evidence);
        Report {
            reasoner: self.name().to_owned(),
            root_cause,
            confidence,
            hypotheses,
            proposed_actions,
            post_mortem,
            gaps: case.evidence.gaps.clone(),
        }
    }
}

fn narrative(hypotheses: &[Hypothesis], signals: &Signals, evidence: &Evidence) -> String {
    let mut text = String::new();
    let observed: Vec<&str> = signals.observed.keys().map(String::as_str).collect();
    text.push_str(&format!(
        "Signals observed: {}.\n",
        if observed.is_empty() {
            "none".to_owned()
        } else {
            observed.join(", ")
        }
    ));
    if let Some(top) = hypotheses.first() {
        text.push_str(&format!(
            "Most likely cause: {} ({:.0}%). ",
            top.title,
            top.confidence * 100.0
        ));
        let terms: Vec<String> = top
            .contributions
            .iter()
            .filter(|c| c.signal != "prior")
            .map(|c| {
                format!(
                    "{}{} ×{}",
                    if c.observed { "" } else { "no " },
                    c.signal,
                    c.ratio
                )
            })
            .collect();
        if !terms.is_empty() {
            text.push_str(&format!("Because: {}.", terms.join(", ")));
        }
        text.push('\n');
    }
    if !evidence.gaps.is_empty() {
        let gaps: Vec<String> = evidence
            .gaps
            .iter()
            .map(|g| format!("{} ({})", g.probe, g.error))
            .collect();
        text.push_str(&format!("Not looked at: {}.\n", gaps.join(", ")));
    }
    text
}

impl Reasoner for BuiltinReasoner {
    fn name(&self) -> &str {
        "builtin"
    }

    fn investigate<'a>(&'a self, case: Case<'a>, _tools: &'a Tools) -> ReasonFuture<'a> {
        // The built-in reasoner uses only the evidence already gathered: it asks no probe twice.
        Box::pin(async move { Ok(self.report(case)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{EvidenceItem, LogTemplate, MetricReading};

    fn reasoner() -> BuiltinReasoner {
        BuiltinReasoner::new(Catalogue::embedded().unwrap())
    }

    fn disk_evidence(used: f64, with_log: bool) -> Evidence {
        let mut evidence = Evidence::default();
        evidence.push(EvidenceItem::new(
            "metrics",
            Observation::Metrics {
                readings: vec![
                    MetricReading {
                        metric: "disk_used_pct".into(),
                        value: used,
                        low: 0.0,
                        high: 85.0,
                    },
                    MetricReading {
                        metric: "inodes_used_pct".into(),
                        value: 10.0,
                        low: 0.0,
                        high: 85.0,
                    },
                ],
            },
        ));
        evidence.push(EvidenceItem::new(
            "logs",
            Observation::Logs {
                templates: if with_log {
                    vec![LogTemplate {
                        template: "write <n>: No space left on device".into(),
                        count: 12,
                    }]
                } else {
                    vec![]
                },
            },
        ));
        evidence
    }

    #[test]
    fn a_full_disk_with_enospc_logs_is_disk_full_above_the_act_band() {
        let r = reasoner();
        let evidence = disk_evidence(97.0, true);
        let s = signals(r.catalogue(), &evidence);
        let ranked = r.rank(&s, &[]);
        assert_eq!(ranked[0].cause, "disk_full");
        assert!(ranked[0].confidence > 0.85, "{}", ranked[0].confidence);
        assert!(ranked[0]
            .contributions
            .iter()
            .any(|c| c.signal == "metric.disk_used.high" && c.observed));
        // Inode exhaustion is contradicted: inodes were looked at and are fine.
        let inode = ranked
            .iter()
            .find(|h| h.cause == "inode_exhaustion")
            .unwrap();
        assert!(!inode.contradicting.is_empty());
        let total: f64 = ranked.iter().map(|h| h.confidence).sum();
        assert!(total <= 1.0 + 1e-9);
    }

    #[test]
    fn a_cause_that_cannot_produce_the_symptom_pays_for_it_context_does_not() {
        let r = reasoner();
        // Memory climbing is all there is; nothing else was looked at.
        let s = Signals::from_names(
            &["metric.memory_used.high", "cmdb.class.web"],
            &["metric.memory_used.high", "cmdb.class.web"],
        );
        let ranked = r.rank(&s, &[]);
        assert_eq!(ranked[0].cause, "memory_leak");
        let unexplained = |cause: &str| {
            ranked
                .iter()
                .find(|h| h.cause == cause)
                .unwrap()
                .contributions
                .iter()
                .filter(|c| c.ratio == DEFAULT_UNEXPLAINED)
                .map(|c| c.signal.clone())
                .collect::<Vec<_>>()
        };
        // Crash loops do not fill memory: the symptom costs it, the CMDB class does not.
        assert_eq!(unexplained("crash_loop"), vec!["metric.memory_used.high"]);
        assert!(unexplained("memory_leak").is_empty());
        // The same evidence with the term off leaves more mass on causes nothing speaks to.
        let off = r.clone().with_unexplained(1.0).rank(&s, &[]);
        assert!(ranked[0].confidence > off[0].confidence + 0.05);
        // Signals nobody explains still end in "unknown": every cause pays, unknown does not.
        let odd = Signals::from_names(
            &[
                "metric.clock_offset.high",
                "metric.queue_depth.high",
                "metric.cert_expiry.low",
            ],
            &[],
        );
        assert!(r.rank(&odd, &[])[0].confidence < 0.65);
    }

    #[test]
    fn a_fill_rate_from_the_forecaster_names_a_leak_apart_from_a_busy_hour() {
        let r = reasoner();
        let level_only = Signals::from_names(&["metric.memory_used.high"], &[]);
        let growing = Signals::from_names(
            &["metric.memory_used.high", "metric.memory_growth.high"],
            &[],
        );
        let a = r.rank(&level_only, &[]);
        let b = r.rank(&growing, &[]);
        assert_eq!(b[0].cause, "memory_leak");
        assert!(b[0].confidence > a[0].confidence);
        // Swap thrashing also shows high memory but never a steady climb to full.
        let swap = |h: &[Hypothesis]| {
            h.iter()
                .find(|x| x.cause == "swap_thrashing")
                .map_or(0.0, |x| x.confidence)
        };
        assert!(swap(&b) < swap(&a));
    }

    #[test]
    fn no_evidence_means_low_confidence() {
        let r = reasoner();
        let ranked = r.rank(&Signals::default(), &[]);
        assert!(ranked[0].confidence < 0.65, "{}", ranked[0].confidence);
    }

    #[test]
    fn a_gap_is_not_evidence_against() {
        let r = reasoner();
        // Logs looked: absence of log.tls_error contradicts certificate expiry …
        let looked = r.rank(&Signals::from_names(&[], &["log.tls_error"]), &[]);
        let cert_looked = looked
            .iter()
            .find(|h| h.cause == "certificate_expiry")
            .unwrap();
        // … while a logs gap leaves it untouched.
        let gap = r.rank(&Signals::default(), &[]);
        let cert_gap = gap
            .iter()
            .find(|h| h.cause == "certificate_expiry")
            .unwrap();
        assert!(cert_looked.log_score < cert_gap.log_score);
    }

    #[test]
    fn reports_validate_and_bad_reports_are_refused() {
        let r = reasoner();
        let evidence = disk_evidence(97.0, true);
        let incident = crate::lifecycle::Incident::open(
            ooda_core::IncidentId::from_u128(1),
            None,
            "t".into(),
            ooda_core::Severity::Critical,
            ooda_core::clock::from_millis(0),
        );
        let report = r.report(Case {
            incident: &incident,
            evidence: &evidence,
            similar: &[],
        });
        let runbooks = crate::runbook::library::shipped().unwrap();
        report
            .validate(r.catalogue(), &runbooks, &evidence)
            .unwrap();
        assert_eq!(report.proposed_actions[0].runbook, "disk_full");
        let mut bad = report.clone();
        bad.root_cause = Some("aliens".into());
        assert!(bad.validate(r.catalogue(), &runbooks, &evidence).is_err());
        let mut bad = report.clone();
        bad.proposed_actions[0].runbook = "rm_rf".into();
        assert!(bad.validate(r.catalogue(), &runbooks, &evidence).is_err());
        let mut bad = report;
        bad.hypotheses[0].supporting.push(EvidenceRef("f00".into()));
        assert!(bad.validate(r.catalogue(), &runbooks, &evidence).is_err());
    }
}
