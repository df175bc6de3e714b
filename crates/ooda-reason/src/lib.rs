//! LLM reasoners: an agent loop that investigates an incident with a large language model
//! (Anthropic Messages or any OpenAI-compatible endpoint) through the same read-only tools and
//! into the same [`Report`](ooda_incident::reasoner::Report) as the built-in reasoner.
//!
//! What it must never do: act (it holds no Gate and no actuator; it can only *propose* runbooks
//! that exist), send a secret (every byte of every request passes the [`redact`] choke point),
//! trust the model's confidence (it is capped by the built-in evidence score), or fail without a
//! defined outcome (any failure of the model path falls back to the built-in reasoner, and the
//! report says so).

pub mod agent;
pub mod answer;
pub mod confidence;
pub mod config;
pub mod eval;
pub mod model;
pub mod provider;
pub mod redact;

pub use agent::{Investigation, Limits, LlmReasoner, Routing, Slot};
pub use answer::Answer;
pub use model::{ChatModel, ModelError};
pub use redact::Redactor;

/// Everything that can go wrong building a reasoner (the loop itself never errors: it falls
/// back).
#[derive(Debug, thiserror::Error)]
pub enum ReasonError {
    #[error("reasoner config: {field}: {reason}")]
    Config { field: String, reason: String },
    #[error("incident catalogue or runbooks: {0}")]
    Library(String),
    #[error("model client: {0}")]
    Client(String),
}
