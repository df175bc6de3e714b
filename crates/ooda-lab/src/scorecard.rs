//! The scorecard: each figure beside the claim it tests. Figures the lab cannot measure (the
//! response figures when a scenario runs detection only, the patch figures when `[patch]` is off
//! or nothing was patched) are `null` and listed in `not_measured`, never invented.

use std::collections::BTreeMap;

use ooda_core::{AlertKind, Severity};
use serde::Serialize;

use ooda_core::RiskClass;
use ooda_incident::IncidentState;

use crate::faults::{Fault, FaultKind};
use crate::fleet::host_index;
use crate::respond::Pillars;
use crate::scenario::Scenario;
use crate::world::{Fixer, WorldState};

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
    /// Faults that became an incident; of those, the ones whose final diagnosis named the fault
    /// and the ones ooda fixed with no human (response pillars only).
    pub incidents: Option<usize>,
    pub named: Option<usize>,
    pub autonomous: Option<usize>,
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
    /// The same two shares over routine faults only (see `FaultKind::routine`): what the
    /// claims (91 %, 78 %) are about.
    pub routine_autonomous_ratio: Option<f64>,
    pub routine_under_4min_ratio: Option<f64>,
    /// Actions ooda ran on a host with no fault going on (a false alert acted on).
    pub unneeded_actions: Option<u64>,
    /// Alerts opened on a host with no fault going on, per host-day.
    pub false_positives_per_host_day: f64,
    pub policy_violations: Option<u64>,
    pub over_budget_actions: Option<u64>,
    pub kill_switch_actions: Option<u64>,
    pub ece: Option<f64>,
    /// Mean days from advisory to patch, per risk tier, over the host × CVE findings patched by
    /// the end (claim: 4.2 days overall).
    pub mttp_days: Option<BTreeMap<String, f64>>,
    /// Share of the host × CVE findings (every affected host of every advisory that arrived)
    /// patched, and not rolled back, by the end of the run (claim: 0.97).
    pub patch_coverage_ratio: Option<f64>,
    /// Share of the patches that broke their host which the rollout engine rolled back itself.
    pub failed_patches_rolled_back_ratio: Option<f64>,
    pub incidents: Option<u64>,
    /// Deduplicated, fused alerts opened.
    pub alerts: u64,
    /// Anomalies the detectors raised before fusion (noise reduction: raw → alerts).
    pub raw_anomalies: u64,
    pub by_kind: BTreeMap<String, KindScore>,
    /// Incidents opened on a host with no fault going on.
    pub false_incidents: Option<u64>,
    /// Faults ooda ended before their impact (a precursor caught and fixed).
    pub impacts_prevented: Option<u64>,
    /// Actions that reached the (lab) actuator, and how many of them failed.
    pub actions: Option<u64>,
    pub failed_actions: Option<u64>,
    /// Confidence vs. "the reasoner named the injected fault", in tenths.
    pub reliability: Vec<ReliabilityBin>,
    /// Pillar calls that returned an error (each is a finding, not noise).
    pub pillar_errors: u64,
    /// Keys above that this run could not measure.
    pub not_measured: Vec<&'static str>,
    /// What the HTML report plots (not part of the JSON scorecard).
    #[serde(skip)]
    pub detail: Detail,
}

/// Per-fault and per-day numbers behind the figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// Minutes of warning for each fault caught before impact.
    pub leads: Vec<f64>,
    /// Minutes from incident to fix, and whether ooda fixed it alone.
    pub repairs: Vec<(f64, bool)>,
    pub daily: Vec<DayCount>,
    /// The patch pillar's counts behind its three figures.
    pub patch: Option<crate::patch::PatchScore>,
}

/// What happened on one scored day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayCount {
    pub faults: u64,
    pub alerts: u64,
    pub incidents: u64,
    /// Incidents a human had to approve or take over.
    pub human: u64,
}

/// One bin of the reliability diagram.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReliabilityBin {
    pub low: f64,
    pub high: f64,
    pub count: u64,
    pub mean_confidence: f64,
    /// Share of the bin's reports whose root cause was the injected fault.
    pub accuracy: f64,
}

