//! Incident response inside `ooda up`: `alert.opened|updated` events from the bus become
//! incidents (`ooda_incident::responder::Responder`), investigated with the live probes below,
//! decided by confidence and acted on only through the governance Gate and its local actuator.
//!
//! Everything the responder reads here is read-only: the monitor, through its query port
//! ([`MonitorQuery`]: latest values, bands, which alerts still fire), the configured log sources,
//! the deploys file and the inventory.
//! The Gate is built from the same data directory as `ooda approvals`, `ooda kill-switch` and
//! `ooda audit`, so a human's vote or the kill switch reach the running agent on its next tick.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ooda_config::{Config, IncidentConfig, LogSourceConfig};
use ooda_connect::host::processes::{busiest, ProcessTable};
use ooda_connect::logs::{LogQuery, LogSource};
use ooda_core::query::{Band, MetricQuery, MonitorQuery, QueryError};
use ooda_core::{ActionRequest, Host, SharedClock, Timestamp};
use ooda_govern::{Gate, GateParts, Precondition};
use ooda_incident::actuator::{CpuControl, LocalActuator, LocalConfig, ServiceSpec, Supervisor};
use ooda_incident::evidence::{
    CmdbRecord, DeployFileProbe, HostFacts, LogTemplate, MetricReading, Observation, PathFact,
    Probe, ProbeError, ProbeFuture, ProbeQuery, ProcessFact,
};
use ooda_incident::lifecycle::Incident;
use ooda_incident::reasoner::{BuiltinReasoner, Case, Reasoner, Report, Tools};
use ooda_incident::register::Register;
use ooda_incident::responder::{Responder, ResponderConfig, ResponderParts, SignalSource};
use ooda_incident::Catalogue;
use ooda_store::Store;

/// The configured log sources as clients (shared by enrichment and the logs probe).
pub fn log_sources(config: &Config) -> anyhow::Result<Vec<LogSource>> {
    config
        .logs
        .iter()
        .map(|source| {
            Ok(match source {
                LogSourceConfig::File(c) => {
                    LogSource::File(ooda_connect::logfile::LogFileSource::new(c.clone()))
                }
                LogSourceConfig::Loki(c) => LogSource::Loki(
                    ooda_connect::loki::LokiClient::new(c.clone())
                        .with_context(|| format!("logs {}", c.name))?,
                ),
                LogSourceConfig::Elasticsearch(c) => LogSource::Elasticsearch(
                    ooda_connect::elasticsearch::ElasticsearchClient::new(c.clone())
                        .with_context(|| format!("logs {}", c.name))?,
                ),
            })
        })
        .collect()
}

/// Everything the incident stage is built from.
pub struct StageParts<'a> {
    pub config: &'a Config,
    /// The agent's one governance home: one audit chain per data directory.
    pub home: &'a ooda_govern::Home,
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    /// The monitor's answers (latest values, bands, capacity history, alerts): in process the
    /// live view, elsewhere the same port over the bus or the store.
    pub monitor: Arc<dyn MonitorQuery>,
    pub logs: Vec<LogSource>,
    /// Hears about self-alerts the stage raises (an LLM reasoner falling back).
    pub on_fallback: Arc<dyn Fn(String) + Send + Sync>,
    /// The configured notification channels (`[[notify]]`), for the Gate and the responder.
    pub notifications: crate::notifications::Notifications,
    /// Counts the Gate's decisions (`/metrics`).
    pub telemetry: ooda_server::Telemetry,
}

/// The running incident pillar: the responder and the Gate it acts through.
pub struct IncidentStage {
    pub responder: Arc<Responder>,
    pub gate: Arc<Gate>,
    /// Services ooda supervises (stopped when the stage is dropped).
    pub supervisor: Option<Arc<Supervisor>>,
}

/// The name this agent's own host goes by: the host source's, else the defaults'.
pub fn local_host_name(config: &Config) -> String {
    config
        .sources
        .iter()
        .find_map(|s| match s {
            ooda_config::SourceConfig::Host(h) => Some(h.host_name()),
            _ => None,
        })
        .unwrap_or_else(|| ooda_connect::host::HostSourceConfig::default().host_name())
}

