//! The responder: the incident pillar's loop. Alert → incident → triage → evidence → reasoner →
//! decision by confidence → runbook through the Gate → verification → close with a post-mortem,
//! or escalate with the full report.
//!
//! It holds a Gate port, never an actuator; it acts only on a validated report, a known host and
//! a runbook from the library; everything it learns or decides is persisted before it moves on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ooda_core::{Alert, Event, EventKind, Host, HostClass, IncidentId, SharedClock};
use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::evidence::{
    gather, Evidence, EvidenceItem, EvidenceRef, LogTemplate, MetricReading, Observation, Probe,
    ProbeQuery,
};
use crate::gate::ActionGate;
use crate::lifecycle::{Incident, IncidentState};
use crate::postmortem::{self, IncidentResult};
use crate::reasoner::{Case, Reasoner, Report, Tools};
use crate::register::{Attached, Register};
use crate::runbook::engine::{Engine, Observer, Run, RunContext, RunOutcome, StepRecord};
use crate::runbook::Runbook;
use crate::triage::{self, PastIncident, SimilarIndex, TriageDecision};
use crate::verify::{Verdict, Verification, VerifyWindow};
use crate::{IncidentError, Result};

/// The current values of an incident's triggering signals, read synchronously (verification and
/// the engine's re-evaluation between steps).
pub trait SignalSource: Send + Sync {
    fn readings(&self, incident: &Incident) -> std::result::Result<Vec<MetricReading>, String>;
}

/// Something people should hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `acting`, `approval_needed`, `paused`, `escalated`, `resolved`.
    pub kind: String,
    pub incident: IncidentId,
    pub title: String,
    /// Markdown: for escalations, the full report.
    pub text: String,
}

pub use crate::register::HumanVerb;

/// The notification port (webhook, Slack, …). Delivery problems are the adapter's to log; they
/// never fail the incident.
pub trait Notify: Send + Sync {
    fn notify(&self, notification: &Notification);
}

/// Thresholds and timings. The bands mirror the shipped governance policy (which decides
/// again, independently, for every action).
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// Above this: act alone.
    pub act_above: f64,
    /// From this to `act_above`: act and notify. Below: escalate, no action.
    pub notify_from: f64,
    pub probe_timeout: Duration,
    pub look_back: Duration,
    pub verify_window: VerifyWindow,
    /// An incident whose diagnosis falls below `notify_from` is looked at again this often while
    /// its evidence develops (an early precursor: a disk ten minutes into filling looks like
    /// little yet), up to `relooks` times, before it is escalated. The on-call is notified at the
    /// first hold, so waiting never hides an incident; triage escalations never wait.
    /// `relooks = 0` escalates at once.
    pub relook_every: Duration,
    pub relooks: u32,
    /// Where runbooks' `notify` steps post (`${channel}`).
    pub channel: String,
}

impl Default for ResponderConfig {
    fn default() -> Self {
        Self {
            act_above: 0.85,
            notify_from: 0.65,
            probe_timeout: Duration::from_secs(5),
            look_back: Duration::from_secs(4 * 3600),
            verify_window: VerifyWindow::default(),
            relook_every: Duration::from_secs(5 * 60),
            relooks: 3,
            channel: "oncall".into(),
        }
    }
}

/// A low-confidence diagnosis waiting for its evidence to develop: when to look again, and how
/// many looks have been taken.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Relook {
    due: ooda_core::Timestamp,
    looks: u32,
}

/// Where a runbook run stands between calls (parked for approval, paused by the kill switch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Progress {
    runbook: String,
    step: usize,
    approval: Option<u64>,
    records: Vec<StepRecord>,
}

pub struct Responder {
    pub register: Register,
    catalogue: Catalogue,
    runbooks: Vec<Runbook>,
    reasoner: Arc<dyn Reasoner>,
    index: Mutex<Box<dyn SimilarIndex>>,
    probes: Vec<Arc<dyn Probe>>,
    gate: Arc<dyn ActionGate>,
    facts: Arc<dyn ooda_govern::Facts>,
    signals: Arc<dyn SignalSource>,
    notifier: Arc<dyn Notify>,
    clock: SharedClock,
    config: ResponderConfig,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder").finish_non_exhaustive()
    }
}

/// What a [`Responder`] is built from.
pub struct ResponderParts {
    pub register: Register,
    pub catalogue: Catalogue,
    pub runbooks: Vec<Runbook>,
    pub reasoner: Arc<dyn Reasoner>,
    pub index: Box<dyn SimilarIndex>,
    pub probes: Vec<Arc<dyn Probe>>,
    pub gate: Arc<dyn ActionGate>,
    pub facts: Arc<dyn ooda_govern::Facts>,
    pub signals: Arc<dyn SignalSource>,
    pub notifier: Arc<dyn Notify>,
    pub clock: SharedClock,
    pub config: ResponderConfig,
}

