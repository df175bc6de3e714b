//! The running agent. [`Agent::build`] opens the data directory once (refusing a second agent):
//! one store, one audit log and one governance home for the agent, its API and every CLI noun.
//! [`Agent::start`] starts the bus and its persister, the monitor, the alert router, incident
//! response, the sources and the HTTP API; [`Running::stop`] stops them in pipeline order within
//! the shutdown grace. After a kill -9 the next build recovers (SQLite WAL, kernel-released lock).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use ooda_bus::memory::MemoryBusOptions;
use ooda_bus::MemoryBus;
use ooda_config::{BusConfig, Config, SourceConfig, StoreConfig};
use ooda_connect::host::HostSource;
use ooda_core::{Event, EventKind, Sample, SharedClock, SystemClock};
use ooda_govern::Home;
use ooda_server::{AppState, SourceStatus, Telemetry};
use ooda_store::{AgentLock, DataDir, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::pipeline::{LiveView, MonitorStage};
use crate::route::{Routed, Router};
use crate::sources::{derive_node_exporter, next_delay, prometheus_queries, Intensify};

/// Store key that is `running` while an agent runs and `stopped` after a clean stop.
const RUN_STATE_KEY: &str = "agent.run_state";

/// Opens `data_dir` as `config` says: the store (at `[store] path` when set), the audit log and
/// the governance home with the config's `[governance]` settings. The agent, its HTTP API and
/// every CLI noun open their state here, so a kill switch flipped by one is the switch the others
/// read, and `ooda incidents list` lists the agent's incidents.
pub fn open_home(data_dir: &Path, config: &Config) -> anyhow::Result<Home> {
    let StoreConfig::Sqlite(sqlite) = &config.store;
    Home::open_with(data_dir, sqlite.path.as_deref(), config.governance.clone()).with_context(
        || {
            format!(
                "opening the data directory {}{}",
                data_dir.display(),
                sqlite
                    .path
                    .as_deref()
                    .map(|p| format!(" (store {})", p.display()))
                    .unwrap_or_default()
            )
        },
    )
}

/// The agent, built and not yet running: its data directory is open and locked.
pub struct Agent {
    config: Config,
    data_dir: DataDir,
    _lock: AgentLock,
    home: Home,
    clock: SharedClock,
    /// Whether the previous run did not stop cleanly.
    recovered: bool,
}

/// The agent while it runs: where its API listens, and how to stop it.
pub struct Running {
    address: SocketAddr,
    state: Arc<AppState>,
    store: Arc<dyn Store>,
    bus: MemoryBus,
    telemetry: Telemetry,
    clock: SharedClock,
    stop_sources: watch::Sender<bool>,
    source_tasks: Vec<JoinHandle<()>>,
    /// The rollout scheduler, stopped with the sources (when `[rollouts]` is configured).
    rollouts: Option<JoinHandle<()>>,
    /// Hosts the monitor was asked to watch more closely (`monitoring.intensify`).
    intensify: Intensify,
    monitor_stop: watch::Sender<bool>,
    monitor: JoinHandle<()>,
    router_stop: watch::Sender<bool>,
    router: JoinHandle<()>,
    incidents: Option<JoinHandle<()>>,
    persister: JoinHandle<Result<(), ooda_bus::BusError>>,
    server: JoinHandle<std::io::Result<()>>,
    /// Held until the agent stopped: the data directory stays this agent's.
    _agent: Agent,
}

impl Agent {
    /// Opens `data_dir` once for everything the agent runs, and takes the agent lock on it (a
    /// second agent on the same directory is refused here).
    pub fn build(config: Config, data_dir: &Path) -> anyhow::Result<Agent> {
        let dir = DataDir::open(data_dir)?;
        let lock = dir.lock_agent()?;
        let home = open_home(data_dir, &config)?;
        let recovered = home.store.kv_get(RUN_STATE_KEY)?.as_deref() == Some("running");
        home.store.kv_put(RUN_STATE_KEY, "running")?;
        if recovered {
            tracing::warn!(
                events = home.store.event_count()?,
                "previous run did not stop cleanly; recovered from the data directory"
            );
        }
        Ok(Agent {
            config,
            data_dir: dir,
            _lock: lock,
            home,
            clock: Arc::new(SystemClock),
            recovered,
        })
    }

    /// The agent's one governance home (store, audit log, governance settings).
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Runs until `shutdown` resolves (with the reason it gives), then stops cleanly.
    pub async fn run(self, shutdown: impl Future<Output = &'static str>) -> anyhow::Result<()> {
        let running = self.start().await?;
        let reason = shutdown.await;
        running.stop(reason).await
    }

    /// Starts every stage and the HTTP API; returns once the API listens.
    pub async fn start(self) -> anyhow::Result<Running> {
        let config = &self.config;
        let store: Arc<dyn Store> = self.home.store.clone();
        let clock = self.clock.clone();
        let BusConfig::Memory(bus_config) = &config.bus;
        let bus = MemoryBus::with_options(
            clock.clone(),
            MemoryBusOptions {
                visibility_timeout: bus_config.visibility_timeout.get(),
                capacity: bus_config.capacity,
            },
        );
        let persist_subscription = ooda_bus::persist::subscribe(&bus).await?;
        let persister = tokio::spawn(ooda_bus::persist::run(persist_subscription, store.clone()));

        let api_token = match &config.server.api_token {
            Some(secret) => Some(secret.reveal().context("server.api_token")?),
            None => None,
        };
        let telemetry = Telemetry::new(env!("CARGO_PKG_VERSION"));
        // Every alert, fused here or posted by Alertmanager, goes through one ordered router.
        let (route_tx, route_rx) = tokio::sync::mpsc::channel::<Routed>(ROUTE_QUEUE);
        let inbound: ooda_server::InboundAlerts = {
            let (route_tx, clock, telemetry) = (route_tx.clone(), clock.clone(), telemetry.clone());
            Arc::new(move |body: &[u8]| {
                let alerts = ooda_connect::alertmanager::webhook(body, clock.now())
                    .map_err(|e| e.to_string())?;
                let count = alerts.len();
                for alert in alerts {
                    route_tx
                        .try_send(Routed::from_alert(alert))
                        .map_err(|_| "alert intake is full; retry later".to_owned())?;
                }
                telemetry.alerts_received.inc_by(count as u64);
                Ok(count)
            })
        };
        let state = Arc::new(
            AppState::new(store.clone(), clock.clone(), telemetry.clone(), api_token)
                .with_kill_switch(self.home.kill_switch())
                .with_inbound_alerts(inbound),
        );
        let live = Arc::new(LiveView::default());
        let logs = crate::respond::log_sources(config)?;
        let alertmanager = match &config.alertmanager {
            Some(am) => {
                let mut am = am.clone();
                // Pushed alerts link back to this agent (their incident) unless the operator
                // set where the console is; a port not yet chosen (:0) or a wildcard address
                // has no link a receiver could follow.
                let listen = config.server.listen.0;
                if am.generator_url.is_none() && listen.port() != 0 && !listen.ip().is_unspecified()
                {
                    am.generator_url =
                        ooda_core::value::HttpUrl::parse(&format!("http://{listen}")).ok();
                }
                Some(
                    ooda_connect::alertmanager::AlertmanagerClient::new(am.clone())
                        .with_context(|| format!("alertmanager {}", am.name))?,
                )
            }
            None => None,
        };
        let (monitor_stop, monitor_stop_rx) = watch::channel(false);
        let (router_stop, router_stop_rx) = watch::channel(false);
        let router = tokio::spawn(
            Router {
                bus: bus.clone(),
                telemetry: telemetry.clone(),
                clock: clock.clone(),
                live: live.clone(),
                logs: logs.clone(),
                enrichment: config.enrichment.clone(),
                alertmanager,
            }
            .run(route_rx, router_stop_rx),
        );
        let incidents = if config.incident.enabled {
            let subscription = bus.subscribe_now("incident", "incident-0")?;
            let on_fallback: Arc<dyn Fn(String) + Send + Sync> = {
                let (bus, telemetry, clock) = (bus.clone(), telemetry.clone(), clock.clone());
                Arc::new(move |message: String| {
                    ooda_server::telemetry::ReasonerFellBack { message: &message }.emit(&telemetry);
                    publish(
                        &bus,
                        &telemetry,
                        Event::new(
                            clock.now(),
                            "incident",
                            EventKind::SelfAlert {
                                component: "reasoner".to_owned(),
                                severity: ooda_core::Severity::Warning,
                                message,
                            },
                        ),
                    );
                })
            };
            let stage = crate::respond::build(crate::respond::StageParts {
                config,
                home: &self.home,
                store: store.clone(),
                clock: clock.clone(),
                monitor: live.clone(),
                logs,
                on_fallback,
                notifications: crate::notifications::Notifications::start(
                    &config.notify,
                    telemetry.clone(),
                )?,
                telemetry: telemetry.clone(),
            })?;
            Some(tokio::spawn(crate::respond::run(
                subscription,
                stage,
                config.incident.tick.get(),
                telemetry.clone(),
            )))
        } else {
            None
        };

        publish(
            &bus,
            &telemetry,
            Event::new(
                clock.now(),
                "agent",
                EventKind::AgentStarted {
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    pid: std::process::id(),
                    recovered: self.recovered,
                },
            ),
        );

        let monitor_subscription = bus.subscribe_now("monitor", "monitor-0")?;
        let (dedup, redis_dedup): (Arc<dyn ooda_monitor::Dedup>, _) = match &config.dedup {
            ooda_config::DedupConfig::Memory => (Arc::new(ooda_monitor::MemoryDedup::new()), None),
            ooda_config::DedupConfig::Redis(redis) => {
                let shared = Arc::new(ooda_connect::redis::RedisDedup::new(redis.clone()));
                if let Err(error) = shared.ping() {
                    tracing::warn!(%error, "redis dedup unreachable at start; deduplicating locally until it answers");
                }
                (shared.clone() as Arc<dyn ooda_monitor::Dedup>, Some(shared))
            }
        };
        let mut stage = MonitorStage::new(config.monitor.clone(), dedup)
            .with_live(live.clone())
            .with_watch(&config.watch);
        let queries = Arc::new(prometheus_queries(&config.watch));
        // Baselines learn from Prometheus history first, so series that already have 14 days of
        // it skip the cold start.
        for source in &config.sources {
            if let SourceConfig::Prometheus(prom_config) = source {
                backfill(prom_config, &queries, &mut stage, clock.now()).await;
            }
        }
        let intensify = Intensify::default();
        let monitor = tokio::spawn(run_monitor(
            monitor_subscription,
            stage,
            MonitorOutputs {
                bus: bus.clone(),
                telemetry: telemetry.clone(),
                clock: clock.clone(),
                intensify: intensify.clone(),
                redis_dedup,
                route: route_tx,
                stop: monitor_stop_rx,
            },
        ));

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut source_tasks = Vec::new();
        for source in &config.sources {
            let (runner, interval) = match source {
                SourceConfig::Host(host_config) => {
                    let host = HostSource::new(host_config.clone(), clock.clone());
                    (
                        Runner::Host(Arc::new(Mutex::new(host))),
                        host_config.interval.get(),
                    )
                }
                SourceConfig::Scrape(scrape_config) => {
                    let scraper = ooda_connect::scrape::Scraper::new(scrape_config.clone())
                        .with_context(|| format!("source {}", scrape_config.name))?;
                    (
                        Runner::Scrape(Box::new(scraper)),
                        scrape_config.interval.get(),
                    )
                }
                SourceConfig::Prometheus(prom_config) => {
                    let client =
                        ooda_connect::prometheus::PrometheusClient::new(prom_config.clone())
                            .with_context(|| format!("source {}", prom_config.name))?;
                    (
                        Runner::Prometheus(Box::new(client), queries.clone()),
                        prom_config.interval.get(),
                    )
                }
            };
            tracing::info!(
                source = source.name(),
                kind = source.kind(),
                ?interval,
                "source started"
            );
            source_tasks.push(tokio::spawn(run_source(
                source.name().to_owned(),
                runner,
                interval,
                SourcePipeline {
                    bus: bus.clone(),
                    store: store.clone(),
                    state: state.clone(),
                    clock: clock.clone(),
                    intensify: intensify.clone(),
                },
                stop_rx.clone(),
            )));
        }

        // Rollouts stored by `ooda patch rollout start` are carried out here, inside their
        // windows; `monitoring.intensify` for the hosts being patched goes on this bus.
        let rollouts = match &config.rollouts {
            Some(rollouts) => {
                let (engine, gate) = crate::patch::engine(crate::patch::EngineParts {
                    config,
                    home: &self.home,
                    hosts: config.hosts.clone(),
                    windows: crate::patch::read_windows(&rollouts.windows)
                        .context("rollouts.windows")?,
                    rollout: rollouts.rollout.clone(),
                    ansible: rollouts.ansible.clone(),
                    assume_drained: rollouts.assume_drained,
                    events: Arc::new(bus.clone()),
                    telemetry: telemetry.clone(),
                })
                .context("rollouts")?;
                tracing::info!(tick = ?rollouts.tick.get(), "rollout scheduler started");
                Some(tokio::spawn(crate::patch::run(
                    engine,
                    gate,
                    rollouts.tick.get(),
                    stop_rx.clone(),
                )))
            }
            None => None,
        };

        let listen = config.server.listen.0;
        let mut server_stop = stop_rx.clone();
        let (bound, serve) = ooda_server::bind(listen, state.clone(), async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        })
        .await
        .with_context(|| {
            format!("cannot listen on {listen}; pass --listen ADDR to choose another address")
        })?;
        let server = tokio::spawn(serve);
        tracing::info!(%bound, data_dir = %self.data_dir.path().display(), "ooda is up");
        if config.sources.is_empty() {
            state.set_ready(true);
        }
        Ok(Running {
            address: bound,
            state,
            store,
            bus,
            telemetry,
            clock,
            stop_sources: stop_tx,
            source_tasks,
            rollouts,
            intensify,
            monitor_stop,
            monitor,
            router_stop,
            router,
            incidents,
            persister,
            server,
            _agent: self,
        })
    }
}