pub fn build(parts: StageParts<'_>) -> anyhow::Result<IncidentStage> {
    let StageParts {
        config,
        home,
        store,
        clock,
        monitor,
        logs,
        on_fallback,
        notifications,
        telemetry,
    } = parts;
    let incident = &config.incident;
    let policy = home.policy()?;
    let local_host = local_host_name(config);
    let supervisor = (!incident.actuator.supervise.is_empty()).then(|| {
        Supervisor::start(
            incident
                .actuator
                .supervise
                .iter()
                .map(|s| ServiceSpec {
                    name: s.name.clone(),
                    argv: s.command.clone(),
                })
                .collect(),
        )
    });
    let mut local = local_config(incident);
    local.host = Some(local_host.clone());
    local.cpu_control = CpuControl::detect(Path::new("/sys/fs/cgroup"));
    local.supervisor = supervisor.clone();
    local.process_allowlist = incident.actuator.process_allowlist.clone();
    let host_facts = Arc::new(HostFactsProbe {
        host: local_host,
        table: Arc::new(std::sync::Mutex::new(ProcessTable::new("/proc"))),
        clean_allowlist: local.clean_allowlist.clone(),
        supervisor: supervisor.clone(),
        inventory: config.hosts.clone(),
    });
    let facts = crate::executors::facts(
        Arc::new(LiveFacts {
            clean_allowlist: local.clean_allowlist.clone(),
            playbook_dir: local.playbook_dir.clone(),
            register: Register::new(store.clone(), clock.clone()),
        }),
        &config.executors,
    );
    let gate = Arc::new(
        Gate::new(GateParts {
            config: home.config.clone(),
            store: store.clone(),
            audit: home.audit.clone(),
            policy: Arc::new(policy),
            actuator: crate::executors::actuator(
                Arc::new(LocalActuator::new(local)),
                &config.executors,
                store.clone(),
            )?,
            facts: facts.clone(),
            changes: crate::changes::change_records(&config.changes, store.clone(), clock.clone())?,
            notifier: Arc::new(notifications.clone()),
            clock: clock.clone(),
        })
        .with_observer(Arc::new(telemetry)),
    );

    let catalogue = Catalogue::embedded().context("the incident catalogue")?;
    let runbooks = ooda_incident::runbook::library::shipped().map_err(|problems| {
        anyhow::anyhow!(
            "the shipped runbook library: {}",
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let builtin: Arc<dyn Reasoner> = Arc::new(BuiltinReasoner::new(catalogue.clone()));
    let reasoner: Arc<dyn Reasoner> = match &config.reasoner {
        None => builtin,
        Some(reasoner) => {
            let redactor = ooda_reason::Redactor::new(&reasoner.redact)
                .with_literals(reasoner.known_secrets());
            let llm = ooda_reason::LlmReasoner::new(
                reasoner.routing().context("reasoner")?,
                catalogue.clone(),
                runbooks.clone(),
                redactor,
            )
            .with_limits(reasoner.limits());
            Arc::new(FallbackWatch {
                inner: Arc::new(llm),
                on_fallback,
            })
        }
    };

    let mut probes: Vec<Arc<dyn Probe>> = vec![
        host_facts,
        Arc::new(LiveMetricsProbe {
            monitor: monitor.clone(),
        }),
        Arc::new(CmdbProbe {
            hosts: config.hosts.clone(),
        }),
    ];
    if !logs.is_empty() {
        probes.push(Arc::new(LogsProbe {
            sources: logs,
            window: config.enrichment.window.get(),
            top: 20,
            timeout: config.enrichment.timeout.get(),
        }));
    }
    if let Some(path) = &incident.deploys_file {
        probes.push(Arc::new(DeployFileProbe { path: path.clone() }));
    }

    let responder = Responder::new(ResponderParts {
        register: Register::new(store.clone(), clock.clone()),
        catalogue,
        runbooks,
        reasoner,
        index: ooda_incident::triage::default_index().context("the similar-incident index")?,
        probes,
        gate: gate.clone(),
        facts,
        signals: Arc::new(LiveSignals { monitor }),
        notifier: Arc::new(notifications),
        clock,
        config: ResponderConfig {
            probe_timeout: incident.probe_timeout.get(),
            verify_window: ooda_incident::verify::VerifyWindow::new(incident.verify_window.get()),
            ..ResponderConfig::default()
        },
    })
    .context("starting incident response")?;
    Ok(IncidentStage {
        responder: Arc::new(responder),
        gate,
        supervisor,
    })
}

fn local_config(incident: &IncidentConfig) -> LocalConfig {
    let actuator = &incident.actuator;
    let mut local = LocalConfig {
        clean_allowlist: actuator.clean_allowlist.clone(),
        playbook_dir: actuator.playbook_dir.clone(),
        timeout: actuator.timeout.get(),
        ..LocalConfig::default()
    };
    if actuator.systemd {
        local = local.with_systemd();
    }
    local
}

/// The incident consumer: alert events in; on every tick, verification, decided approvals,
/// the kill switch going off, expired approvals, and second looks at low-confidence diagnoses.
pub async fn run(
    mut subscription: ooda_bus::memory::MemorySubscription,
    stage: IncidentStage,
    tick: Duration,
    telemetry: ooda_server::Telemetry,
) {
    use ooda_bus::Subscription;
    // Intents left open by a crash are settled before anything new runs.
    let reconciled = tokio::task::block_in_place(|| stage.gate.reconcile());
    if !reconciled.is_empty() {
        tracing::warn!(
            count = reconciled.len(),
            "reconciled actions a previous run left in flight"
        );
    }
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            delivery = subscription.next() => {
                let Some(delivery) = delivery else {
                    // The bus closed: the agent is stopping, and so are the services it supervises.
                    if let Some(supervisor) = &stage.supervisor {
                        supervisor.stop_all();
                    }
                    return;
                };
                if silenced(&delivery.event) {
                    tracing::info!(event = %delivery.event.id, "alert silenced in alertmanager: no incident");
                    subscription.ack_now(&delivery);
                    continue;
                }
                telemetry.incident_alerts.inc();
                match stage.responder.handle_event(&delivery.event).await {
                    Ok(Some(id)) => tracing::info!(incident = %id, event = %delivery.event.id, "alert handled"),
                    Ok(None) => {}
                    Err(error) => tracing::error!(event = %delivery.event.id, %error, "incident response failed on an alert"),
                }
                subscription.ack_now(&delivery);
            }
            _ = ticker.tick() => {
                let (responder, gate) = (stage.responder.clone(), stage.gate.clone());
                // Store reads and actuator runs are blocking: keep them off the async workers.
                let ticked = tokio::task::spawn_blocking(move || tick_once(&responder, &gate)).await;
                if let Err(error) = ticked {
                    tracing::error!(%error, "incident tick task failed");
                }
                // Low-confidence diagnoses due for another look (probes are async).
                match stage.responder.relook().await {
                    Ok(changed) => {
                        for (id, state) in changed {
                            tracing::info!(incident = %id, %state, "incident decided on a second look");
                        }
                    }
                    Err(error) => tracing::error!(%error, "looking again at incidents failed"),
                }
            }
        }
    }
}

fn silenced(event: &ooda_core::Event) -> bool {
    match &event.kind {
        ooda_core::EventKind::AlertOpened(a) | ooda_core::EventKind::AlertUpdated(a) => {
            a.labels.contains_key(crate::route::SILENCED_LABEL)
        }
        _ => false,
    }
}

fn tick_once(responder: &Responder, gate: &Gate) {
    let _ = gate.tick();
    let decided = |approval: u64| {
        matches!(
            gate.approvals().current_state(approval),
            Ok((_, state)) if !matches!(state, ooda_govern::ApprovalState::Pending { .. })
        )
    };
    match responder.resume_waiting(decided) {
        Ok(changed) => {
            for (id, state) in changed {
                tracing::info!(incident = %id, %state, "incident resumed");
            }
        }
        Err(error) => tracing::error!(%error, "resuming waiting incidents failed"),
    }
    match responder.tick() {
        Ok(changed) => {
            for (id, state) in changed {
                tracing::info!(incident = %id, %state, "incident verified");
            }
        }
        Err(error) => tracing::error!(%error, "incident verification failed"),
    }
}

/// Answers the Gate's questions from configuration and the incident register. An unknown is
/// `false` (fail closed): ooda has no load-balancer or replication integration yet, so policies
/// that need those facts keep such actions for a human.
struct LiveFacts {
    clean_allowlist: Vec<PathBuf>,
    playbook_dir: Option<PathBuf>,
    register: Register,
}

impl ooda_govern::Facts for LiveFacts {
    fn precondition(
        &self,
        precondition: Precondition,
        request: &ActionRequest,
    ) -> Result<bool, String> {
        Ok(match precondition {
            Precondition::PathAllowlisted => match &request.action {
                ooda_core::Action::CleanPath { path } => {
                    path_allowlisted(&self.clean_allowlist, Path::new(path))
                }
                _ => false,
            },
            Precondition::TemplateApproved => match (&request.action, &self.playbook_dir) {
                (ooda_core::Action::RunTemplate { template }, Some(dir)) => {
                    !template.contains(['/', '\\'])
                        && !template.contains("..")
                        && dir.join(format!("{template}.yml")).is_file()
                }
                _ => false,
            },
            Precondition::ReplicationHealthy
            | Precondition::PreviousReleaseAvailable
            | Precondition::HostDrained => false,
        })
    }

    fn maintenance_window_open(&self, _host: &str, _now: Timestamp) -> Result<bool, String> {
        // Windows belong to patch rollout; incident actions do not wait for them.
        Ok(false)
    }

    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        let open = self
            .register
            .list()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|i| i.host.as_deref() == Some(host) && !i.state.is_terminal())
            .count();
        Ok(u32::try_from(open).unwrap_or(u32::MAX))
    }
}