/// What the incident and governance pillars did, measured from outside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub incidents: u64,
    pub false_incidents: u64,
    pub mttr_minutes: Option<f64>,
    pub autonomous_ratio: Option<f64>,
    pub resolved_under_4min_ratio: Option<f64>,
    pub routine_autonomous_ratio: Option<f64>,
    pub routine_under_4min_ratio: Option<f64>,
    pub unneeded_actions: u64,
    pub policy_violations: u64,
    pub over_budget_actions: u64,
    pub kill_switch_actions: u64,
    pub impacts_prevented: u64,
    pub actions: u64,
    pub failed_actions: u64,
    pub ece: Option<f64>,
    pub reliability: Vec<ReliabilityBin>,
    pub errors: u64,
    pub repairs: Vec<(f64, bool)>,
    /// Fault kind → (incidents, named, autonomous).
    pub per_kind: BTreeMap<String, (usize, usize, usize)>,
    /// (opened, needed a human) per incident.
    pub opened: Vec<(i64, bool)>,
}

/// The catalogue cause the reasoner should name for a fault.
pub fn cause_of(kind: FaultKind) -> &'static str {
    match kind {
        FaultKind::DiskFull => "disk_full",
        FaultKind::MemoryLeak => "memory_leak",
        FaultKind::StorageController => "storage_degradation",
        FaultKind::CpuRunaway => "runaway_cpu",
        FaultKind::NicErrors => "nic_errors",
        FaultKind::CrashLoop => "crash_loop",
    }
}

