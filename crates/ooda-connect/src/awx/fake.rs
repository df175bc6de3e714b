//! A fake AWX controller on a loopback port, answering with the shapes AWX documents and
//! implements: `POST job_templates/{id}/launch/` → 201 with `job`, `ignored_fields` (launch
//! fields the template does not prompt for) and the job record, a `Location` header;
//! `GET jobs/{id}/` walking `pending → running → successful|failed`; `GET
//! jobs/{id}/stdout/?format=txt`; `POST jobs/{id}/cancel/` (202, or 405 once finished); token
//! auth (`Authorization: Bearer`). For tests and the lab; it never listens beyond 127.0.0.1.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

/// How a fake template's jobs end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeOutcome {
    Successful,
    Failed,
    /// Stays `running` until cancelled.
    Hangs,
}

/// A job template as the fake knows it.
#[derive(Debug, Clone)]
pub struct FakeTemplate {
    pub id: u64,
    pub name: String,
    pub ask_limit_on_launch: bool,
    pub ask_variables_on_launch: bool,
    pub outcome: FakeOutcome,
    /// Answer the launch with this status and a `detail` body instead (AWX errors).
    pub launch_error: Option<u16>,
}

impl FakeTemplate {
    /// A template that prompts for limit and variables and succeeds.
    pub fn prompting(id: u64, name: &str) -> Self {
        Self {
            id,
            name: name.to_owned(),
            ask_limit_on_launch: true,
            ask_variables_on_launch: true,
            outcome: FakeOutcome::Successful,
            launch_error: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeJob {
    pub id: u64,
    pub template: u64,
    pub status: &'static str,
    pub limit: String,
    pub extra_vars: Value,
    pub polls: u32,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub templates: BTreeMap<u64, FakeTemplate>,
    pub jobs: BTreeMap<u64, FakeJob>,
    /// Raw launch bodies, in order.
    pub launches: Vec<(u64, Value)>,
    pub cancels: Vec<u64>,
    /// Jobs that reached `running` and then `successful` or `failed`: what actually ran.
    pub completed: Vec<u64>,
    next_job: u64,
    token: String,
    base: String,
}

type Shared = Arc<Mutex<FakeState>>;

/// A running fake; stops when dropped.
pub struct FakeAwx {
    pub addr: SocketAddr,
    pub state: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeAwx {
    /// Starts on a free loopback port, serving the API under `base_path` (`/api/v2/`).
    pub fn start(
        base_path: &str,
        token: &str,
        templates: Vec<FakeTemplate>,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(FakeState {
            templates: templates.into_iter().map(|t| (t.id, t)).collect(),
            next_job: 100,
            token: token.to_owned(),
            base: base_path.to_owned(),
            ..FakeState::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route(
                &format!("{base_path}job_templates/:id/launch/"),
                post(launch),
            )
            .route(&format!("{base_path}jobs/:id/"), get(job))
            .route(&format!("{base_path}jobs/:id/stdout/"), get(stdout))
            .route(&format!("{base_path}jobs/:id/cancel/"), post(cancel))
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "fake awx runtime");
                    return;
                }
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn snapshot<T>(&self, read: impl FnOnce(&FakeState) -> T) -> T {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        read(&state)
    }
}

impl Drop for FakeAwx {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

fn authorized(state: &FakeState, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(format!("Bearer {}", state.token).as_str())
}

fn job_record(state: &FakeState, job: &FakeJob) -> Value {
    json!({
        "id": job.id,
        "type": "job",
        "url": format!("{}jobs/{}/", state.base, job.id),
        "job_template": job.template,
        "status": job.status,
        "failed": matches!(job.status, "failed" | "error"),
        "limit": job.limit,
        "extra_vars": job.extra_vars.to_string(),
        "job_explanation": if job.status == "canceled" { "Job canceled by user" } else { "" },
    })
}

async fn launch(
    State(state): State<Shared>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if !authorized(&state, &headers) {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        );
    }
    let Some(template) = state.templates.get(&id).cloned() else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    if let Some(code) = template.launch_error {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return detail(status, "A server error has occurred.");
    }
    let request: Value = match serde_json::from_str(&body) {
        Ok(value) => value,
        Err(e) => return detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}")),
    };
    state.launches.push((id, request.clone()));
    let mut ignored = Map::new();
    let mut limit = String::new();
    let mut extra_vars = json!({});
    if let Some(value) = request.get("limit") {
        if template.ask_limit_on_launch {
            limit = value.as_str().unwrap_or_default().to_owned();
        } else {
            ignored.insert("limit".into(), value.clone());
        }
    }
    if let Some(value) = request.get("extra_vars") {
        if template.ask_variables_on_launch {
            extra_vars = value.clone();
        } else {
            ignored.insert("extra_vars".into(), value.clone());
        }
    }
    state.next_job += 1;
    let job = FakeJob {
        id: state.next_job,
        template: id,
        status: "pending",
        limit,
        extra_vars,
        polls: 0,
    };
    state.jobs.insert(job.id, job.clone());
    let mut body = Map::new();
    body.insert("job".into(), json!(job.id));
    body.insert("ignored_fields".into(), Value::Object(ignored));
    if let Value::Object(record) = job_record(&state, &job) {
        body.extend(record);
    }
    let location = format!("{}jobs/{}/", state.base, job.id);
    (
        StatusCode::CREATED,
        [("location", location)],
        Json(Value::Object(body)),
    )
        .into_response()
}

async fn job(State(state): State<Shared>, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
    if !authorized(&guard, &headers) {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        );
    }
    let state = &mut *guard;
    let Some(job) = state.jobs.get_mut(&id) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let outcome = state
        .templates
        .get(&job.template)
        .map_or(FakeOutcome::Successful, |t| t.outcome);
    job.polls += 1;
    job.status = match (job.status, outcome) {
        ("pending", _) => "running",
        ("running", FakeOutcome::Successful) => "successful",
        ("running", FakeOutcome::Failed) => "failed",
        (status, _) => status,
    };
    if matches!(job.status, "successful" | "failed") && !state.completed.contains(&id) {
        state.completed.push(id);
    }
    let job = job.clone();
    Json(job_record(state, &job)).into_response()
}

async fn stdout(
    State(state): State<Shared>,
    Path(id): Path<u64>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = state.lock().unwrap_or_else(|e| e.into_inner());
    if !authorized(&state, &headers) {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        );
    }
    let Some(job) = state.jobs.get(&id) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    if query.get("format").map(String::as_str) != Some("txt") {
        return detail(
            StatusCode::NOT_ACCEPTABLE,
            "Could not satisfy the request Accept header.",
        );
    }
    let recap = match job.status {
        "successful" => "ok=3    changed=1    unreachable=0    failed=0",
        "failed" => "ok=1    changed=0    unreachable=0    failed=1",
        _ => "",
    };
    let text = format!(
        "PLAY [patch] *******************************************************************\n\nTASK [Gathering Facts] *********************************************************\nok: [{limit}]\n\nPLAY RECAP *********************************************************************\n{limit} : {recap}\n",
        limit = job.limit
    );
    (
        StatusCode::OK,
        [("content-type", "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn cancel(State(state): State<Shared>, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if !authorized(&state, &headers) {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        );
    }
    let Some(job) = state.jobs.get_mut(&id) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    if !matches!(job.status, "new" | "pending" | "waiting" | "running") {
        return detail(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method \"POST\" not allowed.",
        );
    }
    job.status = "canceled";
    state.cancels.push(id);
    StatusCode::ACCEPTED.into_response()
}
