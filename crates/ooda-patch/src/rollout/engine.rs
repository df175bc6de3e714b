//! The rollout engine: one [`RolloutEngine::tick`] looks at every active rollout and moves it on
//! as far as the clock, the windows, the fleet's health and the gate allow.
//!
//! Order inside a tick: humans' control requests → finish steps left in flight (a crash may have
//! left any of them) → incidents on touched hosts → validations → start new hosts. Every change
//! is saved before the step it announces is submitted, and nothing here calls an actuator.

use std::sync::Arc;

use chrono::Duration;
use ooda_core::{
    Action, ActionId, ActionRequest, ChangeDraft, ChangeRecords, ChangeStatus, Event, EventKind,
    Host, Principal, RiskClass, Severity, SharedClock, Timestamp,
};
use ooda_govern::{Decision, Notice, Notifier, OutcomeStatus};
use ooda_store::Store;

use super::plan::{RolloutConfig, RolloutPlan};
use super::ports::{ActionGate, ApprovalProgress, EventSink, Fleet, KeyProgress};
use super::repo::RolloutStore;
use super::state::{HostPhase, HostRollout, Rollout, Stage, Wave};
use super::RolloutError;

/// The principal every rollout step is requested as.
pub const AGENT: &str = "patch";

/// What the engine is built from.
pub struct RolloutParts {
    pub store: Arc<dyn Store>,
    pub gate: Arc<dyn ActionGate>,
    pub fleet: Arc<dyn Fleet>,
    pub events: Arc<dyn EventSink>,
    pub changes: Arc<dyn ChangeRecords>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: SharedClock,
    pub config: RolloutConfig,
}

pub struct RolloutEngine {
    repo: RolloutStore,
    gate: Arc<dyn ActionGate>,
    fleet: Arc<dyn Fleet>,
    events: Arc<dyn EventSink>,
    changes: Arc<dyn ChangeRecords>,
    notifier: Arc<dyn Notifier>,
    clock: SharedClock,
    config: RolloutConfig,
}

/// Whether a pending host may start now.
enum Readiness {
    Ready(Box<Host>),
    /// Window shut or an incident open: try again later.
    Wait,
    /// Something is wrong (host gone, facts unreadable): stop and tell a human.
    Stop(String),
}

impl RolloutEngine {
    pub fn new(parts: RolloutParts) -> Self {
        Self {
            repo: RolloutStore::new(parts.store),
            gate: parts.gate,
            fleet: parts.fleet,
            events: parts.events,
            changes: parts.changes,
            notifier: parts.notifier,
            clock: parts.clock,
            config: parts.config,
        }
    }

    pub fn repo(&self) -> &RolloutStore {
        &self.repo
    }

    /// Checks a plan against the fleet and stores it as a new rollout. Nothing runs until a tick.
    pub fn start(&self, plan: RolloutPlan) -> Result<Rollout, RolloutError> {
        plan.validate()?;
        let now = self.clock.now();
        let mut hosts = Vec::new();
        let mut internet_facing = true;
        for (name, wave) in plan
            .staging
            .iter()
            .map(|h| (h, Wave::Staging))
            .chain(plan.production.iter().map(|h| (h, Wave::Production)))
        {
            let host = self
                .fleet
                .host(name)
                .map_err(|reason| RolloutError::Fleet {
                    host: name.clone(),
                    reason,
                })?
                .ok_or_else(|| RolloutError::HostGone { host: name.clone() })?;
            // A host without a usable window can never be patched: refuse the plan now.
            self.fleet
                .window_open(&host, now)
                .map_err(|reason| RolloutError::Fleet {
                    host: name.clone(),
                    reason,
                })?;
            internet_facing &= host.internet_facing;
            hosts.push(HostRollout {
                host: name.clone(),
                wave,
                phase: HostPhase::Pending,
                change: None,
            });
        }
        let mut staging_validation_secs = self.config.staging_validation_secs;
        let emergency = match &plan.emergency {
            None => false,
            Some(request) => {
                let mut missing = Vec::new();
                if request.severity != Severity::Critical {
                    missing.push(format!(
                        "severity is {}, not critical",
                        request.severity.as_str()
                    ));
                }
                if !request.kev {
                    missing.push("not in CISA KEV".to_owned());
                }
                if !internet_facing {
                    missing.push("not every host is internet-facing".to_owned());
                }
                if !missing.is_empty() {
                    return Err(RolloutError::EmergencyNotEligible {
                        reason: format!("{}: {}", request.cve, missing.join("; ")),
                    });
                }
                staging_validation_secs =
                    staging_validation_secs.min(self.config.emergency_validation_secs);
                true
            }
        };
        let stage = if plan.staging.is_empty() {
            Stage::Production
        } else {
            Stage::Staging
        };
        let mut rollout = Rollout {
            batch: plan.batch.unwrap_or(self.config.batch).max(1),
            plan,
            created: now,
            staging_validation_secs,
            host_validation_secs: self.config.host_validation_secs,
            emergency,
            stage,
            hosts,
            paused: None,
            wave_changes: Default::default(),
            journal: Vec::new(),
            revision: 0,
            resumes_seen: 0,
        };
        let what = format!(
            "rollout created: {} {} on {} staging and {} production hosts, batch {}, staging validation {}{}",
            rollout.plan.package,
            rollout.plan.version,
            rollout.plan.staging.len(),
            rollout.plan.production.len(),
            rollout.batch,
            humanize(rollout.staging_validation_secs),
            if emergency { " (emergency: each step needs approval)" } else { "" }
        );
        rollout.log(now, None, what);
        self.repo.create(&rollout)?;
        Ok(rollout)
    }

