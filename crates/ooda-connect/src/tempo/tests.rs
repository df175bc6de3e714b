//! Against the documented shapes (Tempo HTTP API docs: search response and OTLP JSON trace by
//! id) and against the wire-exact fake.

use ooda_core::value::HttpUrl;

use super::fake::FakeTempo;
use super::parse::{search, trace, traceql_for_service};
use super::{TempoClient, TempoConfig};
use crate::traces::{service_calls, spans_on_path, Span, Trace, TraceError};

/// The search response as Tempo's API documentation shows it (older `spanSet` and newer
/// `spanSets` both appear in the wild).
const SEARCH: &str = r#"{
  "traces": [
    {
      "traceID": "2f3e0cee77ae5dc9c17ade3689eb2e54",
      "rootServiceName": "shop-backend",
      "rootTraceName": "update-billing",
      "startTimeUnixNano": "1684778327699392724",
      "durationMs": 557,
      "spanSets": [
        {
          "spans": [
            {
              "spanID": "563d623c76514f8e",
              "startTimeUnixNano": "1684778327735077898",
              "durationNanos": "446979497",
              "attributes": [{"key": "status", "value": {"stringValue": "error"}}]
            }
          ],
          "matched": 1
        }
      ]
    },
    {
      "traceID": "7a1d2dd4deaf177e0acf55b3c49032",
      "rootServiceName": "mythical-server",
      "rootTraceName": "HTTP GET",
      "startTimeUnixNano": "1678972751297796608",
      "durationMs": 6,
      "spanSet": {"spans": [], "matched": 0}
    }
  ],
  "metrics": {"inspectedTraces": 1, "inspectedBytes": "250"}
}"#;

/// A trace by id in OTLP JSON (`batches`), ids in uppercase hex as Tempo's docs show them.
const TRACE: &str = r#"{
  "batches": [
    {
      "resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "order-service"}},
        {"key": "service.version", "value": {"stringValue": "1.4.2"}}
      ]},
      "scopeSpans": [{
        "scope": {"name": "go.opentelemetry.io/otel/sdk/trace", "version": "v1.21.0"},
        "spans": [
          {"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B173", "parentSpanId": "",
           "name": "POST /orders", "kind": 2,
           "startTimeUnixNano": "1746259200000000000", "endTimeUnixNano": "1746259200145000000",
           "attributes": [{"key": "http.status_code", "value": {"intValue": 201}}],
           "status": {"code": 1}}
        ]
      }]
    },
    {
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
      "instrumentationLibrarySpans": [{
        "spans": [
          {"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "0A0B0C0D0E0F1011", "parentSpanId": "EEE19B7EC3C1B173",
           "name": "charge", "kind": "SPAN_KIND_SERVER",
           "startTimeUnixNano": "1746259200010000000", "endTimeUnixNano": "1746259200140000000",
           "status": {"code": "STATUS_CODE_ERROR", "message": "card declined"}}
        ]
      }]
    }
  ]
}"#;

#[test]
fn documented_search_and_trace_shapes() {
    let hits = search(200, SEARCH.as_bytes()).expect("search");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].trace_id, "2f3e0cee77ae5dc9c17ade3689eb2e54");
    assert_eq!(hits[0].root_service, "shop-backend");
    assert_eq!(hits[0].duration_ms, 557);
    assert_eq!(hits[0].start_unix_nanos, 1_684_778_327_699_392_724);
    assert!(search(200, b"{}").expect("empty").is_empty());
    assert!(search(400, b"invalid TraceQL").is_err());
    assert!(search(200, br#"{"traces": [{"rootServiceName": "x"}]}"#).is_err());

    let trace = trace(200, TRACE.as_bytes()).expect("trace");
    assert_eq!(trace.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(trace.spans.len(), 2);
    assert_eq!(trace.spans[0].parent_span_id, None);
    assert_eq!(trace.spans[0].duration_nanos, 145_000_000);
    assert!(!trace.spans[0].error);
    assert_eq!(trace.spans[1].service, "payments");
    assert!(trace.spans[1].error);
    let calls = service_calls(&[trace]);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].caller.as_str(), calls[0].callee.as_str()),
        ("order-service", "payments")
    );
    assert_eq!(calls[0].errors, 1);
    let v2 = TRACE.replacen("\"batches\"", "\"trace\": {\"resourceSpans\"", 1) + "}";
    assert_eq!(
        super::parse::trace(200, v2.as_bytes())
            .expect("v2")
            .spans
            .len(),
        2
    );
}

#[test]
fn traceql_quotes_service_names() {
    assert_eq!(
        traceql_for_service("pay\"ments", true),
        r#"{ resource.service.name = "pay\"ments" && status = error }"#
    );
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = search(200, &body);
        let _ = trace(200, &body);
    }
}

fn span(
    id: &str,
    parent: Option<&str>,
    service: &str,
    start_ms: u64,
    ms: u64,
    error: bool,
) -> Span {
    Span {
        trace_id: "00000000000000000000000000000abc".into(),
        span_id: id.into(),
        parent_span_id: parent.map(str::to_string),
        service: service.into(),
        operation: format!("{service} handler"),
        start_unix_nanos: 1_764_140_400_000_000_000 + start_ms * 1_000_000,
        duration_nanos: ms * 1_000_000,
        error,
    }
}

#[tokio::test]
async fn client_against_a_wire_exact_fake() {
    let trace = Trace {
        trace_id: "00000000000000000000000000000abc".into(),
        spans: vec![
            span("00000000000000a1", None, "checkout", 0, 2300, true),
            span(
                "00000000000000a2",
                Some("00000000000000a1"),
                "payments",
                5,
                2250,
                true,
            ),
            span(
                "00000000000000a3",
                Some("00000000000000a2"),
                "payments-db",
                10,
                2200,
                true,
            ),
        ],
    };
    let base = FakeTempo::new(vec![trace.clone()]).serve().await;
    let client = TempoClient::new(TempoConfig::new(
        "tempo",
        HttpUrl::parse(&base).expect("url"),
    ))
    .expect("client");
    let query = traceql_for_service("payments-db", true);
    let hits = client
        .search(&query, 1_764_140_000, 1_764_141_000, 10)
        .await
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].root_service, "checkout");
    let traces = client
        .traces(&query, 1_764_140_000, 1_764_141_000, 10)
        .await
        .expect("traces");
    assert_eq!(traces, [trace]);
    let path = ["checkout", "payments", "payments-db"].map(String::from);
    let evidence = spans_on_path(&traces, &path, 5, |id| client.link(id));
    assert_eq!(evidence[0].service, "checkout");
    assert!(evidence[0]
        .link
        .ends_with("/api/traces/00000000000000000000000000000abc"));

    let none = client
        .search(
            &traceql_for_service("search", false),
            1_764_140_000,
            1_764_141_000,
            10,
        )
        .await
        .expect("search");
    assert!(none.is_empty());
    match client.search("not traceql", 0, 1, 1).await {
        Err(TraceError::Status {
            status: 400,
            reason,
            ..
        }) => assert!(reason.contains("TraceQL")),
        other => panic!("expected a 400, got {other:?}"),
    }
    match client.trace("ffff").await {
        Err(TraceError::Status { status: 404, .. }) => {}
        other => panic!("expected a 404, got {other:?}"),
    }
}