impl Responder {
    /// Builds the responder and loads the stored history into the similar-incident index.
    pub fn new(parts: ResponderParts) -> Result<Self> {
        let mut index = parts.index;
        let history = parts.register.history()?;
        if !history.is_empty() {
            index.add(&history)?;
        }
        Ok(Self {
            register: parts.register,
            catalogue: parts.catalogue,
            runbooks: parts.runbooks,
            reasoner: parts.reasoner,
            index: Mutex::new(index),
            probes: parts.probes,
            gate: parts.gate,
            facts: parts.facts,
            signals: parts.signals,
            notifier: parts.notifier,
            clock: parts.clock,
            config: parts.config,
        })
    }

    /// Handles one bus event idempotently (at-least-once delivery): alerts open or join
    /// incidents; everything else is ignored.
    pub async fn handle_event(&self, event: &Event) -> Result<Option<IncidentId>> {
        let (alert, resolved) = match &event.kind {
            EventKind::AlertOpened(alert) | EventKind::AlertUpdated(alert) => (alert, false),
            EventKind::AlertResolved(alert) => (alert, true),
            _ => return Ok(None),
        };
        if !self.register.store().mark_processed("incident", event.id)? {
            return Ok(None);
        }
        if resolved {
            return Ok(self.alert_resolved(alert)?.map(|(id, _)| id));
        }
        self.handle_alert(alert).await.map(Some)
    }

    /// An alert of an incident changed or another joined it: a symptom the diagnosis has not
    /// seen (a metric none of its alerts carried) is looked at, not buried in a group. While the
    /// incident still waits for a diagnosis that holds, it is investigated again at once with
    /// the new alert; once a person has it, or a runbook is running, they are told.
    async fn new_symptoms(&self, incident: &mut Incident, alert: &Alert) -> Result<()> {
        let id = incident.id;
        let stored: Option<Alert> = self.register.doc(id, "alert")?;
        let seen: std::collections::BTreeSet<&str> = stored
            .iter()
            .flat_map(|a| a.members.iter())
            .filter(|m| m.severity >= ooda_core::Severity::Warning)
            .map(|m| m.series.metric.as_str())
            .collect();
        // Context members (below warning: corroboration, not a deviation of their own) are not
        // symptoms.
        let new: Vec<&str> = alert
            .members
            .iter()
            .filter(|m| m.severity >= ooda_core::Severity::Warning)
            .map(|m| m.series.metric.as_str())
            .filter(|m| !seen.contains(m))
            .collect();
        if new.is_empty() || stored.is_none() {
            return Ok(());
        }
        let what = format!("new symptom {}: {}", new.join(", "), alert.summary);
        match incident.state {
            IncidentState::Investigating => {
                incident.note(format!("{what}: diagnosing again"), self.clock.now());
                // The title follows the alert's headline (its most severe member now), and a new
                // symptom is a fresh look, not one of the second looks at the old evidence.
                incident.title = alert.summary.clone();
                self.register.put_doc(
                    id,
                    "relook",
                    &Relook {
                        due: self.clock.now(),
                        looks: 0,
                    },
                )?;
                self.register.put_doc(id, "alert", alert)?;
                self.register.save(incident)?;
                if let Some(triage) = self.register.doc::<triage::Triage>(id, "triage")? {
                    self.investigate(incident, &triage, alert).await?;
                }
            }
            IncidentState::Open | IncidentState::Triaged | IncidentState::Closed => {}
            _ => {
                incident.note(what.clone(), self.clock.now());
                self.register.save(incident)?;
                self.notifier.notify(&Notification {
                    kind: "new_symptom".into(),
                    incident: id,
                    title: format!("{} on {}", what, incident.title),
                    text: what,
                });
            }
        }
        Ok(())
    }

    /// An alert stopped firing. An incident all of whose alerts have stopped ends if nothing is
    /// in flight: one still waiting for a diagnosis that holds (no second looks at a problem
    /// that is gone) and one a person had taken over are resolved and closed with their report;
    /// one being acted on or verified is left to its runbook and verification.
    pub fn alert_resolved(&self, alert: &Alert) -> Result<Option<(IncidentId, IncidentState)>> {
        let Some(mut incident) = self
            .register
            .list_unclosed()?
            .into_iter()
            .find(|i| i.alerts.contains(&alert.id))
        else {
            return Ok(None);
        };
        let id = incident.id;
        let mut resolved: Vec<ooda_core::AlertId> = self
            .register
            .doc(id, "resolved_alerts")?
            .unwrap_or_default();
        if !resolved.contains(&alert.id) {
            resolved.push(alert.id);
            self.register.put_doc(id, "resolved_alerts", &resolved)?;
            incident.note(format!("alert {} resolved", alert.id), self.clock.now());
            self.register.save(&incident)?;
        }
        let all_resolved = incident.alerts.iter().all(|a| resolved.contains(a));
        if !all_resolved
            || !matches!(
                incident.state,
                IncidentState::Investigating | IncidentState::Escalated
            )
        {
            return Ok(None);
        }
        let why = if incident.state == IncidentState::Investigating {
            "every alert resolved before a diagnosis held: no action was taken"
        } else {
            "every alert resolved after escalation"
        };
        self.register
            .transition(&mut incident, IncidentState::Resolved, why)?;
        self.register.transition(
            &mut incident,
            IncidentState::Closed,
            "auto-closed: alerts resolved",
        )?;
        let report: Option<Report> = self.register.doc(id, "report")?;
        let actions: Vec<StepRecord> = self.register.doc(id, "actions")?.unwrap_or_default();
        let result = self.write_result(&incident, report.as_ref(), &actions)?;
        self.notifier.notify(&Notification {
            kind: "resolved".into(),
            incident: id,
            title: format!("resolved: {}", incident.title),
            text: result.post_mortem,
        });
        Ok(Some((id, incident.state)))
    }

