//! `[reasoner.models.<name>] provider = "openai"`: the base URL of any OpenAI-compatible server
//! (`http://127.0.0.1:8080/v1` for llama.cpp, `http://127.0.0.1:11434/v1` for Ollama), an
//! optional key by reference, and how patiently to retry.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds, Secret};
use serde::Deserialize;

use crate::http::TlsConfig;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Base URL up to and including the version segment; `/chat/completions` is appended.
    pub url: HttpUrl,
    /// Sent as `Authorization: Bearer …` when set. Local servers usually need none.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// Per-attempt limit (default 300 s: a local CPU model is slow).
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// Retries after the first attempt on 429, 5xx and network errors (default 3).
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First back-off (default 1 s), doubled per retry; `retry-after` wins when longer.
    #[serde(default = "default_backoff")]
    pub backoff: Seconds,
    /// Longest single wait (default 60 s).
    #[serde(default = "default_max_wait")]
    pub max_wait: Seconds,
    /// Largest response body accepted (default 8 MiB).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
    #[serde(default)]
    pub tls: TlsConfig,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(300))
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

impl OpenAiConfig {
    pub fn new(url: HttpUrl) -> Self {
        Self {
            url,
            api_key: None,
            timeout: default_timeout(),
            max_retries: default_retries(),
            backoff: default_backoff(),
            max_wait: default_max_wait(),
            max_body_bytes: default_max_body(),
            tls: TlsConfig::default(),
        }
    }
}
