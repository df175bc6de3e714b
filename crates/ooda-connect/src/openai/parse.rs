//! Wire shapes of chat completions and the parsing of answers. Pure, never panics.
//!
//! Compatible servers differ: Ollama and some vLLM parsers send `arguments` as a JSON object
//! instead of a string and may omit the call `id`; llama.cpp omits `usage` on some builds. These
//! are accepted (an id is made up from the index) because refusing them would make ooda useless
//! with the servers people run; what the arguments *mean* is checked by the caller.

use serde::{Deserialize, Serialize};

use super::OpenAiError;
use crate::http::snippet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// A JSON document as a string, as the API sends it.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionCall,
}

/// One message of the conversation. `content` is null on an assistant turn that only calls tools.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionSpec,
}

impl ToolSpec {
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: serde_json::Value,
    ) -> Self {
        Self {
            kind: "function",
            function: FunctionSpec {
                name: name.into(),
                description: description.into(),
                parameters,
            },
        }
    }
}

/// `"auto"`, `"required"`, or one named function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    Required,
    Function(String),
}

impl Serialize for ToolChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Function(name) => serde_json::json!({
                "type": "function",
                "function": { "name": name }
            })
            .serialize(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

/// The first choice of an answer, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub model: String,
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: FinishReason,
    pub usage: Usage,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    model: String,
    choices: Vec<RawChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct RawChoice {
    message: RawMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Deserialize)]
struct RawToolCall {
    #[serde(default)]
    id: Option<String>,
    function: RawFunction,
}

#[derive(Deserialize)]
struct RawFunction {
    name: String,
    #[serde(default)]
    arguments: serde_json::Value,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

/// Reads a `/chat/completions` answer.
pub fn response(status: u16, body: &[u8]) -> Result<ChatResponse, OpenAiError> {
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => OpenAiError::Api {
                status,
                error_type: envelope
                    .error
                    .kind
                    .or_else(|| envelope.error.code.map(|c| c.to_string()))
                    .unwrap_or_default(),
                message: envelope.error.message,
            },
            Err(_) => OpenAiError::Status {
                status,
                body: snippet(body, 200),
            },
        });
    }
    let decode = |reason: String| OpenAiError::Decode {
        reason,
        body: snippet(body, 200),
    };
    let raw: RawResponse = serde_json::from_slice(body).map_err(|e| decode(e.to_string()))?;
    let Some(choice) = raw.choices.into_iter().next() else {
        return Err(decode("expected at least one choice, found none".into()));
    };
    let mut tool_calls = Vec::new();
    for (index, call) in choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let arguments = match call.function.arguments {
            serde_json::Value::String(text) => text,
            serde_json::Value::Null => "{}".to_owned(),
            other => other.to_string(),
        };
        tool_calls.push(ToolCall {
            id: call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("call_{index}")),
            kind: "function".into(),
            function: FunctionCall {
                name: call.function.name,
                arguments,
            },
        });
    }
    let finish_reason = match choice.finish_reason.as_deref() {
        Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    };
    Ok(ChatResponse {
        model: raw.model,
        content: choice.message.content,
        tool_calls,
        finish_reason,
        usage: raw.usage.unwrap_or_default(),
    })
}

/// `retry-after` in seconds.
pub fn retry_after(value: &str) -> Option<std::time::Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        Some(std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
    } else {
        None
    }
}