    /// Moves every rollout on. Errors of one rollout do not stop the others.
    pub fn tick(&self) -> Vec<(String, Result<Rollout, RolloutError>)> {
        let ids = match self.repo.ids() {
            Ok(ids) => ids,
            Err(error) => return vec![("*".to_owned(), Err(error))],
        };
        ids.into_iter()
            .filter_map(|id| {
                let needs_tick = match self.repo.load(&id) {
                    Ok(Some(r)) => {
                        !r.stage.is_final() || r.hosts.iter().any(|h| h.phase.in_flight())
                    }
                    Ok(None) => false,
                    Err(_) => true,
                };
                needs_tick.then(|| {
                    let result = self.tick_rollout(&id);
                    (id, result)
                })
            })
            .collect()
    }

    /// Moves one rollout on and returns its new state.
    pub fn tick_rollout(&self, id: &str) -> Result<Rollout, RolloutError> {
        let now = self.clock.now();
        let mut r = self.repo.get(id)?;
        let control = self.repo.control(id)?;
        if let Some(abort) = &control.abort {
            if !matches!(r.stage, Stage::Aborted { .. } | Stage::Completed { .. }) {
                r.stage = Stage::Aborted {
                    at: now,
                    by: abort.by.clone(),
                    reason: abort.reason.clone(),
                };
                r.log(
                    now,
                    None,
                    format!("aborted by {}: {}", abort.by, abort.reason),
                );
                self.close_waves(&mut r, ChangeStatus::Failed, "rollout aborted");
                self.repo.save(&mut r)?;
            }
        }
        if control.resumes > r.resumes_seen {
            r.resumes_seen = control.resumes;
            if let Some(reason) = r.paused.take() {
                r.log(
                    now,
                    None,
                    format!("resumed by a human (was paused: {reason})"),
                );
            }
            self.repo.save(&mut r)?;
        }
        for index in 0..r.hosts.len() {
            self.resolve(&mut r, index, now)?;
        }
        self.watch_incidents(&mut r, now)?;
        self.validate(&mut r, now)?;
        if !r.stage.is_final() && r.paused.is_none() && control.pause.is_none() {
            self.advance(&mut r, now)?;
        }
        Ok(r)
    }

    // ---- steps left in flight -------------------------------------------------------------

