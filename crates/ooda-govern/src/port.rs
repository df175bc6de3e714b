//! The one port every pillar acts through: incident response's runbook engine and patch
//! rollouts hold an `Arc<dyn ActionGate>`, never an actuator. [`Gate`] implements it; tests may
//! use doubles. The answers are the Gate's own ([`Decision`]); each pillar reduces them to what
//! it decides on.

use ooda_core::ActionRequest;

use crate::{ApprovalState, Decision, Gate, OutcomeStatus};

/// What the audit log says about an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProgress {
    /// No intent was ever written: nothing ran.
    NeverRan,
    /// An intent without an outcome: running, or interrupted and not reconciled.
    Running,
    Done(OutcomeStatus),
}

/// Where a parked action's approval stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalProgress {
    Pending,
    Approved,
    /// Denied or expired: it will never run.
    Closed(String),
}

/// The governance port: every side effect of a pillar goes through here.
pub trait ActionGate: Send + Sync {
    fn submit(&self, request: ActionRequest) -> Decision;
    /// Runs a parked request once its approval is granted.
    fn resume(&self, approval: u64) -> Decision;
    /// The kill switch: no new step starts while it is on.
    fn paused(&self) -> bool;
    /// Whether the action with this idempotency key never ran, is in flight, or finished.
    fn key_progress(&self, key: &str) -> KeyProgress;
    fn approval(&self, id: u64) -> Result<ApprovalProgress, String>;
}

impl ActionGate for Gate {
    fn submit(&self, request: ActionRequest) -> Decision {
        Gate::submit(self, request)
    }

    fn resume(&self, approval: u64) -> Decision {
        Gate::resume(self, approval)
    }

    fn paused(&self) -> bool {
        Gate::paused(self)
    }

    fn key_progress(&self, key: &str) -> KeyProgress {
        match self.audit().key_state(key) {
            None => KeyProgress::NeverRan,
            Some(crate::audit::KeyState::Pending { .. }) => KeyProgress::Running,
            Some(crate::audit::KeyState::Done(status)) => KeyProgress::Done(status),
        }
    }

    fn approval(&self, id: u64) -> Result<ApprovalProgress, String> {
        let (_, state) = self
            .approvals()
            .current_state(id)
            .map_err(|e| e.to_string())?;
        Ok(match state {
            ApprovalState::Pending { .. } => ApprovalProgress::Pending,
            ApprovalState::Approved { .. } => ApprovalProgress::Approved,
            ApprovalState::Denied { by } => ApprovalProgress::Closed(format!("denied by {by}")),
            ApprovalState::Expired => ApprovalProgress::Closed("expired".into()),
        })
    }
}
