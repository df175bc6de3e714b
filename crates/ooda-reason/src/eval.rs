//! `ooda eval reasoners`: one scenario set, run against the built-in reasoner and any configured
//! model; reports root-cause accuracy, calibration (ECE over the confidence actually used),
//! model turns, tokens, cost and fallbacks.
//!
//! Scenarios: for every catalogue cause, evidence built from the cause's own signal table (its
//! primary signals and its strongest supporting one, turned back into metric readings outside
//! their band and log lines), in variants that drop a signal, add an unrelated one, or lose a
//! probe — plus hand-written cases (mixed evidence, an unknown cause). They are concrete
//! evidence, so an LLM sees what the built-in reasoner sees. The lab's scenarios will plug into
//! [`Scenario`] unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ooda_core::{IncidentId, Severity};
use ooda_incident::calibration::Rng;
use ooda_incident::catalogue::{Catalogue, Direction};
use ooda_incident::evidence::{
    CmdbRecord, Deploy, Evidence, EvidenceItem, LogTemplate, MetricReading, Observation, Probe,
    ProbeError, ProbeQuery, ServiceHealth, StaticProbe,
};
use ooda_incident::lifecycle::Incident;
use ooda_incident::reasoner::builtin::BuiltinReasoner;
use ooda_incident::reasoner::{Case, Tools};
use serde::Serialize;

use crate::agent::LlmReasoner;

/// The label of scenarios whose cause is outside the catalogue.
pub const UNKNOWN: &str = "unknown";

/// One labelled incident.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// A catalogue cause id, or [`UNKNOWN`].
    pub truth: String,
    pub title: String,
    pub evidence: Evidence,
}

fn at() -> ooda_core::Timestamp {
    ooda_core::clock::from_millis(1_700_000_000_000)
}

/// The evidence that shows `signal`, if it can be built.
fn showing(catalogue: &Catalogue, signal: &str) -> Option<(String, Observation)> {
    if let Some(rule) = catalogue.signals().iter().find(|r| r.id == signal) {
        if let Some(metric) = rule.metric.first() {
            let (value, low, high) = match rule.direction {
                Some(Direction::Low) => (2.0, 10.0, 1e9),
                _ => (99.0, 0.0, 80.0),
            };
            return Some((
                "metrics".into(),
                Observation::Metrics {
                    readings: vec![MetricReading {
                        metric: metric.clone(),
                        value,
                        low,
                        high,
                    }],
                },
            ));
        }
        if let Some(text) = rule.log.first() {
            return Some((
                "logs".into(),
                Observation::Logs {
                    templates: vec![LogTemplate {
                        template: format!("ERROR {text} (pid <n>)"),
                        count: 17,
                    }],
                },
            ));
        }
    }
    let observation = match signal {
        "change.recent_deploy" => Observation::Deploys {
            deploys: vec![Deploy {
                service: "api".into(),
                version: "2.4.1".into(),
                previous_version: Some("2.4.0".into()),
                at: at() - chrono::Duration::minutes(20),
            }],
        },
        "topology.upstream_unhealthy" => Observation::Topology {
            upstream: vec![ServiceHealth {
                service: "payments".into(),
                healthy: false,
            }],
            downstream: vec![],
        },
        "cmdb.class.database" => Observation::Cmdb {
            record: CmdbRecord {
                host: "db-1".into(),
                class: "database".into(),
                environment: "prod".into(),
                services: vec!["postgresql".into()],
                owner: "team-data".into(),
            },
        },
        _ => return None,
    };
    let probe = match &observation {
        Observation::Deploys { .. } => "deploys",
        Observation::Topology { .. } => "topology",
        _ => "cmdb",
    };
    Some((probe.into(), observation))
}

/// Merges observations of the same probe (readings and templates add up).
fn assemble(parts: Vec<(String, Observation)>) -> Evidence {
    let mut by_probe: BTreeMap<String, Observation> = BTreeMap::new();
    for (probe, observation) in parts {
        match (by_probe.get_mut(&probe), observation) {
            (Some(Observation::Metrics { readings }), Observation::Metrics { readings: more }) => {
                readings.extend(more)
            }
            (Some(Observation::Logs { templates }), Observation::Logs { templates: more }) => {
                templates.extend(more)
            }
            (Some(_), _) => {}
            (None, observation) => {
                by_probe.insert(probe, observation);
            }
        }
    }
    let mut evidence = Evidence::default();
    for (probe, observation) in by_probe {
        evidence.push(EvidenceItem::new(probe, observation));
    }
    evidence
}

