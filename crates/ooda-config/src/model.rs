//! The configuration model. Every struct denies unknown fields; every enum is closed and tagged
//! by `kind`; every default comes from [`crate::defaults`].

use std::path::PathBuf;

use ooda_core::Host;
use serde::Deserialize;

use crate::defaults;
use crate::types::{HttpUrl, ListenAddr, Seconds, Secret};
pub use ooda_connect::host::HostSourceConfig;

/// The whole file.
#[derive(Debug, Clone)]
pub struct Config {
    pub version: u32,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub bus: BusConfig,
    pub sources: Vec<SourceConfig>,
    /// The inventory: hosts ooda knows about besides the one it runs on.
    pub hosts: Vec<Host>,
    /// The monitoring engine: baselines, thresholds, cold start, fusion, grouping.
    pub monitor: ooda_monitor::MonitorConfig,
    /// Where alert dedup claims live.
    pub dedup: DedupConfig,
    /// `[[logs]]`: where alert enrichment and the logs probe read error lines.
    pub logs: Vec<LogSourceConfig>,
    /// `[enrichment]`: how alerts are enriched with log errors.
    pub enrichment: EnrichmentConfig,
    /// `[alertmanager]`: push ooda's alerts there, honour its silences; its webhook can post
    /// alerts to ooda (`POST /api/v1/alerts/alertmanager`).
    pub alertmanager: Option<ooda_connect::alertmanager::AlertmanagerConfig>,
    /// `[incident]`: incident response in `ooda up`.
    pub incident: IncidentConfig,
    /// `[reasoner]`: an LLM reasoner instead of the built-in one (off when absent).
    pub reasoner: Option<ooda_reason::config::ReasonerConfig>,
    /// `[[watch]]`: series watched besides the shipped node-exporter ones (or instead of one of
    /// them: same `metric`).
    pub watch: Vec<WatchConfig>,
    /// `[governance]`: autonomy defaults, approvers, budget, breaker, policy directory. The
    /// server's own settings: no command line flag replaces them.
    pub governance: ooda_govern::GovernConfig,
    /// `[changes]`: where the Gate opens and closes a change record for every action.
    pub changes: ChangesConfig,
    /// `[[notify]]`: where escalations, approval requests and act-with-notify notices go (the
    /// log always gets them too).
    pub notify: Vec<NotifyConfig>,
    /// `[executors]`: remote executors actions may run through.
    pub executors: ExecutorsConfig,
    /// `[rollouts]`: patch rollouts carried out by the running agent (off when absent).
    pub rollouts: Option<RolloutsConfig>,
}

/// `[rollouts]`: the agent's rollout scheduler. Rollouts are started with
/// `ooda patch rollout start`; the agent steps them inside the hosts' maintenance windows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutsConfig {
    /// The maintenance windows file (the format `ooda patch rollout run --windows` reads); a host
    /// is in the window its `[[hosts]] maintenance_window` names, or the one that lists it.
    pub windows: std::path::PathBuf,
    /// How often every rollout is stepped.
    #[serde(default = "default_rollouts_tick")]
    pub tick: Seconds,
    /// The local executor (`ansible-playbook`); without it patches run only through
    /// `[executors] patch_template`.
    #[serde(default)]
    pub ansible: Option<ooda_patch::rollout::executor::AnsibleConfig>,
    /// Validation periods, batch size, confidence and intensified monitoring.
    #[serde(default)]
    pub rollout: ooda_patch::rollout::RolloutConfig,
    /// The operator vouches that hosts are drained inside their windows (no load-balancer
    /// integration can answer it), so policies that need a drained host may let ooda act.
    #[serde(default)]
    pub assume_drained: bool,
}

fn default_rollouts_tick() -> Seconds {
    Seconds(std::time::Duration::from_secs(30))
}

/// `[changes]`: the change-record system.
#[derive(Debug, Clone, Default)]
pub enum ChangesConfig {
    /// Records in ooda's own store (`ooda changes list|show`): the embedded default.
    #[default]
    Embedded,
    /// ServiceNow change requests (Table API).
    ServiceNow(ooda_connect::servicenow::ServiceNowConfig),
    /// Jira issues.
    Jira(ooda_connect::jira::JiraConfig),
}

