//! `[reasoner.models.<name>] provider = "anthropic"`: where the Messages API is, the key (by
//! reference only), and how patiently to retry.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds, Secret};
use serde::Deserialize;

use crate::http::TlsConfig;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnthropicConfig {
    /// Base URL (default `https://api.anthropic.com`); `/v1/messages` is appended, a path prefix
    /// of a gateway is kept.
    #[serde(default = "default_url")]
    pub url: HttpUrl,
    /// `${env:ANTHROPIC_API_KEY}` or `${file:/run/secrets/anthropic}`; read per request.
    pub api_key: Secret,
    /// The `anthropic-version` header (default `2023-06-01`).
    #[serde(default = "default_version")]
    pub version: String,
    /// Per-attempt limit (default 120 s): long answers take a while.
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// Retries after the first attempt on 429, 529, 5xx and network errors (default 3).
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First back-off (default 1 s), doubled per retry; a `retry-after` header wins when longer.
    #[serde(default = "default_backoff")]
    pub backoff: Seconds,
    /// Longest single wait, whatever `retry-after` says (default 60 s): a reasoner that sleeps
    /// ten minutes is worse than a fallback to the built-in one.
    #[serde(default = "default_max_wait")]
    pub max_wait: Seconds,
    /// Largest response body accepted (default 8 MiB).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
    #[serde(default)]
    pub tls: TlsConfig,
}

pub(crate) fn default_url() -> HttpUrl {
    // A constant, not outside input.
    HttpUrl::parse("https://api.anthropic.com").expect("the default Anthropic URL parses")
}

fn default_version() -> String {
    "2023-06-01".into()
}
fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(120))
}
fn default_retries() -> u32 {
    3
}
fn default_backoff() -> Seconds {
    Seconds(Duration::from_secs(1))
}
fn default_max_wait() -> Seconds {
    Seconds(Duration::from_secs(60))
}
fn default_max_body() -> u64 {
    8 * 1024 * 1024
}

impl AnthropicConfig {
    pub fn new(url: HttpUrl, api_key: Secret) -> Self {
        Self {
            url,
            api_key,
            version: default_version(),
            timeout: default_timeout(),
            max_retries: default_retries(),
            backoff: default_backoff(),
            max_wait: default_max_wait(),
            max_body_bytes: default_max_body(),
            tls: TlsConfig::default(),
        }
    }
}
