//! The client against a scripted, wire-exact fake of chat completions (shapes from OpenAI's
//! function-calling guide; the Ollama / vLLM deviations noted in `parse.rs`).

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds, Secret};
use proptest::prelude::*;

use super::parse::{self, ChatMessage, ChatRequest, FinishReason, ToolSpec};
use super::{OpenAiClient, OpenAiConfig, OpenAiError, ToolChoice};
use crate::scripted::{Reply, ScriptedServer};

pub const PARALLEL_TOOL_CALLS: &str = r#"{
  "id": "chatcmpl-abc123",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [{
    "index": 0,
    "message": {
      "role": "assistant",
      "content": null,
      "tool_calls": [
        {"id": "call_12345xyz", "type": "function", "function": {"name": "metrics", "arguments": "{}"}},
        {"id": "call_67890abc", "type": "function", "function": {"name": "logs", "arguments": "{\"limit\":5}"}}
      ]
    },
    "logprobs": null,
    "finish_reason": "tool_calls"
  }],
  "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
}"#;

const STOP: &str = r#"{"id":"c2","object":"chat.completion","created":1,"model":"local","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#;

fn client(url: &str) -> OpenAiClient {
    let mut config = OpenAiConfig::new(HttpUrl::parse(&format!("{url}/v1")).expect("url"));
    config.backoff = Seconds(Duration::from_millis(5));
    config.max_wait = Seconds(Duration::from_millis(50));
    config.max_retries = 2;
    config.timeout = Seconds(Duration::from_secs(10));
    OpenAiClient::new(config).expect("client")
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "qwen2.5-7b-instruct".into(),
        messages: vec![
            ChatMessage::System {
                content: "You investigate incidents.".into(),
            },
            ChatMessage::User {
                content: "disk alert".into(),
            },
            ChatMessage::Assistant {
                content: None,
                tool_calls: vec![super::ToolCall {
                    id: "call_1".into(),
                    kind: "function".into(),
                    function: super::FunctionCall {
                        name: "metrics".into(),
                        arguments: "{}".into(),
                    },
                }],
            },
            ChatMessage::Tool {
                tool_call_id: "call_1".into(),
                content: "disk_used_pct 97".into(),
            },
        ],
        tools: vec![ToolSpec::function(
            "metrics",
            "metrics around the alert",
            serde_json::json!({"type":"object","properties":{}}),
        )],
        tool_choice: Some(ToolChoice::Function("metrics".into())),
        max_tokens: Some(512),
        temperature: None,
    }
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_parallel_tool_calls() {
    let server = ScriptedServer::start(vec![Reply::json(200, PARALLEL_TOOL_CALLS)]).await;
    let answer = client(&server.url).chat(&request()).await.expect("answer");
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(answer.tool_calls.len(), 2);
    assert_eq!(answer.tool_calls[1].function.arguments, "{\"limit\":5}");
    assert_eq!(answer.usage.prompt_tokens, 82);

    let seen = &server.received()[0];
    assert!(
        seen.head.starts_with("POST /v1/chat/completions "),
        "{}",
        seen.head
    );
    assert!(
        seen.header("authorization").is_none(),
        "no key configured, none sent"
    );
    let body = seen.json();
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][2]["role"], "assistant");
    assert!(body["messages"][2]["content"].is_null());
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
    assert_eq!(body["messages"][3]["role"], "tool");
    assert_eq!(body["messages"][3]["tool_call_id"], "call_1");
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["parameters"]["type"], "object");
    assert_eq!(body["tool_choice"]["function"]["name"], "metrics");
}

#[tokio::test]
async fn a_configured_key_is_a_bearer_token() {
    std::env::set_var("OODA_TEST_OPENAI_KEY", "sk-test-1234");
    let server = ScriptedServer::start(vec![Reply::json(200, STOP)]).await;
    let mut config = client(&server.url).config().clone();
    config.api_key = Some(Secret::Env("OODA_TEST_OPENAI_KEY".into()));
    OpenAiClient::new(config)
        .expect("client")
        .chat(&request())
        .await
        .expect("answer");
    assert_eq!(
        server.received()[0].header("authorization").as_deref(),
        Some("Bearer sk-test-1234")
    );
}

