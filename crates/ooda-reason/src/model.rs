//! The port the agent loop talks to: one chat turn with tools, provider-neutral. Adapters in
//! [`crate::provider`] translate it to the Anthropic and OpenAI wire shapes.
//!
//! Every [`ChatRequest`] passes through [`crate::redact`] before an adapter sees it; adapters
//! must send nothing else.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    User,
    Assistant,
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments; `Null` when they did not parse (see `malformed`).
    pub input: serde_json::Value,
    /// The raw argument text when it was not JSON (OpenAI-compatible servers send a string).
    pub malformed: Option<String>,
}

/// The answer to one tool call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolResult {
    pub call_id: String,
    pub content: String,
    pub is_error: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Part {
    Text(String),
    Call(ToolCall),
    Result(ToolResult),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    pub role: Role,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the input object.
    pub schema: serde_json::Value,
}

/// Whether the model may answer in text, must call some tool, or must call one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Choice {
    Auto,
    Required,
    Tool(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub turns: Vec<Turn>,
    pub tools: Vec<ToolSpec>,
    pub choice: Choice,
    pub max_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    EndTurn,
    ToolUse,
    MaxTokens,
    Other(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input + self.output
    }
    pub fn add(&mut self, other: Usage) {
        self.input += other.input;
        self.output += other.output;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    pub text: String,
    pub calls: Vec<ToolCall>,
    pub stop: Stop,
    /// As reported by the server; zero when it reports none (some local servers).
    pub usage: Usage,
}

/// Why a model turn failed, after the client's own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Network, timeout, rate limit or overload that retries did not cure.
    #[error("model unavailable: {0}")]
    Unavailable(String),
    /// The server refused the request (400, 401, 403 …): retrying will not help.
    #[error("model refused the request: {0}")]
    Refused(String),
    /// The server answered something that is not a chat turn.
    #[error("model answered garbage: {0}")]
    Garbage(String),
}

pub type ChatFuture<'a> = Pin<Box<dyn Future<Output = Result<ChatReply, ModelError>> + Send + 'a>>;

/// One chat-with-tools endpoint.
pub trait ChatModel: Send + Sync {
    /// `anthropic`, `openai` … for reports.
    fn provider(&self) -> &str;
    fn chat<'a>(&'a self, request: &'a ChatRequest) -> ChatFuture<'a>;
}