impl ChangesConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ChangesConfig::Embedded => "embedded",
            ChangesConfig::ServiceNow(_) => "servicenow",
            ChangesConfig::Jira(_) => "jira",
        }
    }
}

/// `[[notify]]`: one notification channel.
#[derive(Debug, Clone)]
pub enum NotifyConfig {
    /// A generic JSON webhook (`{"kind","incident","title","text"}`).
    Webhook(WebhookNotifyConfig),
    /// A Slack incoming webhook.
    Slack(SlackNotifyConfig),
    /// PagerDuty Events API v2.
    PagerDuty(PagerDutyNotifyConfig),
}

impl NotifyConfig {
    pub fn name(&self) -> &str {
        match self {
            NotifyConfig::Webhook(c) => &c.name,
            NotifyConfig::Slack(c) => &c.name,
            NotifyConfig::PagerDuty(c) => &c.name,
        }
    }
}

/// `[[notify]] kind = "webhook"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifyConfig {
    pub name: String,
    pub url: HttpUrl,
    /// Per delivery (default 5 s).
    #[serde(default = "default_notify_timeout")]
    pub timeout: Seconds,
}

/// `[[notify]] kind = "slack"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackNotifyConfig {
    pub name: String,
    /// The incoming-webhook URL is the secret, so by reference (`${env:SLACK_WEBHOOK_URL}`).
    pub url: Secret,
    /// Per delivery (default 5 s).
    #[serde(default = "default_notify_timeout")]
    pub timeout: Seconds,
}

/// `[[notify]] kind = "pagerduty"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyNotifyConfig {
    pub name: String,
    /// The integration's routing key, by reference (`${env:PAGERDUTY_ROUTING_KEY}`).
    pub routing_key: Secret,
    /// Events API v2 endpoint (default `https://events.pagerduty.com/v2/enqueue`).
    #[serde(default)]
    pub url: Option<HttpUrl>,
    #[serde(default = "default_notify_timeout")]
    pub timeout: Seconds,
}

fn default_notify_timeout() -> Seconds {
    Seconds(std::time::Duration::from_secs(5))
}

/// `[executors]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorsConfig {
    /// `[executors.awx]`: an AWX / AAP controller; only the job templates in its `templates`
    /// allowlist are ever launched.
    #[serde(default)]
    pub awx: Option<ooda_connect::awx::AwxConfig>,
    /// Patches (`apply_patch`) run through this allowlisted AWX template (it takes `package` and
    /// `version` as extra vars and the host as limit) instead of the shipped local playbooks.
    #[serde(default)]
    pub patch_template: Option<String>,
}

/// `[[watch]]`: one more series family the engine scores.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// The metric as sources report it (a scraped name; counters arrive as per-second rates),
    /// or the name given to `query`'s result.
    pub metric: String,
    /// The name the engine and alerts use (default: `metric`).
    #[serde(default)]
    pub name: Option<String>,
    /// What it measures: picks thresholds and the direction that alarms.
    pub class: ooda_core::MetricClass,
    #[serde(default)]
    pub transform: WatchTransform,
    /// PromQL that Prometheus sources run for it, one series per `instance` (default: the
    /// metric name itself).
    #[serde(default)]
    pub query: Option<String>,
}

/// How a source value becomes the engine's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchTransform {
    #[default]
    Identity,
    /// A 0–1 ratio shown as a percentage.
    Percent,
    /// A used 0–1 ratio shown as the free percentage (headroom alarms low).
    FreePercent,
}

/// `[[logs]]`: a log source (read-only).
#[derive(Debug, Clone)]
pub enum LogSourceConfig {
    /// Local files and journald (the embedded default).
    File(ooda_connect::logfile::LogFileConfig),
    /// Grafana Loki (`/loki/api/v1/query_range`, LogQL).
    Loki(ooda_connect::loki::LokiConfig),
    /// Elasticsearch / OpenSearch (`_search`, query DSL).
    Elasticsearch(ooda_connect::elasticsearch::ElasticsearchConfig),
}

impl LogSourceConfig {
    pub fn name(&self) -> &str {
        match self {
            LogSourceConfig::File(c) => &c.name,
            LogSourceConfig::Loki(c) => &c.name,
            LogSourceConfig::Elasticsearch(c) => &c.name,
        }
    }
}

