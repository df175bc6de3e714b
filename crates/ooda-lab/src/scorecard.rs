//! The scorecard: each figure beside the claim it tests. Figures the lab cannot measure yet (the
//! incident, governance and patch pillars are not wired into it) are `null` and listed in
//! `not_measured`, never invented.

use std::collections::BTreeMap;

use ooda_core::{AlertKind, Severity};
use serde::Serialize;

use crate::faults::Fault;
use crate::scenario::Scenario;

/// An alert as the scorecard needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredAlert {
    pub host: usize,
    pub opened_ms: i64,
    pub severity: Severity,
    pub kind: AlertKind,
}

/// Detection figures for one fault kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct KindScore {
    pub faults: usize,
    pub detected: usize,
    pub detected_before_impact: usize,
    pub mean_lead_minutes: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scorecard {
    pub hosts: usize,
    pub days: u32,
    pub seed: u64,
    pub faults: usize,
    /// Share of faults with an alert before the moment of impact (claim: 0.68).
    pub detected_before_impact_ratio: f64,
    /// Mean minutes between that alert and the impact (claim: 34).
    pub mean_lead_minutes: Option<f64>,
    /// Share of faults with any alert while they lasted.
    pub detected_ratio: f64,
    /// Mean minutes from fault start (precursor start) to the first alert.
    pub mttd_minutes: Option<f64>,
    pub mttr_minutes: Option<f64>,
    pub autonomous_ratio: Option<f64>,
    pub resolved_under_4min_ratio: Option<f64>,
    /// Alerts opened on a host with no fault going on, per host-day.
    pub false_positives_per_host_day: f64,
    pub policy_violations: Option<u64>,
    pub over_budget_actions: Option<u64>,
    pub kill_switch_actions: Option<u64>,
    pub ece: Option<f64>,
    pub mttp_days: Option<BTreeMap<String, f64>>,
    pub patch_coverage_ratio: Option<f64>,
    pub failed_patches_rolled_back_ratio: Option<f64>,
    pub incidents: Option<u64>,
    /// Deduplicated, fused alerts opened.
    pub alerts: u64,
    /// Anomalies the detectors raised before fusion (noise reduction: raw → alerts).
    pub raw_anomalies: u64,
    pub by_kind: BTreeMap<String, KindScore>,
    /// Keys above that this build of the lab cannot measure yet.
    pub not_measured: Vec<&'static str>,
}

