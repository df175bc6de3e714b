//! Anomalies (one detector's finding on one series) and alerts (fused, deduplicated groups of
//! anomalies that incident response acts on).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AlertId, SeriesKey, Severity, Timestamp};

/// Which detector found something. Closed so that reports and policy can count by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A static threshold (cold start, or a class with a hard limit).
    Threshold,
    /// A deviation from the series' contextual baseline.
    Baseline,
    /// A broken relation between metrics that are each in band.
    Correlation,
    /// A learned failure-precursor fingerprint matched.
    Precursor,
    /// Saturation predicted within the horizon.
    Forecast,
    /// Several anomalies fused into one.
    Compound,
    /// Received from outside (Alertmanager webhook).
    External,
    /// ooda reporting on its own health.
    SelfHealth,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Threshold => "threshold",
            AlertKind::Baseline => "baseline",
            AlertKind::Correlation => "correlation",
            AlertKind::Precursor => "precursor",
            AlertKind::Forecast => "forecast",
            AlertKind::Compound => "compound",
            AlertKind::External => "external",
            AlertKind::SelfHealth => "self_health",
        }
    }
}

/// One detector's finding on one series at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub series: SeriesKey,
    pub time: Timestamp,
    pub value: f64,
    /// What the detector expected (baseline mean, threshold, predicted value).
    pub expected: f64,
    /// Signed strength: z-score for baselines, ratio for thresholds.
    pub score: f64,
    pub severity: Severity,
    pub kind: AlertKind,
    /// One line a person can read: what deviated, by how much, against what.
    pub explanation: String,
    /// The series' capacity forecast when the anomaly was raised: the predicted saturation and
    /// its band for `forecast` anomalies, or why the series has none (no capacity, too little
    /// history, no trend). Absent from detectors that do not forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Forecast>,
}

/// A capacity forecast for one series: when it is predicted to reach its limit, or why nothing
/// is predicted. Made by the monitoring engine's `forecast` module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The value the series must not reach (a capacity, or 0 for free space); `None` when the
    /// series has no known limit.
    pub limit: Option<f64>,
    /// Predicted saturation with its band; `None` when none is predicted.
    pub saturation: Option<Saturation>,
    /// One line a person can read: what was predicted from what, or why nothing was.
    pub note: String,
}

/// When a series is predicted to reach its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saturation {
    /// The central estimate.
    pub at: Timestamp,
    /// The band (about 90 %): the earliest and latest plausible times.
    pub earliest: Timestamp,
    pub latest: Timestamp,
    /// The trend toward the limit, in the series' units per hour (signed).
    pub rate_per_hour: f64,
}

/// Lifecycle of an alert as routed on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

/// A fused, deduplicated alert: what incident response receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    /// Stable hash of host, kind and member set; the dedup key.
    pub fingerprint: String,
    pub host: Option<String>,
    pub kind: AlertKind,
    pub severity: Severity,
    pub state: AlertState,
    pub summary: String,
    /// The detector's best guess at a cause, if it has one.
    pub probable_cause: Option<String>,
    pub members: Vec<Anomaly>,
    pub labels: BTreeMap<String, String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// Log lines and other context attached by enrichment, as template → count.
    #[serde(default)]
    pub enrichment: Vec<EnrichmentLine>,
}

impl Alert {
    /// The forecast of a `forecast` alert's leading member (its predicted saturation and band).
    pub fn forecast(&self) -> Option<&Forecast> {
        self.members
            .iter()
            .filter(|m| m.kind == AlertKind::Forecast)
            .find_map(|m| m.forecast.as_ref())
    }
}

/// One clustered log template with its count, attached to an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentLine {
    pub source: String,
    pub template: String,
    pub count: u64,
    pub example: String,
}
