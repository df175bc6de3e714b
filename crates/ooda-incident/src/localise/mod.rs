//! Root-cause localisation across services: given the call graph, per-component metrics over the
//! incident and over a normal period, and the symptom (component and metric), rank every
//! component by how likely it is the one that broke, with the evidence for each.
//!
//! Deterministic and offline: no clock, no network, no randomness; the same case always gives
//! the same ranking. It never decides anything on its own: its ranking is evidence for the
//! reasoners. See [`rank`] for the method and why it is built that way.

pub mod frame;
pub mod rank;
pub mod score;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use frame::{CallGraph, Column, MetricFrame};
pub use rank::{deepest_anomalous_callee, localise};

/// What can be wrong with a localisation case. Messages name the input, line and problem.
#[derive(Debug, thiserror::Error)]
pub enum LocaliseError {
    #[error("{what}, line {line}: {reason}")]
    Input {
        what: String,
        line: usize,
        reason: String,
    },
    #[error("symptom `{0}`: expected NODE:METRIC (split at the last `:`)")]
    Symptom(String),
    #[error("anomaly window: start {start} is after end {end}")]
    Window { start: f64, end: f64 },
}

/// The alerted series: `checkout:latency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symptom {
    pub node: String,
    pub metric: String,
}

impl std::str::FromStr for Symptom {
    type Err = LocaliseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        frame::split_series(text)
            .map(|(node, metric)| Symptom { node, metric })
            .ok_or_else(|| LocaliseError::Symptom(text.to_string()))
    }
}

/// Everything the localiser reads.
#[derive(Debug, Clone)]
pub struct Case {
    /// The incident period (it may start before the alert).
    pub metrics: MetricFrame,
    /// A period without the issue.
    pub normal: MetricFrame,
    pub graph: CallGraph,
    pub symptom: Symptom,
    /// When the symptom was alerted (unix seconds).
    pub anomaly_start: f64,
    pub anomaly_end: f64,
}

impl Case {
    pub fn new(
        metrics: MetricFrame,
        normal: MetricFrame,
        graph: CallGraph,
        symptom: Symptom,
        anomaly_start: f64,
        anomaly_end: f64,
    ) -> Result<Self, LocaliseError> {
        if anomaly_start > anomaly_end || !anomaly_start.is_finite() || !anomaly_end.is_finite() {
            return Err(LocaliseError::Window {
                start: anomaly_start,
                end: anomaly_end,
            });
        }
        Ok(Case {
            metrics,
            normal,
            graph,
            symptom,
            anomaly_start,
            anomaly_end,
        })
    }
}

/// One metric of a suspect that left its normal band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    pub metric: String,
    /// Robust z-score at the peak (median/IQR of the normal period).
    pub z: f64,
    pub rising: bool,
    /// When it first left the band (unix seconds).
    pub onset: Option<f64>,
    pub normal_median: f64,
    pub observed: Option<f64>,
}

/// One component in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    pub node: String,
    /// The ranking score (higher: more likely the root cause).
    pub score: f64,
    /// Share of the ranking's score mass (0..1), a rough confidence.
    pub confidence: f64,
    /// Its own anomaly before any graph reasoning.
    pub anomaly: f64,
    /// How much of its anomaly an anomalous callee explains (0: none, 1: all).
    pub explained: f64,
    /// The callee that explains it best, if any.
    pub explained_by: Option<String>,
    /// Earliest significant deviation (unix seconds).
    pub onset: Option<f64>,
    /// Significant deviations, largest first.
    pub deviations: Vec<Deviation>,
    /// Call path from the symptom's component to this one (empty when none is known).
    pub path: Vec<String>,
}

impl Suspect {
    /// "payments-db: connection_errors rose 4 min before the checkout latency; path checkout →
    /// payments → payments-db".
    pub fn sentence(&self, symptom: &Symptom, symptom_onset: Option<f64>) -> String {
        let mut text = self.node.clone();
        match self.deviations.first() {
            Some(deviation) => {
                let verb = if deviation.rising { "rose" } else { "fell" };
                text.push_str(&format!(": {} {verb}", deviation.metric));
                match (deviation.onset.or(self.onset), symptom_onset) {
                    (Some(own), Some(symptom_at)) if own < symptom_at => {
                        let minutes = ((symptom_at - own) / 60.0).round();
                        text.push_str(&format!(
                            " {minutes} min before the {} {}",
                            symptom.node, symptom.metric
                        ));
                    }
                    (Some(own), Some(symptom_at)) if own > symptom_at => {
                        let minutes = ((own - symptom_at) / 60.0).round();
                        text.push_str(&format!(
                            " {minutes} min after the {} {}",
                            symptom.node, symptom.metric
                        ));
                    }
                    (Some(_), Some(_)) => {
                        text.push_str(&format!(" with the {} {}", symptom.node, symptom.metric))
                    }
                    _ => {}
                }
                text.push_str(&format!(" (z {:.1})", deviation.z));
            }
            None => text.push_str(": no metric left its normal band"),
        }
        if self.path.len() > 1 {
            text.push_str(&format!("; path {}", self.path.join(" → ")));
        }
        text
    }
}

/// The localiser's answer: every component with metrics, most likely root cause first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub symptom: Symptom,
    /// When the symptom series itself first left its band, if it did.
    pub symptom_onset: Option<f64>,
    pub suspects: Vec<Suspect>,
}

impl Ranking {
    /// Node names, best first.
    pub fn nodes(&self) -> Vec<String> {
        self.suspects.iter().map(|s| s.node.clone()).collect()
    }

    /// The top suspect's sentence, or `None` for an empty ranking.
    pub fn headline(&self) -> Option<String> {
        self.suspects
            .first()
            .map(|s| s.sentence(&self.symptom, self.symptom_onset))
    }
}
