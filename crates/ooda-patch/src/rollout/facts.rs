//! The gate's facts about patching, answered from the same fleet the rollout reads: maintenance
//! windows and open incidents become policy facts (`patch.maintenance-window`,
//! `patch.no-active-incident`), so the gate refuses an out-of-window patch even if a rollout bug
//! asked for one. Preconditions come from the inner facts.

use std::sync::Arc;

use ooda_core::{ActionRequest, Timestamp};
use ooda_govern::{Facts, Precondition};

use super::ports::Fleet;

pub struct FleetFacts {
    pub fleet: Arc<dyn Fleet>,
    pub inner: Arc<dyn Facts>,
}

impl Facts for FleetFacts {
    fn precondition(
        &self,
        precondition: Precondition,
        request: &ActionRequest,
    ) -> Result<bool, String> {
        self.inner.precondition(precondition, request)
    }

    fn maintenance_window_open(&self, host: &str, now: Timestamp) -> Result<bool, String> {
        // Unknown host: no window (fail closed).
        match self.fleet.host(host)? {
            Some(host) => self.fleet.window_open(&host, now),
            None => Ok(false),
        }
    }

    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        self.fleet.active_incidents(host)
    }
}
