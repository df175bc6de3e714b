//! The wire shapes of the Messages API and the parsing of what the server sends back. Pure: no
//! I/O, never panics, whatever the bytes.
//!
//! Request: `{"model", "max_tokens", "system", "messages": [{"role", "content": [blocks]}],
//! "tools": [{"name", "description", "input_schema"}], "tool_choice": {"type": "auto" | "any" |
//! "tool", "name"}}`. Response: `{"id", "type": "message", "role": "assistant", "content":
//! [blocks], "model", "stop_reason": "end_turn" | "max_tokens" | "stop_sequence" | "tool_use",
//! "usage": {"input_tokens", "output_tokens"}}`. Errors: `{"type": "error", "error": {"type",
//! "message"}}` (Anthropic API reference, "Messages" and "Errors").

use serde::{Deserialize, Serialize};

use super::AnthropicError;
use crate::http::snippet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One block of a message's content. Unknown block types from newer API versions (thinking,
/// server tools) are kept as [`ContentBlock::Other`] so a response still parses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: serde_json::Value,
    },
    ToolResult {
        tool_use_id: String,
        content: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// A JSON Schema object for the tool's input.
    pub input_schema: serde_json::Value,
}

/// `auto`: the model decides; `any`: it must call some tool; `tool`: it must call this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto,
    Any,
    Tool { name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagesRequest {
    pub model: String,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    PauseTurn,
    Refusal,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessagesResponse {
    pub id: String,
    pub role: Role,
    pub content: Vec<ContentBlock>,
    pub model: String,
    /// Null only in streaming starts; a complete response always has one, but a missing one is
    /// read as "other" rather than refused.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    #[serde(default)]
    pub usage: Usage,
}

impl MessagesResponse {
    /// The `tool_use` blocks, in order (a turn may hold several: parallel tool use).
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &serde_json::Value)> {
        self.content.iter().filter_map(|block| match block {
            ContentBlock::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }

    /// The text blocks joined.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        parts.join("\n")
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// Reads a `/v1/messages` answer: the message on 2xx, the API error (or the status) otherwise.
pub fn response(status: u16, body: &[u8]) -> Result<MessagesResponse, AnthropicError> {
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => AnthropicError::Api {
                status,
                error_type: envelope.error.kind,
                message: envelope.error.message,
            },
            Err(_) => AnthropicError::Status {
                status,
                body: snippet(body, 200),
            },
        });
    }
    let message: MessagesResponse =
        serde_json::from_slice(body).map_err(|e| AnthropicError::Decode {
            reason: e.to_string(),
            body: snippet(body, 200),
        })?;
    if message.role != Role::Assistant {
        return Err(AnthropicError::Decode {
            reason: "expected role \"assistant\"".into(),
            body: snippet(body, 200),
        });
    }
    Ok(message)
}

/// `retry-after` in seconds (the API sends an integer; fractional values are accepted too).
/// HTTP dates are not used by the API and read as absent.
pub fn retry_after(value: &str) -> Option<std::time::Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        Some(std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
    } else {
        None
    }
}