    /// A person's word on an incident (see [`Register::human`]).
    pub fn human(
        &self,
        id: IncidentId,
        verb: HumanVerb,
        by: &str,
        reason: &str,
    ) -> Result<IncidentState> {
        self.register.human(id, verb, by, reason)
    }

    /// Runs an alert through the whole loop, as far as it can go now.
    pub async fn handle_alert(&self, alert: &Alert) -> Result<IncidentId> {
        let (attached, mut incident) = self.register.attach(alert)?;
        let id = attached.incident();
        if !matches!(attached, Attached::Opened(_)) {
            self.new_symptoms(&mut incident, alert).await?;
            return Ok(id);
        }
        // Triage.
        let triage = {
            let index = self
                .index
                .lock()
                .map_err(|_| IncidentError::Index("index lock poisoned".into()))?;
            triage::triage(&incident, &self.catalogue, index.as_ref())?
        };
        incident.severity = triage.severity;
        incident.cause = triage.cause.clone();
        self.register.put_doc(id, "triage", &triage)?;
        let similar_note = triage
            .similar
            .iter()
            .map(|s| format!("{} ({})", s.incident, s.cause.as_deref().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", ");
        self.register.transition(
            &mut incident,
            IncidentState::Triaged,
            format!(
                "classified as {}; similar: {}",
                triage.cause.as_deref().unwrap_or("unknown"),
                if similar_note.is_empty() {
                    "none".into()
                } else {
                    similar_note
                }
            ),
        )?;
        self.register.transition(
            &mut incident,
            IncidentState::Investigating,
            "gathering evidence",
        )?;
        // Kept for a second look (its anomalies and log lines are evidence each time).
        self.register.put_doc(id, "alert", alert)?;
        self.investigate(&mut incident, &triage, alert).await
    }

    /// Evidence, diagnosis and the decision for an incident in `Investigating`.
    async fn investigate(
        &self,
        incident: &mut Incident,
        triage: &triage::Triage,
        alert: &Alert,
    ) -> Result<IncidentId> {
        let id = incident.id;
        // Evidence, concurrently.
        let query = ProbeQuery {
            incident: id,
            host: incident.host.clone(),
            labels: incident.labels.clone(),
            at: self.clock.now(),
            look_back: self.config.look_back,
        };
        let mut evidence = gather(&self.probes, &query, self.config.probe_timeout).await;
        for item in alert_evidence(alert) {
            evidence.push(item);
        }
        for item in &evidence.items {
            self.register.put_evidence(item)?;
        }
        let refs: Vec<EvidenceRef> = evidence.items.iter().map(|i| i.id.clone()).collect();
        self.register.put_doc(id, "evidence", &refs)?;
        self.register.put_doc(id, "gaps", &evidence.gaps)?;
        incident.note(
            format!(
                "evidence: {} items, {} gaps",
                evidence.items.len(),
                evidence.gaps.len()
            ),
            self.clock.now(),
        );
        // Reasoner.
        let tools = Tools::new(self.probes.clone(), query, self.config.probe_timeout);
        let case = Case {
            incident,
            evidence: &evidence,
            similar: &triage.similar,
        };
        let report = match self.reasoner.investigate(case, &tools).await {
            Ok(report) => match report.validate(&self.catalogue, &self.runbooks, &evidence) {
                Ok(()) => report,
                Err(reason) => {
                    return self.escalate(
                        incident,
                        None,
                        &[],
                        &format!("reasoner report refused: {reason}"),
                    );
                }
            },
            Err(error) => {
                return self.escalate(incident, None, &[], &format!("reasoner failed: {error}"))
            }
        };
        incident.cause = report.root_cause.clone();
        incident.confidence = Some(report.confidence);
        self.register.put_doc(id, "report", &report)?;
        self.register.save(incident)?;
        // Decide by confidence.
        if let TriageDecision::Escalate { reason } = &triage.decision {
            return self.escalate(incident, Some(&report), &[], reason);
        }
        if report.confidence < self.config.notify_from {
            let looks = self
                .register
                .doc::<Relook>(id, "relook")?
                .map_or(0, |r| r.looks);
            if looks < self.config.relooks {
                let due = self.clock.now()
                    + chrono::Duration::from_std(self.config.relook_every)
                        .unwrap_or(chrono::Duration::zero());
                self.register.put_doc(
                    id,
                    "relook",
                    &Relook {
                        due,
                        looks: looks + 1,
                    },
                )?;
                let note = format!(
                    "confidence {:.2} in {} is below {:.2}: looking again at {due} ({}/{}) as the evidence develops",
                    report.confidence,
                    report.root_cause.as_deref().unwrap_or("no known cause"),
                    self.config.notify_from,
                    looks + 1,
                    self.config.relooks
                );
                if looks == 0 {
                    self.notifier.notify(&Notification {
                        kind: "investigating".into(),
                        incident: id,
                        title: format!("still investigating {}", incident.title),
                        text: note.clone(),
                    });
                }
                incident.note(note, self.clock.now());
                self.register.save(incident)?;
                return Ok(id);
            }
            let reason = format!(
                "confidence {:.2} is below {:.2}{}: escalating with the report, no action",
                report.confidence,
                self.config.notify_from,
                if looks > 0 {
                    format!(" after {} looks", looks + 1)
                } else {
                    String::new()
                }
            );
            return self.escalate(incident, Some(&report), &[], &reason);
        }
        // The first proposed runbook whose first step the host's facts can target; the others
        // say why not (never started to stop half-way on a missing target).
        let bindings = self.bindings(
            incident,
            Some(alert),
            &evidence,
            report.root_cause.as_deref(),
        );
        let mut not_applicable = Vec::new();
        let mut chosen = None;
        for proposal in &report.proposed_actions {
            let Some(runbook) = self.runbooks.iter().find(|r| r.id == proposal.runbook) else {
                continue;
            };
            let missing: Vec<String> = runbook
                .steps
                .first()
                .map(|step| step.action.variables())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|var| {
                    bindings
                        .why_missing(&var)
                        .map(|why| format!("${{{var}}}: {why}"))
                })
                .collect();
            if missing.is_empty() {
                chosen = Some(runbook.clone());
                break;
            }
            not_applicable.push(format!(
                "runbook {} is not applicable ({})",
                runbook.id,
                missing.join("; ")
            ));
        }
        for (var, from) in &bindings.from {
            if var != "host" && var != "channel" {
                incident.note(
                    format!("target ${{{var}}} = {:?}: {from}", bindings.vars[var]),
                    self.clock.now(),
                );
            }
        }
        let Some(runbook) = chosen else {
            let reason = if not_applicable.is_empty() {
                "no runbook proposed".to_owned()
            } else {
                not_applicable.join("; ")
            };
            return self.escalate(incident, Some(&report), &[], &reason);
        };
        incident.runbook = Some(runbook.id.clone());
        let reason = format!(
            "{} at {:.2} confidence: running runbook {}",
            report.root_cause.as_deref().unwrap_or("?"),
            report.confidence,
            runbook.id
        );
        self.register
            .transition(incident, IncidentState::Acting, reason.clone())?;
        if report.confidence <= self.config.act_above {
            self.notifier.notify(&Notification {
                kind: "acting".into(),
                incident: id,
                title: format!("acting on {}", incident.title),
                text: reason,
            });
        }
        let ctx = self.context(incident, bindings, &evidence, report.confidence);
        let run = self.engine_for(incident, |engine| engine.run(&runbook, &ctx));
        self.after_run(incident, &report, &runbook, run)?;
        Ok(id)
    }