impl Running {
    /// Where the HTTP API listens (the bound port when `server.listen` asked for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The collection interval the monitor asks of `host`'s sources now: `normal` unless a
    /// `monitoring.intensify` it received (a rollout patching the host) still applies.
    pub fn collection_interval(&self, host: &str, normal: Duration) -> Duration {
        self.intensify.interval(host, normal, self.clock.now_ms())
    }

    /// Stops the sources, then each stage in pipeline order, within the shutdown grace; the data
    /// directory is marked cleanly stopped only when everything drained.
    pub async fn stop(self, reason: &str) -> anyhow::Result<()> {
        tracing::info!(reason, "shutting down");
        let Running {
            state,
            store,
            bus,
            telemetry,
            clock,
            stop_sources,
            source_tasks,
            rollouts,
            monitor_stop,
            monitor,
            router_stop,
            router,
            incidents,
            persister,
            server,
            _agent,
            ..
        } = self;
        state.set_ready(false);
        let _ = stop_sources.send(true);

        let grace = ooda_config::defaults::SHUTDOWN_GRACE;
        let drained = tokio::time::timeout(grace, async {
            for task in source_tasks {
                let _ = task.await;
            }
            if let Some(rollouts) = rollouts {
                let _ = rollouts.await;
            }
            // In pipeline order, each stage finishing what the one before it handed on: the
            // monitor scores the queued samples, the router routes the alerts they raised, then
            // the bus closes and incident response and the persister drain it.
            let _ = monitor_stop.send(true);
            let _ = monitor.await;
            let _ = router_stop.send(true);
            let _ = router.await;
            publish(
                &bus,
                &telemetry,
                Event::new(
                    clock.now(),
                    "agent",
                    EventKind::AgentStopped {
                        reason: reason.to_owned(),
                    },
                ),
            );
            bus.close();
            if let Some(incidents) = incidents {
                let _ = incidents.await;
            }
            let _ = persister.await;
            let _ = server.await;
        })
        .await;
        match drained {
            Ok(()) => {
                store.kv_put(RUN_STATE_KEY, "stopped")?;
                tracing::info!("stopped cleanly");
            }
            Err(_) => tracing::warn!(
                ?grace,
                "shutdown grace exceeded; exiting with work in flight"
            ),
        }
        Ok(())
    }
}

