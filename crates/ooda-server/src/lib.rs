//! The HTTP surface of a running agent: `/healthz`, `/readyz`, `/metrics` (ooda's own metrics in
//! the Prometheus text format) and the JSON API under `/api/v1`.
//!
//! Handlers only read state the pipeline publishes into [`AppState`]; they never block on the
//! pipeline. Internal errors are logged with their chain and answered with a generic message.

pub mod api;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::routing::get;
use axum::Router;
use ooda_core::{SharedClock, Timestamp};
use ooda_store::Store;
use serde::Serialize;

pub use telemetry::Telemetry;

/// What a source last did, for `/api/v1/status`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: String,
    pub interval_secs: f64,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub samples_last_round: usize,
}

/// State shared between the pipeline (writer) and the handlers (readers).
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    pub telemetry: Telemetry,
    pub started_at: Timestamp,
    pub sources: RwLock<Vec<SourceStatus>>,
    ready: AtomicBool,
    /// Bearer token for `/api/v1`, when configured.
    api_token: Option<String>,
    /// The governance kill switch, when the agent runs with governance state.
    pub kill_switch: Option<ooda_govern::KillSwitch>,
    /// Takes an Alertmanager webhook body (`POST /api/v1/alerts/alertmanager`) and routes its
    /// alerts; answers how many, or what is wrong with the body. Installed by the agent, so this
    /// crate stays free of integrations.
    pub inbound_alerts: Option<InboundAlerts>,
}

/// See [`AppState::inbound_alerts`].
pub type InboundAlerts = Arc<dyn Fn(&[u8]) -> Result<usize, String> + Send + Sync>;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        telemetry: Telemetry,
        api_token: Option<String>,
    ) -> Self {
        Self {
            started_at: clock.now(),
            store,
            clock,
            telemetry,
            sources: RwLock::new(Vec::new()),
            ready: AtomicBool::new(false),
            api_token,
            kill_switch: None,
            inbound_alerts: None,
        }
    }

    /// Exposes the kill switch on `/api/v1/kill-switch`.
    pub fn with_kill_switch(mut self, kill_switch: ooda_govern::KillSwitch) -> Self {
        self.kill_switch = Some(kill_switch);
        self
    }

    /// Accepts Alertmanager webhooks on `/api/v1/alerts/alertmanager`.
    pub fn with_inbound_alerts(mut self, inbound: InboundAlerts) -> Self {
        self.inbound_alerts = Some(inbound);
        self
    }

    /// Marks the agent ready (after the first collection round) or not (while shutting down).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Updates one source's status (inserting it on first report).
    pub fn report_source(&self, status: SourceStatus) {
        if let Ok(mut sources) = self.sources.write() {
            match sources.iter_mut().find(|s| s.name == status.name) {
                Some(existing) => *existing = status,
                None => sources.push(status),
            }
        }
    }
}

/// The router, for serving and for in-process tests.
pub fn router(state: Arc<AppState>) -> Router {
    let api = api::router(state.clone());
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .nest("/api/v1", api)
        .with_state(state)
}

/// Binds `addr` and returns the bound address with the serving future (which ends when
/// `shutdown` resolves). Binding first lets the caller print the real port of `:0`.
pub async fn bind(
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(state);
    let serve = async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    };
    Ok((local, serve))
}