    fn engine_for<T>(&self, incident: &Incident, f: impl FnOnce(&Engine<'_>) -> T) -> T {
        let observer = IncidentObserver {
            responder: self,
            incident,
        };
        let engine = Engine {
            gate: self.gate.as_ref(),
            observer: &observer,
            settle: true,
        };
        f(&engine)
    }

    /// What the facts let runbooks target for this incident (see [`crate::targets`]).
    fn bindings(
        &self,
        incident: &Incident,
        alert: Option<&Alert>,
        evidence: &Evidence,
        cause: Option<&str>,
    ) -> crate::targets::Bindings {
        crate::targets::bind(crate::targets::Inputs {
            host: incident.host.as_deref(),
            cause,
            alert,
            evidence,
            channel: &self.config.channel,
        })
    }

    /// Runbook variables: bound from the host's facts, the inventory and the deploys, never
    /// from the alert's labels (see [`crate::targets`]).
    fn context(
        &self,
        incident: &Incident,
        bindings: crate::targets::Bindings,
        evidence: &Evidence,
        confidence: f64,
    ) -> RunContext {
        let mut host = Host::new(incident.host.clone().unwrap_or_default());
        for item in &evidence.items {
            if let Observation::Cmdb { record } = &item.observation {
                host.class = HostClass::new(record.class.clone());
            }
        }
        RunContext {
            incident: incident.id,
            host,
            confidence,
            vars: bindings.vars,
            reason: format!("incident {}: {}", incident.id, incident.title),
        }
    }

    fn after_run(
        &self,
        incident: &mut Incident,
        report: &Report,
        runbook: &Runbook,
        run: Run,
    ) -> Result<()> {
        let id = incident.id;
        // A run carries every record since the runbook started (resumes pass them on); the
        // timeline gets only the ones it has not seen.
        let noted = self
            .register
            .doc::<Vec<StepRecord>>(id, "actions")?
            .map_or(0, |previous| previous.len());
        let actions = run.records.clone();
        self.register.put_doc(id, "actions", &actions)?;
        for record in run.records.iter().skip(noted) {
            incident.note(
                format!(
                    "{}{} → {}",
                    if record.rollback {
                        "rollback "
                    } else {
                        "step "
                    },
                    record.step,
                    serde_json::to_string(&record.answer).unwrap_or_default()
                ),
                self.clock.now(),
            );
        }
        match run.outcome {
            RunOutcome::Resolved { .. } | RunOutcome::Completed => {
                self.register.transition(
                    incident,
                    IncidentState::Verifying,
                    "runbook done: verifying",
                )?;
                let verification = Verification::start(self.clock.now(), self.config.verify_window);
                self.register.put_doc(id, "verification", &verification)?;
                Ok(())
            }
            RunOutcome::Settling { next } => {
                let progress = Progress {
                    runbook: runbook.id.clone(),
                    step: next,
                    approval: None,
                    records: run.records,
                };
                self.register.put_doc(id, "progress", &progress)?;
                self.register.transition(
                    incident,
                    IncidentState::Verifying,
                    format!(
                        "step {} done: verifying before step {}",
                        runbook.steps[next - 1].id,
                        runbook.steps[next].id
                    ),
                )?;
                let verification = Verification::start(self.clock.now(), self.config.verify_window);
                self.register.put_doc(id, "verification", &verification)?;
                Ok(())
            }
            RunOutcome::Parked { step, approval } => {
                let progress = Progress {
                    runbook: runbook.id.clone(),
                    step,
                    approval: Some(approval),
                    records: run.records,
                };
                self.register.put_doc(id, "progress", &progress)?;
                incident.note(
                    format!("step {step} waits for approval {approval}"),
                    self.clock.now(),
                );
                self.register.save(incident)?;
                self.notifier.notify(&Notification {
                    kind: "approval_needed".into(),
                    incident: id,
                    title: format!("approval {approval} needed for {}", incident.title),
                    text: report.post_mortem.clone(),
                });
                Ok(())
            }
            RunOutcome::Paused { step } => {
                let progress = Progress {
                    runbook: runbook.id.clone(),
                    step,
                    approval: None,
                    records: run.records,
                };
                self.register.put_doc(id, "progress", &progress)?;
                self.register.transition(
                    incident,
                    IncidentState::Paused,
                    "kill switch is on: paused before the next step",
                )?;
                self.notifier.notify(&Notification {
                    kind: "paused".into(),
                    incident: id,
                    title: format!("paused: {}", incident.title),
                    text: "the kill switch is on".into(),
                });
                Ok(())
            }
            RunOutcome::Stopped { reason, .. } => {
                self.register.record_runbook(&runbook.id, false)?;
                self.escalate(
                    incident,
                    Some(report),
                    &actions,
                    &format!("runbook {} stopped: {reason}", runbook.id),
                )
                .map(|_| ())
            }
        }
    }

    /// Continues a run parked for approval (after a human decided) or paused by the kill switch
    /// (after it was turned off).
    pub fn resume(&self, id: IncidentId) -> Result<IncidentState> {
        let mut incident = self.register.get(id)?;
        let progress: Progress = self
            .register
            .doc(id, "progress")?
            .ok_or_else(|| IncidentError::NotFound(format!("{id}: no runbook waiting")))?;
        let report: Report = self
            .register
            .doc(id, "report")?
            .ok_or_else(|| IncidentError::NotFound(format!("{id}: no report")))?;
        let runbook = self
            .runbooks
            .iter()
            .find(|r| r.id == progress.runbook)
            .cloned()
            .ok_or_else(|| IncidentError::Runbook {
                runbook: progress.runbook.clone(),
                reason: "no longer in the library".into(),
            })?;
        let evidence = self.stored_evidence(id)?;
        let alert: Option<Alert> = self.register.doc(id, "alert")?;
        let bindings = self.bindings(
            &incident,
            alert.as_ref(),
            &evidence,
            report.root_cause.as_deref(),
        );
        let ctx = self.context(&incident, bindings, &evidence, report.confidence);
        if incident.state == IncidentState::Verifying {
            self.register.transition(
                &mut incident,
                IncidentState::Acting,
                format!("signal still present: trying step {}", progress.step + 1),
            )?;
        }
        if incident.state == IncidentState::Paused {
            if self.gate.paused() {
                return Ok(incident.state);
            }
            self.register.transition(
                &mut incident,
                IncidentState::Acting,
                "kill switch off: resuming",
            )?;
        }
        self.register
            .put_doc(id, "progress", &Option::<Progress>::None)?;
        let run = self.engine_for(&incident, |engine| match progress.approval {
            Some(approval) => engine.resume(
                &runbook,
                &ctx,
                progress.step,
                approval,
                progress.records.clone(),
            ),
            None => engine.resume_at(&runbook, &ctx, progress.step, progress.records.clone()),
        });
        self.after_run(&mut incident, &report, &runbook, run)?;
        Ok(incident.state)
    }

    /// Resumes every run that can go on now: parked runs whose approval `decided` says was
    /// answered (granted, denied or expired: the engine reads which), and paused runs once the
    /// kill switch is off. The running agent calls this on its tick, so a human's vote or the
    /// switch going off is acted on without another command.
    pub fn resume_waiting(
        &self,
        decided: impl Fn(u64) -> bool,
    ) -> Result<Vec<(IncidentId, IncidentState)>> {
        let mut changed = Vec::new();
        for incident in self.register.list_unclosed()? {
            let ready = match incident.state {
                IncidentState::Paused => !self.gate.paused(),
                IncidentState::Acting => self
                    .register
                    .doc::<Option<Progress>>(incident.id, "progress")?
                    .flatten()
                    .and_then(|p| p.approval)
                    .is_some_and(&decided),
                _ => false,
            };
            if ready {
                let state = self.resume(incident.id)?;
                changed.push((incident.id, state));
            }
        }
        Ok(changed)
    }

    fn stored_evidence(&self, id: IncidentId) -> Result<Evidence> {
        let refs: Vec<EvidenceRef> = self.register.doc(id, "evidence")?.unwrap_or_default();
        let mut evidence = Evidence::default();
        for r in refs {
            if let Some(item) = self.register.evidence(&r)? {
                evidence.push(item);
            }
        }
        evidence.gaps = self.register.doc(id, "gaps")?.unwrap_or_default();
        Ok(evidence)
    }

    /// The readings verification judges: those the diagnosed cause is about (a metric whose
    /// signals support it), so a fix is not failed by another fault's symptom on the same host
    /// (a busy CPU beside the disk that was cleaned); all of them when none is, or when there is
    /// no diagnosis.
    fn verified_signals<'a>(
        &self,
        incident: &Incident,
        readings: &'a [MetricReading],
    ) -> Vec<&'a MetricReading> {
        let cause = incident
            .cause
            .as_deref()
            .and_then(|c| self.catalogue.cause(c));
        let about_cause = |r: &&MetricReading| {
            cause.is_some_and(|cause| {
                self.catalogue
                    .metric_signals_watched(&r.metric)
                    .iter()
                    .any(|s| cause.supports.get(*s).is_some_and(|ratio| *ratio > 1.0))
            })
        };
        let relevant: Vec<&MetricReading> = readings.iter().filter(about_cause).collect();
        if relevant.is_empty() {
            readings.iter().collect()
        } else {
            relevant
        }
    }

    /// Looks again at every incident whose low-confidence diagnosis is due for another look
    /// (see [`ResponderConfig::relook_every`]): fresh evidence, a fresh report, a fresh decision.
    /// Call it with the verification tick; it is async because probes are.
    pub async fn relook(&self) -> Result<Vec<(IncidentId, IncidentState)>> {
        let now = self.clock.now();
        let mut changed = Vec::new();
        for mut incident in self.register.list_unclosed()? {
            if incident.state != IncidentState::Investigating {
                continue;
            }
            let id = incident.id;
            let Some(relook) = self.register.doc::<Relook>(id, "relook")? else {
                continue;
            };
            if relook.due > now {
                continue;
            }
            let (Some(triage), Some(alert)) = (
                self.register.doc::<triage::Triage>(id, "triage")?,
                self.register.doc::<Alert>(id, "alert")?,
            ) else {
                continue;
            };
            self.investigate(&mut incident, &triage, &alert).await?;
            let state = self.register.get(id)?.state;
            if state != IncidentState::Investigating {
                changed.push((id, state));
            }
        }
        Ok(changed)
    }

    /// One verification look for every incident being verified. Call every minute or so
    /// (virtual time in tests). Returns the incidents that changed state.
    pub fn tick(&self) -> Result<Vec<(IncidentId, IncidentState)>> {
        let mut changed = Vec::new();
        for mut incident in self.register.list_unclosed()? {
            if incident.state != IncidentState::Verifying {
                continue;
            }
            let id = incident.id;
            let Some(mut verification) = self.register.doc::<Verification>(id, "verification")?
            else {
                continue;
            };
            let in_band = match self.signals.readings(&incident) {
                Ok(readings) if !readings.is_empty() => {
                    let judged = self.verified_signals(&incident, &readings);
                    Some(judged.iter().all(|r| r.value >= r.low && r.value <= r.high))
                }
                _ => None,
            };
            let verdict = verification.observe(self.clock.now(), in_band);
            self.register.put_doc(id, "verification", &verification)?;
            let report: Option<Report> = self.register.doc(id, "report")?;
            let actions: Vec<StepRecord> = self.register.doc(id, "actions")?.unwrap_or_default();
            match verdict {
                Verdict::Watching => {}
                Verdict::Passed => {
                    self.register
                        .put_doc(id, "progress", &Option::<Progress>::None)?;
                    self.register.transition(
                        &mut incident,
                        IncidentState::Resolved,
                        format!("verified: {}", verification.reason),
                    )?;
                    self.register.transition(
                        &mut incident,
                        IncidentState::Closed,
                        "auto-closed after verification",
                    )?;
                    if let Some(runbook) = &incident.runbook {
                        self.register.record_runbook(runbook, true)?;
                    }
                    self.learn(&incident, true)?;
                    let result = self.write_result(&incident, report.as_ref(), &actions)?;
                    self.notifier.notify(&Notification {
                        kind: "resolved".into(),
                        incident: id,
                        title: format!("resolved: {}", incident.title),
                        text: result.post_mortem,
                    });
                    changed.push((id, incident.state));
                }
                Verdict::Failed
                    if self
                        .register
                        .doc::<Option<Progress>>(id, "progress")?
                        .flatten()
                        .is_some() =>
                {
                    // The step did not clear the signal: the runbook's next step is tried.
                    incident.note(
                        format!("verification failed: {}", verification.reason),
                        self.clock.now(),
                    );
                    self.register.save(&incident)?;
                    let state = self.resume(id)?;
                    changed.push((id, state));
                }
                Verdict::Failed => {
                    if let Some(runbook) = &incident.runbook {
                        self.register.record_runbook(runbook, false)?;
                    }
                    let reason = format!("verification failed: {}", verification.reason);
                    self.escalate(&mut incident, report.as_ref(), &actions, &reason)?;
                    changed.push((id, incident.state));
                }
            }
        }
        Ok(changed)
    }

    fn learn(&self, incident: &Incident, resolved: bool) -> Result<()> {
        let past = PastIncident {
            id: incident.id.to_string(),
            cause: incident.cause.clone(),
            text: incident.text.join(" "),
            resolved,
        };
        self.register.learn(past.clone())?;
        let mut index = self
            .index
            .lock()
            .map_err(|_| IncidentError::Index("index lock poisoned".into()))?;
        index.add(&[past])
    }

    fn write_result(
        &self,
        incident: &Incident,
        report: Option<&Report>,
        actions: &[StepRecord],
    ) -> Result<IncidentResult> {
        let refs: Vec<EvidenceRef> = self
            .register
            .doc(incident.id, "evidence")?
            .unwrap_or_default();
        let result = postmortem::write(incident, report, actions, &refs);
        self.register.put_doc(incident.id, "result", &result)?;
        Ok(result)
    }

    fn escalate(
        &self,
        incident: &mut Incident,
        report: Option<&Report>,
        actions: &[StepRecord],
        reason: &str,
    ) -> Result<IncidentId> {
        self.register
            .transition(incident, IncidentState::Escalated, reason)?;
        self.learn(incident, false)?;
        let result = self.write_result(incident, report, actions)?;
        self.notifier.notify(&Notification {
            kind: "escalated".into(),
            incident: incident.id,
            title: format!("escalated: {}", incident.title),
            text: format!("{reason}\n\n{}", result.post_mortem),
        });
        Ok(incident.id)
    }
}

