//! Actions: the closed set of things ooda may do to the world, the request a pillar hands to the
//! gate, and the change-record port every autonomous action opens or updates.
//!
//! Nothing here executes anything. Pillars build an [`ActionRequest`]; only the gate (in
//! `ooda-govern`) can turn one into a call on an actuator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Host, IncidentId};

/// Identifies one requested action, from request through approval, intent and outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(pub Uuid);

impl ActionId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// A deterministic id (lab, tests, replay).
    pub fn from_u128(value: u128) -> Self {
        Self(Uuid::from_u128(value))
    }
}

impl Default for ActionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for ActionId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|e| format!("expected a UUID, found {s:?}: {e}"))
    }
}

/// Who asks: one of ooda's agents (a pillar) or a named human.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "lowercase")]
pub enum Principal {
    Agent(String),
    Human(String),
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::Agent(name) | Principal::Human(name) => name,
        }
    }

    pub fn is_human(&self) -> bool {
        matches!(self, Principal::Human(_))
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Agent(name) => write!(f, "agent:{name}"),
            Principal::Human(name) => write!(f, "human:{name}"),
        }
    }
}

/// The closed action catalogue, with each action's parameters. Adding an action means adding a
/// variant here and its entry in the governance catalogue; an LLM or runbook can only choose one
/// of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    RestartService {
        service: String,
    },
    KillProcess {
        process: String,
    },
    /// Cap a process's CPU to `cpu_percent` of one core (cgroup CPU quota, renice where there is
    /// no cgroup control); `cpu_percent = 0` lifts an earlier cap. Reversible, so it can run
    /// alone where a kill needs a human.
    ThrottleProcess {
        process: String,
        cpu_percent: u32,
    },
    /// Remove files under a path; the path must be on the configured allowlist.
    CleanPath {
        path: String,
    },
    RotateLogs {
        service: String,
    },
    Scale {
        service: String,
        replicas: u32,
    },
    FailoverDatabase {
        cluster: String,
    },
    RollbackDeploy {
        service: String,
        to_version: String,
    },
    ApplyPatch {
        package: String,
        version: String,
    },
    Reboot {},
    /// Run an ansible playbook or AWX job template that is on the approved list.
    RunTemplate {
        template: String,
    },
    Notify {
        channel: String,
        message: String,
    },
    OpenChangeRecord {
        summary: String,
    },
}

/// The discriminant of [`Action`]: what policy, budgets and breakers are keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    RestartService,
    KillProcess,
    ThrottleProcess,
    CleanPath,
    RotateLogs,
    Scale,
    FailoverDatabase,
    RollbackDeploy,
    ApplyPatch,
    Reboot,
    RunTemplate,
    Notify,
    OpenChangeRecord,
}

impl ActionKind {
    pub const ALL: [ActionKind; 13] = [
        ActionKind::RestartService,
        ActionKind::KillProcess,
        ActionKind::ThrottleProcess,
        ActionKind::CleanPath,
        ActionKind::RotateLogs,
        ActionKind::Scale,
        ActionKind::FailoverDatabase,
        ActionKind::RollbackDeploy,
        ActionKind::ApplyPatch,
        ActionKind::Reboot,
        ActionKind::RunTemplate,
        ActionKind::Notify,
        ActionKind::OpenChangeRecord,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::RestartService => "restart_service",
            ActionKind::KillProcess => "kill_process",
            ActionKind::ThrottleProcess => "throttle_process",
            ActionKind::CleanPath => "clean_path",
            ActionKind::RotateLogs => "rotate_logs",
            ActionKind::Scale => "scale",
            ActionKind::FailoverDatabase => "failover_database",
            ActionKind::RollbackDeploy => "rollback_deploy",
            ActionKind::ApplyPatch => "apply_patch",
            ActionKind::Reboot => "reboot",
            ActionKind::RunTemplate => "run_template",
            ActionKind::Notify => "notify",
            ActionKind::OpenChangeRecord => "open_change_record",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ActionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("expected one of {}, found {s:?}", known.join(", "))
            })
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::RestartService { .. } => ActionKind::RestartService,
            Action::KillProcess { .. } => ActionKind::KillProcess,
            Action::ThrottleProcess { .. } => ActionKind::ThrottleProcess,
            Action::CleanPath { .. } => ActionKind::CleanPath,
            Action::RotateLogs { .. } => ActionKind::RotateLogs,
            Action::Scale { .. } => ActionKind::Scale,
            Action::FailoverDatabase { .. } => ActionKind::FailoverDatabase,
            Action::RollbackDeploy { .. } => ActionKind::RollbackDeploy,
            Action::ApplyPatch { .. } => ActionKind::ApplyPatch,
            Action::Reboot {} => ActionKind::Reboot,
            Action::RunTemplate { .. } => ActionKind::RunTemplate,
            Action::Notify { .. } => ActionKind::Notify,
            Action::OpenChangeRecord { .. } => ActionKind::OpenChangeRecord,
        }
    }
}

