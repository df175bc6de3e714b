//! Against a fake that answers with the Table API's documented shapes and checks what a real
//! instance would: path, query parameters, headers, basic auth and body fields.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{patch, post};
use axum::{Json, Router};
use ooda_core::value::{HttpUrl, Secret};
use ooda_core::{ActionId, ChangeDraft, ChangeError, ChangeRecords, ChangeStatus, RiskClass};
use serde_json::{json, Value};

use super::parse::{self, Answer};
use super::{ServiceNowChanges, ServiceNowConfig};
use crate::http::Auth;
use crate::testkit;

const SYS_ID: &str = "c83c5e5347c12200e0ef563dbb9a7190";
const NOT_AUTHENTICATED: &str = r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#;
const NO_RECORD: &str = r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;

#[derive(Default)]
struct Seen {
    created: Vec<Value>,
    patched: Vec<Value>,
}

type Shared = Arc<Mutex<Seen>>;

fn basic_ok(headers: &HeaderMap) -> bool {
    // "ooda:s3cret" in base64.
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Basic b29kYTpzM2NyZXQ=")
}

fn json_headers_ok(headers: &HeaderMap) -> bool {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    get("accept") == "application/json" && get("content-type").starts_with("application/json")
}

async fn create(
    State(seen): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, String) {
    if !basic_ok(&headers) {
        return (StatusCode::UNAUTHORIZED, NOT_AUTHENTICATED.into());
    }
    assert!(json_headers_ok(&headers), "{headers:?}");
    assert_eq!(
        query.get("sysparm_input_display_value").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        query.get("sysparm_fields").map(String::as_str),
        Some("sys_id,number")
    );
    seen.lock().unwrap().created.push(body);
    (
        StatusCode::CREATED,
        json!({"result": {"sys_id": SYS_ID, "number": "CHG0030002"}}).to_string(),
    )
}

async fn update(
    State(seen): State<Shared>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, String) {
    assert!(basic_ok(&headers) && json_headers_ok(&headers));
    if sys_id != SYS_ID {
        return (StatusCode::NOT_FOUND, NO_RECORD.into());
    }
    seen.lock().unwrap().patched.push(body);
    (
        StatusCode::OK,
        json!({"result": {"sys_id": SYS_ID, "number": "CHG0030002"}}).to_string(),
    )
}

fn draft() -> ChangeDraft {
    ChangeDraft {
        action: ActionId::from_u128(42),
        summary: "ooda: restart_service on web-1".into(),
        description: "nginx stopped answering".into(),
        host: "web-1".into(),
        risk: RiskClass::Medium,
        fields: [("u_team".to_owned(), "platform".to_owned())]
            .into_iter()
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opens_and_closes_a_change_request_through_the_port() {
    let seen = Shared::default();
    let router = Router::new()
        .route("/api/now/table/change_request", post(create))
        .route("/api/now/table/change_request/:sys_id", patch(update))
        .with_state(seen.clone());
    let base = testkit::serve(router).await;
    std::env::set_var("OODA_TEST_SN_PASSWORD", "s3cret");
    let mut config = ServiceNowConfig::new(HttpUrl::parse(&base).unwrap());
    config.auth = Auth::Basic {
        username: "ooda".into(),
        password: Secret::Env("OODA_TEST_SN_PASSWORD".into()),
    };
    config.assignment_group = Some("Platform".into());
    let changes = ServiceNowChanges::new(config.clone()).unwrap();
    // The port is synchronous: async callers use spawn_blocking, as the gate's callers do.
    let (change, missing) = tokio::task::spawn_blocking(move || {
        let change = changes.open(&draft()).unwrap();
        changes
            .update(
                &change,
                ChangeStatus::Succeeded,
                "restarted, health check green",
            )
            .unwrap();
        let mut missing = change.clone();
        missing.id = "nope".into();
        let missing = changes.update(&missing, ChangeStatus::Failed, "x");
        (change, missing)
    })
    .await
    .unwrap();
    assert_eq!(
        (
            change.system.as_str(),
            change.id.as_str(),
            change.number.as_str()
        ),
        ("servicenow", SYS_ID, "CHG0030002")
    );
    match missing {
        Err(ChangeError::Rejected { status: 404, body }) => {
            assert!(body.contains("No Record found"), "{body}")
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    {
        let seen = seen.lock().unwrap();
        let created = &seen.created[0];
        assert_eq!(
            created["short_description"],
            "ooda: restart_service on web-1"
        );
        assert_eq!(created["type"], "normal");
        assert_eq!(created["risk"], "3");
        assert_eq!(created["cmdb_ci"], "web-1");
        assert_eq!(created["assignment_group"], "Platform");
        assert_eq!(created["u_team"], "platform");
        assert_eq!(
            created["correlation_id"],
            ActionId::from_u128(42).to_string()
        );
        assert_eq!(seen.patched[0]["close_code"], "successful");
        assert_eq!(seen.patched[0]["state"], "0");
    }

    // Wrong credentials: ServiceNow's 401 shape, surfaced with its message.
    let mut bad = config;
    bad.auth = Auth::None;
    let client = ServiceNowChanges::new(bad).unwrap();
    let err = tokio::task::spawn_blocking(move || client.open(&draft()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, ChangeError::Rejected { status: 401, body } if body.contains("User Not Authenticated")),
        "{err}"
    );
}

#[test]
fn decoding_documented_and_broken_answers() {
    assert_eq!(
        parse::answer(
            201,
            format!(r#"{{"result":{{"sys_id":"{SYS_ID}","number":"CHG0030002"}}}}"#).as_bytes()
        ),
        Answer::Record {
            sys_id: SYS_ID.into(),
            number: "CHG0030002".into()
        }
    );
    assert_eq!(
        parse::answer(404, NO_RECORD.as_bytes()),
        Answer::Error {
            status: 404,
            message: "No Record found: Record doesn't exist or ACL restricts the record retrieval"
                .into()
        }
    );
    assert!(
        matches!(parse::answer(500, b"<html>oops</html>"), Answer::Error { status: 500, ref message } if message.contains("oops"))
    );
    assert!(matches!(parse::answer(200, b"{}"), Answer::Malformed(_)));
    assert!(matches!(
        parse::answer(200, br#"{"result":{"sys_id":""}}"#),
        Answer::Malformed(_)
    ));
    assert_eq!(
        parse::update_body(ChangeStatus::Failed, "n")["close_code"],
        "unsuccessful"
    );
    assert!(
        parse::update_body(ChangeStatus::Unknown, "n")
            .get("state")
            .is_none(),
        "unknown leaves state alone"
    );
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(status in 100u16..600, body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = parse::answer(status, &body);
    }
}
