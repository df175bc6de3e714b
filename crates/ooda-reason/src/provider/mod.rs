//! Adapters from the neutral [`crate::model`] port to the provider clients in `ooda-connect`.

pub mod anthropic;
pub mod openai;

pub use anthropic::Anthropic;
pub use openai::OpenAi;
