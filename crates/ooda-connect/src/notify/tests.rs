//! Against local fakes: a generic receiver and one that answers like Slack's incoming webhooks
//! (`ok` on success, 400 `invalid_payload` on a body without `text`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::*;

type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

async fn receiver() -> (String, Seen) {
    async fn generic(State(seen): State<Seen>, Json(body): Json<serde_json::Value>) -> StatusCode {
        seen.lock().unwrap().push(body);
        StatusCode::NO_CONTENT
    }
    async fn slack(
        State(seen): State<Seen>,
        Json(body): Json<serde_json::Value>,
    ) -> (StatusCode, &'static str) {
        if !body.get("text").is_some_and(|t| t.is_string()) {
            return (StatusCode::BAD_REQUEST, "invalid_payload");
        }
        seen.lock().unwrap().push(body);
        (StatusCode::OK, "ok")
    }
    async fn gone() -> (StatusCode, &'static str) {
        (StatusCode::GONE, "channel_is_archived")
    }
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/hook", post(generic))
        .route("/services/T000/B000/XXXX", post(slack))
        .route("/archived", post(gone))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn message() -> Message {
    Message {
        kind: "escalated".into(),
        incident: "0190".into(),
        title: "disk full on web-1".into(),
        text: "confidence 0.52 is below 0.65".into(),
    }
}

#[tokio::test]
async fn generic_webhook_and_slack_receive_their_shapes() {
    let (base, seen) = receiver().await;
    let generic = WebhookNotifier::new(
        format!("{base}/hook"),
        Shape::Generic,
        Duration::from_secs(5),
    )
    .unwrap();
    generic.send(&message()).await.unwrap();
    let slack = WebhookNotifier::new(
        format!("{base}/services/T000/B000/XXXX"),
        Shape::Slack,
        Duration::from_secs(5),
    )
    .unwrap();
    slack.send(&message()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0]["kind"], "escalated");
    assert_eq!(seen[0]["title"], "disk full on web-1");
    assert_eq!(
        seen[1]["text"],
        "*[escalated] disk full on web-1*\nconfidence 0.52 is below 0.65"
    );
}

#[tokio::test]
async fn rejections_and_unreachable_receivers_are_errors_not_panics() {
    let (base, _) = receiver().await;
    let archived = WebhookNotifier::new(
        format!("{base}/archived"),
        Shape::Slack,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = archived.send(&message()).await.unwrap_err().to_string();
    assert!(
        err.contains("410") && err.contains("channel_is_archived"),
        "{err}"
    );
    let nobody = WebhookNotifier::new(
        "http://127.0.0.1:9/hook",
        Shape::Generic,
        Duration::from_secs(2),
    )
    .unwrap();
    assert!(nobody.send(&message()).await.is_err());
}

#[test]
fn long_slack_texts_are_truncated() {
    let n =
        WebhookNotifier::new("http://127.0.0.1:9/", Shape::Slack, Duration::from_secs(1)).unwrap();
    let mut m = message();
    m.text = "x".repeat(10_000);
    let body = n.body(&m);
    assert!(body["text"].as_str().unwrap().chars().count() <= 3_901);
}

#[test]
fn pagerduty_events_v2_trigger_body() {
    let n = WebhookNotifier::new(
        PAGERDUTY_EVENTS_URL,
        Shape::PagerDuty {
            routing_key: "R0UTINGKEY".into(),
        },
        Duration::from_secs(1),
    )
    .unwrap();
    let mut m = message();
    m.title = "t".repeat(2_000);
    let body = n.body(&m);
    assert_eq!(body["routing_key"], "R0UTINGKEY");
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["payload"]["severity"], "critical");
    assert_eq!(body["payload"]["source"], "ooda");
    assert_eq!(body["dedup_key"], "ooda-0190-escalated");
    let summary = body["payload"]["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= 1_024, "{}", summary.len());
    assert!(
        !format!("{n:?}").contains("R0UTINGKEY"),
        "the key is never logged"
    );
}
