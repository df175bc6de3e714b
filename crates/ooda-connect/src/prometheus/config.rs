//! `[[sources]] kind = "prometheus"`: a Prometheus (or VictoriaMetrics, same API) server to
//! query and to backfill baselines from.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    pub name: String,
    /// Base URL, e.g. `http://prometheus:9090` or VictoriaMetrics' `http://vm:8428`
    /// (a path prefix such as `/prometheus` is kept).
    pub url: HttpUrl,
    /// How often `ooda up` queries the watched series (default 60 s).
    #[serde(default = "default_interval")]
    pub interval: Seconds,
    /// Per-request limit (default 30 s); also sent as the query `timeout` parameter.
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Largest response body accepted (default 64 MiB).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// How much history backfill asks for (default 14 days).
    #[serde(default = "default_backfill")]
    pub backfill: Seconds,
    /// Resolution of backfilled history (default 60 s).
    #[serde(default = "default_step")]
    pub backfill_step: Seconds,
    /// Span of one range query while backfilling (default 1 day): Prometheus refuses more than
    /// 11 000 points per series per query, and smaller chunks show progress and retry cheaply.
    #[serde(default = "default_chunk")]
    pub backfill_chunk: Seconds,
}

fn default_interval() -> Seconds {
    Seconds(Duration::from_secs(60))
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(30))
}

fn default_max_body_bytes() -> u64 {
    64 * 1024 * 1024
}

fn default_backfill() -> Seconds {
    Seconds(Duration::from_secs(14 * 86_400))
}

fn default_step() -> Seconds {
    Seconds(Duration::from_secs(60))
}

fn default_chunk() -> Seconds {
    Seconds(Duration::from_secs(86_400))
}

impl PrometheusConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            interval: default_interval(),
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            max_body_bytes: default_max_body_bytes(),
            backfill: default_backfill(),
            backfill_step: default_step(),
            backfill_chunk: default_chunk(),
        }
    }
}