pub(crate) fn publish(bus: &MemoryBus, telemetry: &Telemetry, event: Event) {
    let name = event.name();
    match bus.publish_now(event) {
        Ok(()) => {
            telemetry
                .events_published
                .get_or_create(&ooda_server::telemetry::EventLabels {
                    event: name.to_owned(),
                })
                .inc();
        }
        Err(error) => tracing::warn!(event = name, %error, "event not published"),
    }
    telemetry.bus_dropped.set(bus.dropped() as i64);
}

/// The monitoring stage as a bus consumer: sample batches in, alert events out.
/// Where the monitor's results go.
struct MonitorOutputs {
    bus: MemoryBus,
    telemetry: Telemetry,
    clock: SharedClock,
    intensify: Intensify,
    redis_dedup: Option<Arc<ooda_connect::redis::RedisDedup>>,
    route: tokio::sync::mpsc::Sender<Routed>,
    /// Set at shutdown once the sources stopped: score what is queued, then stop.
    stop: watch::Receiver<bool>,
}

/// Alerts waiting for the router (enrichment can take a few seconds) before the monitor waits.
const ROUTE_QUEUE: usize = 10_000;

async fn run_monitor(
    mut subscription: ooda_bus::memory::MemorySubscription,
    mut stage: MonitorStage,
    outputs: MonitorOutputs,
) {
    use ooda_bus::Subscription;
    use ooda_monitor::fusion::FusionEvent;
    let MonitorOutputs {
        bus,
        telemetry,
        clock,
        intensify,
        redis_dedup,
        route,
        mut stop,
    } = outputs;
    loop {
        let delivery = tokio::select! {
            delivery = subscription.next() => match delivery {
                Some(delivery) => delivery,
                None => break,
            },
            _ = async { let _ = stop.wait_for(|s| *s).await; } => match subscription.try_next() {
                Some(delivery) => delivery,
                None => break,
            },
        };
        if let EventKind::MonitoringIntensify {
            hosts,
            interval_secs,
            duration_secs,
        } = &delivery.event.kind
        {
            let until = clock
                .now_ms()
                .saturating_add((*duration_secs as i64).saturating_mul(1000));
            intensify.add(hosts, Duration::from_secs((*interval_secs).max(1)), until);
            tracing::info!(
                ?hosts,
                interval_secs,
                duration_secs,
                "monitoring intensified"
            );
        }
        if let EventKind::Samples { samples, .. } = &delivery.event.kind {
            match stage.ingest(samples) {
                Ok(events) => {
                    for event in events {
                        let routed = match event {
                            FusionEvent::Opened(a) => Routed::Opened(a),
                            FusionEvent::Updated(a) => Routed::Updated(a),
                            FusionEvent::Resolved(a) => Routed::Resolved(a),
                        };
                        if route.send(routed).await.is_err() {
                            tracing::error!("alert router stopped; alert not routed");
                        }
                    }
                }
                Err(error) => tracing::error!(%error, "monitoring stage failed on a batch"),
            }
            let lag_ms = clock.now_ms() - delivery.event.time.timestamp_millis();
            telemetry
                .monitor_lag_seconds
                .set(lag_ms.max(0) as f64 / 1000.0);
            telemetry.watched_series.set(stage.watched_series() as i64);
            // A lost (or regained) shared dedup store is ooda's own problem to report.
            if let Some(change) = redis_dedup.as_ref().and_then(|r| r.take_change()) {
                let (severity, message) = match change {
                    ooda_connect::redis::DedupChange::WentLocal { error } => (
                        ooda_core::Severity::Warning,
                        format!("redis dedup unreachable ({error}); deduplicating locally: other workers may page the same alert"),
                    ),
                    ooda_connect::redis::DedupChange::Recovered => (
                        ooda_core::Severity::Info,
                        "redis dedup answers again".to_owned(),
                    ),
                };
                tracing::warn!(%message, "dedup health changed");
                telemetry
                    .dedup_local
                    .set(i64::from(severity == ooda_core::Severity::Warning));
                publish(
                    &bus,
                    &telemetry,
                    Event::new(
                        clock.now(),
                        "monitor",
                        EventKind::SelfAlert {
                            component: "dedup".to_owned(),
                            severity,
                            message,
                        },
                    ),
                );
            }
        }
        subscription.ack_now(&delivery);
    }
}

