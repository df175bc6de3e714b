//! The patch pillar in the lab: CVE advisories arrive (drawn from a real subset of the shared CVE
//! data), each affects some hosts, ooda-patch's risk formula gives every host × CVE finding its
//! tier, and ooda-patch's real rollout engine carries the fix out through a real Gate on virtual
//! time — staging first, validation, production one host at a time in its window, health gates
//! read from the lab's monitor, rollback when they fail.
//!
//! It must never decide in ooda's place: it only delivers advisories, moves the clock, answers
//! the engine's ports from the simulated fleet and plays the on-call human (resumes paused
//! rollouts, reverts what the engine handed over, starts a new rollout after a halt).

mod cves;
mod fleet;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use ooda_core::clock::from_millis;
use ooda_core::{Environment, Host, HostClass, ManualClock};
use ooda_govern::gate::GateParts;
use ooda_govern::{
    EmbeddedChangeRecords, Gate, GovernConfig, LogNotifier, PolicyEngine, StaticFacts,
};
use ooda_monitor::fusion::FusionEvent;
use ooda_patch::risk::{self, RiskInput, Tier};
use ooda_patch::rollout::{
    FleetFacts, HostPhase, NoEvents, RolloutConfig, RolloutEngine, RolloutParts, RolloutPlan, Stage,
};
use ooda_patch::windows::{WindowError, WindowSpec, Windows};

pub use cves::{parse as parse_cves, Cve, TableError};
pub use fleet::{Change, LabFleet, PatchActuator, PatchEvent, PatchState};

use crate::fleet::{host_index, host_name, Class, CPU, LATENCY};
use crate::rng::Rng;
use crate::sandbox::{Sandbox, SandboxError};
use crate::scenario::{PatchScenario, Scenario};

const DAY_MS: i64 = 86_400_000;

/// Why the patch pillar could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum PatchLabError {
    #[error("patch pillar: temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("patch pillar: {what}: {reason}")]
    Setup { what: &'static str, reason: String },
    #[error("patch pillar: {0}")]
    Table(#[from] TableError),
    #[error("patch pillar: {0}")]
    Window(#[from] WindowError),
}

impl From<SandboxError> for PatchLabError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::TempDir(e) => PatchLabError::TempDir(e),
            SandboxError::Setup { what, reason } => PatchLabError::Setup { what, reason },
        }
    }
}

fn setup<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> PatchLabError {
    move |e| PatchLabError::Setup {
        what,
        reason: e.to_string(),
    }
}

/// The production window the scenario asks for (also how the scenario check validates it).
pub fn production_window(config: &PatchScenario) -> Result<Windows, WindowError> {
    Windows::new(vec![
        WindowSpec {
            name: "production".into(),
            cron: config.window_cron.clone(),
            timezone: "UTC".into(),
            duration_minutes: config.window_minutes,
            blackout: Vec::new(),
            hosts: Vec::new(),
            groups: Vec::new(),
        },
        // Staging hosts may change at any time: a window that opens every hour for an hour.
        WindowSpec {
            name: "staging".into(),
            cron: "0 * * * *".into(),
            timezone: "UTC".into(),
            duration_minutes: 60,
            blackout: Vec::new(),
            hosts: Vec::new(),
            groups: Vec::new(),
        },
    ])
}

/// One advisory reaching the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub at_ms: i64,
    pub cve: Cve,
    /// Affected hosts, fleet order.
    pub hosts: Vec<usize>,
}

/// One host × CVE finding: what the coverage and the time to patch are measured on.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub arrival: usize,
    pub host: usize,
    pub tier: Tier,
}

/// A rollout as the lab follows it.
#[derive(Debug, Clone, PartialEq)]
struct LabRollout {
    id: String,
    arrival: usize,
    attempt: u32,
    done: bool,
    paused_since: Option<i64>,
    /// Hosts the engine handed to a human, already taken care of.
    handled: BTreeSet<String>,
    /// When the human was first asked to look at each host.
    seen_failed: BTreeMap<String, i64>,
}

