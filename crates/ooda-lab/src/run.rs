//! One lab run: the fleet, its faults and the real monitoring engine (per-host monitors, fusion,
//! dedup) stepped together on virtual time.

use std::collections::BTreeMap;

use ooda_core::{Alert, MetricClass};
use ooda_monitor::fusion::FusionEvent;
use ooda_monitor::{HostMonitor, MemoryDedup, MonitorConfig, Stage};
use rayon::prelude::*;

use crate::faults::{Fault, FaultKind};
use crate::fleet::{host_index, SimHost, METRICS};
use crate::respond::{Pillars, RespondError};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::scorecard::{Response, Scorecard, ScoredAlert};
use crate::world::World;

/// Monday 2026-01-05 00:00 UTC: the lab's epoch (a Monday, so weeks line up with the baseline).
pub const EPOCH_MS: i64 = 1_767_571_200_000;
const DAY_MS: i64 = 86_400_000;

/// Receives progress: `(done, total)` steps.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Runs the scenario through the engine configured by `config` (and, unless the scenario says
/// `respond = false`, the incident and governance pillars) and scores it.
pub fn run(
    scenario: &Scenario,
    config: &MonitorConfig,
    progress: Progress<'_>,
) -> Result<Scorecard, RespondError> {
    let step_ms = scenario.step_secs as i64 * 1000;
    let scored_start = EPOCH_MS + i64::from(scenario.warmup_days) * DAY_MS;
    let end = scored_start + i64::from(scenario.days) * DAY_MS;
    let faults = plan_faults(scenario, scored_start);

    let mut config = config.clone();
    for name in METRICS {
        let class = match name {
            "load1" => MetricClass::Load,
            _ => ooda_monitor::score::guess_class(name),
        };
        config.classes.entry(name.to_owned()).or_insert(class);
    }
    let mut hosts: Vec<SimHost> = (0..scenario.hosts)
        .map(|i| SimHost::new(i, scenario.seed))
        .collect();
    let mut monitors: Vec<HostMonitor> = hosts
        .iter()
        .map(|h| {
            HostMonitor::new(
                h.name.clone(),
                METRICS.iter().map(|m| (*m).to_owned()).collect(),
                &config,
            )
        })
        .collect();
    let world = World::new(
        hosts.iter().map(|h| h.class).collect(),
        faults.clone(),
        scenario.actuator_failure_rate,
        scenario.seed,
    );
    let mut pillars = if scenario.respond {
        let periods = scenario
            .kill_switch
            .iter()
            .map(|p| {
                let start =
                    scored_start + i64::from(p.day) * DAY_MS + i64::from(p.hour) * 3_600_000;
                (start, start + i64::from(p.minutes) * 60_000)
            })
            .collect();
        Some(Pillars::new(
            world.clone(),
            scenario.hosts,
            EPOCH_MS,
            scenario.human_response_minutes,
            periods,
            scenario.autonomy,
        )?)
    } else {
        None
    };
    let mut stage = Stage::new(&config, std::sync::Arc::new(MemoryDedup::new()));
    let mut patch =
        crate::patch::PatchPillar::start(scenario, &hosts, EPOCH_MS, scored_start, end)?;

    let total = ((end - EPOCH_MS) / step_ms).max(1) as u64;
    let mut raw_anomalies = 0u64;
    let mut alerts: Vec<ScoredAlert> = Vec::new();
    let mut opened: Vec<FusionEvent> = Vec::new();
    let mut rows = vec![[0.0; 7]; hosts.len()];
    let mut found: Vec<Vec<ooda_core::Anomaly>> = vec![Vec::new(); hosts.len()];
    let mut step = 0u64;
    let mut t = EPOCH_MS;
    while t < end {
        let days_in = (t - EPOCH_MS) as f64 / DAY_MS as f64;
        {
            let mut w = world.lock();
            w.now_ms = t;
            for (i, host) in hosts.iter_mut().enumerate() {
                let mut values = host.healthy(t, days_in);
                for &f in &w.by_host[i] {
                    if w.fault_live(f, t) {
                        w.faults[f].apply(t, &mut values);
                    }
                }
                if let Some(p) = &patch {
                    p.degrade(i, &mut values);
                }
                w.record(i, values);
                rows[i] = values;
            }
        }
        // Hosts' monitors are independent: step them on every core, then take their anomalies
        // in fleet order, so the result is the same whatever the thread count.
        monitors
            .par_iter_mut()
            .zip(rows.par_iter())
            .zip(found.par_iter_mut())
            .for_each(|((monitor, values), found)| {
                let verdict = monitor.observe_row(t, &values.map(Some));
                *found = if verdict.members.is_empty() {
                    Vec::new()
                } else {
                    monitor.anomalies(t, &verdict)
                };
            });
        for host_found in &mut found {
            if t >= scored_start {
                raw_anomalies += host_found.len() as u64;
            }
            stage.add(host_found);
        }
        let events = stage.close(t)?;
        if !events.is_empty() {
            let mut w = world.lock();
            for event in &events {
                match event {
                    FusionEvent::Opened(a) | FusionEvent::Updated(a) => w.follow(a, true),
                    FusionEvent::Resolved(a) => w.follow(a, false),
                }
            }
        }
        if let Some(p) = patch.as_mut() {
            p.step(t, &events, world.lock().kill_switch_on);
        }
        if t >= scored_start {
            for event in events {
                if let FusionEvent::Opened(alert) = &event {
                    alerts.push(scored(alert));
                }
                // Incident response hears every alert event, as the live agent's does.
                opened.push(event);
            }
        }
        if let Some(p) = pillars.as_mut() {
            if !opened.is_empty() || !p.idle(t) {
                p.step(t, std::mem::take(&mut opened));
            }
        }
        opened.clear();
        t += step_ms;
        step += 1;
        if step.is_multiple_of(256) || t >= end {
            progress(step, total);
        }
    }
    let mut card = Scorecard::compute(
        scenario,
        &faults,
        &alerts,
        raw_anomalies,
        config.fusion.window.as_millis() as i64,
        scored_start,
    );
    if let Some(p) = &patch {
        card.add_patch(p.score());
    }
    if let Some(p) = &pillars {
        let grace = config.fusion.window.as_millis() as i64 + 5 * 60_000;
        card.add_response(Response::collect(p, &world.lock(), grace), scored_start);
    }
    Ok(card)
}