/// `variants` scenarios per catalogue cause plus the hand-written ones, reproducible from `seed`.
pub fn scenarios(catalogue: &Catalogue, variants: usize, seed: u64) -> Vec<Scenario> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let all_signals: Vec<String> = catalogue.signals().iter().map(|s| s.id.clone()).collect();
    for cause in catalogue.causes() {
        let mut strongest: Vec<(&String, &f64)> =
            cause.supports.iter().filter(|(_, r)| **r > 1.0).collect();
        strongest.sort_by(|a, b| b.1.total_cmp(a.1));
        for v in 0..variants {
            let mut signals: Vec<String> = cause.expects.keys().cloned().collect();
            for (signal, _) in strongest.iter().take(2) {
                if !signals.contains(signal) {
                    signals.push((*signal).clone());
                }
            }
            let mut note = "clean";
            if v % 3 == 1 && signals.len() > 1 {
                // Drop one signal (not the first primary).
                let i = 1 + (rng.next_u64() as usize) % (signals.len() - 1);
                signals.remove(i);
                note = "one signal missing";
            } else if v % 3 == 2 && !all_signals.is_empty() {
                let noise = &all_signals[(rng.next_u64() as usize) % all_signals.len()];
                if !signals.contains(noise) {
                    signals.push(noise.clone());
                }
                note = "with noise";
            }
            let parts: Vec<(String, Observation)> = signals
                .iter()
                .filter_map(|s| showing(catalogue, s))
                .collect();
            out.push(Scenario {
                name: format!("{}#{v} ({note})", cause.id),
                truth: cause.id.clone(),
                title: format!("{} suspected", cause.title),
                evidence: assemble(parts),
            });
        }
    }
    out.extend(hand_written());
    out
}

fn hand_written() -> Vec<Scenario> {
    let metrics = |r: Vec<(&str, f64, f64, f64)>| {
        EvidenceItem::new(
            "metrics",
            Observation::Metrics {
                readings: r
                    .into_iter()
                    .map(|(m, value, low, high)| MetricReading {
                        metric: m.into(),
                        value,
                        low,
                        high,
                    })
                    .collect(),
            },
        )
    };
    let logs = |t: Vec<(&str, u64)>| {
        EvidenceItem::new(
            "logs",
            Observation::Logs {
                templates: t
                    .into_iter()
                    .map(|(template, count)| LogTemplate {
                        template: template.into(),
                        count,
                    })
                    .collect(),
            },
        )
    };
    let mut cases = Vec::new();
    let mut add = |name: &str, truth: &str, title: &str, items: Vec<EvidenceItem>| {
        let mut evidence = Evidence::default();
        items.into_iter().for_each(|i| evidence.push(i));
        cases.push(Scenario {
            name: name.into(),
            truth: truth.into(),
            title: title.into(),
            evidence,
        });
    };
    add(
        "hand: disk full from a log explosion",
        "log_volume_explosion",
        "disk usage high on web-3",
        vec![
            metrics(vec![
                ("disk_used_pct", 93.0, 0.0, 85.0),
                ("log_rate_lines_per_s", 4200.0, 0.0, 300.0),
                ("inodes_used_pct", 20.0, 0.0, 85.0),
            ]),
            logs(vec![("WARN retrying request id=<n>", 90_000)]),
        ],
    );
    add(
        "hand: OOM after a deploy",
        "memory_leak",
        "api pods restarting",
        vec![
            metrics(vec![
                ("memory_used_pct", 97.0, 0.0, 90.0),
                ("cpu_used_pct", 40.0, 0.0, 90.0),
            ]),
            logs(vec![("Out of memory: Killed process <n> (java)", 6)]),
            EvidenceItem::new(
                "deploys",
                Observation::Deploys {
                    deploys: vec![Deploy {
                        service: "api".into(),
                        version: "7".into(),
                        previous_version: Some("6".into()),
                        at: at(),
                    }],
                },
            ),
        ],
    );
    add(
        "hand: expired certificate",
        "certificate_expiry",
        "TLS errors from clients",
        vec![
            metrics(vec![("cert_days_left", -1.0, 7.0, 1e9)]),
            logs(vec![(
                "x509: certificate has expired or is not yet valid",
                311,
            )]),
        ],
    );
    add(
        "hand: nothing the catalogue knows",
        UNKNOWN,
        "users report odd behaviour",
        vec![
            metrics(vec![
                ("disk_used_pct", 40.0, 0.0, 85.0),
                ("cpu_used_pct", 30.0, 0.0, 90.0),
                ("memory_used_pct", 50.0, 0.0, 90.0),
            ]),
            logs(vec![("INFO request served", 10)]),
        ],
    );
    add(
        "hand: replication lag on a database",
        "replication_lag",
        "replica behind",
        vec![
            metrics(vec![
                ("replication_lag_seconds", 900.0, 0.0, 30.0),
                ("iowait_pct", 35.0, 0.0, 20.0),
            ]),
            EvidenceItem::new(
                "cmdb",
                Observation::Cmdb {
                    record: CmdbRecord {
                        host: "db-2".into(),
                        class: "database".into(),
                        environment: "prod".into(),
                        services: vec![],
                        owner: "data".into(),
                    },
                },
            ),
        ],
    );
    cases
}