    fn resolve(&self, r: &mut Rollout, i: usize, now: Timestamp) -> Result<(), RolloutError> {
        let host = r.hosts[i].host.clone();
        match r.hosts[i].phase.clone() {
            HostPhase::Patching { key, action, .. } => match self.gate.key_progress(&key) {
                KeyProgress::NeverRan | KeyProgress::Done(OutcomeStatus::NotRun) => {
                    // Saved but never reached the gate's intent (a crash in between): nothing ran.
                    // Submit it again only if it may still start now.
                    let may_start = !r.stage.is_final() && r.paused.is_none();
                    match self.readiness(&host, now) {
                        Readiness::Ready(h) if may_start => {
                            r.log(now, Some(&host), "resubmitting a step that never ran");
                            self.submit_patch(r, i, *h, key, action, now)?;
                        }
                        Readiness::Stop(reason) => {
                            r.hosts[i].phase = HostPhase::Pending;
                            self.pause(r, now, reason)?;
                        }
                        _ => {
                            r.hosts[i].phase = HostPhase::Pending;
                            r.log(now, Some(&host), "step never ran; back to pending");
                            self.repo.save(r)?;
                        }
                    }
                }
                KeyProgress::Running => {
                    self.pause(
                        r,
                        now,
                        format!("patch of {host} ({key}) has an intent without outcome: the gate must reconcile it before the rollout goes on"),
                    )?;
                }
                KeyProgress::Done(OutcomeStatus::Succeeded) => {
                    r.log(
                        now,
                        Some(&host),
                        "patch had succeeded (found in the audit log)",
                    );
                    self.on_patched(r, i, now)?;
                }
                KeyProgress::Done(OutcomeStatus::Failed) => {
                    self.on_patch_failed(r, i, now, "patch failed (found in the audit log)")?;
                }
                KeyProgress::Done(OutcomeStatus::Unknown) => {
                    self.fail_host(
                        r,
                        i,
                        now,
                        format!("outcome of {key} is unknown after a crash"),
                    )?;
                }
            },
            HostPhase::AwaitingApproval { key, approval, .. } => match self.gate.key_progress(&key)
            {
                KeyProgress::Done(OutcomeStatus::Succeeded) => {
                    r.log(
                        now,
                        Some(&host),
                        format!("approved patch ran (approval {approval})"),
                    );
                    self.on_patched(r, i, now)?;
                }
                KeyProgress::Done(OutcomeStatus::Failed) => {
                    self.on_patch_failed(r, i, now, "approved patch failed")?;
                }
                KeyProgress::Done(OutcomeStatus::Unknown) => {
                    self.fail_host(
                        r,
                        i,
                        now,
                        format!("outcome of {key} is unknown after a crash"),
                    )?;
                }
                KeyProgress::Running => {}
                KeyProgress::NeverRan | KeyProgress::Done(OutcomeStatus::NotRun) => {
                    match self.gate.approval(approval) {
                        Ok(ApprovalProgress::Pending | ApprovalProgress::Approved) => {}
                        Ok(ApprovalProgress::Closed(why)) => {
                            r.hosts[i].phase = HostPhase::Pending;
                            self.pause(r, now, format!("approval {approval} for {host}: {why}"))?;
                        }
                        Err(error) => {
                            self.pause(r, now, format!("approval {approval} unreadable: {error}"))?;
                        }
                    }
                }
            },
            HostPhase::RollingBack {
                key,
                action,
                reason,
            } => match self.gate.key_progress(&key) {
                KeyProgress::NeverRan | KeyProgress::Done(OutcomeStatus::NotRun) => {
                    r.log(now, Some(&host), "resubmitting a rollback that never ran");
                    self.submit_rollback(r, i, key, action, reason, now)?;
                }
                KeyProgress::Running => {
                    self.pause(
                        r,
                        now,
                        format!("rollback of {host} ({key}) has an intent without outcome"),
                    )?;
                }
                KeyProgress::Done(OutcomeStatus::Succeeded) => {
                    r.hosts[i].phase = HostPhase::RolledBack { at: now, reason };
                    r.log(now, Some(&host), "rolled back (found in the audit log)");
                    self.repo.save(r)?;
                }
                KeyProgress::Done(status) => {
                    self.fail_host(r, i, now, format!("rollback {}; {reason}", status.as_str()))?;
                }
            },
            _ => {}
        }
        Ok(())
    }

    // ---- incidents and validations ----------------------------------------------------------

