//! The incident and governance pillars in the lab: the real Responder (triage, evidence, built-in
//! reasoner, runbooks, verification) acting through the real Gate (Cedar policy, budget, breakers,
//! kill switch, approvals, hash-chained audit log) on a temporary SQLite store, with the lab
//! actuator changing the simulated world. A simulated on-call human answers approvals and
//! escalations after a delay, so the scorecard can tell ooda's fixes from people's.
//!
//! It must never decide in ooda's place: it only delivers alerts, moves the clock, flips the
//! scheduled kill switch and plays the human.

use std::collections::BTreeMap;
use std::sync::Arc;

use ooda_core::clock::from_millis;
use ooda_core::{IncidentId, ManualClock};
use ooda_govern::gate::GateParts;
use ooda_govern::{
    ApprovalState, EmbeddedChangeRecords, Gate, GovernConfig, LogNotifier, PolicyEngine,
};
use ooda_incident::evidence::Probe;
use ooda_incident::reasoner::{BuiltinReasoner, Report};
use ooda_incident::register::Register;
use ooda_incident::responder::{Notification, Notify, Responder, ResponderConfig, ResponderParts};
use ooda_incident::runbook::library;
use ooda_incident::{Catalogue, IncidentState};

use crate::fleet::host_index;
use crate::sandbox::{Sandbox, SandboxError};
use crate::world::{
    CmdbProbe, Fixer, HostFactsProbe, LabActuator, LogsProbe, MetricsProbe, World, LAB_SCRATCH,
};

/// Why the pillars could not be assembled or failed mid-run.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("lab pillars: temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("lab pillars: {what}: {reason}")]
    Setup { what: &'static str, reason: String },
    /// The monitor stage failed a round (fusion's dedup claim).
    #[error("lab monitor stage: {0}")]
    Monitor(#[from] ooda_monitor::MonitorError),
}

/// Joins a list of problems into one message.
fn all<E: std::fmt::Display>(problems: Vec<E>) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<SandboxError> for RespondError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::TempDir(e) => RespondError::TempDir(e),
            SandboxError::Setup { what, reason } => RespondError::Setup { what, reason },
        }
    }
}

fn setup<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> RespondError {
    move |e| RespondError::Setup {
        what,
        reason: e.to_string(),
    }
}

/// One incident as the lab follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabIncident {
    pub id: IncidentId,
    pub host: usize,
    pub opened_ms: i64,
    pub state: IncidentState,
    /// When it entered `state`.
    pub since_ms: i64,
    pub root_cause: Option<String>,
    pub confidence: Option<f64>,
    /// A human approved a step or took it over.
    pub human: bool,
    pub closed_ms: Option<i64>,
    pub closed_by: Option<Fixer>,
}

/// Drops every notification: the lab reads states from the register, not from the inbox.
struct Quiet;

impl Notify for Quiet {
    fn notify(&self, _: &Notification) {}
}

/// Approvers the lab human plays (two, for four-eyes on critical actions).
const APPROVERS: [&str; 2] = ["oncall-a", "oncall-b"];

pub struct Pillars {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    gate: Arc<Gate>,
    responder: Responder,
    runtime: tokio::runtime::Runtime,
    world: World,
    hosts: usize,
    human_delay_ms: i64,
    kill_switch: Vec<(i64, i64)>,
    switch_on: bool,
    pub budget: u64,
    pub incidents: Vec<LabIncident>,
    by_id: BTreeMap<IncidentId, usize>,
    /// Pillar calls that returned an error (counted, never hidden).
    pub errors: Vec<String>,
}

impl std::fmt::Debug for Pillars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pillars")
            .field("incidents", &self.incidents.len())
            .finish_non_exhaustive()
    }
}

