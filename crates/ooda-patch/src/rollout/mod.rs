//! Patch rollouts: a persisted, resumable state machine that carries a plan out safely.
//!
//! Staging wave → validation period (48 h by default) with health gates → production hosts one
//! at a time (or a batch), each only inside its maintenance window and never while it has an
//! open incident → per-host validation → next host. A failed validation rolls that host back,
//! halts the rollout and escalates.
//!
//! Every step is written to the store, with its idempotency key, *before* it is submitted, and
//! every side effect goes through the gate ([`ports::ActionGate`]): after a crash the rollout
//! asks the audit log what became of the key instead of acting again, so no host is ever
//! patched twice. This module must never hold an actuator.

pub mod engine;
pub mod executor;
pub mod facts;
pub mod fleet;
pub mod plan;
pub mod ports;
pub mod repo;
pub mod state;

pub use engine::{RolloutEngine, RolloutParts};
pub use facts::FleetFacts;
pub use fleet::InventoryFleet;
pub use plan::{EmergencyRequest, RolloutConfig, RolloutPlan};
pub use ports::{ActionGate, ApprovalProgress, EventSink, Fleet, Health, KeyProgress, NoEvents};
pub use repo::RolloutStore;
pub use state::{Control, ControlRequest, HostPhase, HostRollout, Rollout, Stage, Wave};

use crate::windows::WindowError;

/// Everything that can stop a rollout command. Each names the rollout, host or field.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("rollout plan: {field}: {reason}")]
    InvalidPlan { field: String, reason: String },
    #[error("no rollout {id:?}")]
    NotFound { id: String },
    #[error("rollout {id:?} exists already; choose another id")]
    Exists { id: String },
    #[error("rollout {id:?} is {stage}: nothing left to {verb}")]
    Finished {
        id: String,
        stage: String,
        verb: &'static str,
    },
    #[error("stored rollout {key}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] ooda_store::StoreError),
    #[error("host {host:?} is not in the inventory (any more)")]
    HostGone { host: String },
    #[error("host {host:?}: {reason}")]
    Fleet { host: String, reason: String },
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error("emergency patch refused: {reason}")]
    EmergencyNotEligible { reason: String },
}
