//! The Gate: the only path from a decision to an actuator.
//!
//! Order of checks (each refusal is audited and nothing runs): request shape → kill switch →
//! autonomy level (L1/L2 refuse, L3 parks anything not low-risk for approval) → hard catalogue
//! preconditions → policy → (park for approval) → circuit breaker → per-incident
//! budget → idempotency key. Then: change record opened, *intent* record fsynced, actuator called
//! with a token only this module can mint, *outcome* record fsynced, change record updated.
//!
//! Every internal error is a refusal. The gate never retries an action on its own; after a crash
//! [`Gate::reconcile`] asks the actuator what happened to each interrupted intent.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use ooda_core::{
    ActionId, ActionRequest, ChangeDraft, ChangeRecords, ChangeRef, ChangeStatus, Event, EventKind,
    Principal, Severity, SharedClock, Timestamp,
};
use ooda_store::Store;
use serde::Serialize;

use crate::approval::{ApprovalState, Approvals};
use crate::audit::{AuditEntry, AuditLog, KeyState};
use crate::autonomy::{self as levels, Levels};
use crate::breaker::Breakers;
use crate::budget::Budget;
use crate::catalogue::{self, Precondition};
use crate::config::GovernConfig;
use crate::facts::Facts;
use crate::kill_switch::KillSwitch;
use crate::policy::{Autonomy, PolicyDecision, PolicyEngine, PolicyInput, PolicyProblem};
use crate::token::{Actuator, ActuatorStatus, ExecutionToken, OutcomeStatus};

/// Why the gate said no. Nothing ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    /// Malformed request; names the field.
    Invalid {
        field: String,
        reason: String,
    },
    KillSwitch {
        by: String,
        reason: String,
    },
    /// The autonomy level for this action type and server class does not let ooda act.
    Autonomy {
        level: String,
        from: String,
    },
    Precondition {
        precondition: Precondition,
    },
    Policy {
        determining: Vec<String>,
        errors: Vec<String>,
    },
    Breaker {
        reason: String,
    },
    Budget {
        used: u64,
        limit: u64,
    },
    /// The idempotency key already ran (or may have): the gate never runs it again.
    Duplicate {
        key: String,
        state: String,
    },
    /// Approval missing, denied, expired, or already executed.
    Approval {
        approval: u64,
        reason: String,
    },
    ChangeRecord {
        error: String,
    },
    /// Anything else that went wrong inside governance: fail closed.
    Internal {
        error: String,
    },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Invalid { .. } => "invalid",
            Refusal::KillSwitch { .. } => "kill_switch",
            Refusal::Autonomy { .. } => "autonomy",
            Refusal::Precondition { .. } => "precondition",
            Refusal::Policy { .. } => "policy",
            Refusal::Breaker { .. } => "breaker",
            Refusal::Budget { .. } => "budget",
            Refusal::Duplicate { .. } => "duplicate",
            Refusal::Approval { .. } => "approval",
            Refusal::ChangeRecord { .. } => "change_record",
            Refusal::Internal { .. } => "internal",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid { field, reason } => write!(f, "{field}: {reason}"),
            Refusal::KillSwitch { by, reason } => {
                write!(f, "kill switch is on (by {by}: {reason})")
            }
            Refusal::Autonomy { level, from } => write!(
                f,
                "autonomy level {level} ({from}) takes no actions; this is a recommendation"
            ),
            Refusal::Precondition { precondition } => {
                write!(f, "precondition {} does not hold", precondition.as_str())
            }
            Refusal::Policy {
                determining,
                errors,
            } => {
                write!(f, "denied by policy [{}]", determining.join(", "))?;
                if !errors.is_empty() {
                    write!(f, ": {}", errors.join("; "))?;
                }
                Ok(())
            }
            Refusal::Breaker { reason } => write!(f, "circuit breaker: {reason}"),
            Refusal::Budget { used, limit } => write!(
                f,
                "incident budget spent ({used}/{limit} autonomous actions)"
            ),
            Refusal::Duplicate { key, state } => write!(f, "idempotency key {key} already {state}"),
            Refusal::Approval { approval, reason } => write!(f, "approval {approval}: {reason}"),
            Refusal::ChangeRecord { error } => {
                write!(f, "change record could not be opened: {error}")
            }
            Refusal::Internal { error } => write!(f, "internal error (failing closed): {error}"),
        }
    }
}

