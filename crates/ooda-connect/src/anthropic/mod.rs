//! Anthropic Messages API (`POST /v1/messages`) with tool use: the client an LLM reasoner speaks
//! through. It only sends what it is given (callers redact first) and never logs a body, a
//! header or the API key.
//!
//! Shapes follow Anthropic's Messages API reference and tool-use guide
//! (platform.claude.com/docs/en/api/messages, …/agents-and-tools/tool-use/overview): requests
//! carry `model`, `max_tokens`, `system`, `messages`, `tools`, `tool_choice`; assistant content is
//! a list of `text` and `tool_use` blocks; a tool-calling turn ends with `stop_reason: "tool_use"`
//! and the next user turn answers each call with a `tool_result` block of the same id.

mod client;
mod config;
pub mod parse;

pub use crate::http::backoff;
pub use client::{AnthropicClient, Exchange};
pub use config::AnthropicConfig;
pub use parse::{
    ContentBlock, Message, MessagesRequest, MessagesResponse, Role, StopReason, Tool, ToolChoice,
    Usage,
};

use crate::http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum AnthropicError {
    #[error("anthropic: {0}")]
    Http(#[from] HttpError),
    /// The API's error object: `{"type":"error","error":{"type":"rate_limit_error","message":…}}`.
    #[error("anthropic answered HTTP {status} {error_type}: {message}")]
    Api {
        status: u16,
        error_type: String,
        message: String,
    },
    /// An error status whose body is not the API's error object (proxy pages, empty 502s).
    #[error("anthropic answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("anthropic response: {reason}; body starts {body:?}")]
    Decode { reason: String, body: String },
    #[error("anthropic URL: {0}")]
    Url(String),
    #[error("anthropic request: {0}")]
    Encode(String),
}

impl AnthropicError {
    /// Whether the same request may succeed later: rate limits (429), overload (529), server
    /// errors and network failures. A 400 or 401 will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            AnthropicError::Http(HttpError::Timeout(_) | HttpError::Transport(_)) => true,
            AnthropicError::Http(_) => false,
            AnthropicError::Api { status, .. } | AnthropicError::Status { status, .. } => {
                *status == 429 || *status >= 500
            }
            AnthropicError::Decode { .. } | AnthropicError::Url(_) | AnthropicError::Encode(_) => {
                false
            }
        }
    }

    /// The HTTP status, when the server answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            AnthropicError::Api { status, .. } | AnthropicError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
