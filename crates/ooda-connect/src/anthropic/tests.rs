//! The client against a scripted, wire-exact fake of the Messages API (shapes from Anthropic's
//! API reference: message, tool_use blocks, the error envelope, `retry-after`).

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds, Secret};
use proptest::prelude::*;

use super::parse::{self, ContentBlock, Message, MessagesRequest, Role, StopReason, Tool};
use super::{backoff, AnthropicClient, AnthropicConfig, AnthropicError};
use crate::scripted::{Reply, ScriptedServer};

/// Two tool calls in one turn (parallel tool use), as in the tool-use guide.
pub const PARALLEL_TOOL_USE: &str = r#"{
  "id": "msg_01Aq9w938a90dw8q",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5",
  "content": [
    {"type": "text", "text": "I'll look at metrics and logs."},
    {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "metrics", "input": {}},
    {"type": "tool_use", "id": "toolu_01B19q90qw90lq917835lq9", "name": "logs", "input": {"limit": 5}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "usage": {"input_tokens": 472, "output_tokens": 91}
}"#;

pub const END_TURN: &str = r#"{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5",
 "content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":10,"output_tokens":2}}"#;

const OVERLOADED: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
const RATE_LIMITED: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;
const INVALID: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#;
const UNAUTHORIZED: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
const SERVER: &str =
    r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#;

const KEY_VAR: &str = "OODA_TEST_ANTHROPIC_KEY";

fn client(url: &str) -> AnthropicClient {
    std::env::set_var(KEY_VAR, "sk-ant-test-0000");
    let mut config = AnthropicConfig::new(
        HttpUrl::parse(url).expect("loopback url"),
        Secret::Env(KEY_VAR.into()),
    );
    config.backoff = Seconds(Duration::from_millis(5));
    config.max_wait = Seconds(Duration::from_millis(50));
    config.max_retries = 2;
    config.timeout = Seconds(Duration::from_secs(10));
    AnthropicClient::new(config).expect("client")
}