fn scored(alert: &Alert) -> ScoredAlert {
    ScoredAlert {
        host: alert
            .host
            .as_deref()
            .and_then(|h| host_index(h, usize::MAX))
            .unwrap_or(usize::MAX),
        opened_ms: alert.opened_at.timestamp_millis(),
        severity: alert.severity,
        kind: alert.kind,
    }
}

/// Random faults (at most one a day per host, never overlapping) plus the scheduled ones, all
/// inside the scored period.
pub fn plan_faults(scenario: &Scenario, scored_start: i64) -> Vec<Fault> {
    let mut faults = Vec::new();
    let weights: Vec<(FaultKind, f64)> = scenario.mix.iter().map(|(k, w)| (*k, *w)).collect();
    let total_weight: f64 = weights.iter().map(|(_, w)| w).sum();
    let per_day = scenario.faults_per_host_month / 30.0;
    let end = scored_start + i64::from(scenario.days) * DAY_MS;
    for host in 0..scenario.hosts {
        let mut rng = Rng::stream(scenario.seed, 1_000_000 + host as u64);
        let mut last_end = i64::MIN;
        for day in 0..scenario.days {
            if rng.uniform() >= per_day || total_weight <= 0.0 {
                continue;
            }
            let mut pick = rng.uniform() * total_weight;
            let kind = weights
                .iter()
                .find(|(_, w)| {
                    pick -= w;
                    pick < 0.0
                })
                .map_or(FaultKind::CpuRunaway, |(k, _)| *k);
            let impact = scored_start
                + i64::from(day) * DAY_MS
                + rng.below(DAY_MS as u64 / 60_000) as i64 * 60_000;
            let fault = Fault::new(host, kind, impact);
            if fault.start_ms >= scored_start
                && fault.end_ms < end
                && fault.start_ms > last_end + 3_600_000
            {
                last_end = fault.end_ms;
                faults.push(fault);
            }
        }
    }
    for scheduled in &scenario.faults {
        if let Some(host) = host_index(&scheduled.host, scenario.hosts) {
            let impact = scored_start
                + i64::from(scheduled.day) * DAY_MS
                + i64::from(scheduled.hour) * 3_600_000;
            let fault = Fault::new(host, scheduled.kind, impact);
            let overlaps = faults
                .iter()
                .any(|f| f.host == host && f.start_ms < fault.end_ms && fault.start_ms < f.end_ms);
            if !overlaps {
                faults.push(fault);
            }
        }
    }
    faults.sort_by_key(|f| (f.impact_ms, f.host));
    faults
}

/// Faults per kind, for reports.
pub fn count_by_kind(faults: &[Fault]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for f in faults {
        *out.entry(f.kind.as_str()).or_insert(0) += 1;
    }
    out
}
