use std::collections::BTreeMap;

use chrono::TimeZone;
use ooda_core::{Alert, AlertId, AlertKind, AlertState, Severity};

use super::parse::{self, webhook, Silence, SilenceSet, FINGERPRINT_LABEL, SOURCE_LABEL};

// The webhook payload as documented for Alertmanager's webhook_config (version 4).
const PAYLOAD: &str = r#"{
  "version": "4",
  "groupKey": "{}:{alertname=\"HighLoad\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "ooda",
  "groupLabels": {"alertname": "HighLoad"},
  "commonLabels": {"alertname": "HighLoad", "severity": "critical"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HighLoad", "instance": "web-1:9100", "severity": "critical"},
     "annotations": {"summary": "load is high", "description": "load1 above 8 for 5m"},
     "startsAt": "2026-11-26T07:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph?g0.expr=node_load1", "fingerprint": "c3a1f0e2b4d5e6f7"},
    {"status": "resolved", "labels": {"alertname": "DiskFull", "host": "db-1"},
     "annotations": {}, "startsAt": "2026-11-26T06:00:00Z", "endsAt": "2026-11-26T06:30:00Z",
     "generatorURL": "", "fingerprint": "00aa"}
  ]
}"#;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
        .single()
        .expect("time")
}

#[test]
fn webhook_v4_becomes_external_alerts() {
    let alerts = webhook(PAYLOAD.as_bytes(), now()).expect("payload");
    assert_eq!(alerts.len(), 2);
    let high = &alerts[0];
    assert_eq!(high.kind, AlertKind::External);
    assert_eq!(high.state, AlertState::Firing);
    assert_eq!(high.severity, Severity::Critical);
    assert_eq!(high.host.as_deref(), Some("web-1"));
    assert_eq!(high.summary, "load is high");
    assert_eq!(high.probable_cause.as_deref(), Some("load1 above 8 for 5m"));
    assert_eq!(high.fingerprint, "alertmanager:c3a1f0e2b4d5e6f7");
    assert_eq!(high.opened_at.timestamp_millis() % 1000, 123);
    assert_eq!(high.updated_at, now());
    assert_eq!(
        high.labels.get(SOURCE_LABEL).map(String::as_str),
        Some("alertmanager")
    );
    let again = webhook(PAYLOAD.as_bytes(), now()).expect("payload");
    assert_eq!(again[0].id, high.id, "stable ids: redelivery is idempotent");

    let disk = &alerts[1];
    assert_eq!(disk.state, AlertState::Resolved);
    assert_eq!(
        disk.severity,
        Severity::Warning,
        "no severity label reads as warning"
    );
    assert_eq!(disk.host.as_deref(), Some("db-1"));
    assert_eq!(disk.summary, "DiskFull");
    assert_eq!(disk.updated_at.to_rfc3339(), "2026-11-26T06:30:00+00:00");
}

#[test]
fn bad_payloads_are_refused_with_reasons() {
    let v3 = PAYLOAD.replace("\"version\": \"4\"", "\"version\": \"3\"");
    let err = webhook(v3.as_bytes(), now()).expect_err("v3");
    assert!(err.to_string().contains("version \"4\""), "{err}");
    let bad_time = PAYLOAD.replace("2026-11-26T07:00:00.123Z", "yesterday");
    assert!(webhook(bad_time.as_bytes(), now())
        .expect_err("time")
        .to_string()
        .contains("startsAt"));
    assert!(webhook(b"not json", now()).is_err());
}

proptest::proptest! {
    #[test]
    fn webhook_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = webhook(&body, now());
    }
}

fn ooda_alert(host: &str, state: AlertState) -> Alert {
    Alert {
        id: AlertId::from_u128(7),
        fingerprint: format!("fp-{host}"),
        host: Some(host.into()),
        kind: AlertKind::Baseline,
        severity: Severity::Critical,
        state,
        summary: "cpu far above baseline".into(),
        probable_cause: Some("runaway process".into()),
        members: Vec::new(),
        labels: BTreeMap::from([
            ("kind".into(), "baseline".into()),
            ("weird-key".into(), "x".into()),
        ]),
        opened_at: now(),
        updated_at: now() + chrono::Duration::minutes(5),
        enrichment: Vec::new(),
    }
}