/// `[enrichment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichmentConfig {
    /// How far before an alert opened its log errors are read (default 15 m).
    #[serde(default = "default_enrichment_window")]
    pub window: Seconds,
    /// Templates kept per alert (default 5).
    #[serde(default = "default_enrichment_top")]
    pub top: usize,
    /// Per log source; a slow source costs its own lines only (default 5 s).
    #[serde(default = "default_enrichment_timeout")]
    pub timeout: Seconds,
}

fn default_enrichment_window() -> Seconds {
    Seconds(std::time::Duration::from_secs(15 * 60))
}
fn default_enrichment_top() -> usize {
    5
}
fn default_enrichment_timeout() -> Seconds {
    Seconds(std::time::Duration::from_secs(5))
}

impl Default for EnrichmentConfig {
    fn default() -> Self {
        Self {
            window: default_enrichment_window(),
            top: default_enrichment_top(),
            timeout: default_enrichment_timeout(),
        }
    }
}

/// `[incident]`: alerts → incidents → runbooks through the Gate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentConfig {
    /// Run incident response in `ooda up` (default true). Whether it may *act* is governance's
    /// call (autonomy level, policy), not this switch's.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Per evidence probe (default 5 s): one slow source never blocks the rest.
    #[serde(default = "default_probe_timeout")]
    pub probe_timeout: Seconds,
    /// How often verification, approvals and timeouts are looked at (default 10 s).
    #[serde(default = "default_incident_tick")]
    pub tick: Seconds,
    /// A JSON-lines file of deploys (`{"service","version","previous_version","at"}`), for the
    /// deploys probe.
    #[serde(default)]
    pub deploys_file: Option<PathBuf>,
    /// How long a fix is watched before its incident closes (default 10 min, 1 to 15 min):
    /// signals settle for the first half, then must stay in band.
    #[serde(default = "default_verify_window")]
    pub verify_window: Seconds,
    /// What the local actuator may touch.
    #[serde(default)]
    pub actuator: ActuatorConfig,
}

fn default_verify_window() -> Seconds {
    Seconds(std::time::Duration::from_secs(10 * 60))
}

fn yes() -> bool {
    true
}
fn default_probe_timeout() -> Seconds {
    Seconds(std::time::Duration::from_secs(5))
}
fn default_incident_tick() -> Seconds {
    Seconds(std::time::Duration::from_secs(10))
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            probe_timeout: default_probe_timeout(),
            tick: default_incident_tick(),
            deploys_file: None,
            verify_window: default_verify_window(),
            actuator: ActuatorConfig::default(),
        }
    }
}

/// `[incident.actuator]`: the local actuator's allowlists. Empty by default: a fresh install
/// can delete nothing and restart nothing until an operator names what is disposable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActuatorConfig {
    /// Directories whose contents `clean_path` may delete (the directories stay).
    #[serde(default)]
    pub clean_allowlist: Vec<PathBuf>,
    /// `restart_service` through `systemctl restart <unit>` (default false).
    #[serde(default)]
    pub systemd: bool,
    /// Approved playbooks: `run_template` runs `<dir>/<template>.yml` only if it exists.
    #[serde(default)]
    pub playbook_dir: Option<PathBuf>,
    /// Per action (default 120 s).
    #[serde(default = "default_action_timeout")]
    pub timeout: Seconds,
    /// Processes (by command name; a trailing `*` matches a prefix) that `throttle_process` and
    /// `kill_process` may touch. Empty, the default: none, whatever a diagnosis names.
    #[serde(default)]
    pub process_allowlist: Vec<String>,
    /// Services ooda starts and supervises itself where PID 1 is not systemd (containers):
    /// started again when they exit, restarted by `restart_service` through the Gate.
    #[serde(default)]
    pub supervise: Vec<SupervisedService>,
}

/// `[[incident.actuator.supervise]]`: one command ooda keeps running.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SupervisedService {
    /// The service name runbooks and the inventory use.
    pub name: String,
    /// argv, never a shell line.
    pub command: Vec<String>,
}

fn default_action_timeout() -> Seconds {
    Seconds(std::time::Duration::from_secs(120))
}