/// What a source task needs to hand its samples on.
struct SourcePipeline {
    bus: MemoryBus,
    store: Arc<dyn Store>,
    state: Arc<AppState>,
    clock: SharedClock,
    intensify: Intensify,
}

/// One source of any kind, as the scheduler drives it.
enum Runner {
    Host(Arc<Mutex<HostSource>>),
    Scrape(Box<ooda_connect::scrape::Scraper>),
    /// With the queries it runs (shipped plus configured), as (name, PromQL).
    Prometheus(
        Box<ooda_connect::prometheus::PrometheusClient>,
        Arc<Vec<(String, String)>>,
    ),
}

/// What one round produced: samples, and problems that did not stop it.
struct Round {
    samples: Vec<Sample>,
    errors: Vec<String>,
}

impl Runner {
    fn kind(&self) -> &'static str {
        match self {
            Runner::Host(_) => "host",
            Runner::Scrape(_) => "scrape",
            Runner::Prometheus(..) => "prometheus",
        }
    }

    /// The host whose intensified interval applies to this source, if it has one.
    fn host(&self) -> Option<String> {
        match self {
            Runner::Host(h) => h.lock().ok().map(|h| h.host().to_owned()),
            Runner::Scrape(s) => Some(s.host().to_owned()),
            Runner::Prometheus(..) => None,
        }
    }

    async fn collect(&mut self, now_ms: i64) -> Result<Round, String> {
        match self {
            Runner::Host(host) => {
                let reader = host.clone();
                // /proc reads are blocking file I/O: keep them off the async workers.
                let collection = tokio::task::spawn_blocking(move || {
                    reader.lock().map(|mut s| s.collect()).ok()
                })
                .await
                .ok()
                .flatten()
                .ok_or_else(|| "host collection task failed".to_owned())?;
                Ok(Round {
                    samples: collection.samples,
                    errors: collection.errors,
                })
            }
            Runner::Scrape(scraper) => {
                let round = scraper.scrape(now_ms).await.map_err(|e| e.to_string())?;
                let mut samples = derive_node_exporter(&round.samples);
                samples.extend(round.samples);
                let errors = round
                    .line_errors
                    .iter()
                    .take(5)
                    .map(|e| format!("{e:?}"))
                    .collect();
                Ok(Round { samples, errors })
            }
            Runner::Prometheus(client, queries) => {
                let mut samples = Vec::new();
                let mut errors = Vec::new();
                for (name, expr) in queries.iter() {
                    match client.query(expr, None).await {
                        Ok(response) => {
                            errors.extend(response.warnings);
                            if let ooda_connect::prometheus::parse::QueryValue::Vector(series) =
                                response.data
                            {
                                for s in series {
                                    samples.extend(s.samples(name));
                                }
                            }
                        }
                        Err(error) => errors.push(format!("{name}: {error}")),
                    }
                }
                if samples.is_empty() && !errors.is_empty() {
                    return Err(errors.join("; "));
                }
                Ok(Round { samples, errors })
            }
        }
    }
}

