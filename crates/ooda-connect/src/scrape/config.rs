//! `[[sources]] kind = "scrape"`: one exposition target (node-exporter, an application's
//! `/metrics`). Defaults live here, next to the knobs they belong to.

use std::collections::BTreeMap;
use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

/// Bodies above this are cut and counted as an error: node-exporter on a big host is ~300 KiB,
/// so 16 MiB leaves room for busy applications while bounding memory per target.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// Names the source in logs and metrics (`scrape errors by source`).
    pub name: String,
    pub url: HttpUrl,
    /// How often the scheduler scrapes this target (default 60 s).
    #[serde(default = "default_interval")]
    pub interval: Seconds,
    /// Whole-request limit: connect, headers and body (default 10 s).
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// The `host` label put on every series; default: the URL's host name.
    #[serde(default)]
    pub host: Option<String>,
    /// Extra labels put on every series. They win over labels the target exposes, which are
    /// kept as `exported_<name>` (Prometheus' `honor_labels = false`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Metric-name prefixes to keep; empty keeps everything the target exposes.
    #[serde(default)]
    pub metrics: Vec<String>,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
}

fn default_interval() -> Seconds {
    Seconds(Duration::from_secs(60))
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(10))
}

fn default_max_body_bytes() -> u64 {
    DEFAULT_MAX_BODY_BYTES
}

impl ScrapeConfig {
    /// A config with every default, for code and tests that build one by hand.
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            interval: default_interval(),
            timeout: default_timeout(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            host: None,
            labels: BTreeMap::new(),
            metrics: Vec::new(),
            auth: Auth::None,
            tls: TlsConfig::default(),
        }
    }
}