impl Default for ActuatorConfig {
    fn default() -> Self {
        Self {
            clean_allowlist: Vec::new(),
            systemd: false,
            playbook_dir: None,
            timeout: default_action_timeout(),
            process_allowlist: Vec::new(),
            supervise: Vec::new(),
        }
    }
}

/// `[dedup]`: where "this alert was already raised" is remembered.
#[derive(Debug, Clone, Default)]
pub enum DedupConfig {
    /// In this process (the embedded default; one agent).
    #[default]
    Memory,
    /// In Redis (`SET key NX PX ttl`), shared by every monitor worker: each alert is routed once.
    /// Falls back to local claims, with a self-alert, while Redis is unreachable.
    Redis(ooda_connect::redis::RedisDedupConfig),
}

impl Default for Config {
    /// The embedded default: this host watched every 10 s, SQLite, in-process bus, API on
    /// 127.0.0.1.
    fn default() -> Self {
        Self {
            version: crate::CONFIG_VERSION,
            server: ServerConfig::default(),
            store: StoreConfig::default(),
            bus: BusConfig::default(),
            sources: vec![SourceConfig::Host(HostSourceConfig::default())],
            hosts: Vec::new(),
            monitor: ooda_monitor::MonitorConfig::default(),
            dedup: DedupConfig::default(),
            // This host's journal: enrichment works on a fresh install with no log stack.
            logs: vec![LogSourceConfig::File(
                ooda_connect::logfile::LogFileConfig::new("local"),
            )],
            enrichment: EnrichmentConfig::default(),
            alertmanager: None,
            incident: IncidentConfig::default(),
            reasoner: None,
            watch: Vec::new(),
            governance: ooda_govern::GovernConfig::default(),
            changes: ChangesConfig::default(),
            notify: Vec::new(),
            executors: ExecutorsConfig::default(),
            rollouts: None,
        }
    }
}

/// `[server]`: the HTTP API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: ListenAddr,
    /// Bearer token required on `/api/v1` (health and metrics stay open). Off when unset.
    #[serde(default)]
    pub api_token: Option<Secret>,
    /// The URL people reach this agent at, for links in notifications.
    #[serde(default)]
    pub external_url: Option<HttpUrl>,
}

fn default_listen() -> ListenAddr {
    ListenAddr::parse(defaults::LISTEN).unwrap_or(ListenAddr(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        9677,
    ))))
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            api_token: None,
            external_url: None,
        }
    }
}

/// `[store]`: where state lives.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// SQLite in the data directory (the embedded default).
    Sqlite(SqliteStoreConfig),
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Sqlite(SqliteStoreConfig::default())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteStoreConfig {
    /// Database file; defaults to `ooda.sqlite` in the data directory.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// `[bus]`: how events travel.
#[derive(Debug, Clone)]
pub enum BusConfig {
    /// In-process (the embedded default).
    Memory(MemoryBusConfig),
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig::Memory(MemoryBusConfig::default())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryBusConfig {
    /// Events kept for slow consumer groups before the oldest are dropped.
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// How long a delivery may stay unacknowledged before it is redelivered.
    #[serde(default = "default_visibility")]
    pub visibility_timeout: Seconds,
}

fn default_capacity() -> usize {
    100_000
}

fn default_visibility() -> Seconds {
    Seconds(std::time::Duration::from_secs(30))
}

impl Default for MemoryBusConfig {
    fn default() -> Self {
        Self {
            capacity: default_capacity(),
            visibility_timeout: default_visibility(),
        }
    }
}

/// `[[sources]]`: where metrics come from. Read-only by construction.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// This host's /proc and /sys.
    Host(HostSourceConfig),
    /// An exposition-format target (node-exporter, an application's `/metrics`).
    Scrape(ooda_connect::scrape::ScrapeConfig),
    /// A Prometheus or VictoriaMetrics server: live queries and baseline backfill.
    Prometheus(ooda_connect::prometheus::PrometheusConfig),
}

impl SourceConfig {
    pub fn name(&self) -> &str {
        match self {
            SourceConfig::Host(c) => &c.name,
            SourceConfig::Scrape(c) => &c.name,
            SourceConfig::Prometheus(c) => &c.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Host(_) => "host",
            SourceConfig::Scrape(_) => "scrape",
            SourceConfig::Prometheus(_) => "prometheus",
        }
    }
}
