//! Handlers. Errors become [`ApiError`]: the client gets a status and a short message, the log
//! keeps the detail.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::{AppState, SourceStatus};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("not available: {0}")]
    Unavailable(&'static str),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "api request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

pub(crate) fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/status", get(status))
        .route("/kill-switch", get(kill_switch_state).post(kill_switch_set))
        .route(
            "/alerts/alertmanager",
            axum::routing::post(alertmanager_webhook),
        )
        .route("/alerts/:id/incident", get(alert_incident))
        .layer(middleware::from_fn_with_state(state, require_token))
}

/// Alertmanager's webhook receiver (`webhook_configs: [{url: …/api/v1/alerts/alertmanager}]`).
/// A body that is not a webhook payload is refused with the reason; nothing of it is routed.
async fn alertmanager_webhook(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let inbound = state
        .inbound_alerts
        .as_ref()
        .ok_or(ApiError::Unavailable("alert intake is not running"))?;
    match inbound(&body) {
        Ok(accepted) => Ok(Json(serde_json::json!({ "accepted": accepted }))),
        Err(reason) => Err(ApiError::BadRequest(reason)),
    }
}

/// The incident an alert belongs to (the link ooda puts on the alerts it pushes to
/// Alertmanager): the incident record as stored, with its state, title, cause and timeline.
async fn alert_incident(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let alert: ooda_core::AlertId = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("alert id {id:?}: expected a UUID")))?;
    let read = |key: String| {
        state
            .store
            .kv_get(&key)
            .map_err(|e| ApiError::Internal(format!("{key}: {e}")))
    };
    let incident = read(format!("incident/alert/{alert}"))?
        .ok_or_else(|| ApiError::NotFound(format!("no incident has alert {alert} (yet)")))?;
    let record = read(format!("incident/{}", incident.trim()))?
        .ok_or_else(|| ApiError::NotFound(format!("incident {incident}")))?;
    serde_json::from_str(&record)
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("incident {incident}: {e}")))
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(expected) = &state.api_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(next.run(request).await)
}

/// Compares without an early exit, so response time does not leak how much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    if state.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let uptime = (state.clock.now() - state.started_at).num_seconds();
    state.telemetry.uptime_seconds.set(uptime);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry.encode(),
    )
}

/// `GET /api/v1/status`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub uptime_seconds: i64,
    pub ready: bool,
    pub sources: Vec<SourceStatus>,
    pub series: u64,
    pub last_sample_time: Option<chrono::DateTime<chrono::Utc>>,
    pub events_stored: u64,
}

async fn status(State(state): State<Arc<AppState>>) -> Result<Json<Status>, ApiError> {
    let store = state.store.clone();
    let (summary, events) = tokio::task::spawn_blocking(move || {
        Ok::<_, ooda_store::StoreError>((store.series_summary()?, store.event_count()?))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = state.clock.now();
    Ok(Json(Status {
        version: env!("CARGO_PKG_VERSION"),
        started_at: state.started_at,
        uptime_seconds: (now - state.started_at).num_seconds(),
        ready: state.is_ready(),
        sources: state.sources.read().map(|s| s.clone()).unwrap_or_default(),
        series: summary.series,
        last_sample_time: summary.last_sample_ms.map(ooda_core::clock::from_millis),
        events_stored: events,
    }))
}

/// `GET /api/v1/kill-switch`.
async fn kill_switch_state(
    State(state): State<Arc<AppState>>,
) -> Result<Json<ooda_govern::KillSwitchState>, ApiError> {
    let switch = state
        .kill_switch
        .clone()
        .ok_or(ApiError::Unavailable("kill switch"))?;
    let read = tokio::task::spawn_blocking(move || switch.state())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(read))
}

/// `POST /api/v1/kill-switch` with `{"on": true, "by": "alice", "reason": "…"}`. Audited by
/// governance; takes effect for every gate decision within a second.
async fn kill_switch_set(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Result<Json<ooda_govern::KillSwitchState>, ApiError> {
    let switch = state
        .kill_switch
        .clone()
        .ok_or(ApiError::Unavailable("kill switch"))?;
    let request = ooda_govern::api::parse_kill_switch(&body)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let by = request.by.unwrap_or_else(|| "api".to_owned());
    let set = tokio::task::spawn_blocking(move || switch.set(request.on, &by, &request.reason))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::warn!(on = set.on, by = %set.by, reason = %set.reason, "kill switch set through the API");
    Ok(Json(set))
}

#[cfg(test)]
mod tests;
