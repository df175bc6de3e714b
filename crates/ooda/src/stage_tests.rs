//! The incident stage exactly as `ooda up` assembles it (`cli::data_dir::open`,
//! `Notifications::start`, `respond::build` with the agent's telemetry), driven with one action
//! through its Gate: the change record, the notification and the metric it must leave behind,
//! and the one kill switch the CLI, the API and the Gate share with `[store] path` set.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use ooda_core::{Action, ActionId, ActionRequest, ChangeStatus, Host, Principal};
use ooda_govern::{Decision, Refusal};
use ooda_server::Telemetry;

use crate::cli::{GlobalArgs, LogFormat};

type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

/// A webhook receiver on a free loopback port; answers 204 and keeps every body.
async fn receiver() -> (String, Seen) {
    async fn hook(State(seen): State<Seen>, Json(body): Json<serde_json::Value>) -> StatusCode {
        seen.lock().map(|mut s| s.push(body)).ok();
        StatusCode::NO_CONTENT
    }
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn config(root: &Path, extra: &str) -> ooda_config::Config {
    let text = format!(
        r#"version = 1
logs = []
# The agent's own host is web-1: the local actuator acts on it alone.
[[sources]]
kind = "host"
name = "host"
host_label = "web-1"
[store]
kind = "sqlite"
path = "{}"
[governance.autonomy]
default = "L4"
[incident.actuator]
clean_allowlist = ["{}"]
{extra}"#,
        root.join("elsewhere").join("state.sqlite").display(),
        root.join("scratch").display(),
    );
    ooda_config::check(&text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn global(root: &Path) -> GlobalArgs {
    GlobalArgs {
        data_dir: root.join("data"),
        config: None,
        log_format: LogFormat::Pretty,
    }
}

/// Builds the stage the way `ooda up` does.
fn stage(
    global: &GlobalArgs,
    config: &ooda_config::Config,
    telemetry: &Telemetry,
) -> (ooda_govern::Home, ooda_agent::respond::IncidentStage) {
    let home = crate::cli::data_dir::open(global, config).unwrap();
    let notifications =
        ooda_agent::notifications::Notifications::start(&config.notify, telemetry.clone()).unwrap();
    let stage = ooda_agent::respond::build(ooda_agent::respond::StageParts {
        config,
        home: &home,
        store: home.store.clone(),
        clock: home.clock.clone(),
        monitor: Arc::new(ooda_agent::pipeline::LiveView::default()),
        logs: Vec::new(),
        on_fallback: Arc::new(|_| {}),
        notifications,
        telemetry: telemetry.clone(),
    })
    .unwrap();
    (home, stage)
}

fn clean(root: &Path, confidence: f64) -> ActionRequest {
    ActionRequest {
        id: ActionId::new(),
        action: Action::CleanPath {
            path: root.join("scratch").display().to_string(),
        },
        host: Host::new("web-1"),
        incident: None,
        confidence,
        requested_by: Principal::Agent("incident".into()),
        reason: "disk full on web-1: scratch files".into(),
        idempotency_key: None,
        revert: false,
    }
}

/// Polls the receiver (delivery is asynchronous by design: the Gate never waits for a webhook).
async fn received(seen: &Seen, count: usize) -> Vec<serde_json::Value> {
    for _ in 0..600 {
        let got = seen.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the webhook received {:?}, expected {count} notices",
        seen.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_action_through_the_gate_opens_and_closes_a_change_notifies_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    std::fs::write(root.join("scratch").join("core.1234"), b"junk").unwrap();
    let (hook, seen) = receiver().await;
    let config = config(
        root,
        &format!("[[notify]]\nkind = \"webhook\"\nname = \"ops\"\nurl = \"{hook}\"\n"),
    );
    let global = global(root);
    let telemetry = Telemetry::new("test");
    let (home, stage) = stage(&global, &config, &telemetry);

    // 0.75 is in the shipped act-and-notify tier: ooda acts and a human hears about it.
    let request = clean(root, 0.75);
    let gate = stage.gate.clone();
    let submitted = request.clone();
    let decision = tokio::task::spawn_blocking(move || gate.submit(submitted))
        .await
        .unwrap();
    let Decision::Executed { status, change, .. } = &decision else {
        panic!("expected the action to run: {decision:?}");
    };
    assert_eq!(status.as_str(), "succeeded", "{decision:?}");
    assert!(!root.join("scratch").join("core.1234").exists());

    // The change record: opened before the action, closed with its outcome, listed by
    // `ooda changes`.
    let change = change.clone().expect("a change record");
    assert_eq!(change.system, "embedded");
    let record = ooda_govern::EmbeddedChangeRecords::new(home.store.clone(), home.clock.clone())
        .get(&change.number)
        .unwrap()
        .expect("the record is in the agent's store");
    assert_eq!(record.status, ChangeStatus::Succeeded);
    assert_eq!(record.notes.len(), 2, "opened, then closed: {record:?}");
    let rows = crate::cli::changes::rows(&home).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].number, change.number);
    assert_eq!(rows[0].outcome.as_deref(), Some("succeeded"));
    assert_eq!(rows[0].autonomy, "notify");

    // The notification, at the local receiver.
    let got = received(&seen, 1).await;
    assert_eq!(got[0]["kind"], "acted", "{got:?}");
    assert_eq!(got[0]["incident"], request.id.to_string());
    assert!(
        got[0]["text"]
            .as_str()
            .unwrap()
            .contains("clean_path on web-1"),
        "{got:?}"
    );

    // The metrics `/metrics` serves.
    let metrics = telemetry.encode();
    assert!(
        metrics.contains(r#"ooda_gate_decisions_total{outcome="executed",refusal=""} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"ooda_actions_total{kind="clean_path",status="succeeded"} 1"#),
        "{metrics}"
    );
    let sent = received(&seen, 1).await.len();
    assert_eq!(sent, 1);
    for _ in 0..600 {
        if telemetry
            .encode()
            .contains(r#"ooda_notifications_total{channel="ops",outcome="sent"} 1"#)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("delivery not counted: {}", telemetry.encode());
}

/// With `[store] path` set, the CLI, the API and the agent's Gate read and write one kill
/// switch, in the configured database (not `DATA_DIR/ooda.sqlite`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_of_the_cli_and_the_api_is_the_one_the_gate_reads() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    let config = config(root, "");
    let global = global(root);
    let telemetry = Telemetry::new("test");
    let (agent, stage) = stage(&global, &config, &telemetry);
    assert!(root.join("elsewhere").join("state.sqlite").exists());

    // `ooda kill-switch on` opens the data directory the one way every noun does.
    let cli = crate::cli::data_dir::open(&global, &config).unwrap();
    cli.kill_switch().set(true, "alice", "maintenance").unwrap();
    let gate = stage.gate.clone();
    let request = clean(root, 0.95);
    let decision = tokio::task::spawn_blocking(move || gate.submit(request))
        .await
        .unwrap();
    assert!(
        matches!(decision, Decision::Refused(Refusal::KillSwitch { ref by, .. }) if by == "alice"),
        "{decision:?}"
    );

    // The API the agent serves (built on the agent's home, as `ooda up` does) sees it and turns
    // it off; the Gate and the CLI see that.
    let state = Arc::new(
        ooda_server::AppState::new(agent.store.clone(), agent.clock.clone(), telemetry, None)
            .with_kill_switch(agent.kill_switch()),
    );
    let app = ooda_server::router(state);
    let response = app
        .clone()
        .oneshot(
            axum::http::Request::get("/api/v1/kill-switch")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let state: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(state["on"], true, "{state}");
    assert_eq!(state["by"], "alice", "{state}");
    let response = app
        .oneshot(
            axum::http::Request::post("/api/v1/kill-switch")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"on": false, "by": "bob", "reason": "done"}"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert!(!cli.kill_switch().state().unwrap().on);
    let gate = stage.gate.clone();
    let request = clean(root, 0.95);
    let decision = tokio::task::spawn_blocking(move || gate.submit(request))
        .await
        .unwrap();
    assert!(
        matches!(decision, Decision::Executed { .. }),
        "{decision:?}"
    );

    // Nothing was written to the default database beside the data directory.
    let default = ooda_store::SqliteStore::open(&root.join("data").join("ooda.sqlite")).unwrap();
    assert_eq!(
        ooda_store::Store::kv_get(&default, ooda_govern::kill_switch::KEY).unwrap(),
        None
    );
}

/// `[executors.awx]` in the agent: an allowlisted template is approved for the Gate and runs as
/// an AWX job limited to the host (a wire-exact fake controller on a loopback port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlisted_awx_template_runs_through_the_gate_on_the_controller() {
    use ooda_connect::awx::fake::{FakeAwx, FakeTemplate};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    let token = root.join("awx-token");
    std::fs::write(&token, "s3cret").unwrap();
    let fake = FakeAwx::start(
        "/api/v2/",
        "s3cret",
        vec![FakeTemplate::prompting(7, "restart-web")],
    )
    .unwrap();
    let config = config(
        root,
        &format!(
            "[executors.awx]\nurl = \"{}\"\npoll_interval = \"10ms\"\nauth = {{ kind = \"bearer\", token = \"${{file:{}}}\" }}\ntemplates = {{ restart-web = 7 }}\n",
            fake.url(),
            token.display()
        ),
    );
    let global = global(root);
    let telemetry = Telemetry::new("test");
    let (_home, stage) = stage(&global, &config, &telemetry);
    let mut request = clean(root, 0.95);
    request.action = Action::RunTemplate {
        template: "restart-web".into(),
    };
    let mut unknown = request.clone();
    unknown.id = ActionId::new();
    unknown.action = Action::RunTemplate {
        template: "drop-database".into(),
    };
    let gate = stage.gate.clone();
    let (decision, refused) =
        tokio::task::spawn_blocking(move || (gate.submit(request), gate.submit(unknown)))
            .await
            .unwrap();
    assert!(
        matches!(&decision, Decision::Executed { status, .. } if status.as_str() == "succeeded"),
        "{decision:?}"
    );
    assert!(
        matches!(refused, Decision::Refused(Refusal::Precondition { .. })),
        "a template on no allowlist is not approved: {refused:?}"
    );
    let launches = fake.snapshot(|s| s.launches.clone());
    assert_eq!(launches.len(), 1, "{launches:?}");
    assert_eq!(launches[0].0, 7);
    assert_eq!(launches[0].1["limit"], "web-1", "{launches:?}");
}