/// What the gate did with a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Executed {
        action: ActionId,
        autonomy: Autonomy,
        status: OutcomeStatus,
        detail: String,
        change: Option<ChangeRef>,
    },
    Parked {
        action: ActionId,
        approval: u64,
        expires: Timestamp,
    },
    Refused(Refusal),
}

/// Something a human should hear about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// `acted`, `approval_needed`, `escalation`.
    pub kind: &'static str,
    pub action: Option<ActionId>,
    pub host: Option<String>,
    pub message: String,
}

/// The notification port (chat, e-mail, pager). Must not block for long and must not fail the
/// decision: delivery problems are the notifier's to log.
pub trait Notifier: Send + Sync {
    fn notify(&self, notice: &Notice);
}

/// Logs notices; the default until a real channel is wired.
#[derive(Debug, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn notify(&self, notice: &Notice) {
        tracing::warn!(kind = notice.kind, action = ?notice.action, host = ?notice.host, "{}", notice.message);
    }
}

/// Hears every decision the gate returns from [`Gate::submit`] and [`Gate::resume`] (metrics
/// and structured log events live with the caller, not in governance). Must not block.
pub trait DecisionObserver: Send + Sync {
    fn decided(&self, request: &ActionRequest, decision: &Decision);
}

/// What the gate is built from.
pub struct GateParts {
    pub config: GovernConfig,
    pub store: Arc<dyn Store>,
    pub audit: Arc<AuditLog>,
    pub policy: Arc<PolicyEngine>,
    pub actuator: Arc<dyn Actuator>,
    pub facts: Arc<dyn Facts>,
    pub changes: Arc<dyn ChangeRecords>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: SharedClock,
}

/// The one gate. Pillars hold this, never an [`Actuator`].
pub struct Gate {
    store: Arc<dyn Store>,
    audit: Arc<AuditLog>,
    policy: Arc<PolicyEngine>,
    actuator: Arc<dyn Actuator>,
    facts: Arc<dyn Facts>,
    changes: Arc<dyn ChangeRecords>,
    notifier: Arc<dyn Notifier>,
    clock: SharedClock,
    kill_switch: KillSwitch,
    levels: Levels,
    budget: Budget,
    breakers: Breakers,
    approvals: Approvals,
    observer: Option<Arc<dyn DecisionObserver>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

/// The decision plus the inputs it was made from (`ooda policy explain`).
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub decision: PolicyDecision,
    pub holding: Vec<Precondition>,
    pub in_maintenance_window: bool,
    pub active_incidents: u32,
}

impl Gate {
    pub fn new(parts: GateParts) -> Self {
        let GateParts {
            config,
            store,
            audit,
            policy,
            actuator,
            facts,
            changes,
            notifier,
            clock,
        } = parts;
        Self {
            kill_switch: KillSwitch::new(store.clone(), audit.clone(), clock.clone()),
            levels: Levels::new(
                store.clone(),
                audit.clone(),
                clock.clone(),
                config.autonomy.clone(),
            ),
            budget: Budget::new(store.clone(), config.budget.per_incident),
            breakers: Breakers::new(config.breaker.clone()),
            approvals: Approvals::new(
                store.clone(),
                audit.clone(),
                clock.clone(),
                config.approvals.clone(),
            ),
            store,
            audit,
            policy,
            actuator,
            facts,
            changes,
            notifier,
            clock,
            observer: None,
        }
    }

    /// Reports every decision to `observer` (the agent's telemetry).
    pub fn with_observer(mut self, observer: Arc<dyn DecisionObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn observed(&self, request: &ActionRequest, decision: Decision) -> Decision {
        if let Some(observer) = &self.observer {
            observer.decided(request, &decision);
        }
        decision
    }

    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill_switch
    }

    pub fn approvals(&self) -> &Approvals {
        &self.approvals
    }

