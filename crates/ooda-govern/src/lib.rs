//! Governance: the one gate between ooda's decisions and the world.
//!
//! Pillars hold a [`Gate`], never an actuator. The gate checks, in order: kill switch, autonomy
//! level, catalogue preconditions, policy, circuit breaker, approval, budget; then it writes an fsynced *intent*
//! record to the hash-chained audit log, calls the actuator with an [`ExecutionToken`] only it can
//! mint, and writes the *outcome*. Any internal error refuses the action: this crate must never
//! fail open.

pub mod api;
pub mod approval;
pub mod audit;
pub mod autonomy;
pub mod breaker;
pub mod budget;
pub mod catalogue;
pub mod change;
pub mod config;
pub mod facts;
pub mod gate;
pub mod home;
pub mod kill_switch;
pub mod policy;
pub mod port;
pub mod token;

pub use approval::{Approval, ApprovalState, Approvals, Vote};
pub use audit::{AuditEntry, AuditLog, AuditRecord, VerifyFailure, VerifyReport};
pub use breaker::Breakers;
pub use budget::Budget;
pub use catalogue::{ActionSpec, Precondition};
pub use change::EmbeddedChangeRecords;
pub use config::GovernConfig;
pub use facts::{Facts, StaticFacts};
pub use gate::{
    Decision, DecisionObserver, Gate, GateParts, LogNotifier, Notice, Notifier, Refusal,
};
pub use home::Home;
pub use kill_switch::{KillSwitch, KillSwitchState};
pub use policy::{Autonomy, PolicyDecision, PolicyEngine, PolicyInput};
pub use port::{ActionGate, ApprovalProgress, KeyProgress};
pub use token::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken, OutcomeStatus};

/// Everything that can go wrong inside governance. The gate turns any of these into a refusal.
#[derive(Debug, thiserror::Error)]
pub enum GovernError {
    #[error("store: {0}")]
    Store(#[from] ooda_store::StoreError),
    #[error("audit log {path}: {source}")]
    AuditIo {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log {path}: record {seq}: {reason}")]
    AuditCorrupt {
        path: String,
        seq: u64,
        reason: String,
    },
    #[error("audit signing key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("policy: {0}")]
    Policy(String),
    #[error("approval {id}: {reason}")]
    Approval { id: u64, reason: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("facts: {0}")]
    Facts(String),
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

pub type Result<T, E = GovernError> = std::result::Result<T, E>;
