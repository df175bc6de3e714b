//! OpenAI-compatible chat completions (`POST {base}/chat/completions`) with tools: hosted
//! endpoints and local servers that speak the same shape (llama.cpp's `llama-server`, Ollama's
//! `/v1`, vLLM). It only sends what it is given (callers redact first) and never logs a body, a
//! header or a key.
//!
//! Shapes follow OpenAI's function-calling guide and chat completions reference: `tools:
//! [{"type":"function","function":{"name","description","parameters"}}]`; the answer's
//! `choices[0].message.tool_calls: [{"id","type":"function","function":{"name","arguments"}}]`
//! with `arguments` a JSON *string*, `finish_reason: "tool_calls"`; results go back as
//! `{"role":"tool","tool_call_id","content"}` messages.

mod client;
mod config;
pub mod parse;

pub use crate::http::backoff;
pub use client::{Exchange, OpenAiClient};
pub use config::OpenAiConfig;
pub use parse::{
    ChatMessage, ChatRequest, ChatResponse, FinishReason, FunctionCall, FunctionSpec, ToolCall,
    ToolChoice, ToolSpec, Usage,
};

use crate::http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    #[error("openai-compatible: {0}")]
    Http(#[from] HttpError),
    /// The API's error object: `{"error":{"message","type","code"}}`.
    #[error("openai-compatible endpoint answered HTTP {status} {error_type}: {message}")]
    Api {
        status: u16,
        error_type: String,
        message: String,
    },
    #[error("openai-compatible endpoint answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("openai-compatible response: {reason}; body starts {body:?}")]
    Decode { reason: String, body: String },
    #[error("openai-compatible request: {0}")]
    Encode(String),
}

impl OpenAiError {
    /// Whether the same request may succeed later: 429, 5xx, network failures.
    pub fn is_transient(&self) -> bool {
        match self {
            OpenAiError::Http(HttpError::Timeout(_) | HttpError::Transport(_)) => true,
            OpenAiError::Http(_) => false,
            OpenAiError::Api { status, .. } | OpenAiError::Status { status, .. } => {
                *status == 429 || *status >= 500
            }
            OpenAiError::Decode { .. } | OpenAiError::Encode(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            OpenAiError::Api { status, .. } | OpenAiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