/// Reads Prometheus history into the baselines (learning only: history raises no alerts).
async fn backfill(
    config: &ooda_connect::prometheus::PrometheusConfig,
    queries: &[(String, String)],
    stage: &mut MonitorStage,
    now: ooda_core::Timestamp,
) {
    let client = match ooda_connect::prometheus::PrometheusClient::new(config.clone()) {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(source = %config.name, %error, "backfill skipped");
            return;
        }
    };
    let exprs: Vec<String> = queries.iter().map(|(_, e)| e.clone()).collect();
    let history = client
        .backfill(
            &exprs,
            now,
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .await;
    let mut by_time: std::collections::BTreeMap<i64, Vec<Sample>> =
        std::collections::BTreeMap::new();
    for ((name, _), (_, series)) in queries.iter().zip(&history.series) {
        for s in series {
            for sample in s.samples(name) {
                by_time.entry(sample.time_ms).or_default().push(sample);
            }
        }
    }
    let rounds = by_time.len();
    for (_, samples) in by_time {
        stage.learn(&samples);
    }
    tracing::info!(
        source = %config.name,
        rounds,
        failed_chunks = history.failed_chunks.len(),
        "backfill done"
    );
}

async fn run_source(
    name: String,
    mut runner: Runner,
    interval: Duration,
    pipeline: SourcePipeline,
    mut stop: watch::Receiver<bool>,
) {
    let labels = pipeline.state.telemetry.source(&name);
    let kind = runner.kind();
    let host = runner.host();
    let mut failures = 0u32;
    let mut first = true;
    loop {
        if !first {
            let now_ms = pipeline.clock.now_ms();
            let effective = host.as_deref().map_or(interval, |h| {
                pipeline.intensify.interval(h, interval, now_ms)
            });
            let delay = next_delay(&name, effective, failures);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        first = false;
        if *stop.borrow() {
            return;
        }
        let telemetry = &pipeline.state.telemetry;
        telemetry.collections.get_or_create(&labels).inc();
        let round = match runner.collect(pipeline.clock.now_ms()).await {
            Ok(round) => {
                failures = 0;
                round
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                telemetry.collection_errors.get_or_create(&labels).inc();
                tracing::warn!(source = %name, %error, failures, "collection failed; backing off");
                pipeline.state.report_source(SourceStatus {
                    name: name.clone(),
                    kind: kind.to_owned(),
                    interval_secs: interval.as_secs_f64(),
                    last_success: None,
                    last_error: Some(error),
                    samples_last_round: 0,
                });
                continue;
            }
        };
        telemetry
            .samples
            .get_or_create(&labels)
            .inc_by(round.samples.len() as u64);
        if !round.errors.is_empty() {
            telemetry.collection_errors.get_or_create(&labels).inc();
            tracing::warn!(source = %name, errors = ?round.errors, "some metrics could not be read");
        }
        let store = pipeline.store.clone();
        let samples = round.samples.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            store.record_samples(&samples)?;
            store.series_summary()
        })
        .await;
        match recorded {
            Ok(Ok(summary)) => {
                telemetry.series.set(summary.series as i64);
            }
            Ok(Err(error)) => tracing::error!(source = %name, %error, "samples not recorded"),
            Err(error) => tracing::error!(source = %name, %error, "record task failed"),
        }
        let now = pipeline.clock.now();
        let count = round.samples.len();
        publish(
            &pipeline.bus,
            telemetry,
            Event::new(
                now,
                format!("source/{name}"),
                EventKind::Samples {
                    source: name.clone(),
                    samples: round.samples,
                },
            ),
        );
        pipeline.state.report_source(SourceStatus {
            name: name.clone(),
            kind: kind.to_owned(),
            interval_secs: interval.as_secs_f64(),
            last_success: Some(now),
            last_error: round.errors.into_iter().next(),
            samples_last_round: count,
        });
        pipeline.state.set_ready(true);
    }
}