#[tokio::test]
async fn ollama_style_object_arguments_and_missing_ids_are_accepted() {
    let body = r#"{"model":"llama3.1","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"logs","arguments":{"limit":3}}}]},"finish_reason":"tool_calls"}]}"#;
    let server = ScriptedServer::start(vec![Reply::json(200, body)]).await;
    let answer = client(&server.url).chat(&request()).await.expect("answer");
    assert_eq!(answer.tool_calls[0].id, "call_0");
    assert_eq!(answer.tool_calls[0].function.arguments, r#"{"limit":3}"#);
    assert_eq!(
        answer.usage.prompt_tokens, 0,
        "llama.cpp/Ollama may omit usage"
    );
}

#[tokio::test]
async fn retries_429_and_5xx_then_succeeds() {
    let server = ScriptedServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#)
            .header("retry-after", "0.03"),
        Reply::json(503, "<html>upstream unavailable</html>"),
        Reply::json(200, STOP),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    assert_eq!(
        exchange.result.expect("answer").content.as_deref(),
        Some("done")
    );
    assert_eq!(
        exchange.waits,
        vec![Duration::from_millis(30), Duration::from_millis(10)]
    );
}

#[tokio::test]
async fn errors_400_401_500_are_classified() {
    let cases = [
        (
            400,
            r#"{"error":{"message":"Invalid 'tools[0].function.name'","type":"invalid_request_error","param":null,"code":null}}"#,
            false,
            1,
        ),
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            false,
            1,
        ),
        (
            500,
            r#"{"error":{"message":"The server had an error","type":"server_error"}}"#,
            true,
            3,
        ),
    ];
    for (status, body, transient, attempts) in cases {
        let server = ScriptedServer::start(vec![Reply::json(status, body); 4]).await;
        let exchange = client(&server.url).exchange(&request()).await;
        let error = exchange.result.expect_err("an error");
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.is_transient(), transient, "{error}");
        assert_eq!(exchange.attempts, attempts, "HTTP {status}");
    }
}

#[tokio::test]
async fn malformed_truncated_and_slow_answers() {
    let server =
        ScriptedServer::start(vec![Reply::json(200, "{\"choices\": [ {\"message\": ")]).await;
    assert!(matches!(
        client(&server.url).chat(&request()).await,
        Err(OpenAiError::Decode { .. })
    ));

    let server = ScriptedServer::start(vec![Reply::json(200, STOP).truncated(10); 3]).await;
    let exchange = client(&server.url).exchange(&request()).await;
    assert!(
        matches!(exchange.result, Err(OpenAiError::Http(_))),
        "{:?}",
        exchange.result
    );
    assert_eq!(exchange.attempts, 3, "a cut body is transient and retried");

    let server =
        ScriptedServer::start(vec![Reply::json(200, STOP).delayed(Duration::from_secs(5))]).await;
    let mut config = client(&server.url).config().clone();
    config.timeout = Seconds(Duration::from_millis(200));
    config.max_retries = 0;
    let result = OpenAiClient::new(config)
        .expect("client")
        .chat(&request())
        .await;
    assert!(
        matches!(
            result,
            Err(OpenAiError::Http(crate::http::HttpError::Timeout(_)))
        ),
        "{result:?}"
    );

    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"choices":[]}"#)]).await;
    assert!(matches!(
        client(&server.url).chat(&request()).await,
        Err(OpenAiError::Decode { .. })
    ));
}

proptest! {
    #[test]
    fn parsing_never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse::response(status, &body);
    }

    #[test]
    fn parsing_json_like_bodies_never_panics(body in r#"\{"(choices|error|usage)":.{0,80}\}"#) {
        let _ = parse::response(200, body.as_bytes());
        let _ = parse::response(500, body.as_bytes());
    }
}
