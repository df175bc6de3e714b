//! Patch rollouts: the one place their Gate and engine are assembled (for `ooda patch rollout`
//! and for the running agent), and the agent's scheduler that carries rollouts out inside their
//! maintenance windows. The engine publishes `monitoring.intensify` for hosts being patched on
//! the agent's bus, where the monitor hears it; the CLI has no monitor to tell.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ooda_config::Config;
use ooda_core::{Host, SharedClock};
use ooda_govern::gate::GateParts;
use ooda_govern::{Gate, Home, Precondition, StaticFacts};
use ooda_patch::rollout::executor::{AnsibleConfig, AnsibleExecutor, PatchActuator, PatchVia};
use ooda_patch::rollout::{
    EventSink, FleetFacts, InventoryFleet, RolloutConfig, RolloutEngine, RolloutParts,
};
use ooda_patch::windows::Windows;
use tokio::sync::watch;

/// What a rollout engine is built from.
pub struct EngineParts<'a> {
    /// The loaded config: `[executors]`, `[changes]` and `[[notify]]` apply to rollouts too.
    pub config: &'a Config,
    pub home: &'a Home,
    pub hosts: Vec<Host>,
    pub windows: Windows,
    pub rollout: RolloutConfig,
    /// The local executor; `None` runs nothing locally (starting and status need none).
    pub ansible: Option<AnsibleConfig>,
    /// The operator vouches that hosts are drained before their window (no load-balancer
    /// integration answers it).
    pub assume_drained: bool,
    /// Where `monitoring.intensify` goes.
    pub events: Arc<dyn EventSink>,
    /// Counts the Gate's decisions (`/metrics`).
    pub telemetry: ooda_server::Telemetry,
}

/// The rollout engine over the data directory's store, audit log and a Gate of its own (the
/// patch actuator, facts from the inventory and windows).
pub fn engine(parts: EngineParts<'_>) -> anyhow::Result<(RolloutEngine, Arc<Gate>)> {
    let EngineParts {
        config,
        home,
        hosts,
        windows,
        rollout,
        ansible,
        assume_drained,
        events,
        telemetry,
    } = parts;
    let fleet = Arc::new(InventoryFleet::new(
        hosts,
        windows,
        Some(home.store.clone()),
    ));
    let clock: SharedClock = home.clock.clone();
    let policy = home.policy()?;
    let mut holding = BTreeSet::from([Precondition::TemplateApproved]);
    if assume_drained {
        holding.insert(Precondition::HostDrained);
    }
    // `[executors.awx]`: its allowlisted templates, and patches through it when
    // `patch_template` is set.
    let remote: Option<Arc<dyn ooda_patch::rollout::executor::TemplateRunner>> =
        match &config.executors.awx {
            Some(awx) => Some(Arc::new(
                ooda_connect::awx::AwxClient::new(awx.clone()).context("executors.awx")?,
            )),
            None => None,
        };
    let via = match &config.executors.patch_template {
        Some(template) => PatchVia::Awx {
            patch_template: template.clone(),
        },
        None => PatchVia::Local,
    };
    let local = match ansible {
        Some(ansible) => Some(AnsibleExecutor::new(ansible)?),
        None => None,
    };
    let actuator = PatchActuator::new(home.store.clone(), local, remote, via);
    let changes =
        crate::changes::change_records(&config.changes, home.store.clone(), clock.clone())?;
    // Escalations and pauses of a rollout reach the configured channels, not only the log.
    let notifier: Arc<dyn ooda_govern::Notifier> = Arc::new(
        crate::notifications::Notifications::start(&config.notify, telemetry.clone())?,
    );
    let gate = Arc::new(
        Gate::new(GateParts {
            config: home.config.clone(),
            store: home.store.clone(),
            audit: home.audit.clone(),
            policy: Arc::new(policy),
            actuator: Arc::new(actuator),
            facts: Arc::new(FleetFacts {
                fleet: fleet.clone(),
                inner: Arc::new(StaticFacts {
                    holding,
                    window_open: false,
                    active_incidents: 0,
                }),
            }),
            changes: changes.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
        })
        .with_observer(Arc::new(telemetry)),
    );
    let engine = RolloutEngine::new(RolloutParts {
        store: home.store.clone(),
        gate: gate.clone(),
        fleet,
        events,
        changes,
        notifier,
        clock,
        config: rollout,
    });
    Ok((engine, gate))
}

/// Reads a maintenance windows file, naming it in every error.
pub fn read_windows(path: &std::path::Path) -> anyhow::Result<Windows> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Windows::from_toml(&text).with_context(|| format!("{}", path.display()))
}

/// The agent's rollout scheduler: settles what a crash left in flight, then every `tick` steps
/// every stored rollout (each step inside its host's window, through the Gate) until stopped.
/// Rollouts started by `ooda patch rollout start` or the API are picked up on the next tick.
pub async fn run(
    engine: RolloutEngine,
    gate: Arc<Gate>,
    tick: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let engine = Arc::new(engine);
    let reconciled = {
        let gate = gate.clone();
        tokio::task::spawn_blocking(move || gate.reconcile()).await
    };
    match reconciled {
        Ok(settled) => {
            for (action, status) in settled {
                tracing::warn!(%action, status = status.as_str(), "reconciled an interrupted patch step");
            }
        }
        Err(error) => tracing::error!(%error, "patch reconcile task failed"),
    }
    loop {
        let (engine, gate) = (engine.clone(), gate.clone());
        // Store writes, window checks and the executor are blocking: off the async workers.
        let stepped = tokio::task::spawn_blocking(move || {
            gate.tick();
            engine.tick()
        })
        .await;
        match stepped {
            Ok(results) => {
                for (id, result) in results {
                    match result {
                        Ok(rollout) => {
                            let (done, total) = rollout.progress();
                            tracing::debug!(
                                rollout = %id,
                                stage = rollout.stage.name(),
                                done,
                                total,
                                paused = rollout.paused.as_deref().unwrap_or(""),
                                "rollout stepped"
                            );
                        }
                        Err(error) => tracing::error!(rollout = %id, %error, "rollout step failed"),
                    }
                }
            }
            Err(error) => tracing::error!(%error, "rollout tick task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