/// The shipped incident catalogue and runbook library.
pub fn library() -> Result<(Catalogue, Vec<ooda_incident::runbook::Runbook>), crate::ReasonError> {
    let catalogue =
        Catalogue::embedded().map_err(|e| crate::ReasonError::Library(e.to_string()))?;
    let runbooks = ooda_incident::runbook::library::shipped().map_err(|problems| {
        crate::ReasonError::Library(format!(
            "the shipped runbooks do not validate: {} problem(s)",
            problems.len()
        ))
    })?;
    Ok((catalogue, runbooks))
}

/// One reasoner's result on one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub truth: String,
    pub root_cause: Option<String>,
    pub confidence: f64,
    pub correct: bool,
    pub steps: u32,
    pub tokens: u64,
    pub cost: f64,
    pub fallback: bool,
    /// The model's own confidence, for fitting its calibration.
    pub model_confidence: Option<f64>,
}

/// One reasoner's totals.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub reasoner: String,
    pub scenarios: usize,
    pub accuracy: f64,
    pub ece: f64,
    /// Among answers above 0.85 (the act band): how many, how many right.
    pub act_band: (usize, usize),
    pub mean_steps: f64,
    pub tokens: u64,
    pub cost: f64,
    pub fallbacks: usize,
    pub outcomes: Vec<Outcome>,
}

fn correct(root: Option<&str>, truth: &str) -> bool {
    match root {
        Some(cause) => cause == truth,
        None => truth == UNKNOWN,
    }
}

/// ECE with 10 equal-width bins.
pub fn ece(pairs: &[(f64, bool)]) -> f64 {
    let mut bins = vec![(0usize, 0.0f64, 0usize); 10];
    for (p, right) in pairs {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += p;
        bins[b].2 += usize::from(*right);
    }
    let n = pairs.len().max(1) as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|(count, conf, right)| {
            *count as f64 / n * (conf / *count as f64 - *right as f64 / *count as f64).abs()
        })
        .sum()
}

fn summarise(reasoner: String, outcomes: Vec<Outcome>) -> Summary {
    let n = outcomes.len().max(1) as f64;
    let pairs: Vec<(f64, bool)> = outcomes.iter().map(|o| (o.confidence, o.correct)).collect();
    let act: Vec<&Outcome> = outcomes.iter().filter(|o| o.confidence > 0.85).collect();
    Summary {
        reasoner,
        scenarios: outcomes.len(),
        accuracy: outcomes.iter().filter(|o| o.correct).count() as f64 / n,
        ece: ece(&pairs),
        act_band: (act.len(), act.iter().filter(|o| o.correct).count()),
        mean_steps: outcomes.iter().map(|o| f64::from(o.steps)).sum::<f64>() / n,
        tokens: outcomes.iter().map(|o| o.tokens).sum(),
        cost: outcomes.iter().map(|o| o.cost).sum(),
        fallbacks: outcomes.iter().filter(|o| o.fallback).count(),
        outcomes,
    }
}

fn incident(scenario: &Scenario, n: usize) -> Incident {
    Incident::open(
        IncidentId::from_u128(n as u128 + 1),
        Some("host-1".into()),
        scenario.title.clone(),
        Severity::Warning,
        at(),
    )
}

/// The probes a model may call: one static probe per evidence item (the same findings again),
/// and a topology probe that answers "not applicable" when the scenario has none.
fn tools(scenario: &Scenario) -> Tools {
    let mut probes: Vec<Arc<dyn Probe>> = scenario
        .evidence
        .items
        .iter()
        .map(|item| {
            Arc::new(StaticProbe::new(
                item.probe.clone(),
                item.observation.clone(),
            )) as Arc<dyn Probe>
        })
        .collect();
    if !scenario
        .evidence
        .items
        .iter()
        .any(|i| i.probe == "topology")
    {
        probes.push(Arc::new(StaticProbe {
            name: "topology".into(),
            answer: Err(ProbeError::NotApplicable(
                "no topology for this host".into(),
            )),
            delay: Duration::ZERO,
        }));
    }
    let query = ProbeQuery {
        incident: IncidentId::from_u128(1),
        host: Some("host-1".into()),
        labels: BTreeMap::new(),
        at: at(),
        look_back: Duration::from_secs(4 * 3600),
    };
    Tools::new(probes, query, Duration::from_secs(10))
}