/// Whether `path` lies inside one of the allowlisted directories, after resolving `..` and
/// symlinks (a link out of the scratch directory does not count as inside it).
pub fn path_allowlisted(allowlist: &[PathBuf], path: &Path) -> bool {
    let Ok(path) = path.canonicalize() else {
        return false;
    };
    allowlist
        .iter()
        .filter_map(|dir| dir.canonicalize().ok())
        .any(|dir| path.starts_with(&dir))
}

/// Latest watched values of the incident's host, asked of the monitor: series of alerts still
/// firing carry the band the detector expected, the others read as in band (the monitor saw
/// nothing wrong with them); plus the last hour's fill rate of each capacity series (out of band
/// when it would fill the headroom within 12 h).
struct LiveMetricsProbe {
    monitor: Arc<dyn MonitorQuery>,
}

fn readings(monitor: &dyn MonitorQuery, host: &str) -> Result<Vec<MetricReading>, QueryError> {
    let answers = monitor.metrics(&MetricQuery {
        host: host.to_owned(),
        series: Vec::new(),
        window_ms: crate::pipeline::FILL_WINDOW_MS,
    })?;
    let latest = answers.iter().map(|answer| {
        let band = answer.band.unwrap_or(Band {
            low: f64::MIN,
            high: f64::MAX,
        });
        MetricReading {
            metric: answer.series.clone(),
            value: answer.latest.1,
            low: band.low,
            high: band.high,
        }
        .in_catalogue_terms()
    });
    let fill_rates = answers
        .iter()
        .filter(|answer| !answer.history.is_empty())
        .filter_map(|answer| fill_rate(&answer.series, &answer.history));
    Ok(latest.chain(fill_rates).collect())
}