    fn watch_incidents(&self, r: &mut Rollout, now: Timestamp) -> Result<(), RolloutError> {
        if r.stage.is_final() {
            return Ok(());
        }
        let touched: Vec<String> = r
            .hosts
            .iter()
            .filter(|h| {
                matches!(
                    h.phase,
                    HostPhase::Patching { .. }
                        | HostPhase::AwaitingApproval { .. }
                        | HostPhase::Patched { .. }
                        | HostPhase::Validating { .. }
                        | HostPhase::Validated { .. }
                )
            })
            .map(|h| h.host.clone())
            .collect();
        for host in touched {
            match self.fleet.active_incidents(&host) {
                Ok(0) => {}
                Ok(n) => {
                    return self.pause(
                        r,
                        now,
                        format!("{n} open incident(s) on {host}, a host this rollout changed"),
                    );
                }
                Err(error) => {
                    return self.pause(r, now, format!("incidents on {host} unreadable: {error}"));
                }
            }
        }
        Ok(())
    }

    fn validate(&self, r: &mut Rollout, now: Timestamp) -> Result<(), RolloutError> {
        if let Stage::StagingValidation { since, until } = r.stage.clone() {
            let staged: Vec<usize> = (0..r.hosts.len())
                .filter(|&i| matches!(r.hosts[i].phase, HostPhase::Patched { .. }))
                .collect();
            for i in staged {
                let host = r.hosts[i].host.clone();
                match self.fleet.health(&host, since, now) {
                    Ok(health) if !health.problems.is_empty() => {
                        self.fail_validation(r, i, now, health.problems.join("; "))?;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        return self.pause(r, now, format!("health of {host} unreadable: {error}"))
                    }
                }
            }
            if matches!(r.stage, Stage::StagingValidation { .. }) && now >= until {
                for h in r.hosts.iter_mut() {
                    if matches!(h.phase, HostPhase::Patched { .. }) {
                        h.phase = HostPhase::Validated { at: now };
                    }
                }
                r.stage = Stage::Production;
                r.log(
                    now,
                    None,
                    format!(
                        "staging wave validated after {}: health gates passed",
                        humanize(r.staging_validation_secs)
                    ),
                );
                self.close_wave(
                    r,
                    Wave::Staging,
                    ChangeStatus::Succeeded,
                    "staging wave validated",
                );
                self.repo.save(r)?;
            }
        }
        for i in 0..r.hosts.len() {
            let HostPhase::Validating {
                since,
                until,
                rebooted,
            } = r.hosts[i].phase.clone()
            else {
                continue;
            };
            let host = r.hosts[i].host.clone();
            let health = match self.fleet.health(&host, since, now) {
                Ok(health) => health,
                Err(error) => {
                    return self.pause(r, now, format!("health of {host} unreadable: {error}"))
                }
            };
            if !health.problems.is_empty() {
                self.fail_validation(r, i, now, health.problems.join("; "))?;
                continue;
            }
            if health.reboot_required && !rebooted {
                self.reboot(r, i, now)?;
                continue;
            }
            if now >= until {
                r.hosts[i].phase = HostPhase::Validated { at: now };
                r.log(now, Some(&host), "validated: health gates passed");
                self.repo.save(r)?;
            }
        }
        Ok(())
    }

    fn reboot(&self, r: &mut Rollout, i: usize, now: Timestamp) -> Result<(), RolloutError> {
        let name = r.hosts[i].host.clone();
        let host = match self.fleet.host(&name) {
            Ok(Some(host)) => host,
            Ok(None) => {
                return self.pause(r, now, RolloutError::HostGone { host: name }.to_string())
            }
            Err(error) => return self.pause(r, now, format!("{name}: {error}")),
        };
        let key = format!("patch/{}/{}/reboot", r.id(), name);
        let request = self.request(
            r,
            host,
            Action::Reboot {},
            ActionId::new(),
            key,
            "reboot to finish the patch",
        );
        match self.gate.submit(request) {
            Decision::Executed {
                status: OutcomeStatus::Succeeded,
                ..
            } => {
                if let HostPhase::Validating { rebooted, .. } = &mut r.hosts[i].phase {
                    *rebooted = true;
                }
                r.log(
                    now,
                    Some(&name),
                    "rebooted (the package manager asked for it)",
                );
                self.repo.save(r)
            }
            Decision::Executed { detail, .. } => {
                self.fail_validation(r, i, now, format!("reboot failed: {detail}"))
            }
            Decision::Parked { approval, .. } => self.pause(
                r,
                now,
                format!("reboot of {name} waits for approval {approval}"),
            ),
            Decision::Refused(refusal) => {
                self.pause(r, now, format!("reboot of {name} refused: {refusal}"))
            }
        }
    }

