//! `ooda maturity`: which autonomy level the stored operation history supports, per action type,
//! against the maturity model's exit criteria:
//!
//! - leave L1: alerts reach a human (alert-to-page reliability, here: every opened alert was
//!   taken up by incident response) at 99 % or more;
//! - leave L2: false-positive alert rate below 20 % (an incident that ended without a cause);
//! - leave L3: a root-cause analysis within 2 minutes for more than 80 % of incidents;
//! - L4: fewer than 10 % of incidents needed a human (escalated or waited for an approval).
//!
//! Per action type the level is capped at L3 until it has run at least 5 times with at most 10 %
//! failures (evidence that it is safe alone). Read-only: it never changes a level.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use clap::Args;
use ooda_core::{ActionKind, AlertId, EventKind};
use ooda_govern::audit::AuditEntry;
use ooda_govern::autonomy::{low_risk, Level};
use ooda_govern::{Home, OutcomeStatus};
use ooda_incident::lifecycle::{IncidentState, TimelineEntry};
use ooda_incident::register::Register;
use serde_json::json;

use super::GlobalArgs;

const PAGE_RELIABILITY: f64 = 0.99;
const MAX_FALSE_POSITIVE: f64 = 0.20;
const MIN_RCA_IN_2_MIN: f64 = 0.80;
const MAX_HUMAN_NEEDED: f64 = 0.10;
const MIN_RUNS_ALONE: u64 = 5;
const MAX_FAILURE_RATE: f64 = 0.10;

#[derive(Debug, Args)]
pub struct MaturityArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Debug)]
struct Criterion {
    name: &'static str,
    /// `None`: no data.
    value: Option<f64>,
    threshold: String,
    met: bool,
}

#[derive(Debug, Default)]
struct ActionHistory {
    executed: u64,
    succeeded: u64,
    failed: u64,
    parked: u64,
    refused: u64,
}

#[derive(Debug)]
struct ActionReport {
    action: &'static str,
    low_risk: bool,
    supported: &'static str,
    why: String,
    history: ActionHistory,
}