/// A capacity series' fill rate over its history, in the catalogue's terms
/// (`filesystem_fill_rate_per_hour{…}`); too little history gives none.
fn fill_rate(series: &str, history: &[(i64, f64)]) -> Option<MetricReading> {
    // Usage, whichever way the series counts.
    let used = MetricReading {
        metric: series.to_owned(),
        value: 0.0,
        low: f64::MIN,
        high: f64::MAX,
    }
    .in_catalogue_terms()
    .metric;
    let free = used != series;
    let samples: Vec<(i64, f64)> = history
        .iter()
        .map(|(t, v)| (*t, if free { 100.0 - v } else { *v }))
        .collect();
    ooda_incident::evidence::fill_rate_reading(&used, &samples)
}

impl Probe for LiveMetricsProbe {
    fn name(&self) -> &str {
        "metrics"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let host = query.host()?;
            let readings = readings(self.monitor.as_ref(), host)
                .map_err(|e| ProbeError::Failed(e.to_string()))?;
            if readings.is_empty() {
                return Err(ProbeError::NotApplicable(format!(
                    "no watched series for host {host}"
                )));
            }
            Ok(Observation::Metrics { readings })
        })
    }
}

/// Whether an incident's alerts still fire, asked of the monitor: its signals for verification
/// and for the engine's re-evaluation between runbook steps.
struct LiveSignals {
    monitor: Arc<dyn MonitorQuery>,
}

