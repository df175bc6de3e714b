use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use ooda_core::value::{HttpUrl, Secret};

use super::parse::{self, host_of_instance};
use super::{PromError, PrometheusClient, PrometheusConfig, QueryValue};
use crate::http::Auth;
use crate::testkit;

// Shapes from the Prometheus HTTP API documentation.
const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[
 {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"value":[1435781451.781,"1"]},
 {"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},"value":[1435781451.781,"0"]}]}}"#;
const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"up","job":"node","instance":"localhost:9091"},"values":[[1435781430.781,"1"],[1435781445.781,"NaN"],[1435781460.781,"+Inf"]]}]},
 "warnings":["PromQL warning: something partial happened"]}"#;
const SERIES: &str = r#"{"status":"success","data":[{"__name__":"up","job":"prometheus","instance":"localhost:9090"},{"__name__":"process_start_time_seconds","job":"prometheus","instance":"localhost:9090"}]}"#;
const ERROR: &str = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#;

#[test]
fn documented_shapes_parse() {
    let r = parse::query(200, VECTOR.as_bytes()).expect("vector");
    let QueryValue::Vector(series) = r.data else {
        panic!("expected a vector")
    };
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].points, vec![(1_435_781_451_781, 1.0)]);
    let key = series[1].key("up");
    assert_eq!(key.metric, "up");
    assert_eq!(key.host(), Some("localhost"), "host derived from instance");

    let r = parse::query_range(200, MATRIX.as_bytes()).expect("matrix");
    assert_eq!(r.data[0].points.len(), 3);
    assert!(r.data[0].points[1].1.is_nan());
    assert_eq!(
        r.data[0].samples("up").len(),
        1,
        "non-finite points dropped"
    );
    assert!(r.partial, "partial warning noticed");
    assert_eq!(r.warnings.len(), 1);

    let r = parse::series(200, SERIES.as_bytes()).expect("series");
    assert_eq!(r.data.len(), 2);
    assert!(!r.partial);

    let scalar = parse::query(
        200,
        br#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}}"#,
    )
    .expect("scalar");
    assert_eq!(scalar.data, QueryValue::Scalar(1500, 2.0));
    let vm = parse::query(
        200,
        br#"{"status":"success","isPartial":true,"data":{"resultType":"vector","result":[]}}"#,
    )
    .expect("vm");
    assert!(vm.partial, "VictoriaMetrics isPartial");
}

#[test]
fn errors_keep_the_api_error_type_and_never_panic() {
    match parse::query(400, ERROR.as_bytes()) {
        Err(PromError::Api {
            status,
            error_type,
            error,
        }) => {
            assert_eq!((status, error_type.as_str()), (400, "bad_data"));
            assert!(error.contains("parse error"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    match parse::query(502, b"<html>Bad Gateway</html>") {
        Err(e @ PromError::Status { status: 502, .. }) => assert!(e.is_transient()),
        other => panic!("expected a status error, got {other:?}"),
    }
    assert!(matches!(
        parse::query(200, b"{}"),
        Err(PromError::Decode { .. })
    ));
    assert!(matches!(
        parse::query_range(200, VECTOR.as_bytes()),
        Err(PromError::Decode { .. })
    ));
    assert!(matches!(
        parse::query(200, br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#),
        Err(PromError::Decode { .. })
    ));
    for junk in [&b""[..], b"null", b"[]", b"{\"status\":1}", b"\xff\xfe"] {
        assert!(parse::query(200, junk).is_err());
    }
}

#[test]
fn instances_to_hosts() {
    assert_eq!(host_of_instance("10.0.0.1:9100"), "10.0.0.1");
    assert_eq!(host_of_instance("[::1]:9100"), "::1");
    assert_eq!(host_of_instance("web-1"), "web-1");
    assert_eq!(host_of_instance("fe80::1"), "fe80::1");
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = parse::query(200, &body);
        let _ = parse::query_range(500, &body);
        let _ = parse::series(404, &body);
    }
}

fn auth_of(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn fake_server_auth_prefix_and_http_errors() {
    let router = Router::new()
        .route(
            "/prom/api/v1/query",
            post(|headers: HeaderMap, body: String| async move {
                if auth_of(&headers) != "Bearer t0ken" {
                    return (StatusCode::UNAUTHORIZED, "unauthorized".to_string());
                }
                if body.contains("query=broken") {
                    return (StatusCode::BAD_REQUEST, ERROR.to_string());
                }
                (StatusCode::OK, VECTOR.to_string())
            }),
        )
        .route(
            "/prom/api/v1/series",
            post(|body: String| async move {
                assert!(body.contains("match%5B%5D=up"), "{body}");
                (StatusCode::SERVICE_UNAVAILABLE, "upstream down".to_string())
            }),
        );
    let base = testkit::serve(router).await;
    std::env::set_var("OODA_TEST_PROM_TOKEN", "t0ken");
    let mut config = PrometheusConfig::new(
        "fake",
        HttpUrl::parse(&format!("{base}/prom")).expect("url"),
    );
    config.auth = Auth::Bearer {
        token: Secret::Env("OODA_TEST_PROM_TOKEN".into()),
    };
    let client = PrometheusClient::new(config.clone()).expect("client");
    let ok = client.query("up", None).await.expect("query");
    assert!(matches!(ok.data, QueryValue::Vector(ref v) if v.len() == 2));
    let bad = client.query("broken", None).await.expect_err("bad query");
    assert!(
        matches!(bad, PromError::Api { status: 400, ref error_type, .. } if error_type == "bad_data")
    );
    assert!(!bad.is_transient());
    let down = client.series(&["up"], None, None).await.expect_err("503");
    assert!(matches!(down, PromError::Status { status: 503, .. }) && down.is_transient());

    config.auth = Auth::None;
    let anonymous = PrometheusClient::new(config).expect("client");
    let refused = anonymous.query("up", None).await.expect_err("401");
    assert!(
        matches!(refused, PromError::Status { status: 401, .. }),
        "{refused}"
    );

    let unreachable = PrometheusClient::new(PrometheusConfig::new(
        "gone",
        HttpUrl::parse(&format!("http://127.0.0.1:{}", testkit::free_port())).expect("url"),
    ))
    .expect("client");
    let err = unreachable
        .query("up", None)
        .await
        .expect_err("connection refused");
    assert!(err.is_transient(), "{err}");
}