/// What the patch pillar measured, for the scorecard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchScore {
    pub arrivals: usize,
    pub rollouts: usize,
    /// Host × CVE findings (the coverage's denominator).
    pub findings: usize,
    /// Findings whose patch is on at the end and was not rolled back.
    pub fixed: usize,
    /// Mean days from advisory to patch, per tier, over the fixed findings.
    pub mttp_days: BTreeMap<String, f64>,
    pub mttp_days_all: Option<f64>,
    /// Patches that broke their host.
    pub bad_patches: usize,
    /// Of them, rolled back by the rollout engine (automatically, through the Gate).
    pub rolled_back: usize,
    /// Of them, reverted by the simulated human after the engine handed the host over.
    pub reverted_by_human: usize,
    /// Bad patches applied over a day before the end still on their host: nobody noticed.
    pub unnoticed: usize,
    /// Good patches the engine rolled back because an unrelated alert failed the health gate.
    pub good_rolled_back: usize,
    pub executor_failures: usize,
    /// Open findings per scored day's end.
    pub open_by_day: Vec<u64>,
    pub errors: u64,
}

pub struct PatchPillar {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    gate: Arc<Gate>,
    engine: RolloutEngine,
    fleet: Arc<LabFleet>,
    state: Arc<Mutex<PatchState>>,
    config: PatchScenario,
    classes: Vec<Class>,
    staging: Vec<bool>,
    human_delay_ms: i64,
    pub arrivals: Vec<Arrival>,
    next_arrival: usize,
    next_tick_ms: i64,
    pub findings: Vec<Finding>,
    rollouts: Vec<LabRollout>,
    /// Retries due: (at, arrival, attempt).
    retries: Vec<(i64, usize, u32)>,
    /// Per host: a bad patch degrades it now (read by the run loop every sample, so cached).
    degraded: Vec<bool>,
    kill_switch_on: bool,
    /// Open findings at each scored day's end.
    open_by_day: Vec<u64>,
    scored_start: i64,
    pub errors: Vec<String>,
}

impl std::fmt::Debug for PatchPillar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatchPillar")
            .field("arrivals", &self.arrivals.len())
            .field("rollouts", &self.rollouts.len())
            .finish_non_exhaustive()
    }
}

/// Staging hosts: `share` of each class's hosts (at least one per class), spread evenly, so every
/// package a class runs can be tried in staging first.
fn staging_hosts(classes: &[Class], share: f64) -> Vec<bool> {
    let mut staging = vec![false; classes.len()];
    for class in [Class::Web, Class::Database, Class::Cache, Class::Batch] {
        let members: Vec<usize> = (0..classes.len())
            .filter(|&h| classes[h] == class)
            .collect();
        if members.is_empty() {
            continue;
        }
        let count = ((members.len() as f64 * share).round() as usize).clamp(1, members.len());
        for k in 0..count {
            staging[members[k * members.len() / count]] = true;
        }
    }
    staging
}

