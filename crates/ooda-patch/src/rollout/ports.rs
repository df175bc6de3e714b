//! What a rollout needs from the rest of ooda, as small traits: the gate it submits every step
//! to (governance's one port, [`ActionGate`], shared with incident response), the fleet it asks
//! about hosts, and the bus it tells the monitor on. The rollout holds no actuator.

use ooda_core::{Event, Host, Timestamp};

pub use ooda_govern::port::{ActionGate, ApprovalProgress, KeyProgress};

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