/// The alert itself as evidence: its anomalies as metric readings, its log lines as templates,
/// and, for a member whose forecaster predicts saturation, its fill rate as a reading of its own
/// (`<stem>_fill_rate_per_hour`, out of band whenever it heads for the limit): "memory climbs
/// steadily toward full" is what tells a leak from a busy hour, and the level alone cannot say it.
pub fn alert_evidence(alert: &Alert) -> Vec<EvidenceItem> {
    let mut items = Vec::new();
    let fill_rates = alert.members.iter().filter_map(|m| {
        let rate = m.forecast.as_ref()?.saturation.as_ref()?.rate_per_hour;
        rate.is_finite().then(|| MetricReading {
            metric: crate::evidence::fill_rate_name(&m.series.metric),
            value: rate.abs(),
            low: f64::MIN,
            high: 0.0,
        })
    });
    let readings: Vec<MetricReading> = alert
        .members
        .iter()
        .filter(|m| m.value.is_finite() && m.expected.is_finite())
        .map(|m| {
            // The detector's expectation bounds the band on the side the value left it.
            let (low, high) = if m.value > m.expected {
                (f64::MIN, m.expected)
            } else {
                (m.expected, f64::MAX)
            };
            MetricReading {
                metric: m.series.metric.clone(),
                value: m.value,
                low,
                high,
            }
            .in_catalogue_terms()
        })
        .chain(fill_rates)
        .collect();
    if !readings.is_empty() {
        items.push(EvidenceItem::new(
            "alert",
            Observation::Metrics { readings },
        ));
    }
    let templates: Vec<LogTemplate> = alert
        .enrichment
        .iter()
        .map(|l| LogTemplate {
            template: l.template.clone(),
            count: l.count,
        })
        .collect();
    if !templates.is_empty() {
        items.push(EvidenceItem::new("alert", Observation::Logs { templates }));
    }
    items
}

