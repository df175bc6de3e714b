//! `ooda up`: the running agent. Opens the data directory (refusing a second agent), starts the
//! sources, the bus and its persister, and the HTTP API; stops cleanly on SIGINT/SIGTERM within
//! the shutdown grace, and recovers after a kill -9 (SQLite WAL, kernel-released lock).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use ooda_bus::memory::MemoryBusOptions;
use ooda_bus::MemoryBus;
use ooda_config::{BusConfig, Config, SourceConfig, StoreConfig};
use ooda_connect::host::HostSource;
use ooda_core::{Event, EventKind, SharedClock, SystemClock};
use ooda_server::{AppState, SourceStatus, Telemetry};
use ooda_store::{DataDir, SqliteStore, Store};
use tokio::sync::watch;

use super::GlobalArgs;
use crate::pipeline::MonitorStage;

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address for the HTTP API (overrides `server.listen`); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// Store key that is `running` while an agent runs and `stopped` after a clean stop.
const RUN_STATE_KEY: &str = "agent.run_state";

pub fn run(args: UpArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    super::init_logging(global.log_format);
    let config = super::config::load(global)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(agent(args, global, config))
}

async fn agent(args: UpArgs, global: &GlobalArgs, config: Config) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::open(&global.data_dir)?;
    let _lock = data_dir.lock_agent()?;
    let StoreConfig::Sqlite(sqlite) = &config.store;
    let db_path = sqlite.path.clone().unwrap_or_else(|| data_dir.database());
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?,
    );
    let recovered = store.kv_get(RUN_STATE_KEY)?.as_deref() == Some("running");
    store.kv_put(RUN_STATE_KEY, "running")?;
    if recovered {
        tracing::warn!(
            events = store.event_count()?,
            "previous run did not stop cleanly; recovered from the data directory"
        );
    }

    let clock: SharedClock = Arc::new(SystemClock);
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
    let state = Arc::new(AppState::new(
        store.clone(),
        clock.clone(),
        telemetry.clone(),
        api_token,
    ));

    publish(
        &bus,
        &telemetry,
        Event::new(
            clock.now(),
            "agent",
            EventKind::AgentStarted {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                pid: std::process::id(),
                recovered,
            },
        ),
    );

    let monitor_subscription = bus.subscribe_now("monitor", "monitor-0")?;
    let stage = MonitorStage::new(
        config.monitor.clone(),
        Arc::new(ooda_monitor::MemoryDedup::new()),
    );
    let monitor = tokio::spawn(run_monitor(
        monitor_subscription,
        stage,
        bus.clone(),
        telemetry.clone(),
        clock.clone(),
    ));

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut source_tasks = Vec::new();
    for source in &config.sources {
        match source {
            SourceConfig::Host(host_config) => {
                let interval = host_config.interval.get();
                let host = HostSource::new(host_config.clone(), clock.clone());
                tracing::info!(
                    source = host.name(),
                    host = host.host(),
                    ?interval,
                    "host source started"
                );
                source_tasks.push(tokio::spawn(run_host_source(
                    host,
                    interval,
                    SourcePipeline {
                        bus: bus.clone(),
                        store: store.clone(),
                        state: state.clone(),
                        clock: clock.clone(),
                    },
                    stop_rx.clone(),
                )));
            }
        }
    }

    let listen = args.listen.unwrap_or(config.server.listen.0);
    let mut server_stop = stop_rx.clone();
    let (bound, serve) = ooda_server::bind(listen, state.clone(), async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    })
    .await
    .with_context(|| {
        format!("cannot listen on {listen}; pass --listen ADDR to choose another address")
    })?;
    let server = tokio::spawn(serve);
    println!("ooda listening on http://{bound}");
    tracing::info!(%bound, data_dir = %data_dir.path().display(), "ooda is up");
    if config.sources.is_empty() {
        state.set_ready(true);
    }

    let reason = shutdown_signal().await;
    tracing::info!(reason, "shutting down");
    state.set_ready(false);
    let _ = stop_tx.send(true);

    let grace = ooda_config::defaults::SHUTDOWN_GRACE;
    let drained = tokio::time::timeout(grace, async {
        for task in source_tasks {
            let _ = task.await;
        }
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
        let _ = monitor.await;
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
    Ok(ExitCode::SUCCESS)
}

fn publish(bus: &MemoryBus, telemetry: &Telemetry, event: Event) {
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
async fn run_monitor(
    mut subscription: ooda_bus::memory::MemorySubscription,
    mut stage: MonitorStage,
    bus: MemoryBus,
    telemetry: Telemetry,
    clock: SharedClock,
) {
    use ooda_bus::Subscription;
    use ooda_monitor::fusion::FusionEvent;
    while let Some(delivery) = subscription.next().await {
        if let EventKind::Samples { samples, .. } = &delivery.event.kind {
            match stage.ingest(samples) {
                Ok(events) => {
                    for event in events {
                        let (name, kind) = match event {
                            FusionEvent::Opened(a) => {
                                ("opened", EventKind::AlertOpened(Box::new(a)))
                            }
                            FusionEvent::Updated(a) => {
                                ("updated", EventKind::AlertUpdated(Box::new(a)))
                            }
                            FusionEvent::Resolved(a) => {
                                ("resolved", EventKind::AlertResolved(Box::new(a)))
                            }
                        };
                        if let EventKind::AlertOpened(a)
                        | EventKind::AlertUpdated(a)
                        | EventKind::AlertResolved(a) = &kind
                        {
                            tracing::info!(host = a.host.as_deref().unwrap_or("-"), severity = %a.severity, fingerprint = %a.fingerprint, summary = %a.summary, "alert {name}");
                            telemetry
                                .alerts
                                .get_or_create(&ooda_server::telemetry::AlertLabels {
                                    event: name.to_owned(),
                                    severity: a.severity.to_string(),
                                })
                                .inc();
                        }
                        publish(&bus, &telemetry, Event::new(clock.now(), "monitor", kind));
                    }
                }
                Err(error) => tracing::error!(%error, "monitoring stage failed on a batch"),
            }
            telemetry.watched_series.set(stage.watched_series() as i64);
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
}

async fn run_host_source(
    source: HostSource,
    interval: Duration,
    pipeline: SourcePipeline,
    mut stop: watch::Receiver<bool>,
) {
    let name = source.name().to_owned();
    let labels = pipeline.state.telemetry.source(&name);
    let source = Arc::new(Mutex::new(source));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let reader = source.clone();
        // /proc reads are blocking file I/O: keep them off the async workers.
        let collection =
            match tokio::task::spawn_blocking(move || reader.lock().map(|mut s| s.collect()).ok())
                .await
            {
                Ok(Some(collection)) => collection,
                _ => {
                    tracing::error!(source = %name, "host collection task failed");
                    continue;
                }
            };
        let telemetry = &pipeline.state.telemetry;
        telemetry.collections.get_or_create(&labels).inc();
        telemetry
            .samples
            .get_or_create(&labels)
            .inc_by(collection.samples.len() as u64);
        if !collection.errors.is_empty() {
            telemetry.collection_errors.get_or_create(&labels).inc();
            tracing::warn!(source = %name, errors = ?collection.errors, "some host metrics could not be read");
        }
        let store = pipeline.store.clone();
        let samples = collection.samples.clone();
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
        let count = collection.samples.len();
        let first_error = collection.errors.first().cloned();
        publish(
            &pipeline.bus,
            telemetry,
            Event::new(
                now,
                format!("source/{name}"),
                EventKind::Samples {
                    source: name.clone(),
                    samples: collection.samples,
                },
            ),
        );
        pipeline.state.report_source(SourceStatus {
            name: name.clone(),
            kind: "host".to_owned(),
            interval_secs: interval.as_secs_f64(),
            last_success: Some(now),
            last_error: first_error,
            samples_last_round: count,
        });
        pipeline.state.set_ready(true);
    }
}

/// Resolves on SIGINT or SIGTERM, naming which.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return ctrl_c.await,
            };
        tokio::select! {
            reason = ctrl_c => reason,
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await
}
