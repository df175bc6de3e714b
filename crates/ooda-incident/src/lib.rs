//! Incident response: alerts become incidents that ooda triages, investigates with read-only
//! probes, explains with ranked hypotheses and, where confidence and the Gate allow, resolves
//! with runbooks.
//!
//! The decision code never acts: every change to the world goes through the governance Gate (the
//! [`gate::ActionGate`] port). The [`actuator`] module holds the local actuator the Gate calls; it
//! can only be executed with a token the Gate mints. A missing or garbled piece of evidence is a
//! recorded gap, never a reason to act.

pub mod actuator;
pub mod calibration;
pub mod catalogue;
pub mod evidence;
pub mod gate;
pub mod lifecycle;
pub mod localise;
pub mod postmortem;
pub mod reasoner;
pub mod register;
pub mod responder;
pub mod runbook;
pub mod targets;
pub mod triage;
pub mod verify;

use ooda_core::IncidentId;

pub use catalogue::Catalogue;
pub use lifecycle::{Incident, IncidentState, TimelineEntry, Transition};
pub use runbook::{Runbook, RunbookProblem};

/// Everything that can go wrong in incident response. Messages say what was expected and what
/// was found.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("incident catalogue: {field}: {reason}")]
    Catalogue { field: String, reason: String },
    #[error("incident {incident}: transition {from} → {to} is not allowed")]
    Transition {
        incident: IncidentId,
        from: IncidentState,
        to: IncidentState,
    },
    #[error("incident {0} not found")]
    NotFound(String),
    #[error("alert: {field}: {reason}")]
    BadAlert { field: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] ooda_store::StoreError),
    #[error("stored {what} does not decode: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("runbook {runbook}: {reason}")]
    Runbook { runbook: String, reason: String },
    #[error("similar-incident index: {0}")]
    Index(String),
}

pub type Result<T, E = IncidentError> = std::result::Result<T, E>;