struct IncidentObserver<'a> {
    responder: &'a Responder,
    incident: &'a Incident,
}

impl Observer for IncidentObserver<'_> {
    fn signal_present(&self, signal: &str) -> Option<bool> {
        let readings = self.responder.signals.readings(self.incident).ok()?;
        let catalogue = &self.responder.catalogue;
        let watched = readings.iter().any(|r| {
            catalogue
                .metric_signals_watched(&r.metric)
                .contains(&signal)
        });
        if !watched {
            return None;
        }
        Some(readings.iter().any(|r| {
            catalogue
                .metric_signals(&r.metric, r.value, r.low, r.high)
                .contains(&signal)
        }))
    }

    fn precondition(
        &self,
        name: &str,
        request: &ooda_core::ActionRequest,
    ) -> std::result::Result<bool, String> {
        use ooda_govern::Precondition as P;
        let precondition = match name {
            "replication_healthy" => P::ReplicationHealthy,
            "path_allowlisted" => P::PathAllowlisted,
            "template_approved" => P::TemplateApproved,
            "previous_release_available" => P::PreviousReleaseAvailable,
            "host_drained" => P::HostDrained,
            other => return Err(format!("unknown precondition {other:?}")),
        };
        self.responder.facts.precondition(precondition, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::{
        AlertId, AlertKind, AlertState, Anomaly, Forecast, Labels, Saturation, SeriesKey, Severity,
    };

    use crate::evidence::fill_rate_name;

    #[test]
    fn fill_rates_are_named_by_their_stem_and_keep_their_labels() {
        assert_eq!(
            fill_rate_name("filesystem_free_percent{mountpoint=\"/\"}"),
            "filesystem_fill_rate_per_hour{mountpoint=\"/\"}"
        );
        assert_eq!(
            fill_rate_name("memory_used_percent"),
            "memory_fill_rate_per_hour"
        );
        assert_eq!(
            fill_rate_name("node_filesystem_avail_bytes"),
            "node_filesystem_fill_rate_per_hour"
        );
        assert_eq!(fill_rate_name("disk_used_pct"), "disk_fill_rate_per_hour");
        assert_eq!(
            fill_rate_name("queue_depth"),
            "queue_depth_fill_rate_per_hour"
        );
    }

    fn member(metric: &str, value: f64, expected: f64, rate: Option<f64>) -> Anomaly {
        let now = ooda_core::clock::from_millis(1_767_571_200_000);
        Anomaly {
            series: SeriesKey::new(metric, Labels::new().with("host", "web-1")),
            time: now,
            value,
            expected,
            score: 3.0,
            severity: Severity::Warning,
            kind: AlertKind::Forecast,
            explanation: String::new(),
            forecast: rate.map(|rate_per_hour| Forecast {
                limit: Some(100.0),
                saturation: Some(Saturation {
                    at: now,
                    earliest: now,
                    latest: now,
                    rate_per_hour,
                }),
                note: String::new(),
            }),
        }
    }

    #[test]
    fn a_forecast_member_brings_its_fill_rate_as_a_growth_signal() {
        let now = ooda_core::clock::from_millis(1_767_571_200_000);
        let alert = Alert {
            id: AlertId::new(),
            fingerprint: "f".into(),
            host: Some("web-1".into()),
            kind: AlertKind::Forecast,
            severity: Severity::Warning,
            state: AlertState::Firing,
            summary: String::new(),
            probable_cause: None,
            members: vec![
                member("memory_used_percent", 91.0, 70.0, Some(2.5)),
                member("filesystem_free_percent", 9.0, 30.0, Some(-1.5)),
                member("cpu_busy_percent", 90.0, 40.0, None),
            ],
            labels: Default::default(),
            opened_at: now,
            updated_at: now,
            enrichment: vec![],
        };
        let mut evidence = crate::evidence::Evidence::default();
        for item in alert_evidence(&alert) {
            evidence.push(item);
        }
        let catalogue = Catalogue::embedded().unwrap();
        let signals = crate::reasoner::builtin::signals(&catalogue, &evidence);
        for expected in [
            "metric.memory_used.high",
            "metric.memory_growth.high",
            "metric.disk_used.high",
            "metric.disk_growth.high",
            "metric.cpu_used.high",
        ] {
            assert!(
                signals.observed.contains_key(expected),
                "{expected} missing from {:?}",
                signals.observed.keys().collect::<Vec<_>>()
            );
        }
        // A fill rate is not a level: it never reads as the level's signal on its own.
        assert!(catalogue
            .metric_signals("memory_fill_rate_per_hour", 2.5, f64::MIN, 0.0)
            .iter()
            .all(|s| *s == "metric.memory_growth.high"));
    }
}