#[test]
fn pushed_alerts_carry_identity_and_end_only_when_resolved() {
    let mut alert = ooda_alert("web-1", AlertState::Firing);
    alert.enrichment.push(ooda_core::alert::EnrichmentLine {
        source: "app".into(),
        template: "write <path>: No space left on device".into(),
        count: 50,
        example: "write /data/chunk-7: No space left on device".into(),
    });
    let firing = parse::postable(&alert, Some("http://ooda/"));
    assert_eq!(
        firing.annotations["log_templates"],
        "50× write <path>: No space left on device (app)"
    );
    assert_eq!(
        firing.annotations["incident_url"],
        format!("http://ooda/api/v1/alerts/{}/incident", alert.id)
    );
    assert_eq!(firing.labels["alertname"], "ooda_baseline");
    assert_eq!(firing.labels["host"], "web-1");
    assert_eq!(firing.labels["severity"], "critical");
    assert_eq!(firing.labels[FINGERPRINT_LABEL], "fp-web-1");
    assert_eq!(firing.labels["weird_key"], "x", "label names sanitised");
    assert_eq!(firing.ends_at, None);
    assert_eq!(firing.annotations["probable_cause"], "runaway process");
    let json = serde_json::to_value(&firing).expect("json");
    assert!(json.get("startsAt").is_some() && json.get("generatorURL").is_some());
    let resolved = parse::postable(&ooda_alert("web-1", AlertState::Resolved), None);
    assert!(
        !resolved.annotations.contains_key("incident_url"),
        "no agent URL known"
    );
    assert_eq!(
        resolved.ends_at.as_deref(),
        Some("2026-11-26T08:05:00.000Z")
    );
}

fn silence(matchers: &str, state: &str) -> Silence {
    serde_json::from_str(&format!(
        r#"{{"id":"s1","matchers":{matchers},"startsAt":"2026-11-26T07:00:00Z","endsAt":"2026-11-26T09:00:00Z","createdBy":"me","comment":"maint","status":{{"state":"{state}"}}}}"#
    ))
    .expect("silence")
}

#[test]
fn silences_match_like_alertmanager() {
    let set = SilenceSet::new(vec![
        silence(
            r#"[{"name":"host","value":"web-.*","isRegex":true,"isEqual":true},{"name":"severity","value":"info","isRegex":false,"isEqual":false}]"#,
            "active",
        ),
        silence(r#"[{"name":"host","value":"(","isRegex":true}]"#, "active"),
        silence(
            r#"[{"name":"host","value":"db-1","isRegex":false}]"#,
            "expired",
        ),
    ]);
    assert_eq!(set.len(), 1);
    assert_eq!(set.skipped.len(), 1, "a bad regex is skipped and reported");
    let web = ooda_alert("web-1", AlertState::Firing);
    assert!(set.silences(&web, now()).is_some());
    assert!(
        set.silences(&ooda_alert("xweb-1", AlertState::Firing), now())
            .is_none(),
        "regexes are anchored"
    );
    assert!(
        set.silences(&ooda_alert("db-1", AlertState::Firing), now())
            .is_none(),
        "expired silences ignored"
    );
    assert!(
        set.silences(&web, now() + chrono::Duration::hours(2))
            .is_none(),
        "after endsAt"
    );
    let mut info = web.clone();
    info.severity = Severity::Info;
    assert!(set.silences(&info, now()).is_none(), "negative matcher");
}

#[test]
fn echoes_of_oodas_own_pushes_are_not_taken_back_in() {
    let echo = PAYLOAD.replace(
        r#""alertname": "DiskFull", "host": "db-1""#,
        r#""alertname": "DiskFull", "host": "db-1", "ooda_fingerprint": "db-1:threshold:abc""#,
    );
    let alerts = webhook(echo.as_bytes(), now()).expect("payload");
    assert_eq!(
        alerts.len(),
        1,
        "the echo is dropped, the foreign alert kept"
    );
    assert_eq!(alerts[0].summary, "load is high");
}