    /// A validation failed: halt first (so nothing else starts), then roll the host back.
    fn fail_validation(
        &self,
        r: &mut Rollout,
        i: usize,
        now: Timestamp,
        problems: String,
    ) -> Result<(), RolloutError> {
        let host = r.hosts[i].host.clone();
        let reason = format!("validation of {host} failed: {problems}");
        r.log(now, Some(&host), reason.clone());
        self.halt(r, now, &reason);
        self.start_rollback(r, i, now, reason)
    }

    /// The patch itself failed (the executor said so): halt and hand the host to a human. No
    /// automatic rollback: the executor may have stopped before changing anything (an AWX job
    /// cancelled at launch), and a second change on a host in an unknown state is not safer.
    fn on_patch_failed(
        &self,
        r: &mut Rollout,
        i: usize,
        now: Timestamp,
        detail: &str,
    ) -> Result<(), RolloutError> {
        let host = r.hosts[i].host.clone();
        self.fail_host(r, i, now, format!("patch of {host} failed: {detail}"))
    }

    /// Marks the host as needing a human, halts and escalates.
    fn fail_host(
        &self,
        r: &mut Rollout,
        i: usize,
        now: Timestamp,
        reason: String,
    ) -> Result<(), RolloutError> {
        let host = r.hosts[i].host.clone();
        r.hosts[i].phase = HostPhase::Failed {
            reason: reason.clone(),
        };
        r.log(now, Some(&host), format!("needs a human: {reason}"));
        self.halt(r, now, &reason);
        self.escalate(r, Some(&host), &reason);
        self.repo.save(r)
    }

    // ---- starting hosts ---------------------------------------------------------------------

