//! The execution token: the only way an action reaches an actuator.
//!
//! [`Actuator::execute`] takes an [`ExecutionToken`] by value, and the token has private fields
//! and no public constructor, so code outside this crate cannot call an actuator: it must go
//! through the [`Gate`](crate::Gate), which mints one only after every check has passed and the
//! intent record is on disk.
//!
//! ```compile_fail
//! // A pillar that holds an actuator still cannot forge a token.
//! use ooda_govern::ExecutionToken;
//! let token = ExecutionToken { request: todo!(), idempotency_key: String::new(), _sealed: () };
//! ```
//!
//! ```compile_fail
//! // Nor can it copy one it has seen.
//! fn reuse(token: &ooda_govern::ExecutionToken) -> ooda_govern::ExecutionToken { token.clone() }
//! ```
//!
//! ```compile_fail
//! // Nor build one through a constructor: minting is crate-private.
//! let token = ooda_govern::ExecutionToken::mint(todo!(), String::new());
//! ```

use ooda_core::ActionRequest;
use serde::{Deserialize, Serialize};

/// Permission to run exactly one action once. Minted by the gate, consumed by the actuator.
#[derive(Debug)]
pub struct ExecutionToken {
    request: ActionRequest,
    idempotency_key: String,
    _sealed: (),
}

impl ExecutionToken {
    pub(crate) fn mint(request: ActionRequest, idempotency_key: String) -> Self {
        Self {
            request,
            idempotency_key,
            _sealed: (),
        }
    }

    /// The action to run: the actuator reads it from the token, so it cannot run anything the
    /// gate did not authorise.
    pub fn request(&self) -> &ActionRequest {
        &self.request
    }

    /// The key the actuator must deduplicate on and report in [`Actuator::status`].
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Succeeded,
    Failed,
    /// Reconciled after a crash: the actuator never started it.
    NotRun,
    /// Reconciled after a crash: nobody can tell whether it ran. Escalated to a human.
    Unknown,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Succeeded => "succeeded",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::NotRun => "not_run",
            OutcomeStatus::Unknown => "unknown",
        }
    }
}

/// What an actuator knows about an idempotency key (asked during crash reconciliation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActuatorStatus {
    /// It ran and ended like this.
    Done { succeeded: bool, detail: String },
    /// It never started.
    NotRun,
    /// The actuator cannot tell (no record kept, remote system unreachable …).
    Unknown,
}

/// Why an actuator call failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ActuatorError(pub String);

/// Something that changes the world: local commands, ansible, AWX, notifications.
///
/// Implementations must be idempotent on [`ExecutionToken::idempotency_key`]: executing a key
/// that already ran returns its recorded result without running again.
pub trait Actuator: Send + Sync {
    /// Runs the action the token carries. `Ok` carries a human-readable detail.
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError>;

    /// What happened to `idempotency_key`. Read-only; needs no token.
    fn status(&self, idempotency_key: &str) -> ActuatorStatus;
}
