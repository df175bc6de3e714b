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