    /// The autonomy levels this gate enforces (`ooda autonomy show|set`).
    pub fn autonomy(&self) -> &Levels {
        &self.levels
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Whether runbooks should pause before their next step.
    pub fn paused(&self) -> bool {
        self.kill_switch.is_on()
    }

    /// Submits a request. Never panics; every error is a refusal.
    pub fn submit(&self, request: ActionRequest) -> Decision {
        let decision = match self.decide(&request) {
            Ok(decision) => decision,
            Err(refusal) => self.refused(&request, refusal),
        };
        self.observed(&request, decision)
    }

    fn refused(&self, request: &ActionRequest, refusal: Refusal) -> Decision {
        tracing::info!(action = %request.id, kind = %request.kind(), host = %request.host.name, refusal = refusal.code(), "gate refused: {refusal}");
        if let Err(error) = self.audit.append(AuditEntry::Refused {
            action: request.id,
            kind: request.kind(),
            host: request.host.name.clone(),
            refusal: refusal.code().to_owned(),
            detail: refusal.to_string(),
        }) {
            tracing::error!(%error, "refusal could not be audited");
        }
        if let Refusal::Autonomy { level, .. } = &refusal {
            self.notifier.notify(&Notice {
                kind: "recommendation",
                action: Some(request.id),
                host: Some(request.host.name.clone()),
                message: format!(
                    "recommended (not run, autonomy {level}): {} on {} ({}, confidence {:.2})",
                    request.kind(),
                    request.host.name,
                    request.reason,
                    request.confidence
                ),
            });
        }
        if matches!(refusal, Refusal::Budget { .. } | Refusal::Breaker { .. }) {
            self.notifier.notify(&Notice {
                kind: "escalation",
                action: Some(request.id),
                host: Some(request.host.name.clone()),
                message: format!(
                    "{} on {} needs a human: {refusal}",
                    request.kind(),
                    request.host.name
                ),
            });
        }
        Decision::Refused(refusal)
    }

    fn internal(error: impl std::fmt::Display) -> Refusal {
        Refusal::Internal {
            error: error.to_string(),
        }
    }

    fn validate(request: &ActionRequest) -> Result<(), Refusal> {
        let invalid = |field: &str, reason: String| {
            Err(Refusal::Invalid {
                field: field.into(),
                reason,
            })
        };
        if !request.confidence.is_finite() || !(0.0..=1.0).contains(&request.confidence) {
            return invalid(
                "confidence",
                format!("expected a number in [0, 1], found {}", request.confidence),
            );
        }
        if request.host.name.trim().is_empty() {
            return invalid(
                "host.name",
                "expected a host name, found an empty string".into(),
            );
        }
        if request.requested_by.name().trim().is_empty() {
            return invalid("requested_by", "expected a name".into());
        }
        if let Some(key) = &request.idempotency_key {
            if key.is_empty() || key.len() > 200 || key.chars().any(char::is_whitespace) {
                return invalid(
                    "idempotency_key",
                    format!("expected 1-200 characters without spaces, found {key:?}"),
                );
            }
        }
        Ok(())
    }

    fn kill_switch_check(&self) -> Result<(), Refusal> {
        match self.kill_switch.state() {
            Ok(state) if state.on => Err(Refusal::KillSwitch {
                by: state.by,
                reason: state.reason,
            }),
            Ok(_) => Ok(()),
            Err(error) => Err(Refusal::KillSwitch {
                by: "ooda".into(),
                reason: format!("switch unreadable, treated as on: {error}"),
            }),
        }
    }

    fn policy_input(&self, request: &ActionRequest) -> Result<PolicyInput, Refusal> {
        let spec = catalogue::spec(request.kind());
        let mut holding = BTreeSet::new();
        for precondition in spec.preconditions {
            let holds = self
                .facts
                .precondition(*precondition, request)
                .map_err(|e| Self::internal(format!("checking {}: {e}", precondition.as_str())))?;
            if holds {
                holding.insert(*precondition);
            } else if matches!(
                precondition,
                Precondition::PathAllowlisted | Precondition::TemplateApproved
            ) {
                // These are not policy matters: without them the action is not in the catalogue.
                return Err(Refusal::Precondition {
                    precondition: *precondition,
                });
            }
        }
        let now = self.clock.now();
        Ok(PolicyInput {
            principal: request.requested_by.clone(),
            kind: request.kind(),
            host: request.host.clone(),
            confidence: request.confidence,
            has_incident: request.incident.is_some(),
            in_maintenance_window: self
                .facts
                .maintenance_window_open(&request.host.name, now)
                .map_err(Self::internal)?,
            active_incidents: self
                .facts
                .active_incidents(&request.host.name)
                .map_err(Self::internal)?,
            reverting: request.revert,
            holding,
            now,
        })
    }

    /// The policy decision for `request` without acting on it (`ooda policy explain`).
    pub fn explain(&self, request: &ActionRequest) -> Result<Explanation, Refusal> {
        Self::validate(request)?;
        let input = self.policy_input(request)?;
        Ok(Explanation {
            decision: self.policy.evaluate(&input),
            holding: input.holding.iter().copied().collect(),
            in_maintenance_window: input.in_maintenance_window,
            active_incidents: input.active_incidents,
        })
    }

    fn decide(&self, request: &ActionRequest) -> Result<Decision, Refusal> {
        Self::validate(request)?;
        self.kill_switch_check()?;
        // Before budget and breaker, so a retried key spends nothing.
        self.duplicate_check(request)?;
        // The level comes before policy: at L1/L2 nothing is even evaluated, at L3 anything not
        // low-risk waits for a human whatever policy would have said.
        let level = self.autonomy_check(request)?;
        if levels::verdict(level.level, request.kind()) == levels::Verdict::NeedsApproval {
            return self.park(request, vec![format!("autonomy.{}", level.level.code())]);
        }
        let input = self.policy_input(request)?;
        let decision = self.policy.evaluate(&input);
        match decision.autonomy {
            Autonomy::Deny => Err(Refusal::Policy {
                determining: decision.determining_ids(),
                errors: decision.errors,
            }),
            Autonomy::NeedsApproval => self.park(request, decision.determining_ids()),
            Autonomy::Alone | Autonomy::Notify => {
                let now_ms = self.clock.now_ms();
                self.breakers
                    .check(request.kind(), now_ms)
                    .map_err(|open| Refusal::Breaker {
                        reason: open.reason,
                    })?;
                let outcome = self.autonomous(request, decision.autonomy, &decision);
                if outcome.is_err() {
                    // Refused after the breaker let it through: nothing ran, so give the check back.
                    self.breakers.release(request.kind());
                }
                outcome
            }
        }
    }

    /// The level for this request; refuses at L1/L2 (fails closed: unreadable settings are L1).
    fn autonomy_check(&self, request: &ActionRequest) -> Result<levels::Resolved, Refusal> {
        let resolved = self
            .levels
            .level(request.kind(), request.host.class.as_str());
        if levels::verdict(resolved.level, request.kind()) == levels::Verdict::Refuse {
            return Err(Refusal::Autonomy {
                level: resolved.level.to_string(),
                from: resolved.from,
            });
        }
        Ok(resolved)
    }

    fn park(&self, request: &ActionRequest, determining: Vec<String>) -> Result<Decision, Refusal> {
        let approval = self
            .approvals
            .park(request, determining)
            .map_err(Self::internal)?;
        self.notifier.notify(&Notice {
            kind: "approval_needed",
            action: Some(request.id),
            host: Some(request.host.name.clone()),
            message: format!(
                "approval {} needed: {} on {} ({}); `ooda approvals approve {}`",
                approval.id,
                request.kind(),
                request.host.name,
                request.reason,
                approval.id
            ),
        });
        Ok(Decision::Parked {
            action: request.id,
            approval: approval.id,
            expires: approval.expires,
        })
    }

    fn autonomous(
        &self,
        request: &ActionRequest,
        autonomy: Autonomy,
        decision: &PolicyDecision,
    ) -> Result<Decision, Refusal> {
        if let Some(incident) = request.incident {
            if self
                .budget
                .take(incident)
                .map_err(Self::internal)?
                .is_none()
            {
                return Err(Refusal::Budget {
                    used: self.budget.used(incident).unwrap_or(self.budget.limit()),
                    limit: self.budget.limit(),
                });
            }
        }
        let decision = self.execute(request, autonomy, decision.determining_ids(), None)?;
        if autonomy == Autonomy::Notify {
            if let Decision::Executed { status, detail, .. } = &decision {
                self.notifier.notify(&Notice {
                    kind: "acted",
                    action: Some(request.id),
                    host: Some(request.host.name.clone()),
                    message: format!(
                        "ooda ran {} on {} ({}): {} {detail}",
                        request.kind(),
                        request.host.name,
                        request.reason,
                        status.as_str()
                    ),
                });
            }
        }
        Ok(decision)
    }

    fn duplicate_check(&self, request: &ActionRequest) -> Result<(), Refusal> {
        let key = request.effective_idempotency_key();
        match self.audit.key_state(&key) {
            Some(state) if !matches!(state, KeyState::Done(OutcomeStatus::NotRun)) => {
                Err(Refusal::Duplicate {
                    key,
                    state: describe(&state),
                })
            }
            _ => Ok(()),
        }
    }

    /// Change record, intent, actuator, outcome. Shared by autonomous and approved actions.
    fn execute(
        &self,
        request: &ActionRequest,
        autonomy: Autonomy,
        policies: Vec<String>,
        approval: Option<u64>,
    ) -> Result<Decision, Refusal> {
        self.duplicate_check(request)?;
        let key = request.effective_idempotency_key();
        let spec = catalogue::spec(request.kind());
        let change = self
            .changes
            .open(&ChangeDraft {
                action: request.id,
                summary: format!("ooda: {} on {}", request.kind(), request.host.name),
                description: request.reason.clone(),
                host: request.host.name.clone(),
                risk: spec.risk,
                fields: Default::default(),
            })
            .map_err(|e| Refusal::ChangeRecord {
                error: e.to_string(),
            })?;
        let autonomy_label = if approval.is_some() {
            "approved"
        } else {
            autonomy.as_str()
        };
        let written = self
            .audit
            .append_intent(AuditEntry::Intent {
                action: request.id,
                key: key.clone(),
                request: Box::new(request.clone()),
                autonomy: autonomy_label.to_owned(),
                policies,
                approval,
                change: Some(change.clone()),
            })
            .map_err(Self::internal)?;
        if written.is_none() {
            let state = self
                .audit
                .key_state(&key)
                .map(|s| describe(&s))
                .unwrap_or_default();
            let _ = self.changes.update(
                &change,
                ChangeStatus::Failed,
                "not run: duplicate idempotency key",
            );
            return Err(Refusal::Duplicate { key, state });
        }
        // The intent is on disk: from here on, whatever happens is reconciled, never repeated.
        let token = ExecutionToken::mint(request.clone(), key.clone());
        let (status, detail) = match self.actuator.execute(token) {
            Ok(detail) => (OutcomeStatus::Succeeded, detail),
            Err(error) => (OutcomeStatus::Failed, error.0),
        };
        self.breakers.record(
            request.kind(),
            self.clock.now_ms(),
            status == OutcomeStatus::Succeeded,
        );
        let outcome = self.audit.append(AuditEntry::Outcome {
            action: request.id,
            key,
            status,
            detail: detail.clone(),
            reconciled: false,
        });
        if let Err(error) = outcome {
            // The action ran but its outcome is not on disk: start-up reconciliation will ask the
            // actuator. Report what happened rather than pretending it did not run.
            tracing::error!(%error, action = %request.id, "outcome record could not be written");
        }
        let change_status = if status == OutcomeStatus::Succeeded {
            ChangeStatus::Succeeded
        } else {
            ChangeStatus::Failed
        };
        if let Err(error) = self.changes.update(&change, change_status, &detail) {
            tracing::warn!(%error, change = %change.number, "change record not updated");
        }
        Ok(Decision::Executed {
            action: request.id,
            autonomy,
            status,
            detail,
            change: Some(change),
        })
    }

    /// Runs an approved action (the agent calls this once [`Approvals`] says approved). Re-checks
    /// the kill switch and policy (the world may have changed while it waited); does not count
    /// against the autonomous budget or breaker; runs at most once across processes.
    pub fn resume(&self, approval_id: u64) -> Decision {
        let approval = match self.approvals.current_state(approval_id) {
            Ok((approval, state)) => {
                if !matches!(state, ApprovalState::Approved { .. }) {
                    let refusal = Refusal::Approval {
                        approval: approval_id,
                        reason: format!("not approved ({state:?})"),
                    };
                    let decision = self.refused(&approval.request, refusal);
                    return self.observed(&approval.request, decision);
                }
                approval
            }
            Err(error) => {
                return Decision::Refused(Refusal::Approval {
                    approval: approval_id,
                    reason: error.to_string(),
                });
            }
        };
        let request = approval.request.clone();
        let result = (|| {
            Self::validate(&request)?;
            self.kill_switch_check()?;
            // A level lowered to L1/L2 while the approval waited means "stop acting".
            self.autonomy_check(&request)?;
            let input = self.policy_input(&request)?;
            let decision = self.policy.evaluate(&input);
            if decision.autonomy == Autonomy::Deny {
                return Err(Refusal::Policy {
                    determining: decision.determining_ids(),
                    errors: decision.errors,
                });
            }
            if !self
                .approvals
                .claim_execution(approval_id)
                .map_err(Self::internal)?
            {
                return Err(Refusal::Approval {
                    approval: approval_id,
                    reason: "already executed".into(),
                });
            }
            self.execute(
                &request,
                decision.autonomy,
                decision.determining_ids(),
                Some(approval_id),
            )
        })();
        let decision = match result {
            Ok(decision) => decision,
            Err(refusal) => self.refused(&request, refusal),
        };
        self.observed(&request, decision)
    }

    /// Periodic housekeeping for the agent loop: escalates expired approvals and runs approved
    /// ones. Returns what it did.
    pub fn tick(&self) -> Vec<Decision> {
        match self.approvals.sweep_expired() {
            Ok(expired) => {
                for approval in expired {
                    self.notifier.notify(&Notice {
                        kind: "escalation",
                        action: Some(approval.request.id),
                        host: Some(approval.request.host.name.clone()),
                        message: format!(
                            "approval {} for {} on {} timed out undecided",
                            approval.id,
                            approval.request.kind(),
                            approval.request.host.name
                        ),
                    });
                }
            }
            Err(error) => tracing::error!(%error, "approval sweep failed"),
        }
        let mut done = Vec::new();
        match self.approvals.list() {
            Ok(all) => {
                for (approval, state) in all {
                    if matches!(state, ApprovalState::Approved { .. })
                        && !self.approvals.executed(approval.id).unwrap_or(true)
                    {
                        done.push(self.resume(approval.id));
                    }
                }
            }
            Err(error) => tracing::error!(%error, "approvals unreadable"),
        }
        done
    }

    /// Start-up crash recovery: for every intent without an outcome, asks the actuator what
    /// happened to its idempotency key and records it. Never re-runs anything. Unknown outcomes
    /// are escalated. Returns `(action, status)` for each reconciled intent.
    pub fn reconcile(&self) -> Vec<(ActionId, OutcomeStatus)> {
        let mut reconciled = Vec::new();
        for (key, action, request) in self.audit.pending_intents() {
            let (status, detail) = match self.actuator.status(&key) {
                ActuatorStatus::Done {
                    succeeded: true,
                    detail,
                } => (OutcomeStatus::Succeeded, detail),
                ActuatorStatus::Done {
                    succeeded: false,
                    detail,
                } => (OutcomeStatus::Failed, detail),
                ActuatorStatus::NotRun => (
                    OutcomeStatus::NotRun,
                    "the actuator never started it".to_owned(),
                ),
                ActuatorStatus::Unknown => (
                    OutcomeStatus::Unknown,
                    "the actuator cannot tell whether it ran".to_owned(),
                ),
            };
            if let Err(error) = self.audit.append(AuditEntry::Outcome {
                action,
                key: key.clone(),
                status,
                detail: detail.clone(),
                reconciled: true,
            }) {
                tracing::error!(%error, %action, "reconciled outcome could not be written");
                continue;
            }
            if status == OutcomeStatus::Unknown {
                self.notifier.notify(&Notice {
                    kind: "escalation",
                    action: Some(action),
                    host: Some(request.host.name.clone()),
                    message: format!("{} on {} was interrupted by a crash and its outcome is unknown: check by hand", request.kind(), request.host.name),
                });
            }
            reconciled.push((action, status));
        }
        reconciled
    }

    /// Reloads policies from `dir`. On failure the loaded set stays, the rejection is audited and
    /// a self-alert is stored (never fail open).
    pub fn reload_policies(
        &self,
        dir: &Path,
    ) -> Result<crate::policy::LoadSummary, Vec<PolicyProblem>> {
        match self.policy.reload_dir(dir) {
            Ok(summary) => {
                let _ = self.audit.append(AuditEntry::PolicyLoaded {
                    digest: summary.digest.clone(),
                    policies: summary.policies,
                });
                Ok(summary)
            }
            Err(problems) => {
                let message = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let _ = self.audit.append(AuditEntry::PolicyRejected {
                    error: message.clone(),
                });
                let alert = Event::new(
                    self.clock.now(),
                    "govern",
                    EventKind::SelfAlert {
                        component: "policy".into(),
                        severity: Severity::Critical,
                        message: format!(
                            "invalid policy set not loaded, last good set stays: {message}"
                        ),
                    },
                );
                if let Err(error) = self.store.append_event(&alert) {
                    tracing::error!(%error, "self-alert could not be stored");
                }
                tracing::error!(%message, "invalid policy set rejected; keeping the last good one");
                Err(problems)
            }
        }
    }
}

fn describe(state: &KeyState) -> String {
    match state {
        KeyState::Pending { .. } => {
            "has an intent without outcome (running, or awaiting reconciliation)".into()
        }
        KeyState::Done(status) => format!("ran: {}", status.as_str()),
    }
}

/// The principal a human acting from the CLI is known as.
pub fn human(name: &str) -> Principal {
    Principal::Human(name.to_owned())
}

#[cfg(test)]
mod tests;