/// The built-in reasoner on every scenario.
pub fn builtin(catalogue: &Catalogue, scenarios: &[Scenario]) -> Summary {
    let reasoner = BuiltinReasoner::new(catalogue.clone());
    let outcomes = scenarios
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let incident = incident(s, n);
            let report = reasoner.report(Case {
                incident: &incident,
                evidence: &s.evidence,
                similar: &[],
            });
            Outcome {
                scenario: s.name.clone(),
                truth: s.truth.clone(),
                correct: correct(report.root_cause.as_deref(), &s.truth),
                root_cause: report.root_cause,
                confidence: report.confidence,
                steps: 0,
                tokens: 0,
                cost: 0.0,
                fallback: false,
                model_confidence: None,
            }
        })
        .collect();
    summarise("builtin".into(), outcomes)
}

/// An LLM reasoner on every scenario, one after the other (a local model serves one at a time).
pub async fn llm(reasoner: &LlmReasoner, scenarios: &[Scenario]) -> Summary {
    let mut outcomes = Vec::new();
    for (n, s) in scenarios.iter().enumerate() {
        let incident = incident(s, n);
        let tools = tools(s);
        let run = reasoner
            .investigate_traced(
                Case {
                    incident: &incident,
                    evidence: &s.evidence,
                    similar: &[],
                },
                &tools,
            )
            .await;
        outcomes.push(Outcome {
            scenario: s.name.clone(),
            truth: s.truth.clone(),
            correct: correct(run.report.root_cause.as_deref(), &s.truth),
            root_cause: run.report.root_cause.clone(),
            confidence: run.report.confidence,
            steps: run.steps,
            tokens: run.usage.total(),
            cost: run.cost,
            fallback: run.fallback.is_some(),
            model_confidence: run.model_confidence,
        });
    }
    summarise(
        format!("llm:{}", reasoner.routing().root_cause.label()),
        outcomes,
    )
}

/// The Platt map that would calibrate this model's raw confidence on these outcomes.
pub fn fitted_calibration(summary: &Summary) -> crate::confidence::Platt {
    let pairs: Vec<(f64, bool)> = summary
        .outcomes
        .iter()
        .filter(|o| !o.fallback)
        .filter_map(|o| o.model_confidence.map(|p| (p, o.correct)))
        .collect();
    crate::confidence::Platt::fit(&pairs)
}

/// A plain-text table of summaries.
pub fn table(summaries: &[Summary]) -> String {
    let mut out = format!(
        "{:<40} {:>9} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>9}\n",
        "reasoner",
        "scenarios",
        "accuracy",
        "ECE",
        "act band",
        "steps/inc",
        "tokens",
        "cost $",
        "fallbacks"
    );
    for s in summaries {
        out.push_str(&format!(
            "{:<40} {:>9} {:>9.3} {:>7.3} {:>10} {:>10.1} {:>10} {:>10.4} {:>9}\n",
            s.reasoner,
            s.scenarios,
            s.accuracy,
            s.ece,
            format!("{}/{}", s.act_band.1, s.act_band.0),
            s.mean_steps,
            s.tokens,
            s.cost,
            s.fallbacks
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_gets_scenarios_and_the_builtin_scores_them() {
        let catalogue = Catalogue::embedded().expect("catalogue");
        let set = scenarios(&catalogue, 3, 7);
        assert_eq!(
            set.len(),
            catalogue.causes().len() * 3 + hand_written().len()
        );
        assert!(
            set.iter().all(|s| !s.evidence.items.is_empty()),
            "every scenario has evidence"
        );
        let summary = builtin(&catalogue, &set);
        println!("{}", table(std::slice::from_ref(&summary)));
        // Clean scenarios are built from the cause's own signals: the built-in gets most right.
        assert!(summary.accuracy > 0.6, "accuracy {}", summary.accuracy);
        // No bound on ECE here: it is a measurement (BENCHMARKS.md), not a property of the code.
        assert!((0.0..=1.0).contains(&summary.ece));
    }

    #[test]
    fn ece_of_a_perfectly_calibrated_set_is_zero() {
        let pairs: Vec<(f64, bool)> = (0..10)
            .map(|i| (0.95, i != 0))
            .chain((0..10).map(|i| (0.05, i == 0)))
            .collect();
        assert!(ece(&pairs) < 0.06);
    }
}