    fn advance(&self, r: &mut Rollout, now: Timestamp) -> Result<(), RolloutError> {
        match r.stage {
            Stage::Staging => {
                let pending: Vec<usize> = (0..r.hosts.len())
                    .filter(|&i| {
                        r.hosts[i].wave == Wave::Staging
                            && matches!(r.hosts[i].phase, HostPhase::Pending)
                    })
                    .collect();
                for i in pending {
                    if !self.try_start(r, i, now)? {
                        break;
                    }
                }
                let staged = r
                    .hosts
                    .iter()
                    .filter(|h| h.wave == Wave::Staging)
                    .all(|h| matches!(h.phase, HostPhase::Patched { .. }));
                if staged && matches!(r.stage, Stage::Staging) && r.paused.is_none() {
                    let until = now + Duration::seconds(r.staging_validation_secs as i64);
                    r.stage = Stage::StagingValidation { since: now, until };
                    r.log(
                        now,
                        None,
                        format!(
                            "staging wave patched; validating until {}",
                            until.to_rfc3339()
                        ),
                    );
                    self.repo.save(r)?;
                }
            }
            Stage::Production => {
                let batch = r.batch as usize;
                let pending: Vec<usize> = (0..r.hosts.len())
                    .filter(|&i| {
                        r.hosts[i].wave == Wave::Production
                            && matches!(r.hosts[i].phase, HostPhase::Pending)
                    })
                    .collect();
                for i in pending {
                    if r.in_flight(Wave::Production) >= batch {
                        break;
                    }
                    if !self.try_start(r, i, now)? {
                        break;
                    }
                }
                let done = r
                    .hosts
                    .iter()
                    .all(|h| matches!(h.phase, HostPhase::Validated { .. }));
                if done && matches!(r.stage, Stage::Production) {
                    r.stage = Stage::Completed { at: now };
                    r.log(
                        now,
                        None,
                        "rollout completed: every host patched and validated",
                    );
                    self.close_wave(
                        r,
                        Wave::Production,
                        ChangeStatus::Succeeded,
                        "every host validated",
                    );
                    self.repo.save(r)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Starts host `i` if it may start now. Returns `false` when the rollout must stop starting
    /// hosts (paused or halted).
    fn try_start(&self, r: &mut Rollout, i: usize, now: Timestamp) -> Result<bool, RolloutError> {
        if r.stage.is_final() || r.paused.is_some() {
            return Ok(false);
        }
        let name = r.hosts[i].host.clone();
        let host = match self.readiness(&name, now) {
            Readiness::Ready(host) => *host,
            Readiness::Wait => return Ok(true),
            Readiness::Stop(reason) => {
                self.pause(r, now, reason)?;
                return Ok(false);
            }
        };
        let wave = r.hosts[i].wave;
        if !r.wave_changes.contains_key(&wave) {
            let hosts: Vec<&str> = r
                .hosts
                .iter()
                .filter(|h| h.wave == wave)
                .map(|h| h.host.as_str())
                .collect();
            let draft = ChangeDraft {
                action: ActionId::new(),
                summary: format!(
                    "ooda rollout {}: {} wave, {} {} on {} host(s)",
                    r.id(),
                    wave.as_str(),
                    r.plan.package,
                    r.plan.version,
                    hosts.len()
                ),
                description: format!("hosts: {}. {}", hosts.join(", "), r.plan.reason),
                host: hosts.join(","),
                risk: RiskClass::High,
                fields: [
                    ("rollout".to_owned(), r.id().to_owned()),
                    ("wave".to_owned(), wave.as_str().to_owned()),
                ]
                .into_iter()
                .collect(),
            };
            match self.changes.open(&draft) {
                Ok(change) => {
                    r.log(
                        now,
                        None,
                        format!(
                            "{} wave change record {} opened",
                            wave.as_str(),
                            change.number
                        ),
                    );
                    r.wave_changes.insert(wave, change);
                    self.repo.save(r)?;
                }
                Err(error) => {
                    self.pause(
                        r,
                        now,
                        format!("wave change record could not be opened: {error}"),
                    )?;
                    return Ok(false);
                }
            }
        }
        let key = format!("patch/{}/{}/apply", r.id(), name);
        let action = ActionId::new();
        // Persist the step before the gate sees it: a crash from here on is resolved by asking
        // the audit log about `key`, never by patching again.
        r.hosts[i].phase = HostPhase::Patching {
            key: key.clone(),
            action,
            since: now,
        };
        r.log(
            now,
            Some(&name),
            format!(
                "patching {} → {} ({} wave)",
                r.plan.package,
                r.plan.version,
                wave.as_str()
            ),
        );
        self.repo.save(r)?;
        self.submit_patch(r, i, host, key, action, now)?;
        Ok(!r.stage.is_final() && r.paused.is_none())
    }

    fn readiness(&self, name: &str, now: Timestamp) -> Readiness {
        let host = match self.fleet.host(name) {
            Ok(Some(host)) => host,
            Ok(None) => {
                return Readiness::Stop(
                    RolloutError::HostGone {
                        host: name.to_owned(),
                    }
                    .to_string(),
                )
            }
            Err(reason) => return Readiness::Stop(format!("inventory lookup of {name}: {reason}")),
        };
        match self.fleet.active_incidents(name) {
            Ok(0) => {}
            Ok(_) => return Readiness::Wait,
            Err(reason) => return Readiness::Stop(format!("incidents on {name}: {reason}")),
        }
        match self.fleet.window_open(&host, now) {
            Ok(true) => Readiness::Ready(Box::new(host)),
            Ok(false) => Readiness::Wait,
            Err(reason) => Readiness::Stop(format!("maintenance window of {name}: {reason}")),
        }
    }

    fn submit_patch(
        &self,
        r: &mut Rollout,
        i: usize,
        host: Host,
        key: String,
        action: ActionId,
        now: Timestamp,
    ) -> Result<(), RolloutError> {
        let name = host.name.clone();
        self.intensify(&name, now);
        let request = self.request(
            r,
            host,
            Action::ApplyPatch {
                package: r.plan.package.clone(),
                version: r.plan.version.clone(),
            },
            action,
            key.clone(),
            "patch",
        );
        match self.gate.submit(request) {
            Decision::Executed {
                status: OutcomeStatus::Succeeded,
                change,
                detail,
                ..
            } => {
                r.hosts[i].change = change;
                r.log(now, Some(&name), format!("patched: {detail}"));
                self.on_patched(r, i, now)
            }
            Decision::Executed {
                status,
                detail,
                change,
                ..
            } => {
                r.hosts[i].change = change;
                self.on_patch_failed(r, i, now, &format!("{}: {detail}", status.as_str()))
            }
            Decision::Parked { approval, .. } => {
                r.hosts[i].phase = HostPhase::AwaitingApproval {
                    key,
                    action,
                    approval,
                };
                r.log(now, Some(&name), format!("waiting for approval {approval}"));
                self.repo.save(r)
            }
            // The key is known to the audit log: the next tick reads what became of it.
            Decision::Refused(ooda_govern::Refusal::Duplicate { .. }) => Ok(()),
            Decision::Refused(refusal) => {
                r.hosts[i].phase = HostPhase::Pending;
                self.pause(
                    r,
                    now,
                    format!("gate refused the patch of {name}: {refusal}"),
                )
            }
        }
    }

    fn on_patched(&self, r: &mut Rollout, i: usize, now: Timestamp) -> Result<(), RolloutError> {
        let name = r.hosts[i].host.clone();
        self.intensify(&name, now);
        r.hosts[i].phase = match r.hosts[i].wave {
            Wave::Staging => HostPhase::Patched { at: now },
            Wave::Production => HostPhase::Validating {
                since: now,
                until: now + Duration::seconds(r.host_validation_secs as i64),
                rebooted: false,
            },
        };
        self.repo.save(r)
    }

    // ---- rollback ---------------------------------------------------------------------------

    fn start_rollback(
        &self,
        r: &mut Rollout,
        i: usize,
        now: Timestamp,
        reason: String,
    ) -> Result<(), RolloutError> {
        let name = r.hosts[i].host.clone();
        if !r.plan.previous.contains_key(&name) && self.config.rollback_template.is_none() {
            return self.fail_host(
                r,
                i,
                now,
                format!("{reason}; no previous version nor rollback template to roll back with"),
            );
        }
        let key = format!("patch/{}/{}/rollback", r.id(), name);
        let action = ActionId::new();
        r.hosts[i].phase = HostPhase::RollingBack {
            key: key.clone(),
            action,
            reason: reason.clone(),
        };
        r.log(now, Some(&name), "rolling back");
        self.repo.save(r)?;
        self.submit_rollback(r, i, key, action, reason, now)
    }

    fn submit_rollback(
        &self,
        r: &mut Rollout,
        i: usize,
        key: String,
        action: ActionId,
        reason: String,
        now: Timestamp,
    ) -> Result<(), RolloutError> {
        let name = r.hosts[i].host.clone();
        let host = match self.fleet.host(&name) {
            Ok(Some(host)) => host,
            Ok(None) => {
                return self.fail_host(
                    r,
                    i,
                    now,
                    format!(
                        "{reason}; rollback impossible: {}",
                        RolloutError::HostGone { host: name.clone() }
                    ),
                )
            }
            Err(error) => return self.pause(r, now, format!("{name}: {error}")),
        };
        let rollback = match r.plan.previous.get(&name) {
            Some(previous) => Action::ApplyPatch {
                package: r.plan.package.clone(),
                version: previous.clone(),
            },
            None => Action::RunTemplate {
                template: self.config.rollback_template.clone().unwrap_or_default(),
            },
        };
        self.intensify(&name, now);
        let request = self.request(r, host, rollback, action, key, "roll back");
        // A rollback is never submitted as an emergency step: it runs at the routine confidence.
        match self.gate.submit(request) {
            Decision::Executed {
                status: OutcomeStatus::Succeeded,
                detail,
                ..
            } => {
                r.hosts[i].phase = HostPhase::RolledBack { at: now, reason };
                r.log(now, Some(&name), format!("rolled back: {detail}"));
                self.escalate(
                    r,
                    Some(&name),
                    &format!("{name} was rolled back; rollout {} halted", r.id()),
                );
                self.repo.save(r)
            }
            Decision::Executed { status, detail, .. } => self.fail_host(
                r,
                i,
                now,
                format!("rollback {}: {detail}; {reason}", status.as_str()),
            ),
            Decision::Refused(ooda_govern::Refusal::Duplicate { .. }) => Ok(()),
            Decision::Parked { approval, .. } => self.fail_host(
                r,
                i,
                now,
                format!("rollback waits for approval {approval}; {reason}"),
            ),
            Decision::Refused(refusal) => {
                self.fail_host(r, i, now, format!("rollback refused: {refusal}; {reason}"))
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    fn request(
        &self,
        r: &Rollout,
        host: Host,
        action: Action,
        id: ActionId,
        key: String,
        what: &str,
    ) -> ActionRequest {
        let confidence =
            if r.emergency && matches!(action, Action::ApplyPatch { .. }) && what == "patch" {
                self.config.emergency_confidence
            } else {
                self.config.confidence
            };
        let mut reason = format!(
            "rollout {}: {what} {} {} on {}",
            r.id(),
            r.plan.package,
            r.plan.version,
            host.name
        );
        if let Some(emergency) = &r.plan.emergency {
            reason.push_str(&format!(
                " (emergency for {}, asked by {})",
                emergency.cve, emergency.requested_by
            ));
        }
        if !r.plan.reason.is_empty() {
            reason.push_str(": ");
            reason.push_str(&r.plan.reason);
        }
        ActionRequest {
            id,
            action,
            host,
            incident: None,
            confidence,
            requested_by: Principal::Agent(AGENT.to_owned()),
            reason,
            idempotency_key: Some(key),
            revert: what == "roll back",
        }
    }

    /// Asks the monitor to watch `host` closely during the change and for a while after.
    fn intensify(&self, host: &str, now: Timestamp) {
        let event = Event::new(
            now,
            "patch/rollout",
            EventKind::MonitoringIntensify {
                hosts: vec![host.to_owned()],
                interval_secs: self.config.intensify_interval_secs,
                duration_secs: self.config.intensify_after_secs,
            },
        );
        if let Err(error) = self.events.publish(event) {
            tracing::warn!(%host, %error, "monitoring.intensify could not be published");
        }
    }

    fn pause(&self, r: &mut Rollout, now: Timestamp, reason: String) -> Result<(), RolloutError> {
        if r.paused.as_deref() == Some(reason.as_str()) {
            return Ok(());
        }
        r.log(now, None, format!("paused: {reason}"));
        self.escalate(r, None, &format!("rollout {} paused: {reason}", r.id()));
        r.paused = Some(reason);
        self.repo.save(r)
    }

    /// Stops starting hosts for good. Does not save: callers save with their own change.
    fn halt(&self, r: &mut Rollout, now: Timestamp, reason: &str) {
        if r.stage.is_final() {
            return;
        }
        r.stage = Stage::Halted {
            at: now,
            reason: reason.to_owned(),
        };
        r.log(now, None, format!("halted: {reason}"));
        self.escalate(r, None, &format!("rollout {} halted: {reason}", r.id()));
        self.close_waves(r, ChangeStatus::Failed, reason);
    }

    fn escalate(&self, r: &Rollout, host: Option<&str>, message: &str) {
        self.notifier.notify(&Notice {
            kind: "escalation",
            action: None,
            host: host.map(str::to_owned),
            message: format!("[rollout {}] {message}", r.id()),
        });
    }

    fn close_wave(&self, r: &mut Rollout, wave: Wave, status: ChangeStatus, note: &str) {
        if let Some(change) = r.wave_changes.get(&wave) {
            if let Err(error) = self.changes.update(change, status, note) {
                tracing::warn!(%error, change = %change.number, "wave change record not updated");
            }
        }
    }

    fn close_waves(&self, r: &mut Rollout, status: ChangeStatus, note: &str) {
        let open: Vec<Wave> = r
            .wave_changes
            .keys()
            .copied()
            .filter(|wave| {
                // A staging wave already validated keeps its success.
                !(*wave == Wave::Staging
                    && !matches!(r.stage, Stage::Staging | Stage::StagingValidation { .. })
                    && r.hosts
                        .iter()
                        .filter(|h| h.wave == Wave::Staging)
                        .all(|h| matches!(h.phase, HostPhase::Validated { .. })))
            })
            .collect();
        for wave in open {
            self.close_wave(r, wave, status, note);
        }
    }
}

/// `172800` → `48h`, `1800` → `30m`.
pub fn humanize(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
