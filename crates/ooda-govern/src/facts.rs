//! The facts the gate needs about the world before it decides: preconditions, maintenance
//! windows, active incidents. A port: the agent wires probes and the CMDB; tests and `ooda policy
//! explain` use [`StaticFacts`].
//!
//! An error here refuses the action (fail closed); it never counts as "fact holds".

use std::collections::BTreeSet;

use ooda_core::{ActionRequest, Timestamp};

use crate::catalogue::Precondition;

/// Read-only questions about the world.
pub trait Facts: Send + Sync {
    /// Whether `precondition` holds for `request` right now.
    fn precondition(
        &self,
        precondition: Precondition,
        request: &ActionRequest,
    ) -> Result<bool, String>;
    /// Whether `host`'s maintenance window is open at `now`.
    fn maintenance_window_open(&self, host: &str, now: Timestamp) -> Result<bool, String>;
    /// How many incidents are open on `host`.
    fn active_incidents(&self, host: &str) -> Result<u32, String>;
}

/// Fixed answers: tests, the lab, `ooda policy explain`.
#[derive(Debug, Clone, Default)]
pub struct StaticFacts {
    pub holding: BTreeSet<Precondition>,
    pub window_open: bool,
    pub active_incidents: u32,
}

impl StaticFacts {
    /// Every precondition holds, the window is open, no incident: only policy decides.
    pub fn all_clear() -> Self {
        Self {
            holding: [
                Precondition::ReplicationHealthy,
                Precondition::PathAllowlisted,
                Precondition::TemplateApproved,
                Precondition::PreviousReleaseAvailable,
                Precondition::HostDrained,
            ]
            .into_iter()
            .collect(),
            window_open: true,
            active_incidents: 0,
        }
    }
}

impl Facts for StaticFacts {
    fn precondition(&self, precondition: Precondition, _: &ActionRequest) -> Result<bool, String> {
        Ok(self.holding.contains(&precondition))
    }
    fn maintenance_window_open(&self, _: &str, _: Timestamp) -> Result<bool, String> {
        Ok(self.window_open)
    }
    fn active_incidents(&self, _: &str) -> Result<u32, String> {
        Ok(self.active_incidents)
    }
}
