//! Against a wire-exact fake: the `query_range` streams response and the plain-text 400 for bad
//! LogQL, as Loki's HTTP API documentation shows them.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::TimeZone;
use ooda_core::value::HttpUrl;

use super::parse::{logql, response};
use super::{LokiClient, LokiConfig};
use crate::logs::{cluster, LogError, LogQuery};
use crate::testkit;

const STREAMS: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "streams",
    "result": [
      {"stream": {"host": "web-1", "job": "app", "level": "error"},
       "values": [["1764140401000000000", "ERROR db timeout after 1500 ms"], ["1764140400000000000", "ERROR db timeout after 1700 ms"]]},
      {"stream": {"host": "web-1", "job": "nginx"},
       "values": [["1764140402000000000", "upstream refused connection from 10.0.0.7:443", {"trace_id": "abc"}]]}
    ],
    "stats": {"summary": {"bytesProcessedPerSecond": 123, "linesProcessedPerSecond": 4, "totalBytesProcessed": 300, "totalLinesProcessed": 3, "execTime": 0.001}}
  }
}"#;

fn query() -> LogQuery {
    LogQuery {
        host: Some("web-1".into()),
        service: None,
        start: chrono::Utc
            .timestamp_opt(1_764_140_000, 0)
            .single()
            .expect("t"),
        end: chrono::Utc
            .timestamp_opt(1_764_141_000, 0)
            .single()
            .expect("t"),
        limit: 100,
        errors_only: true,
    }
}

#[test]
fn logql_and_streams() {
    let q = query();
    let text = logql(&q, "host", "service_name", "{job=~\".+\"}");
    assert!(
        text.starts_with("{host=\"web-1\"} |~ \"(?i)(error"),
        "{text}"
    );
    let mut odd = q.clone();
    odd.host = Some("we\"b".into());
    odd.errors_only = false;
    assert_eq!(logql(&odd, "host", "s", "{}"), "{host=\"we\\\"b\"}");
    odd.host = None;
    assert_eq!(logql(&odd, "host", "s", "{job=~\".+\"}"), "{job=~\".+\"}");

    let batch = response(200, STREAMS.as_bytes(), 100).expect("streams");
    assert_eq!(batch.lines.len(), 3);
    assert_eq!(
        batch.lines[0].line, "upstream refused connection from 10.0.0.7:443",
        "newest first"
    );
    assert_eq!(batch.lines[0].labels["job"], "nginx");
    assert_eq!(batch.lines[2].time.timestamp(), 1_764_140_400);
    let top = cluster(batch.lines.iter().map(|l| l.line.as_str()), "loki", 5);
    assert_eq!(top[0].count, 2);
    assert!(response(400, b"parse error at line 1, col 1: syntax error", 10).is_err());
    assert!(response(
        200,
        br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        10
    )
    .is_err());
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = response(200, &body, 10);
    }
}

#[tokio::test]
async fn client_against_a_wire_exact_fake() {
    let router = Router::new().route(
        "/loki/api/v1/query_range",
        get(
            |headers: HeaderMap, Query(params): Query<HashMap<String, String>>| async move {
                assert_eq!(
                    headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()),
                    Some("team-a")
                );
                let q = params.get("query").cloned().unwrap_or_default();
                if q.contains("broken") {
                    return (
                        StatusCode::BAD_REQUEST,
                        "parse error at line 1, col 2: syntax error: unexpected IDENTIFIER"
                            .to_string(),
                    );
                }
                assert_eq!(
                    params.get("start").map(String::as_str),
                    Some("1764140000000000000")
                );
                assert_eq!(
                    params.get("direction").map(String::as_str),
                    Some("backward")
                );
                (StatusCode::OK, STREAMS.to_string())
            },
        ),
    );
    let base = testkit::serve(router).await;
    let mut config = LokiConfig::new("loki", HttpUrl::parse(&base).expect("url"));
    config.tenant = Some("team-a".into());
    let client = LokiClient::new(config.clone()).expect("client");
    let batch = client.fetch(&query()).await.expect("fetch");
    assert_eq!(batch.lines.len(), 3);
    assert!(!batch.partial);

    config.host_label = "broken".into();
    let err = LokiClient::new(config)
        .expect("client")
        .fetch(&query())
        .await
        .expect_err("400");
    match err {
        LogError::Status { status, reason, .. } => {
            assert_eq!(status, 400);
            assert!(reason.contains("syntax error"));
        }
        other => panic!("expected a status error, got {other:?}"),
    }
}
