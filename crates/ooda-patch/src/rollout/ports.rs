//! What a rollout needs from the rest of ooda, as small traits: the gate it submits every step
//! to, the fleet it asks about hosts, and the bus it tells the monitor on. The rollout holds no
//! actuator: [`ActionGate`] is implemented by [`ooda_govern::Gate`] and by test doubles only.

use ooda_core::{ActionRequest, Event, Host, Timestamp};
use ooda_govern::{ApprovalState, Decision, Gate, OutcomeStatus};

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

/// The governance port: every side effect of a rollout goes through here.
pub trait ActionGate: Send + Sync {
    fn submit(&self, request: ActionRequest) -> Decision;
    fn key_progress(&self, key: &str) -> KeyProgress;
    fn approval(&self, id: u64) -> Result<ApprovalProgress, String>;
}

impl ActionGate for Gate {
    fn submit(&self, request: ActionRequest) -> Decision {
        Gate::submit(self, request)
    }

    fn key_progress(&self, key: &str) -> KeyProgress {
        match self.audit().key_state(key) {
            None => KeyProgress::NeverRan,
            Some(ooda_govern::audit::KeyState::Pending { .. }) => KeyProgress::Running,
            Some(ooda_govern::audit::KeyState::Done(status)) => KeyProgress::Done(status),
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

/// A host's health since a point in time: what the health gates look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// New alerts, failing service checks, metrics out of band: empty means healthy.
    pub problems: Vec<String>,
    /// The package manager says the host needs a reboot to finish the patch.
    pub reboot_required: bool,
}

/// What the rollout asks about the fleet. Every error pauses the rollout (fail closed).
pub trait Fleet: Send + Sync {
    /// The host as the inventory knows it; `None` if it has left the inventory.
    fn host(&self, name: &str) -> Result<Option<Host>, String>;
    /// Whether the host's maintenance window is open at `at`.
    fn window_open(&self, host: &Host, at: Timestamp) -> Result<bool, String>;
    fn active_incidents(&self, host: &str) -> Result<u32, String>;
    /// Health gates for `host` over `[since, now]`.
    fn health(&self, host: &str, since: Timestamp, now: Timestamp) -> Result<Health, String>;
}

/// Where rollout events go (the bus).
pub trait EventSink: Send + Sync {
    fn publish(&self, event: Event) -> Result<(), String>;
}

impl EventSink for ooda_bus::MemoryBus {
    fn publish(&self, event: Event) -> Result<(), String> {
        self.publish_now(event).map_err(|e| e.to_string())
    }
}

/// Drops events (CLI commands that only inspect).
#[derive(Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn publish(&self, _: Event) -> Result<(), String> {
        Ok(())
    }
}
