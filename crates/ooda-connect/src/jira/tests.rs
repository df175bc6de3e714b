//! Against a fake that answers with Jira's documented shapes (create issue, comment,
//! transitions) and checks what a real server would: path and API version, auth, body shape
//! (plain text for v2, Atlassian Document Format for v3).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use ooda_core::value::{HttpUrl, Secret};
use ooda_core::{ActionId, ChangeDraft, ChangeError, ChangeRecords, ChangeStatus, RiskClass};
use serde_json::{json, Value};

use super::parse;
use super::{JiraChanges, JiraConfig};
use crate::http::Auth;
use crate::testkit;

#[derive(Default)]
struct Seen {
    issues: Vec<(String, Value)>,
    comments: Vec<(String, Value)>,
    transitions: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Seen>>;

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer jira-t0ken")
}

fn unauthorized() -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, json!({"errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {}}).to_string())
}

async fn create(
    State(seen): State<Shared>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, String) {
    if !authorized(&headers) {
        return unauthorized();
    }
    if body["fields"]["project"]["key"] != "OPS" {
        return (
            StatusCode::BAD_REQUEST,
            json!({"errorMessages": [], "errors": {"project": "valid project is required"}})
                .to_string(),
        );
    }
    seen.lock().unwrap().issues.push((version.clone(), body));
    (StatusCode::CREATED, json!({"id": "10000", "key": "OPS-24", "self": format!("https://jira.example/rest/api/{version}/issue/10000")}).to_string())
}

async fn comment(
    State(seen): State<Shared>,
    Path((version, key)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, String) {
    if !authorized(&headers) {
        return unauthorized();
    }
    if key != "OPS-24" {
        return (StatusCode::NOT_FOUND, json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}).to_string());
    }
    let echoed = body["body"].clone();
    seen.lock().unwrap().comments.push((version, body));
    (StatusCode::CREATED, json!({"id": "10010", "self": "https://jira.example/rest/api/2/issue/10000/comment/10010", "body": echoed, "created": "2026-01-01T00:00:00.000+0000"}).to_string())
}

async fn transitions() -> (StatusCode, String) {
    (
        StatusCode::OK,
        json!({"expand": "transitions", "transitions": [
            {"id": "21", "name": "In Progress", "to": {"id": "3", "name": "In Progress"}},
            {"id": "31", "name": "Done", "to": {"id": "10001", "name": "Done"}},
        ]})
        .to_string(),
    )
}

async fn transition(
    State(seen): State<Shared>,
    Path((version, key)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> StatusCode {
    seen.lock()
        .unwrap()
        .transitions
        .push((format!("{version}/{key}"), body));
    StatusCode::NO_CONTENT
}

fn router(seen: Shared) -> Router {
    Router::new()
        .route("/rest/api/:version/issue", post(create))
        .route("/rest/api/:version/issue/:key/comment", post(comment))
        .route(
            "/rest/api/:version/issue/:key/transitions",
            post(transition).get(transitions),
        )
        .with_state(seen)
}

fn draft() -> ChangeDraft {
    ChangeDraft {
        action: ActionId::from_u128(7),
        summary: "ooda: rotate_logs on web-1".into(),
        description: "disk 93% full".into(),
        host: "web-1".into(),
        risk: RiskClass::Low,
        fields: Default::default(),
    }
}

fn config(base: &str, version: u8) -> JiraConfig {
    std::env::set_var("OODA_TEST_JIRA_TOKEN", "jira-t0ken");
    let mut config = JiraConfig::new(HttpUrl::parse(base).unwrap(), "OPS");
    config.api_version = version;
    config.auth = Auth::Bearer {
        token: Secret::Env("OODA_TEST_JIRA_TOKEN".into()),
    };
    config.success_transition = Some("done".into());
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_create_comment_and_transition_through_the_port() {
    let seen = Shared::default();
    let base = testkit::serve(router(seen.clone())).await;
    let changes = JiraChanges::new(config(&base, 2)).unwrap();
    let change = tokio::task::spawn_blocking(move || {
        let change = changes.open(&draft()).unwrap();
        changes
            .update(&change, ChangeStatus::Implementing, "started")
            .unwrap();
        changes
            .update(&change, ChangeStatus::Succeeded, "rotated")
            .unwrap();
        change
    })
    .await
    .unwrap();
    assert_eq!(
        (
            change.system.as_str(),
            change.id.as_str(),
            change.number.as_str()
        ),
        ("jira", "10000", "OPS-24")
    );
    let seen = seen.lock().unwrap();
    let (version, issue) = &seen.issues[0];
    assert_eq!(version, "2");
    assert_eq!(issue["fields"]["summary"], "ooda: rotate_logs on web-1");
    assert_eq!(issue["fields"]["issuetype"]["name"], "Task");
    assert_eq!(issue["fields"]["labels"], json!(["ooda"]));
    assert!(issue["fields"]["description"]
        .as_str()
        .unwrap()
        .contains("disk 93% full"));
    assert_eq!(seen.comments.len(), 2);
    assert_eq!(seen.comments[1].1["body"], "ooda: succeeded: rotated");
    assert_eq!(
        seen.transitions,
        vec![("2/OPS-24".to_owned(), json!({"transition": {"id": "31"}}))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_sends_atlassian_document_format_and_errors_keep_jiras_messages() {
    let seen = Shared::default();
    let base = testkit::serve(router(seen.clone())).await;
    let mut bad_project = config(&base, 3);
    bad_project.project = "NOPE".into();
    let good = JiraChanges::new(config(&base, 3)).unwrap();
    let bad = JiraChanges::new(bad_project).unwrap();
    let (created, refused) =
        tokio::task::spawn_blocking(move || (good.open(&draft()), bad.open(&draft())))
            .await
            .unwrap();
    assert_eq!(created.unwrap().number, "OPS-24");
    match refused {
        Err(ChangeError::Rejected { status: 400, body }) => {
            assert_eq!(body, "project: valid project is required")
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let seen = seen.lock().unwrap();
    let description = &seen.issues[0].1["fields"]["description"];
    assert_eq!(description["type"], "doc");
    assert_eq!(
        description["content"][0]["content"][0]["text"],
        "disk 93% full"
    );
    assert!(JiraChanges::new({
        let mut c = config(&base, 2);
        c.api_version = 4;
        c
    })
    .is_err());
}

#[test]
fn decoding_documented_and_broken_answers() {
    assert_eq!(
        parse::created(br#"{"id":"10000","key":"OPS-24","self":"x"}"#),
        Ok(("10000".into(), "OPS-24".into()))
    );
    assert!(parse::created(br#"{"id":"10000"}"#).is_err());
    let offered =
        br#"{"transitions":[{"id":"21","name":"In Progress"},{"id":"31","name":"Done"}]}"#;
    assert_eq!(parse::transition_id(offered, "DONE"), Ok("31".into()));
    let err = parse::transition_id(offered, "Closed").unwrap_err();
    assert!(err.contains("In Progress, Done"), "{err}");
    assert_eq!(
        parse::error_message(br#"{"errorMessages":["Issue does not exist"],"errors":{}}"#),
        "Issue does not exist"
    );
    assert_eq!(
        parse::error_message(b"<html>502</html>"),
        "<html>502</html>"
    );
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256), name in ".{0,10}") {
        let _ = parse::created(&body);
        let _ = parse::transition_id(&body, &name);
        let _ = parse::error_message(&body);
    }
}