/// How bad it is if the action goes wrong. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskClass {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::Low => "low",
            RiskClass::Medium => "medium",
            RiskClass::High => "high",
            RiskClass::Critical => "critical",
        }
    }
}

/// What a pillar asks the gate to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub id: ActionId,
    pub action: Action,
    /// The host acted on, with the attributes policy matches on.
    pub host: Host,
    pub incident: Option<IncidentId>,
    /// The requester's confidence that this action fixes the problem, in `[0, 1]`.
    pub confidence: f64,
    pub requested_by: Principal,
    /// Why: shown to approvers and written to the audit log and the change record.
    pub reason: String,
    /// The caller's idempotency key. Retrying a request with the same key never runs the action
    /// twice; when absent the gate derives one from the action id.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// This request undoes an earlier change (a patch rolled back to the previous version).
    /// Policy can tell a revert from the change itself: a rollback must be able to run while
    /// the incident the change caused is still open.
    #[serde(default)]
    pub revert: bool,
}

impl ActionRequest {
    pub fn kind(&self) -> ActionKind {
        self.action.kind()
    }

    /// The key actuators deduplicate on.
    pub fn effective_idempotency_key(&self) -> String {
        self.idempotency_key
            .clone()
            .unwrap_or_else(|| format!("action-{}", self.id))
    }
}

/// A change record as ooda asks for it to be opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeDraft {
    pub action: ActionId,
    pub summary: String,
    pub description: String,
    pub host: String,
    pub risk: RiskClass,
    /// Extra fields an adapter may map (assignment group, project …).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// Where a change record lives in its system: `CHG0030001`, `OPS-24`, `local-7` …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRef {
    /// The adapter that holds it (`embedded`, `servicenow`, `jira`).
    pub system: String,
    /// The system's stable id (ServiceNow `sys_id`, Jira issue id).
    pub id: String,
    /// The human-facing number or key.
    pub number: String,
}

/// The state an action reached, as a change record should show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Implementing,
    Succeeded,
    Failed,
    Unknown,
}

/// Why a change-record system refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("change-record system unreachable: {0}")]
    Unreachable(String),
    #[error("change-record system answered {status}: {body}")]
    Rejected { status: u16, body: String },
    #[error("change-record system sent an unexpected answer: {0}")]
    Malformed(String),
}

/// The change-record port: the embedded store by default, ServiceNow or Jira adapters in
/// `ooda-connect`. Synchronous like the store port; async callers use `spawn_blocking`.
///
/// It lives here rather than in `ooda-govern` so the HTTP adapters depend only on the
/// vocabulary, not on the gate's policy engine and store.
pub trait ChangeRecords: Send + Sync {
    /// Opens a change record for an action about to run.
    fn open(&self, draft: &ChangeDraft) -> Result<ChangeRef, ChangeError>;
    /// Adds a note and moves the record to `status`.
    fn update(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), ChangeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_kinds_round_trip_by_name() {
        for kind in ActionKind::ALL {
            assert_eq!(kind.as_str().parse::<ActionKind>(), Ok(kind));
        }
        let err = "format_disk".parse::<ActionKind>().unwrap_err();
        assert!(err.contains("restart_service"), "{err}");
    }

    #[test]
    fn actions_are_tagged_and_closed() {
        let action = Action::RestartService {
            service: "nginx".into(),
        };
        let json = serde_json::to_string(&action).unwrap();
        assert_eq!(json, r#"{"type":"restart_service","service":"nginx"}"#);
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        assert!(serde_json::from_str::<Action>(r#"{"type":"rm_rf"}"#).is_err());
        assert!(
            serde_json::from_str::<Action>(r#"{"type":"reboot","force":true}"#).is_err(),
            "unknown fields are refused"
        );
    }
}