impl Scorecard {
    pub fn compute(
        scenario: &Scenario,
        faults: &[Fault],
        alerts: &[ScoredAlert],
        raw_anomalies: u64,
        fusion_window_ms: i64,
    ) -> Self {
        // An alert belongs to a fault on its host from the precursor's start until the fault
        // ends plus the fusion window (a compound alert may open at the last member).
        let grace = fusion_window_ms + 5 * 60_000;
        let mut by_kind: BTreeMap<String, KindScore> = BTreeMap::new();
        let mut leads = Vec::new();
        let mut detect_delays = Vec::new();
        let mut before = 0usize;
        let mut detected = 0usize;
        for fault in faults {
            let entry = by_kind.entry(fault.kind.as_str().to_owned()).or_default();
            entry.faults += 1;
            let first = alerts
                .iter()
                .filter(|a| {
                    a.host == fault.host
                        && a.opened_ms >= fault.start_ms
                        && a.opened_ms < fault.end_ms + grace
                })
                .map(|a| a.opened_ms)
                .min();
            if let Some(first) = first {
                detected += 1;
                entry.detected += 1;
                detect_delays.push((first - fault.start_ms) as f64 / 60_000.0);
                if first < fault.impact_ms {
                    before += 1;
                    entry.detected_before_impact += 1;
                    let lead = (fault.impact_ms - first) as f64 / 60_000.0;
                    leads.push(lead);
                    let n = entry.detected_before_impact as f64;
                    entry.mean_lead_minutes =
                        Some(entry.mean_lead_minutes.unwrap_or(0.0) * (n - 1.0) / n + lead / n);
                }
            }
        }
        let false_positives = alerts
            .iter()
            .filter(|a| {
                !faults.iter().any(|f| {
                    f.host == a.host && a.opened_ms >= f.start_ms && a.opened_ms < f.end_ms + grace
                })
            })
            .count();
        let host_days = (scenario.hosts as f64) * f64::from(scenario.days);
        let ratio = |n: usize| {
            if faults.is_empty() {
                0.0
            } else {
                n as f64 / faults.len() as f64
            }
        };
        Self {
            hosts: scenario.hosts,
            days: scenario.days,
            seed: scenario.seed,
            faults: faults.len(),
            detected_before_impact_ratio: ratio(before),
            mean_lead_minutes: mean(&leads),
            detected_ratio: ratio(detected),
            mttd_minutes: mean(&detect_delays),
            mttr_minutes: None,
            autonomous_ratio: None,
            resolved_under_4min_ratio: None,
            false_positives_per_host_day: false_positives as f64 / host_days.max(1.0),
            policy_violations: None,
            over_budget_actions: None,
            kill_switch_actions: None,
            ece: None,
            mttp_days: None,
            patch_coverage_ratio: None,
            failed_patches_rolled_back_ratio: None,
            incidents: None,
            alerts: alerts.len() as u64,
            raw_anomalies,
            by_kind,
            not_measured: vec![
                "mttr_minutes",
                "autonomous_ratio",
                "resolved_under_4min_ratio",
                "policy_violations",
                "over_budget_actions",
                "kill_switch_actions",
                "ece",
                "mttp_days",
                "patch_coverage_ratio",
                "failed_patches_rolled_back_ratio",
                "incidents",
            ],
        }
    }

    /// The terminal table: figure, measured value, the claim it tests.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let opt = |v: Option<f64>, unit: &str| {
            v.map_or("not measured".to_owned(), |v| format!("{v:.1}{unit}"))
        };
        out.push_str(&format!(
            "lab: {} hosts × {} days, seed {}, {} faults, {} alerts from {} raw anomalies\n\n",
            self.hosts, self.days, self.seed, self.faults, self.alerts, self.raw_anomalies
        ));
        out.push_str(&format!(
            "{:<38} {:>14}   {}\n",
            "figure", "measured", "claim"
        ));
        let rows = [
            (
                "failures detected before impact",
                format!("{:.1} %", self.detected_before_impact_ratio * 100.0),
                "68 %",
            ),
            (
                "mean lead time",
                opt(self.mean_lead_minutes, " min"),
                "34 min",
            ),
            (
                "failures detected at all",
                format!("{:.1} %", self.detected_ratio * 100.0),
                "—",
            ),
            ("MTTD from fault start", opt(self.mttd_minutes, " min"), "—"),
            (
                "false-positive alerts per host-day",
                format!("{:.3}", self.false_positives_per_host_day),
                "—",
            ),
            (
                "noise reduction (raw → alerts)",
                format!("{} → {}", self.raw_anomalies, self.alerts),
                "—",
            ),
            ("MTTR", opt(self.mttr_minutes, " min"), "—"),
            (
                "incidents resolved with no human",
                "not measured".to_owned(),
                "91 %",
            ),
            ("resolved under 4 min", "not measured".to_owned(), "78 %"),
            (
                "mean time to patch",
                "not measured".to_owned(),
                "4.2 days, 97 % coverage",
            ),
        ];
        for (name, value, claim) in rows {
            out.push_str(&format!("{name:<38} {value:>14}   {claim}\n"));
        }
        out.push_str("\nby fault kind:\n");
        for (kind, s) in &self.by_kind {
            out.push_str(&format!(
                "  {kind:<20} {:>4} faults  {:>4} detected  {:>4} before impact  lead {}\n",
                s.faults,
                s.detected,
                s.detected_before_impact,
                opt(s.mean_lead_minutes, " min")
            ));
        }
        out
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
