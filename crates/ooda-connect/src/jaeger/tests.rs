//! Against the documented shapes of the Jaeger query service and against the wire-exact fake.

use ooda_core::value::HttpUrl;

use super::fake::FakeJaeger;
use super::parse::{dependencies, services, traces};
use super::{JaegerClient, JaegerConfig};
use crate::traces::{Span, Trace, TraceError};

const SERVICES: &str = r#"{"data":["frontend","driver","customer","redis","mysql","route"],"total":6,"limit":0,"offset":0,"errors":null}"#;

const DEPENDENCIES: &str = r#"{"data":[{"parent":"frontend","child":"customer","callCount":1},{"parent":"customer","child":"mysql","callCount":1},{"parent":"driver","child":"redis","callCount":14}],"total":3,"limit":0,"offset":0,"errors":null}"#;

const TRACES: &str = r#"{"data":[{"traceID":"4d4e3a6c3f1a2b9e","spans":[
 {"traceID":"4d4e3a6c3f1a2b9e","spanID":"4d4e3a6c3f1a2b9e","flags":1,"operationName":"HTTP GET /dispatch","references":[],"startTime":1700000000000000,"duration":731000,
  "tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"http.status_code","type":"int64","value":200}],"logs":[],"processID":"p1","warnings":null},
 {"traceID":"4d4e3a6c3f1a2b9e","spanID":"1c2d3e4f5a6b7c8d","flags":1,"operationName":"SQL SELECT","references":[{"refType":"CHILD_OF","traceID":"4d4e3a6c3f1a2b9e","spanID":"4d4e3a6c3f1a2b9e"}],"startTime":1700000000002000,"duration":300000,
  "tags":[{"key":"error","type":"bool","value":true}],"logs":[{"timestamp":1700000000300000,"fields":[{"key":"event","type":"string","value":"error"}]}],"processID":"p2","warnings":null}],
 "processes":{"p1":{"serviceName":"frontend","tags":[{"key":"hostname","type":"string","value":"web-1"}]},"p2":{"serviceName":"mysql","tags":[]}},"warnings":null}],
 "total":0,"limit":0,"offset":0,"errors":null}"#;

const ERROR: &str = r#"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":400,"msg":"parameter 'service' is required"}]}"#;

#[test]
fn documented_shapes() {
    assert_eq!(
        services(200, SERVICES.as_bytes()).expect("services").len(),
        6
    );
    let links = dependencies(200, DEPENDENCIES.as_bytes()).expect("dependencies");
    assert_eq!(links.len(), 3);
    assert_eq!(
        (
            links[2].caller.as_str(),
            links[2].callee.as_str(),
            links[2].calls
        ),
        ("driver", "redis", 14)
    );
    let found = traces(200, TRACES.as_bytes()).expect("traces");
    assert_eq!(found.len(), 1);
    let spans = &found[0].spans;
    assert_eq!(spans[0].service, "frontend");
    assert_eq!(spans[0].parent_span_id, None);
    assert_eq!(spans[0].duration_nanos, 731_000_000);
    assert_eq!(spans[1].parent_span_id.as_deref(), Some("4d4e3a6c3f1a2b9e"));
    assert!(spans[1].error && !spans[0].error);
    let (status, reason) = traces(400, ERROR.as_bytes()).expect_err("400");
    assert_eq!(status, 400);
    assert!(reason.contains("'service' is required"));
    assert!(services(200, br#"{"data": {"a": 1}}"#).is_err());
    assert!(dependencies(200, br#"{"data": [{"parent": "a"}]}"#).is_err());
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = services(200, &body);
        let _ = traces(200, &body);
        let _ = dependencies(200, &body);
    }
}

#[tokio::test]
async fn client_against_a_wire_exact_fake() {
    let span = |id: &str, parent: Option<&str>, service: &str, error: bool| Span {
        trace_id: "00000000000000000000000000000def".into(),
        span_id: id.into(),
        parent_span_id: parent.map(str::to_string),
        service: service.into(),
        operation: "GET".into(),
        start_unix_nanos: 1_764_140_400_000_000_000,
        duration_nanos: 5_000_000,
        error,
    };
    let trace = Trace {
        trace_id: "00000000000000000000000000000def".into(),
        spans: vec![
            span("00000000000000b1", None, "checkout", false),
            span(
                "00000000000000b2",
                Some("00000000000000b1"),
                "payments",
                true,
            ),
        ],
    };
    let base = FakeJaeger::new(vec![trace.clone()]).serve().await;
    let client = JaegerClient::new(JaegerConfig::new(
        "jaeger",
        HttpUrl::parse(&base).expect("url"),
    ))
    .expect("client");
    assert_eq!(
        client.services().await.expect("services"),
        ["checkout", "payments"]
    );
    let found = client
        .traces("payments", 1_764_140_000, 1_764_141_000, 10)
        .await
        .expect("traces");
    assert_eq!(found, [trace]);
    let calls = client
        .dependencies(1_764_141_000, 3600)
        .await
        .expect("dependencies");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].caller.as_str(), calls[0].callee.as_str()),
        ("checkout", "payments")
    );
    match client.traces("", 0, 1, 1).await {
        Err(TraceError::Status {
            status: 400,
            reason,
            ..
        }) => assert!(reason.contains("service")),
        other => panic!("expected a 400, got {other:?}"),
    }
    assert!(client.link("abc").ends_with("/trace/abc"));
}
