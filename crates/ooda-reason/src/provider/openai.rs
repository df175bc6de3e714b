//! The port over OpenAI-compatible chat completions: the system prompt is the first message,
//! each tool result its own `tool` message, arguments travel as JSON text.

use ooda_connect::openai::{
    ChatMessage, ChatRequest as WireRequest, FinishReason, FunctionCall, OpenAiClient, OpenAiError,
    ToolCall as WireCall, ToolChoice, ToolSpec,
};

use crate::model::{
    ChatFuture, ChatModel, ChatReply, ChatRequest, Choice, ModelError, Part, Role, Stop, ToolCall,
    Usage,
};

#[derive(Debug, Clone)]
pub struct OpenAi {
    client: OpenAiClient,
}

impl OpenAi {
    pub fn new(client: OpenAiClient) -> Self {
        Self { client }
    }
}

pub fn wire(request: &ChatRequest) -> WireRequest {
    let mut messages = vec![ChatMessage::System {
        content: request.system.clone(),
    }];
    for turn in &request.turns {
        match turn.role {
            Role::User => {
                let mut text = Vec::new();
                for part in &turn.parts {
                    match part {
                        Part::Result(result) => messages.push(ChatMessage::Tool {
                            tool_call_id: result.call_id.clone(),
                            content: if result.is_error {
                                format!("ERROR: {}", result.content)
                            } else {
                                result.content.clone()
                            },
                        }),
                        Part::Text(t) => text.push(t.clone()),
                        Part::Call(_) => {}
                    }
                }
                if !text.is_empty() {
                    messages.push(ChatMessage::User {
                        content: text.join("\n\n"),
                    });
                }
            }
            Role::Assistant => {
                let mut text = Vec::new();
                let mut calls = Vec::new();
                for part in &turn.parts {
                    match part {
                        Part::Text(t) if !t.is_empty() => text.push(t.clone()),
                        Part::Call(call) => calls.push(WireCall {
                            id: call.id.clone(),
                            kind: "function".into(),
                            function: FunctionCall {
                                name: call.name.clone(),
                                arguments: call
                                    .malformed
                                    .clone()
                                    .unwrap_or_else(|| call.input.to_string()),
                            },
                        }),
                        _ => {}
                    }
                }
                messages.push(ChatMessage::Assistant {
                    content: (!text.is_empty()).then(|| text.join("\n")),
                    tool_calls: calls,
                });
            }
        }
    }
    WireRequest {
        model: request.model.clone(),
        messages,
        tools: request
            .tools
            .iter()
            .map(|t| ToolSpec::function(&t.name, &t.description, t.schema.clone()))
            .collect(),
        tool_choice: Some(match &request.choice {
            Choice::Auto => ToolChoice::Auto,
            Choice::Required => ToolChoice::Required,
            Choice::Tool(name) => ToolChoice::Function(name.clone()),
        }),
        max_tokens: Some(request.max_tokens),
        temperature: Some(0.0),
    }
}

fn classify(error: OpenAiError) -> ModelError {
    match &error {
        OpenAiError::Decode { .. } => ModelError::Garbage(error.to_string()),
        e if e.is_transient() => ModelError::Unavailable(error.to_string()),
        _ => ModelError::Refused(error.to_string()),
    }
}

impl ChatModel for OpenAi {
    fn provider(&self) -> &str {
        "openai"
    }

    fn chat<'a>(&'a self, request: &'a ChatRequest) -> ChatFuture<'a> {
        Box::pin(async move {
            let answer = self.client.chat(&wire(request)).await.map_err(classify)?;
            let calls = answer
                .tool_calls
                .into_iter()
                .map(|call| {
                    match serde_json::from_str::<serde_json::Value>(&call.function.arguments) {
                        Ok(input) => ToolCall {
                            id: call.id,
                            name: call.function.name,
                            input,
                            malformed: None,
                        },
                        Err(_) => ToolCall {
                            id: call.id,
                            name: call.function.name,
                            input: serde_json::Value::Null,
                            malformed: Some(call.function.arguments),
                        },
                    }
                })
                .collect();
            Ok(ChatReply {
                text: answer.content.unwrap_or_default(),
                calls,
                stop: match answer.finish_reason {
                    FinishReason::Stop => Stop::EndTurn,
                    FinishReason::ToolCalls => Stop::ToolUse,
                    FinishReason::Length => Stop::MaxTokens,
                    other => Stop::Other(format!("{other:?}")),
                },
                usage: Usage {
                    input: answer.usage.prompt_tokens,
                    output: answer.usage.completion_tokens,
                },
            })
        })
    }
}