impl SignalSource for LiveSignals {
    fn readings(&self, incident: &Incident) -> Result<Vec<MetricReading>, String> {
        let host = incident
            .host
            .as_deref()
            .ok_or_else(|| "the incident names no host".to_owned())?;
        let latest: BTreeMap<String, f64> = self
            .monitor
            .metrics(&MetricQuery {
                host: host.to_owned(),
                series: Vec::new(),
                window_ms: 0,
            })
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|answer| (answer.series, answer.latest.1))
            .collect();
        let mut out = Vec::new();
        for id in &incident.alerts {
            let Some(alert) = self.monitor.alert(*id).map_err(|e| e.to_string())? else {
                continue;
            };
            for member in &alert.members {
                let value = latest
                    .get(&member.series.metric)
                    .copied()
                    .unwrap_or(member.value);
                // A resolved alert is in band; so is a context member (below warning: it
                // corroborated, it was not the problem). A forecast is its trend, watched until
                // the alert stops: the band excludes the current value. A deviation is back once
                // the latest sample has come at least halfway home from where it alerted toward
                // what was expected (a cleaned disk, a capped process). A forecast (expected =
                // its limit) is back once the series has moved away from the limit past where
                // it last forecast, by a twentieth of that headroom (a restarted leak gives its
                // memory back; a leak that merely stopped does not). The alert itself may be
                // held open longer by its keep-firing time and fusion window, which says
                // nothing about whether the fix worked.
                let firing = alert.state != ooda_core::AlertState::Resolved;
                let symptom = member.severity >= ooda_core::Severity::Warning;
                let midway = (member.value + member.expected) / 2.0;
                let (low, high) = if !firing || !symptom {
                    (f64::MIN, f64::MAX)
                } else if member.kind == ooda_core::AlertKind::Forecast {
                    let margin = 0.05 * (member.value - member.expected).abs();
                    if member.value > member.expected {
                        (member.value + margin, f64::MAX)
                    } else {
                        (f64::MIN, member.value - margin)
                    }
                } else if member.value > member.expected {
                    (f64::MIN, midway)
                } else {
                    (midway, f64::MAX)
                };
                out.push(
                    MetricReading {
                        metric: member.series.metric.clone(),
                        value,
                        low,
                        high,
                    }
                    .in_catalogue_terms(),
                );
            }
        }
        if out.is_empty() {
            return Err(format!(
                "none of the incident's {} alerts is known to this agent's monitor",
                incident.alerts.len()
            ));
        }
        Ok(out)
    }
}

/// This agent's own host as its kernel reports it: the busiest processes (CPU share over a
/// second, resident memory and its growth since the probe first looked) with the service that
/// owns each, and the allowlisted clean-up directories with their filesystem and size. Other
/// hosts' processes are not visible from here (not applicable, never guessed).
#[derive(Clone)]
struct HostFactsProbe {
    host: String,
    table: Arc<std::sync::Mutex<ProcessTable>>,
    clean_allowlist: Vec<PathBuf>,
    supervisor: Option<Arc<Supervisor>>,
    inventory: Vec<Host>,
}

/// How many processes by CPU, by memory and by growth the facts keep.
const TOP_PROCESSES: usize = 5;

impl HostFactsProbe {
    fn facts(&self) -> Result<HostFacts, String> {
        let now_ms = || chrono::Utc::now().timestamp_millis();
        let mut table = self
            .table
            .lock()
            .map_err(|_| "process table poisoned".to_owned())?;
        // Two looks a second apart give every process a CPU share.
        table.look(now_ms());
        std::thread::sleep(Duration::from_secs(1));
        let all = table.look(now_ms());
        drop(table);
        let services: Vec<String> = self
            .inventory
            .iter()
            .find(|h| h.name == self.host)
            .and_then(|h| h.tags.get("services"))
            .map(|s| s.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        let processes = busiest(all, TOP_PROCESSES)
            .into_iter()
            .map(|p| {
                let service = self
                    .supervisor
                    .as_ref()
                    .and_then(|s| s.owner(p.pid))
                    .or(p.unit.clone())
                    .or_else(|| services.iter().find(|s| **s == p.name).cloned());
                ProcessFact {
                    pid: p.pid,
                    name: p.name,
                    cpu_percent: p.cpu_percent.unwrap_or(0.0),
                    rss_bytes: p.rss_bytes,
                    rss_growth_bytes_per_hour: p.rss_growth_bytes_per_hour,
                    service,
                }
            })
            .collect();
        let mounts = mount_points();
        let cleanable = self
            .clean_allowlist
            .iter()
            .filter_map(|dir| {
                let dir = dir.canonicalize().ok()?;
                let mount = mounts
                    .iter()
                    .filter(|m| dir.starts_with(m))
                    .max_by_key(|m| m.as_os_str().len())?
                    .display()
                    .to_string();
                Some(PathFact {
                    path: dir.display().to_string(),
                    mount,
                    bytes: ooda_incident::actuator::dir_size(&dir),
                })
            })
            .collect();
        Ok(HostFacts {
            processes,
            cleanable,
        })
    }
}

/// Mount points from /proc/self/mounts.
fn mount_points() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mounts")
        .map(|text| {
            ooda_connect::host::parse::mounts(&text)
                .into_iter()
                .map(|m| PathBuf::from(m.mountpoint))
                .collect()
        })
        .unwrap_or_default()
}

