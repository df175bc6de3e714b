//! Against Debian's real Alertmanager: push ooda alerts and read them back, receive its webhook
//! (v4) on a local server and parse it, and honour a silence created in it.

use std::collections::BTreeMap;

use axum::routing::post;
use axum::Router;
use ooda_core::value::HttpUrl;
use ooda_core::{Alert, AlertId, AlertKind, AlertState, Severity};
use tokio::sync::mpsc;

use super::parse::FINGERPRINT_LABEL;
use super::{webhook, AlertmanagerClient, AlertmanagerConfig};
use crate::testkit::{self, Server};

fn alertmanager(webhook_url: &str) -> Server {
    testkit::alertmanager(Some(webhook_url))
}

fn alert(host: &str, state: AlertState) -> Alert {
    let now = chrono::Utc::now();
    Alert {
        id: AlertId::new(),
        fingerprint: format!("fp-{host}"),
        host: Some(host.into()),
        kind: AlertKind::Baseline,
        severity: Severity::Critical,
        state,
        summary: format!("cpu on {host} far above baseline"),
        probable_cause: None,
        members: Vec::new(),
        labels: BTreeMap::new(),
        opened_at: now - chrono::Duration::minutes(1),
        updated_at: now,
        enrichment: Vec::new(),
    }
}

#[tokio::test]
async fn alertmanager_round_trip_webhook_and_silence() {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let hook = Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body.to_vec());
                "ok"
            }
        }),
    );
    let hook_base = testkit::serve(hook).await;
    let am = alertmanager(&format!("{hook_base}/hook"));
    let client = AlertmanagerClient::new(AlertmanagerConfig::new(
        "local",
        HttpUrl::parse(&am.url()).expect("url"),
    ))
    .expect("client");

    // Out: push, then read back.
    let pushed = client
        .push(&[alert("web-1", AlertState::Firing)])
        .await
        .expect("push");
    assert_eq!(pushed, 1);
    let held = client.alerts().await.expect("alerts");
    let ours = held
        .iter()
        .find(|a| a.labels.get(FINGERPRINT_LABEL).map(String::as_str) == Some("fp-web-1"))
        .unwrap_or_else(|| panic!("pushed alert not in Alertmanager: {held:?}"));
    assert_eq!(ours.labels["severity"], "critical");
    assert_eq!(ours.labels["alertname"], "ooda_baseline");

    // In: Alertmanager routes ooda's own alert back to the webhook; that echo is not a new
    // alert (it carries ooda's fingerprint), so it parses into nothing.
    let body = testkit::eventually("the webhook from Alertmanager", || {
        let got = rx.try_recv().ok();
        async move { got }
    })
    .await;
    assert!(String::from_utf8_lossy(&body).contains(FINGERPRINT_LABEL));
    let echoed = webhook(&body, chrono::Utc::now())
        .unwrap_or_else(|e| panic!("{e}; body: {}", String::from_utf8_lossy(&body)));
    assert!(echoed.is_empty(), "echo taken back in: {echoed:?}");

    // A foreign alert (as Prometheus posts it) comes in as an External alert.
    let http = reqwest::Client::new();
    let post_foreign = |ends_at: Option<String>| {
        let mut alert = serde_json::json!({
            "labels": {"alertname": "HighLatency", "host": "web-2", "severity": "warning"},
            "annotations": {"summary": "p99 latency on web-2 above 2 s"},
            "startsAt": (chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339(),
        });
        if let Some(end) = ends_at {
            alert["endsAt"] = serde_json::Value::String(end);
        }
        http.post(format!("{}/api/v2/alerts", am.url()))
            .json(&serde_json::json!([alert]))
            .send()
    };
    let sent = post_foreign(None).await.expect("post foreign alert");
    assert!(sent.status().is_success(), "{}", sent.status());
    let incoming = testkit::eventually("the foreign alert's webhook", || {
        let got = rx.try_recv().ok();
        async move {
            let alerts = webhook(&got?, chrono::Utc::now()).ok()?;
            (!alerts.is_empty()).then_some(alerts)
        }
    })
    .await;
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0].kind, AlertKind::External);
    assert_eq!(incoming[0].host.as_deref(), Some("web-2"));
    assert_eq!(incoming[0].state, AlertState::Firing);
    assert_eq!(incoming[0].summary, "p99 latency on web-2 above 2 s");
    // Loop guard: what came from Alertmanager is never pushed back.
    assert_eq!(client.push(&incoming).await.expect("push"), 0);

    // Resolve: the foreign alert ends, Alertmanager sends a resolved notification.
    let sent = post_foreign(Some(
        (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339(),
    ))
    .await
    .expect("post resolved");
    assert!(sent.status().is_success());
    let resolved = testkit::eventually("a resolved webhook", || {
        let got = rx.try_recv().ok();
        async move {
            let alerts = webhook(&got?, chrono::Utc::now()).ok()?;
            alerts.into_iter().find(|a| a.state == AlertState::Resolved)
        }
    })
    .await;
    assert_eq!(resolved.host.as_deref(), Some("web-2"));

    // Silences: one made in Alertmanager (by a person; here by the test) holds back ooda's alert.
    let now = chrono::Utc::now();
    let silence = serde_json::json!({
        "matchers": [{"name": "host", "value": "db-.*", "isRegex": true, "isEqual": true}],
        "startsAt": (now - chrono::Duration::minutes(1)).to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "ooda-test",
        "comment": "maintenance"
    });
    let created = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", am.url()))
        .json(&silence)
        .send()
        .await
        .expect("create silence");
    assert!(
        created.status().is_success(),
        "{}",
        created.text().await.unwrap_or_default()
    );
    let silences = client.silences().await.expect("silences");
    assert_eq!(silences.len(), 1);
    let db = alert("db-7", AlertState::Firing);
    let holding = silences
        .silences(&db, chrono::Utc::now())
        .expect("db-7 is silenced");
    assert_eq!(holding.comment, "maintenance");
    assert!(silences
        .silences(&alert("web-1", AlertState::Firing), chrono::Utc::now())
        .is_none());

    // Alertmanager agrees: the same alert pushed is suppressed there too.
    client.push(&[db]).await.expect("push silenced");
    let state = testkit::eventually("Alertmanager to mark db-7 suppressed", || {
        let client = client.clone();
        async move {
            let alerts = client.alerts().await.ok()?;
            let db = alerts
                .into_iter()
                .find(|a| a.labels.get("host").map(String::as_str) == Some("db-7"))?;
            (db.status.state == "suppressed").then_some(db.status.silenced_by.len())
        }
    })
    .await;
    assert_eq!(state, 1);
}