impl Pillars {
    /// Assembles store, audit log, Gate and Responder around `world`, starting at `start_ms`.
    pub fn new(
        world: World,
        hosts: usize,
        start_ms: i64,
        human_delay_minutes: u32,
        kill_switch: Vec<(i64, i64)>,
        autonomy: ooda_govern::autonomy::Level,
    ) -> Result<Self, RespondError> {
        let Sandbox {
            dir,
            clock,
            shared,
            store,
            audit,
        } = Sandbox::open("ooda-lab-", start_ms)?;
        let mut config = GovernConfig::default();
        // The lab measures what ooda does when it is allowed to act (L4 unless the scenario
        // says otherwise); the shipped default, L2, takes no action at all.
        config.autonomy.default = autonomy;
        for name in APPROVERS {
            config
                .approvals
                .approvers
                .insert(name.into(), vec!["sre".into()]);
        }
        let budget = config.budget.per_incident;
        let gate = Arc::new(Gate::new(GateParts {
            config,
            store: store.clone(),
            audit,
            policy: Arc::new(PolicyEngine::with_defaults().map_err(|p| setup("policy")(all(p)))?),
            actuator: Arc::new(LabActuator(world.clone())),
            facts: Arc::new(LabFacts),
            changes: Arc::new(EmbeddedChangeRecords::new(store.clone(), shared.clone())),
            notifier: Arc::new(LogNotifier),
            clock: shared.clone(),
        }));
        let probes: Vec<Arc<dyn Probe>> = vec![
            Arc::new(HostFactsProbe(world.clone())),
            Arc::new(MetricsProbe(world.clone())),
            Arc::new(LogsProbe(world.clone())),
            Arc::new(CmdbProbe(world.clone())),
        ];
        let catalogue = Catalogue::embedded().map_err(setup("catalogue"))?;
        let responder = Responder::new(ResponderParts {
            register: Register::new(store.clone(), shared.clone()),
            catalogue: catalogue.clone(),
            runbooks: library::shipped().map_err(|p| setup("runbooks")(all(p)))?,
            reasoner: Arc::new(BuiltinReasoner::new(catalogue)),
            index: ooda_incident::triage::default_index().map_err(setup("similar index"))?,
            probes,
            gate: gate.clone(),
            facts: Arc::new(LabFacts),
            signals: Arc::new(world.clone()),
            notifier: Arc::new(Quiet),
            clock: shared,
            config: ResponderConfig::default(),
        })
        .map_err(setup("responder"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(setup("runtime"))?;
        Ok(Self {
            _dir: dir,
            clock,
            gate,
            responder,
            runtime,
            world,
            hosts,
            human_delay_ms: i64::from(human_delay_minutes) * 60_000,
            kill_switch,
            switch_on: false,
            budget,
            incidents: Vec::new(),
            by_id: BTreeMap::new(),
            errors: Vec::new(),
        })
    }

    /// Whether nothing is in flight (the run loop may skip calling [`Pillars::step`] then).
    pub fn idle(&self, t: i64) -> bool {
        let switch_changes = self
            .kill_switch
            .iter()
            .any(|(start, end)| (*start..*end).contains(&t) != self.switch_on);
        !switch_changes
            && self
                .incidents
                .iter()
                .all(|i| i.state == IncidentState::Closed)
    }

    /// One step of virtual time at `t`: the kill switch schedule, new alerts, verification, and
    /// the on-call human.
    pub fn step(&mut self, t: i64, alerts: Vec<ooda_monitor::fusion::FusionEvent>) {
        self.clock.set(from_millis(t));
        let on = self
            .kill_switch
            .iter()
            .any(|(start, end)| (*start..*end).contains(&t));
        if on != self.switch_on {
            self.switch_on = on;
            self.world.lock().kill_switch_on = on;
            let reason = if on {
                "lab: scheduled freeze"
            } else {
                "lab: freeze over"
            };
            if let Err(e) = self.gate.kill_switch().set(on, "lab", reason) {
                self.errors.push(format!("kill switch: {e}"));
            }
            if !on {
                for i in self.waiting(IncidentState::Paused, i64::MAX) {
                    self.resume(i, t);
                }
            }
        }
        for event in alerts {
            let alert = match event {
                ooda_monitor::fusion::FusionEvent::Resolved(alert) => {
                    match self.responder.alert_resolved(&alert) {
                        Ok(Some((id, _))) => {
                            if let Some(&i) = self.by_id.get(&id) {
                                self.refresh(i, t);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => self.errors.push(format!("alert resolved: {e}")),
                    }
                    continue;
                }
                ooda_monitor::fusion::FusionEvent::Opened(alert)
                | ooda_monitor::fusion::FusionEvent::Updated(alert) => alert,
            };
            let Some(host) = alert
                .host
                .as_deref()
                .and_then(|h| host_index(h, self.hosts))
            else {
                continue;
            };
            match self.runtime.block_on(self.responder.handle_alert(&alert)) {
                Ok(id) if !self.by_id.contains_key(&id) => {
                    self.by_id.insert(id, self.incidents.len());
                    self.incidents.push(LabIncident {
                        id,
                        host,
                        opened_ms: t,
                        state: IncidentState::Open,
                        since_ms: t,
                        root_cause: None,
                        confidence: None,
                        human: false,
                        closed_ms: None,
                        closed_by: None,
                    });
                    let i = self.incidents.len() - 1;
                    self.read_report(i);
                    self.refresh(i, t);
                }
                Ok(_) => {}
                Err(e) => self.errors.push(format!("alert on host {host}: {e}")),
            }
        }
        if self
            .incidents
            .iter()
            .any(|i| i.state == IncidentState::Investigating)
        {
            match self.runtime.block_on(self.responder.relook()) {
                Ok(changed) => {
                    for (id, _) in changed {
                        if let Some(&i) = self.by_id.get(&id) {
                            self.read_report(i);
                            self.refresh(i, t);
                        }
                    }
                }
                Err(e) => self.errors.push(format!("relook: {e}")),
            }
        }
        if self
            .incidents
            .iter()
            .any(|i| i.state == IncidentState::Verifying)
        {
            match self.responder.tick() {
                Ok(changed) => {
                    for (id, _) in changed {
                        if let Some(&i) = self.by_id.get(&id) {
                            self.refresh(i, t);
                        }
                    }
                }
                Err(e) => self.errors.push(format!("verification: {e}")),
            }
        }
        // The on-call human: approves parked steps, takes over escalations.
        let due = t - self.human_delay_ms;
        for i in self.waiting(IncidentState::Acting, due) {
            self.approve(i, t);
        }
        for i in self.waiting(IncidentState::Escalated, due) {
            self.take_over(i, t);
        }
    }

    /// The incident's latest diagnosis (a second look replaces the first).
    fn read_report(&mut self, i: usize) {
        let id = self.incidents[i].id;
        if let Ok(Some(report)) = self.responder.register.doc::<Report>(id, "report") {
            if std::env::var_os("OODA_LAB_TRACE").is_some() {
                let top: Vec<String> = report
                    .hypotheses
                    .iter()
                    .take(3)
                    .map(|h| format!("{}={:.2}", h.cause, h.confidence))
                    .collect();
                let seen: Vec<String> = report
                    .hypotheses
                    .first()
                    .map(|h| {
                        h.contributions
                            .iter()
                            .filter(|c| c.signal != "prior")
                            .map(|c| format!("{}×{}", c.signal, c.ratio))
                            .collect()
                    })
                    .unwrap_or_default();
                eprintln!(
                    "lab trace: {} report {:?} {:.2} {top:?} {seen:?}",
                    crate::fleet::host_name(self.incidents[i].host),
                    report.root_cause,
                    report.confidence
                );
            }
            self.incidents[i].root_cause = report.root_cause;
            self.incidents[i].confidence = Some(report.confidence);
        }
    }

    fn waiting(&self, state: IncidentState, since_at_most: i64) -> Vec<usize> {
        self.incidents
            .iter()
            .enumerate()
            .filter(|(_, inc)| inc.state == state && inc.since_ms <= since_at_most)
            .map(|(i, _)| i)
            .collect()
    }

    fn refresh(&mut self, i: usize, t: i64) {
        let id = self.incidents[i].id;
        match self.responder.register.get(id) {
            Ok(incident) => {
                if std::env::var_os("OODA_LAB_TRACE").is_some() {
                    if let Some(ooda_incident::TimelineEntry::Transition(tr)) = incident
                        .timeline
                        .iter()
                        .rev()
                        .find(|e| matches!(e, ooda_incident::TimelineEntry::Transition(_)))
                    {
                        eprintln!(
                            "lab trace: {} {:?} {} → {}: {}",
                            crate::fleet::host_name(self.incidents[i].host),
                            incident.title,
                            tr.from,
                            tr.to,
                            tr.reason
                        );
                    }
                }
                let lab = &mut self.incidents[i];
                if incident.state != lab.state {
                    lab.state = incident.state;
                    lab.since_ms = t;
                    if incident.state == IncidentState::Closed && lab.closed_ms.is_none() {
                        lab.closed_ms = Some(t);
                        lab.closed_by = Some(if lab.human { Fixer::Human } else { Fixer::Ooda });
                    }
                }
            }
            Err(e) => self.errors.push(format!("incident {id}: {e}")),
        }
    }

    fn resume(&mut self, i: usize, t: i64) {
        let id = self.incidents[i].id;
        if let Err(e) = self.responder.resume(id) {
            self.errors.push(format!("resume {id}: {e}"));
        }
        self.refresh(i, t);
    }

    /// Votes for every pending approval of the incident's actions, then resumes it.
    fn approve(&mut self, i: usize, t: i64) {
        let id = self.incidents[i].id;
        let pending = match self.gate.approvals().list() {
            Ok(list) => list,
            Err(e) => {
                self.errors.push(format!("approvals: {e}"));
                return;
            }
        };
        let mut voted = false;
        for (approval, state) in pending {
            if approval.request.incident != Some(id) {
                continue;
            }
            let ApprovalState::Pending { needed, .. } = state else {
                continue;
            };
            self.world.lock().approved.insert(approval.request.id);
            for by in APPROVERS.iter().take(usize::from(needed.max(1))) {
                if let Err(e) =
                    self.gate
                        .approvals()
                        .vote(approval.id, by, true, "lab on-call: looks right")
                {
                    self.errors.push(format!("vote {}: {e}", approval.id));
                }
            }
            voted = true;
        }
        self.incidents[i].human = true;
        if voted {
            self.resume(i, t);
        } else {
            // Nothing to approve (expired): the human takes it over.
            self.take_over(i, t);
        }
    }

    /// The human fixes what is broken on the host and closes the incident.
    fn take_over(&mut self, i: usize, t: i64) {
        let host = self.incidents[i].host;
        self.world.lock().clear(host, Fixer::Human);
        let id = self.incidents[i].id;
        self.incidents[i].human = true;
        match self.responder.register.get(id) {
            Ok(mut incident) => {
                let result = if incident.state == IncidentState::Escalated {
                    self.responder.register.transition(
                        &mut incident,
                        IncidentState::Closed,
                        "lab on-call: fixed by hand",
                    )
                } else {
                    self.responder.register.transition(
                        &mut incident,
                        IncidentState::Escalated,
                        "lab on-call: taking over",
                    )
                };
                if let Err(e) = result {
                    self.errors.push(format!("take over {id}: {e}"));
                }
            }
            Err(e) => self.errors.push(format!("take over {id}: {e}")),
        }
        self.refresh(i, t);
    }
}

/// The Gate's facts in the lab, answered by the live agent's rules: a path is allowlisted only
/// inside the operator's scratch directory; what the live agent has no integration for
/// (replication, previous releases, drained hosts, approved templates) does not hold. The lab
/// only differs in that its filesystem is simulated (no canonicalisation on this machine's disk).
struct LabFacts;

impl ooda_govern::Facts for LabFacts {
    fn precondition(
        &self,
        precondition: ooda_govern::Precondition,
        request: &ooda_core::ActionRequest,
    ) -> Result<bool, String> {
        Ok(match (precondition, &request.action) {
            (ooda_govern::Precondition::PathAllowlisted, ooda_core::Action::CleanPath { path }) => {
                let path = path.trim_end_matches('/');
                !path.contains("..")
                    && (path == LAB_SCRATCH || path.starts_with(&format!("{LAB_SCRATCH}/")))
            }
            _ => false,
        })
    }

    fn maintenance_window_open(&self, _: &str, _: ooda_core::Timestamp) -> Result<bool, String> {
        // As live: incident actions do not wait for patch windows.
        Ok(false)
    }

    fn active_incidents(&self, _: &str) -> Result<u32, String> {
        Ok(0)
    }
}
