//! The port over the Anthropic Messages API: tool results go first in a user turn (the API
//! requires `tool_result` blocks to lead the content that answers a `tool_use` turn).

use ooda_connect::anthropic::{
    AnthropicClient, AnthropicError, ContentBlock, Message, MessagesRequest, Role as WireRole,
    StopReason, Tool, ToolChoice,
};

use crate::model::{
    ChatFuture, ChatModel, ChatReply, ChatRequest, Choice, ModelError, Part, Role, Stop, ToolCall,
    Usage,
};

#[derive(Debug, Clone)]
pub struct Anthropic {
    client: AnthropicClient,
}

impl Anthropic {
    pub fn new(client: AnthropicClient) -> Self {
        Self { client }
    }
}

/// The wire request for a neutral one.
pub fn wire(request: &ChatRequest) -> MessagesRequest {
    let messages = request
        .turns
        .iter()
        .map(|turn| {
            let mut results = Vec::new();
            let mut rest = Vec::new();
            for part in &turn.parts {
                match part {
                    Part::Text(text) if !text.is_empty() => {
                        rest.push(ContentBlock::Text { text: text.clone() })
                    }
                    Part::Text(_) => {}
                    Part::Call(call) => rest.push(ContentBlock::ToolUse {
                        id: call.id.clone(),
                        name: call.name.clone(),
                        input: if call.input.is_object() {
                            call.input.clone()
                        } else {
                            serde_json::json!({})
                        },
                    }),
                    Part::Result(result) => results.push(ContentBlock::ToolResult {
                        tool_use_id: result.call_id.clone(),
                        content: result.content.clone(),
                        is_error: result.is_error,
                    }),
                }
            }
            results.extend(rest);
            Message {
                role: match turn.role {
                    Role::User => WireRole::User,
                    Role::Assistant => WireRole::Assistant,
                },
                content: results,
            }
        })
        .collect();
    MessagesRequest {
        model: request.model.clone(),
        max_tokens: request.max_tokens,
        system: Some(request.system.clone()),
        messages,
        tools: request
            .tools
            .iter()
            .map(|t| Tool {
                name: t.name.clone(),
                description: t.description.clone(),
                input_schema: t.schema.clone(),
            })
            .collect(),
        tool_choice: Some(match &request.choice {
            Choice::Auto => ToolChoice::Auto,
            Choice::Required => ToolChoice::Any,
            Choice::Tool(name) => ToolChoice::Tool { name: name.clone() },
        }),
        temperature: Some(0.0),
    }
}

fn classify(error: AnthropicError) -> ModelError {
    match &error {
        AnthropicError::Decode { .. } => ModelError::Garbage(error.to_string()),
        e if e.is_transient() => ModelError::Unavailable(error.to_string()),
        _ => ModelError::Refused(error.to_string()),
    }
}

impl ChatModel for Anthropic {
    fn provider(&self) -> &str {
        "anthropic"
    }

    fn chat<'a>(&'a self, request: &'a ChatRequest) -> ChatFuture<'a> {
        Box::pin(async move {
            let answer = self
                .client
                .messages(&wire(request))
                .await
                .map_err(classify)?;
            let calls = answer
                .tool_uses()
                .map(|(id, name, input)| ToolCall {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    input: input.clone(),
                    malformed: None,
                })
                .collect();
            Ok(ChatReply {
                text: answer.text(),
                calls,
                stop: match answer.stop_reason {
                    Some(StopReason::EndTurn) | Some(StopReason::StopSequence) => Stop::EndTurn,
                    Some(StopReason::ToolUse) => Stop::ToolUse,
                    Some(StopReason::MaxTokens) => Stop::MaxTokens,
                    other => Stop::Other(format!("{other:?}")),
                },
                usage: Usage {
                    input: answer.usage.input_tokens,
                    output: answer.usage.output_tokens,
                },
            })
        })
    }
}
