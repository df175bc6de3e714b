//! The kill switch: one flag in the store that every ooda process on the data directory reads
//! before every decision, so `ooda kill-switch on` stops autonomous action everywhere at once.
//!
//! It must fail closed: if the flag cannot be read, the switch counts as on.

use std::sync::Arc;

use ooda_core::{SharedClock, Timestamp};
use ooda_store::Store;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditLog};
use crate::{GovernError, Result};

/// The store key of the switch.
pub const KEY: &str = "govern/kill_switch";

/// The switch as stored (and as the API and CLI report it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchState {
    pub on: bool,
    pub by: String,
    pub reason: String,
    pub since: Option<Timestamp>,
}

impl KillSwitchState {
    fn off() -> Self {
        Self {
            on: false,
            by: String::new(),
            reason: String::new(),
            since: None,
        }
    }
}

/// Reads and flips the switch. The HTTP API wraps [`KillSwitch::set`] and [`KillSwitch::state`].
#[derive(Clone)]
pub struct KillSwitch {
    store: Arc<dyn Store>,
    audit: Arc<AuditLog>,
    clock: SharedClock,
}

impl std::fmt::Debug for KillSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KillSwitch").finish_non_exhaustive()
    }
}

impl KillSwitch {
    pub fn new(store: Arc<dyn Store>, audit: Arc<AuditLog>, clock: SharedClock) -> Self {
        Self {
            store,
            audit,
            clock,
        }
    }

    /// The stored state. Read from the store on every call (no cache), so a flip by another
    /// process is seen by the very next decision.
    pub fn state(&self) -> Result<KillSwitchState> {
        match self.store.kv_get(KEY)? {
            None => Ok(KillSwitchState::off()),
            Some(text) => serde_json::from_str(&text).map_err(|e| GovernError::Invalid {
                field: KEY.into(),
                reason: format!("stored kill switch does not decode: {e}"),
            }),
        }
    }

    /// Whether autonomous action is stopped. Any error reading the switch counts as on.
    pub fn is_on(&self) -> bool {
        match self.state() {
            Ok(state) => state.on,
            Err(error) => {
                tracing::error!(%error, "kill switch unreadable; treating it as on");
                true
            }
        }
    }

    /// Flips the switch and audits who did it and why. The audit record is written first: a
    /// flip that cannot be audited does not happen.
    pub fn set(&self, on: bool, by: &str, reason: &str) -> Result<KillSwitchState> {
        if by.trim().is_empty() {
            return Err(GovernError::Invalid {
                field: "by".into(),
                reason: "expected the name of who flips the switch".into(),
            });
        }
        self.audit.append(AuditEntry::KillSwitch {
            on,
            by: by.to_owned(),
            reason: reason.to_owned(),
        })?;
        let state = KillSwitchState {
            on,
            by: by.to_owned(),
            reason: reason.to_owned(),
            since: Some(self.clock.now()),
        };
        self.store.kv_put(KEY, &serde_json::to_string(&state)?)?;
        tracing::warn!(on, by, reason, "kill switch flipped");
        Ok(state)
    }
}