impl Response {
    /// Scores the pillars' run. `grace_ms` ties an incident to a fault that ended shortly before
    /// it opened (as the detection figures do).
    pub fn collect(pillars: &Pillars, world: &WorldState, grace_ms: i64) -> Self {
        let fault_of = |host: usize, at: i64| {
            world.by_host.get(host).and_then(|list| {
                list.iter().copied().find(|&f| {
                    let fault = &world.faults[f];
                    at >= fault.start_ms && at < fault.end_ms + grace_ms
                })
            })
        };
        let mut first_incident: BTreeMap<usize, usize> = BTreeMap::new();
        let mut false_incidents = 0u64;
        let mut calibration: Vec<(f64, bool)> = Vec::new();
        for (i, incident) in pillars.incidents.iter().enumerate() {
            match fault_of(incident.host, incident.opened_ms) {
                Some(f) => {
                    first_incident.entry(f).or_insert(i);
                    if let Some(confidence) = incident.confidence {
                        let named =
                            incident.root_cause.as_deref() == Some(cause_of(world.faults[f].kind));
                        calibration.push((confidence, named));
                    }
                }
                None => false_incidents += 1,
            }
        }
        let mut repair = Vec::new();
        let mut repairs = Vec::new();
        let mut autonomous = 0usize;
        let mut quick = 0usize;
        let (mut routine, mut routine_autonomous, mut routine_quick) = (0usize, 0usize, 0usize);
        let mut prevented = 0u64;
        let mut per_kind: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for (&f, &i) in &first_incident {
            let incident = &pillars.incidents[i];
            routine += usize::from(world.faults[f].kind.routine());
            let kind = world.faults[f].kind;
            let entry = per_kind.entry(kind.as_str().to_owned()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(incident.root_cause.as_deref() == Some(cause_of(kind)));
            entry.2 += usize::from(
                !incident.human && world.cleared[f].is_some_and(|(_, by)| by == Fixer::Ooda),
            );
            let Some((at, by)) = world.cleared[f] else {
                continue;
            };
            let minutes = (at - incident.opened_ms).max(0) as f64 / 60_000.0;
            repair.push(minutes);
            repairs.push((minutes, by == Fixer::Ooda && !incident.human));
            let is_routine = world.faults[f].kind.routine();
            if by == Fixer::Ooda && !incident.human {
                autonomous += 1;
                routine_autonomous += usize::from(is_routine);
                if minutes <= 4.0 {
                    quick += 1;
                    routine_quick += usize::from(is_routine);
                }
                if at < world.faults[f].impact_ms {
                    prevented += 1;
                }
            }
        }
        let handled = first_incident.len();
        let share = |n: usize| (handled > 0).then(|| n as f64 / handled as f64);
        let routine_share = |n: usize| (routine > 0).then(|| n as f64 / routine as f64);
        let unneeded = world
            .executed
            .iter()
            .filter(|a| {
                !a.fixed
                    && host_index(&a.host, world.by_host.len()).is_some_and(|h| {
                        !world.by_host[h]
                            .iter()
                            .any(|&f| world.faults[f].active(a.at_ms))
                    })
            })
            .count() as u64;
        let mut per_incident: BTreeMap<String, u64> = BTreeMap::new();
        let mut over_budget = 0u64;
        let mut violations = 0u64;
        for action in &world.executed {
            let spec = ooda_govern::catalogue::spec(action.kind);
            if (spec.destructive || spec.risk == RiskClass::Critical) && !action.approved {
                violations += 1;
            }
            if !action.approved {
                let key = action
                    .incident
                    .map_or_else(|| "none".to_owned(), |i| i.to_string());
                let used = per_incident.entry(key).or_insert(0);
                *used += 1;
                if *used > pillars.budget {
                    over_budget += 1;
                }
            }
        }
        let (ece, reliability) = calibrate(&calibration);
        debug_assert!(pillars
            .incidents
            .iter()
            .all(|i| i.state != IncidentState::Open));
        Self {
            incidents: pillars.incidents.len() as u64,
            false_incidents,
            mttr_minutes: mean(&repair),
            autonomous_ratio: share(autonomous),
            resolved_under_4min_ratio: share(quick),
            routine_autonomous_ratio: routine_share(routine_autonomous),
            per_kind,
            routine_under_4min_ratio: routine_share(routine_quick),
            unneeded_actions: unneeded,
            policy_violations: violations,
            over_budget_actions: over_budget,
            kill_switch_actions: world
                .executed
                .iter()
                .filter(|a| a.during_kill_switch)
                .count() as u64,
            impacts_prevented: prevented,
            actions: world.executed.len() as u64,
            failed_actions: world.executed.iter().filter(|a| !a.succeeded).count() as u64,
            ece,
            reliability,
            errors: pillars.errors.len() as u64,
            repairs,
            opened: pillars
                .incidents
                .iter()
                .map(|i| (i.opened_ms, i.human))
                .collect(),
        }
    }
}

/// Expected calibration error over ten equal-width bins, and the bins.
pub fn calibrate(points: &[(f64, bool)]) -> (Option<f64>, Vec<ReliabilityBin>) {
    let mut bins: Vec<ReliabilityBin> = (0..10)
        .map(|b| ReliabilityBin {
            low: f64::from(b) / 10.0,
            high: f64::from(b + 1) / 10.0,
            ..ReliabilityBin::default()
        })
        .collect();
    for &(confidence, correct) in points {
        let b = ((confidence.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        let bin = &mut bins[b];
        bin.count += 1;
        bin.mean_confidence += confidence;
        bin.accuracy += if correct { 1.0 } else { 0.0 };
    }
    let total = points.len() as f64;
    let mut ece = 0.0;
    for bin in &mut bins {
        if bin.count > 0 {
            let n = bin.count as f64;
            bin.mean_confidence /= n;
            bin.accuracy /= n;
            ece += n / total * (bin.accuracy - bin.mean_confidence).abs();
        }
    }
    ((!points.is_empty()).then_some(ece), bins)
}

impl Scorecard {
    pub fn compute(
        scenario: &Scenario,
        faults: &[Fault],
        alerts: &[ScoredAlert],
        raw_anomalies: u64,
        fusion_window_ms: i64,
        scored_start: i64,
    ) -> Self {
        let day_of = |ms: i64| ((ms - scored_start).max(0) / 86_400_000) as usize;
        let mut daily = vec![DayCount::default(); scenario.days as usize];
        for f in faults {
            if let Some(d) = daily.get_mut(day_of(f.impact_ms)) {
                d.faults += 1;
            }
        }
        for a in alerts {
            if let Some(d) = daily.get_mut(day_of(a.opened_ms)) {
                d.alerts += 1;
            }
        }
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
            routine_autonomous_ratio: None,
            routine_under_4min_ratio: None,
            unneeded_actions: None,
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
            false_incidents: None,
            impacts_prevented: None,
            actions: None,
            failed_actions: None,
            reliability: Vec::new(),
            pillar_errors: 0,
            detail: Detail {
                leads: leads.clone(),
                repairs: Vec::new(),
                daily,
                patch: None,
            },
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

    /// Fills the response figures and takes them off `not_measured`.
    pub fn add_response(&mut self, r: Response, scored_start: i64) {
        for (opened, human) in &r.opened {
            let day = ((opened - scored_start).max(0) / 86_400_000) as usize;
            if let Some(d) = self.detail.daily.get_mut(day) {
                d.incidents += 1;
                d.human += u64::from(*human);
            }
        }
        self.detail.repairs = r.repairs.clone();
        for (kind, (incidents, named, autonomous)) in &r.per_kind {
            let entry = self.by_kind.entry(kind.clone()).or_default();
            entry.incidents = Some(*incidents);
            entry.named = Some(*named);
            entry.autonomous = Some(*autonomous);
        }
        self.incidents = Some(r.incidents);
        self.false_incidents = Some(r.false_incidents);
        self.mttr_minutes = r.mttr_minutes;
        self.autonomous_ratio = r.autonomous_ratio;
        self.resolved_under_4min_ratio = r.resolved_under_4min_ratio;
        self.routine_autonomous_ratio = r.routine_autonomous_ratio;
        self.routine_under_4min_ratio = r.routine_under_4min_ratio;
        self.unneeded_actions = Some(r.unneeded_actions);
        self.policy_violations = Some(r.policy_violations);
        self.over_budget_actions = Some(r.over_budget_actions);
        self.kill_switch_actions = Some(r.kill_switch_actions);
        self.impacts_prevented = Some(r.impacts_prevented);
        self.actions = Some(r.actions);
        self.failed_actions = Some(r.failed_actions);
        self.ece = r.ece;
        self.reliability = r.reliability;
        self.pillar_errors = r.errors;
        let measured = [
            ("mttr_minutes", self.mttr_minutes.is_some()),
            ("autonomous_ratio", self.autonomous_ratio.is_some()),
            (
                "resolved_under_4min_ratio",
                self.resolved_under_4min_ratio.is_some(),
            ),
            ("policy_violations", true),
            ("over_budget_actions", true),
            ("kill_switch_actions", true),
            ("ece", self.ece.is_some()),
            ("incidents", true),
        ];
        self.not_measured
            .retain(|k| !measured.iter().any(|(m, yes)| m == k && *yes));
    }

    /// Fills the patch figures and takes them off `not_measured`.
    pub fn add_patch(&mut self, p: crate::patch::PatchScore) {
        self.mttp_days = (!p.mttp_days.is_empty()).then(|| p.mttp_days.clone());
        self.patch_coverage_ratio = (p.findings > 0).then(|| p.fixed as f64 / p.findings as f64);
        self.failed_patches_rolled_back_ratio =
            (p.bad_patches > 0).then(|| p.rolled_back as f64 / p.bad_patches as f64);
        self.pillar_errors += p.errors;
        let measured = [
            ("mttp_days", self.mttp_days.is_some()),
            ("patch_coverage_ratio", self.patch_coverage_ratio.is_some()),
            (
                "failed_patches_rolled_back_ratio",
                self.failed_patches_rolled_back_ratio.is_some(),
            ),
        ];
        self.not_measured
            .retain(|k| !measured.iter().any(|(m, yes)| m == k && *yes));
        self.detail.patch = Some(p);
    }

    /// The patch lines of the terminal table.
    fn patch_rows(&self) -> Vec<(String, String, String)> {
        let Some(p) = &self.detail.patch else {
            return vec![(
                "mean time to patch".to_owned(),
                "not measured".to_owned(),
                "4.2 days".to_owned(),
            )];
        };
        let days = |v: Option<f64>| v.map_or("not measured".to_owned(), |d| format!("{d:.1} days"));
        let mut rows = vec![(
            "mean time to patch (all tiers)".to_owned(),
            days(p.mttp_days_all),
            "4.2 days".to_owned(),
        )];
        for tier in ooda_patch::risk::Tier::ALL {
            if let Some(d) = p.mttp_days.get(tier.as_str()) {
                rows.push((
                    format!("  {} (SLA {})", tier.as_str(), sla(tier)),
                    format!("{d:.1} days"),
                    "—".to_owned(),
                ));
            }
        }
        rows.push((
            "patch coverage (host × CVE patched)".to_owned(),
            match self.patch_coverage_ratio {
                Some(c) => format!("{:.1} % of {}", c * 100.0, p.findings),
                None => "not measured".to_owned(),
            },
            "97 %".to_owned(),
        ));
        rows.push((
            "broken patches rolled back by ooda".to_owned(),
            match self.failed_patches_rolled_back_ratio {
                Some(r) => format!("{:.0} % of {}", r * 100.0, p.bad_patches),
                None => "none broke".to_owned(),
            },
            "—".to_owned(),
        ));
        rows.push((
            "  reverted by the human instead".to_owned(),
            p.reverted_by_human.to_string(),
            "—".to_owned(),
        ));
        rows.push((
            "good patches rolled back (other alert)".to_owned(),
            p.good_rolled_back.to_string(),
            "—".to_owned(),
        ));
        rows.push((
            "advisories, rollouts, executor failures".to_owned(),
            format!("{}, {}, {}", p.arrivals, p.rollouts, p.executor_failures),
            "—".to_owned(),
        ));
        rows
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
            (
                "incidents (of them on healthy hosts)",
                match (self.incidents, self.false_incidents) {
                    (Some(n), Some(f)) => format!("{n} ({f})"),
                    _ => "not measured".to_owned(),
                },
                "—",
            ),
            (
                "MTTR (incident open → fixed)",
                opt(self.mttr_minutes, " min"),
                "—",
            ),
            (
                "routine incidents resolved with no human",
                pct(self.routine_autonomous_ratio),
                "91 %",
            ),
            (
                "routine incidents resolved under 4 min",
                pct(self.routine_under_4min_ratio),
                "78 %",
            ),
            (
                "all incidents: no human / under 4 min",
                format!(
                    "{} / {}",
                    pct(self.autonomous_ratio),
                    pct(self.resolved_under_4min_ratio)
                ),
                "—",
            ),
            (
                "actions on hosts with no fault",
                count(self.unneeded_actions),
                "—",
            ),
            (
                "impacts prevented by a fix",
                count(self.impacts_prevented),
                "—",
            ),
            (
                "actions (failed)",
                match (self.actions, self.failed_actions) {
                    (Some(n), Some(f)) => format!("{n} ({f})"),
                    _ => "not measured".to_owned(),
                },
                "—",
            ),
            ("policy violations", count(self.policy_violations), "0"),
            ("actions over budget", count(self.over_budget_actions), "0"),
            (
                "actions during a kill switch",
                count(self.kill_switch_actions),
                "0",
            ),
            (
                "confidence calibration (ECE)",
                self.ece
                    .map_or("not measured".to_owned(), |e| format!("{e:.3}")),
                "—",
            ),
        ];
        for (name, value, claim) in rows {
            out.push_str(&format!("{name:<38} {value:>14}   {claim}\n"));
        }
        for (name, value, claim) in self.patch_rows() {
            out.push_str(&format!("{name:<38} {value:>14}   {claim}\n"));
        }
        if self.pillar_errors > 0 {
            out.push_str(&format!(
                "\n{} pillar calls failed (see the JSON for the count)\n",
                self.pillar_errors
            ));
        }
        out.push_str("\nby fault kind:\n");
        for (kind, s) in &self.by_kind {
            out.push_str(&format!(
                "  {kind:<20} {:>4} faults  {:>4} detected  {:>4} before impact  lead {}",
                s.faults,
                s.detected,
                s.detected_before_impact,
                opt(s.mean_lead_minutes, " min")
            ));
            if let (Some(n), Some(named), Some(alone)) = (s.incidents, s.named, s.autonomous) {
                out.push_str(&format!(
                    "  {n:>4} incidents  {named:>4} named  {alone:>4} fixed by ooda alone"
                ));
            }
            out.push('\n');
        }
        out
    }
}

/// `24 h`, `7 days`: the tier's time allowed to patch, as people say it.
fn sla(tier: ooda_patch::risk::Tier) -> String {
    let hours = tier.sla().num_hours();
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("not measured".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

fn count(v: Option<u64>) -> String {
    v.map_or("not measured".to_owned(), |v| v.to_string())
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