fn request() -> MessagesRequest {
    MessagesRequest {
        model: "claude-sonnet-4-5".into(),
        max_tokens: 1024,
        system: Some("You investigate incidents.".into()),
        messages: vec![
            Message {
                role: Role::User,
                content: vec![ContentBlock::Text {
                    text: "disk alert on web-1".into(),
                }],
            },
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse {
                    id: "toolu_1".into(),
                    name: "metrics".into(),
                    input: serde_json::json!({}),
                }],
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult {
                    tool_use_id: "toolu_1".into(),
                    content: "disk_used_pct 97".into(),
                    is_error: false,
                }],
            },
        ],
        tools: vec![Tool {
            name: "metrics".into(),
            description: "metrics around the alert".into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
        }],
        tool_choice: Some(super::ToolChoice::Auto),
        temperature: None,
    }
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_parallel_tool_use() {
    let server = ScriptedServer::start(vec![Reply::json(200, PARALLEL_TOOL_USE)]).await;
    let answer = client(&server.url)
        .messages(&request())
        .await
        .expect("answer");
    assert_eq!(answer.stop_reason, Some(StopReason::ToolUse));
    let calls: Vec<_> = answer
        .tool_uses()
        .map(|(id, name, _)| (id.to_owned(), name.to_owned()))
        .collect();
    assert_eq!(calls.len(), 2, "both tool_use blocks of the turn");
    assert_eq!(calls[1].1, "logs");
    assert_eq!(answer.usage.input_tokens, 472);

    let seen = &server.received()[0];
    assert!(seen.head.starts_with("POST /v1/messages "), "{}", seen.head);
    assert_eq!(
        seen.header("x-api-key").as_deref(),
        Some("sk-ant-test-0000")
    );
    assert_eq!(
        seen.header("anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    let body = seen.json();
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["system"], "You investigate incidents.");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(body["tool_choice"]["type"], "auto");
    assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(body["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "toolu_1");
    assert!(body["messages"][2]["content"][0].get("is_error").is_none());
}

#[tokio::test]
async fn retries_429_and_529_honouring_retry_after_then_succeeds() {
    let server = ScriptedServer::start(vec![
        Reply::json(429, RATE_LIMITED).header("retry-after", "0.02"),
        Reply::json(529, OVERLOADED),
        Reply::json(200, END_TURN),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    let answer = exchange.result.expect("third attempt succeeds");
    assert_eq!(answer.text(), "Done.");
    assert_eq!(exchange.attempts, 3);
    // First wait: retry-after (20 ms) beats the 5 ms back-off; second: back-off 10 ms.
    assert_eq!(
        exchange.waits,
        vec![Duration::from_millis(20), Duration::from_millis(10)]
    );
    assert_eq!(server.received().len(), 3);
}

#[tokio::test]
async fn retry_after_is_capped_by_max_wait() {
    let server = ScriptedServer::start(vec![
        Reply::json(429, RATE_LIMITED).header("retry-after", "3600"),
        Reply::json(200, END_TURN),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    assert!(exchange.result.is_ok());
    assert_eq!(exchange.waits, vec![Duration::from_millis(50)]);
}

#[tokio::test]
async fn gives_up_after_max_retries_on_500() {
    let server = ScriptedServer::start(vec![
        Reply::json(500, SERVER),
        Reply::json(500, SERVER),
        Reply::json(500, SERVER),
        Reply::json(200, END_TURN),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    match exchange.result {
        Err(AnthropicError::Api {
            status: 500,
            ref error_type,
            ..
        }) => assert_eq!(error_type, "api_error"),
        other => panic!("expected the 500 after retries, got {other:?}"),
    }
    assert_eq!(exchange.attempts, 3, "one try and two retries");
}

#[tokio::test]
async fn does_not_retry_400_or_401() {
    for (status, body, kind) in [
        (400, INVALID, "invalid_request_error"),
        (401, UNAUTHORIZED, "authentication_error"),
    ] {
        let server =
            ScriptedServer::start(vec![Reply::json(status, body), Reply::json(200, END_TURN)])
                .await;
        let exchange = client(&server.url).exchange(&request()).await;
        match exchange.result {
            Err(
                ref e @ AnthropicError::Api {
                    error_type: ref t, ..
                },
            ) => {
                assert_eq!(t, kind);
                assert!(!e.is_transient());
                assert_eq!(e.status(), Some(status));
            }
            other => panic!("expected an API error, got {other:?}"),
        }
        assert_eq!(server.received().len(), 1, "HTTP {status} is not retried");
    }
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_not_retried() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"id":"msg","type":"message","role":"assistant","content":[{"type":"tool_use","id":"x","name":"#),
        Reply::json(200, END_TURN),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    assert!(
        matches!(exchange.result, Err(AnthropicError::Decode { .. })),
        "{:?}",
        exchange.result
    );
    assert_eq!(exchange.attempts, 1);
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error_and_is_retried() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, END_TURN).truncated(40),
        Reply::json(200, END_TURN),
    ])
    .await;
    let exchange = client(&server.url).exchange(&request()).await;
    assert!(exchange.result.is_ok(), "{:?}", exchange.result);
    assert_eq!(exchange.attempts, 2);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, END_TURN).delayed(Duration::from_secs(5))
    ])
    .await;
    let mut config = client(&server.url).config().clone();
    config.timeout = Seconds(Duration::from_millis(200));
    config.max_retries = 0;
    let slow = AnthropicClient::new(config).expect("client");
    match slow.messages(&request()).await {
        Err(e @ AnthropicError::Http(crate::http::HttpError::Timeout(_))) => {
            assert!(e.is_transient())
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_key_fails_before_sending() {
    let server = ScriptedServer::start(vec![Reply::json(200, END_TURN)]).await;
    let config = AnthropicConfig::new(
        HttpUrl::parse(&server.url).expect("url"),
        Secret::Env("OODA_SURELY_UNSET_ANTHROPIC_KEY".into()),
    );
    let result = AnthropicClient::new(config)
        .expect("client")
        .messages(&request())
        .await;
    assert!(matches!(
        result,
        Err(AnthropicError::Http(crate::http::HttpError::Secret(_)))
    ));
    assert!(server.received().is_empty(), "nothing was sent");
}

#[test]
fn unknown_blocks_and_stop_reasons_still_parse() {
    let body = br#"{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"ok"}],"stop_reason":"something_new","usage":{"input_tokens":1,"output_tokens":1}}"#;
    let message = parse::response(200, body).expect("parses");
    assert_eq!(message.content[0], ContentBlock::Other);
    assert_eq!(message.stop_reason, Some(StopReason::Other));
    assert!(matches!(
        parse::response(502, b"<html>bad gateway</html>"),
        Err(AnthropicError::Status { status: 502, .. })
    ));
}

#[test]
fn backoff_doubles_and_is_capped() {
    let base = Duration::from_millis(100);
    let max = Duration::from_secs(1);
    assert_eq!(backoff(base, 1, None, max), base);
    assert_eq!(backoff(base, 3, None, max), Duration::from_millis(400));
    assert_eq!(backoff(base, 30, None, max), max);
    assert_eq!(
        backoff(base, 1, Some(Duration::from_millis(700)), max),
        Duration::from_millis(700)
    );
}

proptest! {
    /// Whatever a server sends, parsing returns a value or an error, never a panic.
    #[test]
    fn parsing_never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse::response(status, &body);
    }

    #[test]
    fn parsing_json_like_bodies_never_panics(body in r#"\{"(id|type|role|content|error)":.{0,60}\}"#) {
        let _ = parse::response(200, body.as_bytes());
        let _ = parse::response(429, body.as_bytes());
    }

    #[test]
    fn retry_after_never_panics(value in ".{0,20}") {
        let _ = parse::retry_after(&value);
    }
}