/// Advisories over `[start, end)`: a Poisson count per day, each a CVE from the table (without
/// replacement until the table is used up), affecting `affected_share` of the hosts running its
/// package.
pub fn plan_arrivals(
    config: &PatchScenario,
    table: &[Cve],
    classes: &[Class],
    seed: u64,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Arrival> {
    let mut rng = Rng::stream(seed, 9_000_000);
    let per_day = config.cves_per_month / 30.0;
    let mut arrivals = Vec::new();
    let mut pool: Vec<usize> = Vec::new();
    let mut day_start = start_ms;
    while day_start < end_ms && !table.is_empty() {
        // Poisson by inversion: cheap, and exact enough for a handful a day.
        let limit = (-per_day).exp();
        let mut product = rng.uniform();
        let mut count = 0;
        while product > limit && count < 1000 {
            count += 1;
            product *= rng.uniform();
        }
        let mut times: Vec<i64> = (0..count)
            .map(|_| day_start + rng.below(DAY_MS as u64 / 60_000) as i64 * 60_000)
            .collect();
        times.sort_unstable();
        for at_ms in times.into_iter().filter(|t| *t < end_ms) {
            if pool.is_empty() {
                pool = (0..table.len()).rev().collect();
            }
            let pick = rng.below(pool.len() as u64) as usize;
            let cve = table[pool.swap_remove(pick)].clone();
            let hosts = (0..classes.len())
                .filter(|&h| {
                    cves::runs(classes[h], &cve.package) && rng.uniform() < config.affected_share
                })
                .collect();
            arrivals.push(Arrival { at_ms, cve, hosts });
        }
        day_start += DAY_MS;
    }
    arrivals
}

/// ooda-patch's risk formula for one finding: the fix is published the day the advisory arrives.
pub fn tier_of(cve: &Cve, class: Class, staging: bool, at_ms: i64) -> Tier {
    let today: NaiveDate = from_millis(at_ms).date_naive();
    risk::score(&RiskInput {
        cvss: cve.cvss,
        in_kev: cve.kev_added.is_some(),
        internet_facing: class == Class::Web,
        production: !staging,
        fix_published: Some(today),
        today,
        epss: None,
    })
    .tier
}

impl PatchPillar {
    /// The run loop's entry: `None` when the scenario turns the pillar off.
    pub fn start(
        scenario: &Scenario,
        hosts: &[crate::fleet::SimHost],
        start_ms: i64,
        scored_start: i64,
        end_ms: i64,
    ) -> Result<Option<Self>, crate::respond::RespondError> {
        if !scenario.patch.enabled {
            return Ok(None);
        }
        let classes = hosts.iter().map(|h| h.class).collect();
        Self::new(scenario, classes, start_ms, scored_start, end_ms)
            .map(Some)
            .map_err(|e| crate::respond::RespondError::Setup {
                what: "patch pillar",
                reason: e.to_string(),
            })
    }

    /// Assembles store, audit log, Gate and rollout engine around the fleet, starting at
    /// `start_ms`; advisories arrive over `[start_ms, end_ms)`.
    pub fn new(
        scenario: &Scenario,
        classes: Vec<Class>,
        start_ms: i64,
        scored_start: i64,
        end_ms: i64,
    ) -> Result<Self, PatchLabError> {
        let config = scenario.patch.clone();
        let table = cves::parse(cves::TABLE)?;
        let windows = production_window(&config)?;
        let staging = staging_hosts(&classes, config.staging_share);
        let hosts: Vec<Host> = classes
            .iter()
            .enumerate()
            .map(|(i, class)| {
                let mut host = Host::new(host_name(i));
                host.class = HostClass::new(class.as_str());
                host.internet_facing = *class == Class::Web;
                host.environment = if staging[i] {
                    Environment::Staging
                } else {
                    Environment::Production
                };
                host.maintenance_window =
                    Some(if staging[i] { "staging" } else { "production" }.into());
                host
            })
            .collect();
        let fleet = Arc::new(LabFleet::new(hosts, windows));
        let Sandbox {
            dir,
            clock,
            shared,
            store,
            audit,
        } = Sandbox::open("ooda-lab-patch-", start_ms)?;
        let state = Arc::new(Mutex::new(PatchState::new(
            classes.len(),
            config.failure_rate,
            config.executor_failure_rate,
            Rng::stream(scenario.seed, 9_100_000),
        )));
        let mut govern = GovernConfig::default();
        govern.autonomy.default = scenario.autonomy;
        let changes = Arc::new(EmbeddedChangeRecords::new(store.clone(), shared.clone()));
        let gate = Arc::new(Gate::new(GateParts {
            config: govern,
            store: store.clone(),
            audit,
            policy: Arc::new(PolicyEngine::with_defaults().map_err(|p| {
                setup("policy")(
                    p.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?),
            actuator: Arc::new(PatchActuator {
                state: state.clone(),
                hosts: classes.len(),
            }),
            // As `ooda patch rollout` wires it: windows and open alerts become policy facts.
            facts: Arc::new(FleetFacts {
                fleet: fleet.clone(),
                inner: Arc::new(StaticFacts::all_clear()),
            }),
            changes: changes.clone(),
            notifier: Arc::new(LogNotifier),
            clock: shared.clone(),
        }));
        let engine = RolloutEngine::new(RolloutParts {
            store,
            gate: gate.clone(),
            fleet: fleet.clone(),
            events: Arc::new(NoEvents),
            changes,
            notifier: Arc::new(LogNotifier),
            clock: shared,
            config: RolloutConfig {
                staging_validation_secs: u64::from(config.staging_validation_hours) * 3600,
                host_validation_secs: u64::from(config.host_validation_minutes) * 60,
                ..RolloutConfig::default()
            },
        });
        let arrivals = if config.enabled {
            plan_arrivals(&config, &table, &classes, scenario.seed, start_ms, end_ms)
        } else {
            Vec::new()
        };
        let findings = arrivals
            .iter()
            .enumerate()
            .flat_map(|(a, arrival)| {
                let staging = &staging;
                let classes = &classes;
                arrival.hosts.iter().map(move |&host| Finding {
                    arrival: a,
                    host,
                    tier: tier_of(&arrival.cve, classes[host], staging[host], arrival.at_ms),
                })
            })
            .collect();
        Ok(Self {
            _dir: dir,
            clock,
            gate,
            engine,
            fleet,
            state,
            degraded: vec![false; classes.len()],
            classes,
            staging,
            human_delay_ms: i64::from(scenario.human_response_minutes) * 60_000,
            arrivals,
            next_arrival: 0,
            next_tick_ms: start_ms,
            findings,
            rollouts: Vec::new(),
            retries: Vec::new(),
            kill_switch_on: false,
            open_by_day: Vec::new(),
            scored_start,
            config,
            errors: Vec::new(),
        })
    }

    /// What a broken patch does to a host's row: the service slows down and burns CPU.
    pub fn degrade(&self, host: usize, values: &mut [f64; 7]) {
        if self.degraded.get(host).copied().unwrap_or(false) {
            values[LATENCY] *= 4.0;
            values[CPU] = (values[CPU] + 20.0).min(100.0);
        }
    }

    /// One sample at `t`: follows the monitor's alerts every sample, and ticks the rollouts every
    /// `tick_minutes`.
    pub fn step(&mut self, t: i64, events: &[FusionEvent], kill_switch_on: bool) {
        let hosts = self.classes.len();
        for event in events {
            match event {
                FusionEvent::Opened(a) | FusionEvent::Updated(a) => {
                    if let Some(h) = a.host.as_deref().and_then(|h| host_index(h, hosts)) {
                        self.fleet
                            .opened(h, a.id, a.opened_at.timestamp_millis().min(t));
                    }
                }
                FusionEvent::Resolved(a) => {
                    if let Some(h) = a.host.as_deref().and_then(|h| host_index(h, hosts)) {
                        self.fleet.resolved(h, a.id, t);
                    }
                }
            }
        }
        if t < self.next_tick_ms {
            return;
        }
        self.next_tick_ms = t + i64::from(self.config.tick_minutes) * 60_000;
        self.tick(t, kill_switch_on);
    }

    fn tick(&mut self, t: i64, kill_switch_on: bool) {
        self.clock.set(from_millis(t));
        self.lock().now_ms = t;
        // The lab's freeze holds for patches too: the same switch, flipped on this Gate.
        if kill_switch_on != self.kill_switch_on {
            self.kill_switch_on = kill_switch_on;
            let reason = if kill_switch_on {
                "lab: scheduled freeze"
            } else {
                "lab: freeze over"
            };
            if let Err(e) = self.gate.kill_switch().set(kill_switch_on, "lab", reason) {
                self.errors.push(format!("kill switch: {e}"));
            }
        }
        while self
            .arrivals
            .get(self.next_arrival)
            .is_some_and(|a| a.at_ms <= t)
        {
            let a = self.next_arrival;
            self.next_arrival += 1;
            self.start_rollout(a, 1);
        }
        let due: Vec<(usize, u32)> = self
            .retries
            .iter()
            .filter(|(at, _, _)| *at <= t)
            .map(|(_, a, n)| (*a, *n))
            .collect();
        self.retries.retain(|(at, _, _)| *at > t);
        for (a, attempt) in due {
            self.start_rollout(a, attempt);
        }
        for i in 0..self.rollouts.len() {
            if !self.rollouts[i].done {
                self.tick_rollout(i, t);
            }
        }
        let state = self.lock();
        let degraded: Vec<bool> = state.broken.iter().map(|b| !b.is_empty()).collect();
        drop(state);
        self.degraded = degraded;
        if t >= self.scored_start {
            let day = ((t - self.scored_start) / DAY_MS) as usize;
            let open = self.open_findings();
            if self.open_by_day.len() <= day {
                self.open_by_day.resize(day + 1, 0);
            }
            self.open_by_day[day] = open;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts attempt `attempt` for arrival `a` on the hosts whose finding is still open.
    fn start_rollout(&mut self, a: usize, attempt: u32) {
        let fixed = self.fixed_at();
        let arrival = &self.arrivals[a];
        let open: Vec<usize> = arrival
            .hosts
            .iter()
            .copied()
            .filter(|h| !fixed.contains_key(&(a, *h)))
            .collect();
        if open.is_empty() {
            return;
        }
        let mut staging: Vec<usize> = open.iter().copied().filter(|&h| self.staging[h]).collect();
        if staging.is_empty() {
            // Nothing affected in staging: a staging host running the package tries it first.
            if let Some(h) = (0..self.classes.len())
                .find(|&h| self.staging[h] && cves::runs(self.classes[h], &arrival.cve.package))
            {
                staging.push(h);
            }
        }
        let production: Vec<usize> = open.iter().copied().filter(|&h| !self.staging[h]).collect();
        let cve = &arrival.cve;
        let id = format!("{}-{}-{attempt}", cve.id, a + 1);
        let plan = RolloutPlan {
            id: id.clone(),
            package: cve.package.clone(),
            version: cve.fixed_version.clone(),
            staging: staging.iter().map(|&h| host_name(h)).collect(),
            production: production.iter().map(|&h| host_name(h)).collect(),
            previous: staging
                .iter()
                .chain(&production)
                .map(|&h| (host_name(h), format!("{}~before", cve.fixed_version)))
                .collect(),
            batch: None,
            emergency: None,
            reason: format!("{} ({}), attempt {attempt}", cve.id, cve.advisory),
        };
        match self.engine.start(plan) {
            Ok(_) => self.rollouts.push(LabRollout {
                id,
                arrival: a,
                attempt,
                done: false,
                paused_since: None,
                handled: BTreeSet::new(),
                seen_failed: BTreeMap::new(),
            }),
            Err(e) => self.errors.push(format!("start {id}: {e}")),
        }
    }

    /// Ticks one rollout, then plays the human on what it left for one.
    fn tick_rollout(&mut self, i: usize, t: i64) {
        let id = self.rollouts[i].id.clone();
        let r = match self.engine.tick_rollout(&id) {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(format!("tick {id}: {e}"));
                return;
            }
        };
        let waited = |since: i64| t - since >= self.human_delay_ms;
        // Paused (an open alert on a touched host, a refusal, the freeze): the human looks after
        // the response delay and resumes; if the reason still holds the engine pauses again.
        match (&r.paused, self.rollouts[i].paused_since) {
            (Some(_), None) => self.rollouts[i].paused_since = Some(t),
            (Some(_), Some(since)) if waited(since) => {
                if let Err(e) = self.engine.repo().update_control(&id, |c| c.resumes += 1) {
                    self.errors.push(format!("resume {id}: {e}"));
                }
                self.rollouts[i].paused_since = None;
            }
            (None, _) => self.rollouts[i].paused_since = None,
            _ => {}
        }
        // Hosts handed to a human (and, once the rollout halted, every host it touched: the
        // human reads the escalation and looks at the alerts) get their broken patch reverted by
        // hand after the response delay.
        let halted = matches!(r.stage, Stage::Halted { .. });
        for host in &r.hosts {
            let needs_look = matches!(host.phase, HostPhase::Failed { .. })
                || (halted && host.phase.touched() && !host.phase.in_flight());
            if !needs_look || self.rollouts[i].handled.contains(&host.host) {
                continue;
            }
            let since = *self.rollouts[i]
                .seen_failed
                .entry(host.host.clone())
                .or_insert(t);
            if waited(since) {
                if let Some(h) = host_index(&host.host, self.classes.len()) {
                    self.rollouts[i].handled.insert(host.host.clone());
                    self.lock().revert_by_hand(h, &id);
                }
            }
        }
        let settled = r.stage.is_final()
            && !r.hosts.iter().any(|h| h.phase.in_flight())
            && r.hosts.iter().all(|h| {
                !(matches!(h.phase, HostPhase::Failed { .. }) || (halted && h.phase.touched()))
                    || self.rollouts[i].handled.contains(&h.host)
            });
        if settled && std::env::var_os("OODA_LAB_TRACE").is_some() {
            let (done, total) = r.progress();
            eprintln!(
                "lab trace: rollout {id} {} at {} ({done}/{total}): {:?}",
                r.stage.name(),
                from_millis(t).to_rfc3339(),
                r.stage
            );
            for h in &r.hosts {
                if let HostPhase::Failed { reason } | HostPhase::RolledBack { reason, .. } =
                    &h.phase
                {
                    eprintln!("lab trace:   {} {}: {reason}", h.host, h.phase.name());
                }
            }
        }
        if settled {
            self.rollouts[i].done = true;
            let (a, attempt) = (self.rollouts[i].arrival, self.rollouts[i].attempt);
            if matches!(r.stage, Stage::Halted { .. }) && attempt < self.config.max_attempts {
                let at = t + i64::from(self.config.retry_hours) * 3_600_000;
                self.retries.push((at, a, attempt + 1));
            }
        }
    }

    /// When each (arrival, host) finding got its patch, for those patched now.
    fn fixed_at(&self) -> BTreeMap<(usize, usize), i64> {
        let arrival_of: BTreeMap<&str, usize> = self
            .rollouts
            .iter()
            .map(|r| (r.id.as_str(), r.arrival))
            .collect();
        let mut fixed = BTreeMap::new();
        for event in &self.lock().events {
            let Some(&a) = arrival_of.get(event.rollout.as_str()) else {
                continue;
            };
            match event.change {
                Change::Applied { .. } => {
                    fixed.insert((a, event.host), event.at_ms);
                }
                Change::RolledBack | Change::RevertedByHuman => {
                    fixed.remove(&(a, event.host));
                }
                Change::ExecutorFailed => {}
            }
        }
        fixed
    }

    fn open_findings(&self) -> u64 {
        let fixed = self.fixed_at();
        let now = self.lock().now_ms;
        self.findings
            .iter()
            .filter(|f| self.arrivals[f.arrival].at_ms <= now)
            .filter(|f| !fixed.contains_key(&(f.arrival, f.host)))
            .count() as u64
    }

    /// The figures, measured from outside the engine (the actuator's record and the findings).
    pub fn score(&self) -> PatchScore {
        let fixed = self.fixed_at();
        let mut per_tier: BTreeMap<Tier, Vec<f64>> = BTreeMap::new();
        let mut all = Vec::new();
        for f in &self.findings {
            if let Some(at) = fixed.get(&(f.arrival, f.host)) {
                let days = (at - self.arrivals[f.arrival].at_ms) as f64 / DAY_MS as f64;
                per_tier.entry(f.tier).or_default().push(days);
                all.push(days);
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let state = self.lock();
        // A bad patch's fate: the next change the same rollout made on the same host.
        let mut score = PatchScore::default();
        for (i, event) in state.events.iter().enumerate() {
            let next = state.events[i + 1..]
                .iter()
                .find(|e| e.host == event.host && e.rollout == event.rollout)
                .map(|e| e.change);
            match event.change {
                Change::Applied { bad: true } => {
                    score.bad_patches += 1;
                    match next {
                        Some(Change::RolledBack) => score.rolled_back += 1,
                        Some(Change::RevertedByHuman) => score.reverted_by_human += 1,
                        _ if event.at_ms < state.now_ms - DAY_MS => score.unnoticed += 1,
                        _ => {}
                    }
                }
                Change::Applied { bad: false } if next == Some(Change::RolledBack) => {
                    score.good_rolled_back += 1;
                }
                Change::ExecutorFailed => score.executor_failures += 1,
                _ => {}
            }
        }
        score.arrivals = self.arrivals.len();
        score.rollouts = self.rollouts.len();
        score.findings = self.findings.len();
        score.fixed = self
            .findings
            .iter()
            .filter(|f| fixed.contains_key(&(f.arrival, f.host)))
            .count();
        score.mttp_days = per_tier
            .iter()
            .filter_map(|(tier, days)| Some((tier.as_str().to_owned(), mean(days)?)))
            .collect();
        score.mttp_days_all = mean(&all);
        score.open_by_day = self.open_by_day.clone();
        score.errors = self.errors.len() as u64;
        score
    }
}