#[derive(Debug)]
struct Report {
    alerts: u64,
    incidents: u64,
    criteria: Vec<Criterion>,
    supported: &'static str,
    why: String,
    actions: Vec<ActionReport>,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

pub fn run(args: MaturityArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let home = Home::open(&global.data_dir, None)?;
    let register = Register::new(home.store.clone(), home.clock.clone());

    let mut opened: BTreeSet<AlertId> = BTreeSet::new();
    let mut after = 0;
    loop {
        let page = home.store.events_named("alert.opened", after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in &page {
            if let EventKind::AlertOpened(alert) = &stored.event.kind {
                opened.insert(alert.id);
            }
        }
    }
    let incidents = register.list()?;
    let paged: BTreeSet<AlertId> = incidents
        .iter()
        .flat_map(|i| i.alerts.iter().copied())
        .collect();
    let reached = opened.iter().filter(|a| paged.contains(a)).count() as u64;

    let finished: Vec<_> = incidents
        .iter()
        .filter(|i| {
            matches!(
                i.state,
                IncidentState::Closed | IncidentState::Resolved | IncidentState::Escalated
            )
        })
        .collect();
    let false_positives = finished.iter().filter(|i| i.cause.is_none()).count() as u64;
    let transitions = |i: &ooda_incident::Incident| -> Vec<(chrono::DateTime<chrono::Utc>, IncidentState, IncidentState)> {
        i.timeline
            .iter()
            .filter_map(|e| match e {
                TimelineEntry::Transition(t) => Some((t.at, t.from, t.to)),
                TimelineEntry::Note(_) => None,
            })
            .collect()
    };
    let rca_fast = incidents
        .iter()
        .filter(|i| {
            i.cause.is_some()
                && transitions(i).iter().any(|(at, from, _)| {
                    *from == IncidentState::Investigating
                        && (*at - i.opened_at).num_milliseconds() <= 120_000
                })
        })
        .count() as u64;

    // Audit: what each action type did, and which incidents waited for a human.
    let mut history: BTreeMap<ActionKind, ActionHistory> = BTreeMap::new();
    let mut kind_of = BTreeMap::new();
    for record in home.audit.read_all()? {
        match record.entry {
            AuditEntry::Intent {
                action, request, ..
            } => {
                kind_of.insert(action, request.kind());
                history.entry(request.kind()).or_default().executed += 1;
            }
            AuditEntry::Outcome { action, status, .. } => {
                if let Some(kind) = kind_of.get(&action) {
                    let h = history.entry(*kind).or_default();
                    match status {
                        OutcomeStatus::Succeeded => h.succeeded += 1,
                        OutcomeStatus::Failed | OutcomeStatus::Unknown => h.failed += 1,
                        OutcomeStatus::NotRun => {}
                    }
                }
            }
            AuditEntry::Parked { kind, .. } => history.entry(kind).or_default().parked += 1,
            AuditEntry::Refused { kind, .. } => history.entry(kind).or_default().refused += 1,
            _ => {}
        }
    }
    let human_needed = incidents
        .iter()
        .filter(|i| {
            i.state == IncidentState::Escalated
                || transitions(i)
                    .iter()
                    .any(|(_, _, to)| *to == IncidentState::Escalated)
        })
        .count() as u64;

    let criterion =
        |name, value: Option<f64>, threshold: String, ok: &dyn Fn(f64) -> bool| Criterion {
            name,
            value,
            threshold,
            met: value.is_some_and(ok),
        };
    let criteria = vec![
        criterion(
            "alert-to-page reliability (leave L1)",
            share(reached, opened.len() as u64),
            format!(">= {:.0} %", PAGE_RELIABILITY * 100.0),
            &|v| v >= PAGE_RELIABILITY,
        ),
        criterion(
            "false-positive alert rate (leave L2)",
            share(false_positives, finished.len() as u64),
            format!("< {:.0} %", MAX_FALSE_POSITIVE * 100.0),
            &|v| v < MAX_FALSE_POSITIVE,
        ),
        criterion(
            "root cause within 2 min (leave L3)",
            share(rca_fast, incidents.len() as u64),
            format!("> {:.0} %", MIN_RCA_IN_2_MIN * 100.0),
            &|v| v > MIN_RCA_IN_2_MIN,
        ),
        criterion(
            "incidents that needed a human (L4)",
            share(human_needed, incidents.len() as u64),
            format!("< {:.0} %", MAX_HUMAN_NEEDED * 100.0),
            &|v| v < MAX_HUMAN_NEEDED,
        ),
    ];
    // The first unmet criterion is where the team stands.
    let passed = criteria.iter().take_while(|c| c.met).count();
    let supported = Level::ALL[passed.min(3)];
    let why = match criteria.get(passed) {
        Some(c) => match c.value {
            Some(v) => format!("{}: {:.1} %, needs {}", c.name, v * 100.0, c.threshold),
            None => format!("{}: no data yet", c.name),
        },
        None => "every exit criterion is met".to_owned(),
    };

    let actions = ActionKind::ALL
        .into_iter()
        .map(|kind| {
            let h = history.remove(&kind).unwrap_or_default();
            let runs = h.succeeded + h.failed;
            let failure = share(h.failed, runs).unwrap_or(0.0);
            let (level, why) = if supported < Level::Autonomous {
                (supported, format!("fleet-wide: {why}"))
            } else if runs < MIN_RUNS_ALONE {
                (
                    Level::Assisted,
                    format!("{runs} runs recorded, {MIN_RUNS_ALONE} needed before it runs alone"),
                )
            } else if failure > MAX_FAILURE_RATE {
                (
                    Level::Assisted,
                    format!(
                        "{:.0} % of its {runs} runs failed (at most {:.0} %)",
                        failure * 100.0,
                        MAX_FAILURE_RATE * 100.0
                    ),
                )
            } else {
                (
                    Level::Autonomous,
                    format!("{runs} runs, {:.0} % failed", failure * 100.0),
                )
            };
            ActionReport {
                action: kind.as_str(),
                low_risk: low_risk(kind),
                supported: level.code(),
                why,
                history: h,
            }
        })
        .collect();

    let report = Report {
        alerts: opened.len() as u64,
        incidents: incidents.len() as u64,
        criteria,
        supported: supported.code(),
        why,
        actions,
    };
    if args.json {
        let criteria: Vec<_> = report
            .criteria
            .iter()
            .map(|c| json!({"name": c.name, "value": c.value, "threshold": c.threshold, "met": c.met}))
            .collect();
        let actions: Vec<_> = report
            .actions
            .iter()
            .map(|a| {
                json!({
                    "action": a.action,
                    "low_risk": a.low_risk,
                    "supported": a.supported,
                    "why": a.why,
                    "executed": a.history.executed,
                    "succeeded": a.history.succeeded,
                    "failed": a.history.failed,
                    "parked": a.history.parked,
                    "refused": a.history.refused,
                })
            })
            .collect();
        let value = json!({
            "alerts": report.alerts,
            "incidents": report.incidents,
            "criteria": criteria,
            "supported": report.supported,
            "why": report.why,
            "actions": actions,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "operation history: {} alerts, {} incidents",
        report.alerts, report.incidents
    );
    for c in &report.criteria {
        println!(
            "{} {:<40} {:>8}  (needs {})",
            if c.met { "✔" } else { "✖" },
            c.name,
            c.value
                .map_or("no data".to_owned(), |v| format!("{:.1} %", v * 100.0)),
            c.threshold
        );
    }
    println!(
        "supported level: {} ({}) — {}",
        supported.code(),
        supported.name(),
        report.why
    );
    println!();
    println!(
        "{:<20}  {:<5}  {:>4} {:>4} {:>4} {:>4}  why",
        "action", "level", "runs", "fail", "park", "refd"
    );
    for a in &report.actions {
        println!(
            "{:<20}  {:<5}  {:>4} {:>4} {:>4} {:>4}  {}",
            a.action,
            a.supported,
            a.history.succeeded + a.history.failed,
            a.history.failed,
            a.history.parked,
            a.history.refused,
            a.why
        );
    }
    Ok(ExitCode::SUCCESS)
}
