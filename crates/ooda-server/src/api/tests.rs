use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use ooda_core::ManualClock;
use ooda_store::SqliteStore;
use tower::ServiceExt;

use crate::{router, AppState, Telemetry};

fn state(token: Option<&str>) -> Arc<AppState> {
    Arc::new(AppState::new(
        Arc::new(SqliteStore::in_memory().unwrap()),
        Arc::new(ManualClock::at_ms(1_700_000_000_000)),
        Telemetry::new("test"),
        token.map(str::to_owned),
    ))
}

async fn get(state: Arc<AppState>, path: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let resp = router(state)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = state(None);
    assert_eq!(get(s.clone(), "/healthz", None).await.0, StatusCode::OK);
    assert_eq!(
        get(s.clone(), "/readyz", None).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    s.set_ready(true);
    assert_eq!(get(s.clone(), "/readyz", None).await.0, StatusCode::OK);
    s.telemetry
        .samples
        .get_or_create(&s.telemetry.source("host"))
        .inc_by(5);
    let (code, body) = get(s, "/metrics", None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        body.contains("ooda_samples_total{source=\"host\"} 5"),
        "{body}"
    );
    assert!(body.contains("ooda_build_info"), "{body}");
}

#[tokio::test]
async fn status_reports_json() {
    let (code, body) = get(state(None), "/api/v1/status", None).await;
    assert_eq!(code, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["series"], 0);
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn token_guards_the_api_but_not_health() {
    let s = state(Some("s3cret"));
    assert_eq!(
        get(s.clone(), "/api/v1/status", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (code, body) = get(s.clone(), "/api/v1/status", Some("Bearer wrong")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(!body.contains("s3cret"));
    assert_eq!(
        get(s.clone(), "/api/v1/status", Some("Bearer s3cret"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(get(s, "/healthz", None).await.0, StatusCode::OK);
}

#[test]
fn constant_time_eq_agrees_with_eq() {
    use super::constant_time_eq;
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"", b"a"));
}

async fn post(state: Arc<AppState>, path: &str, body: &'static str) -> (StatusCode, String) {
    let resp = router(state)
        .oneshot(Request::post(path).body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn alertmanager_webhook_routes_through_the_installed_intake() {
    let path = "/api/v1/alerts/alertmanager";
    let (status, _) = post(state(None), path, "{}").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no intake installed"
    );

    let seen = Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let intake = {
        let seen = seen.clone();
        Arc::new(move |body: &[u8]| {
            if body.starts_with(b"{") {
                seen.lock().unwrap().push(body.to_vec());
                Ok(2)
            } else {
                Err("body: expected a JSON object at line 1 column 1".to_owned())
            }
        })
    };
    let with_intake = |s: Arc<AppState>| {
        Arc::new(
            Arc::try_unwrap(s)
                .unwrap()
                .with_inbound_alerts(intake.clone()),
        )
    };
    let (status, body) = post(with_intake(state(None)), path, "{\"alerts\":[]}").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"accepted\":2"), "{body}");
    let (status, body) = post(with_intake(state(None)), path, "garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("line 1 column 1"), "{body}");
    assert_eq!(seen.lock().unwrap().len(), 1, "the bad body was not routed");
}

#[tokio::test]
async fn an_alerts_incident_link_answers_once_the_incident_exists() {
    let s = state(None);
    let alert = "00000000-0000-0000-0000-000000000007";
    let path = format!("/api/v1/alerts/{alert}/incident");
    let (code, body) = get(s.clone(), &path, None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no incident has alert"), "{body}");
    s.store
        .kv_put(&format!("incident/alert/{alert}"), "inc-1")
        .unwrap();
    s.store
        .kv_put(
            "incident/inc-1",
            r#"{"id":"inc-1","state":"investigating"}"#,
        )
        .unwrap();
    let (code, body) = get(s.clone(), &path, None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(body.contains("investigating"), "{body}");
    let (code, body) = get(s, "/api/v1/alerts/not-a-uuid/incident", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
}
