//! Against a wire-exact fake replaying the documented `_search` response and error shapes.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::TimeZone;
use ooda_core::value::HttpUrl;
use serde_json::Value;

use super::parse::{response, search_body};
use super::{ElasticsearchClient, ElasticsearchConfig};
use crate::logs::{LogError, LogQuery};
use crate::testkit;

const HITS: &str = r#"{
  "took": 5, "timed_out": false,
  "_shards": {"total": 2, "successful": 1, "skipped": 0, "failed": 1},
  "hits": {"total": {"value": 3, "relation": "eq"}, "max_score": null, "hits": [
    {"_index": "logs-app-2026.11.26", "_id": "1", "_score": null,
     "_source": {"@timestamp": "2026-11-26T07:00:02.000Z", "message": "ERROR payment 7f3e failed", "host": {"name": "web-1"}, "service": {"name": "pay"}}, "sort": [1795676402000]},
    {"_index": "logs-app-2026.11.26", "_id": "2", "_score": null,
     "_source": {"@timestamp": 1795676401000, "message": ["ERROR payment 9a1c failed"], "host.name": "web-1"}},
    {"_index": "logs-app-2026.11.26", "_id": "3", "_score": null, "_source": {"message": "no time"}}
  ]}
}"#;

const NO_INDEX: &str = r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [nope]","index":"nope"}],"type":"index_not_found_exception","reason":"no such index [nope]","index":"nope"},"status":404}"#;

fn query() -> LogQuery {
    LogQuery {
        host: Some("web-1".into()),
        service: Some("pay".into()),
        start: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 6, 0, 0)
            .single()
            .expect("t"),
        end: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .expect("t"),
        limit: 50,
        errors_only: true,
    }
}

fn config(url: &str) -> ElasticsearchConfig {
    ElasticsearchConfig::new("es", HttpUrl::parse(url).expect("url"))
}

#[test]
fn query_dsl_and_response_shapes() {
    let cfg = config("http://es:9200");
    let body = search_body(&cfg, &query());
    assert_eq!(body["size"], 50);
    assert_eq!(body["sort"][0]["@timestamp"]["order"], "desc");
    let filter = &body["query"]["bool"]["filter"];
    assert_eq!(
        filter[0]["range"]["@timestamp"]["gte"],
        "2026-11-26T06:00:00.000Z"
    );
    assert_eq!(filter[1]["term"]["host.name"], "web-1");
    assert_eq!(filter[2]["term"]["service.name"], "pay");
    assert!(body["query"]["bool"]["must"][0]["query_string"].is_object());

    let batch = response(&cfg, 200, HITS.as_bytes()).expect("hits");
    assert_eq!(batch.lines.len(), 2);
    assert_eq!(batch.lines[0].labels["service"], "pay");
    assert_eq!(
        batch.lines[1].line, "ERROR payment 9a1c failed",
        "array messages and epoch times"
    );
    assert_eq!(batch.lines[1].labels["host"], "web-1", "flat dotted keys");
    assert!(batch.partial, "a failed shard makes the answer partial");
    assert_eq!(batch.warnings.len(), 2);

    let (status, reason) = response(&cfg, 404, NO_INDEX.as_bytes()).expect_err("404");
    assert_eq!(status, 404);
    assert_eq!(reason, "index_not_found_exception: no such index [nope]");
    assert!(response(&cfg, 200, b"{}").is_err());
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let cfg = config("http://es:9200");
        let _ = response(&cfg, 200, &body);
        let _ = response(&cfg, 500, &body);
    }
}

#[tokio::test]
async fn client_against_a_wire_exact_fake() {
    let router = Router::new().route(
        "/:index/_search",
        post(
            |Path(index): Path<String>, Json(body): Json<Value>| async move {
                if index == "nope" {
                    return (StatusCode::NOT_FOUND, NO_INDEX.to_string());
                }
                assert_eq!(index, "logs-*");
                assert_eq!(
                    body["query"]["bool"]["filter"][1]["term"]["host.name"],
                    "web-1"
                );
                (StatusCode::OK, HITS.to_string())
            },
        ),
    );
    let base = testkit::serve(router).await;
    let client = ElasticsearchClient::new(config(&base)).expect("client");
    let batch = client.fetch(&query()).await.expect("fetch");
    assert_eq!(batch.lines.len(), 2);

    let mut missing = config(&base);
    missing.index = "nope".into();
    let err = ElasticsearchClient::new(missing)
        .expect("client")
        .fetch(&query())
        .await
        .expect_err("404");
    assert!(
        matches!(err, LogError::Status { status: 404, ref reason, .. } if reason.starts_with("index_not_found_exception")),
        "{err}"
    );
}