impl Probe for HostFactsProbe {
    fn name(&self) -> &str {
        "host"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let host = query.host()?;
            if host != self.host {
                return Err(ProbeError::NotApplicable(format!(
                    "processes are read only on this agent's own host ({}), not on {host}",
                    self.host
                )));
            }
            let probe = self.clone();
            let facts = tokio::task::spawn_blocking(move || probe.facts())
                .await
                .map_err(|e| ProbeError::Failed(e.to_string()))?
                .map_err(ProbeError::Failed)?;
            Ok(Observation::Host { facts })
        })
    }
}

/// The host's inventory record.
struct CmdbProbe {
    hosts: Vec<Host>,
}

impl Probe for CmdbProbe {
    fn name(&self) -> &str {
        "cmdb"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let name = query.host()?;
            let host = self.hosts.iter().find(|h| h.name == name).ok_or_else(|| {
                ProbeError::NotApplicable(format!("host {name} is not in the inventory"))
            })?;
            Ok(Observation::Cmdb {
                record: CmdbRecord {
                    host: host.name.clone(),
                    class: host.class.0.clone(),
                    environment: host.environment.as_str().to_owned(),
                    services: host
                        .tags
                        .get("services")
                        .map(|s| s.split(',').map(|s| s.trim().to_owned()).collect())
                        .unwrap_or_default(),
                    owner: host.owner.clone().unwrap_or_default(),
                },
            })
        })
    }
}

/// Error lines around the alert from the configured log sources, as templates with counts.
struct LogsProbe {
    sources: Vec<LogSource>,
    window: Duration,
    top: usize,
    /// Per source, as for enrichment.
    timeout: Duration,
}

impl Probe for LogsProbe {
    fn name(&self) -> &str {
        "logs"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let window = chrono::Duration::from_std(self.window)
                .map_err(|e| ProbeError::Failed(format!("window: {e}")))?;
            let log_query = LogQuery {
                host: query.host.clone(),
                service: query.labels.get("service").cloned(),
                start: query.at - window,
                end: query.at,
                limit: 5_000,
                errors_only: true,
            };
            let (lines, errors) =
                ooda_connect::logs::enrichment(&self.sources, &log_query, self.top, self.timeout)
                    .await;
            if lines.is_empty() && !errors.is_empty() {
                return Err(ProbeError::Failed(
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
            }
            Ok(Observation::Logs {
                templates: lines
                    .into_iter()
                    .map(|l| LogTemplate {
                        template: l.template,
                        count: l.count,
                    })
                    .collect(),
            })
        })
    }
}

/// An LLM reasoner whose fallbacks to the built-in reasoner are reported (a self-alert), not
/// only written in the incident's report.
struct FallbackWatch {
    inner: Arc<dyn Reasoner>,
    on_fallback: Arc<dyn Fn(String) + Send + Sync>,
}

impl Reasoner for FallbackWatch {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn investigate<'a>(
        &'a self,
        case: Case<'a>,
        tools: &'a Tools,
    ) -> ooda_incident::reasoner::ReasonFuture<'a> {
        Box::pin(async move {
            let incident = case.incident.id;
            let report: Report = self.inner.investigate(case, tools).await?;
            if report.reasoner.contains("fallback") {
                (self.on_fallback)(format!(
                    "incident {incident}: the LLM reasoner fell back to the built-in one ({})",
                    report.reasoner
                ));
            }
            Ok(report)
        })
    }
}
