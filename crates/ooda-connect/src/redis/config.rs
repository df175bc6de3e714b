//! `[dedup] kind = "redis"`: where the shared dedup claims live.

use std::time::Duration;

use ooda_core::value::{Seconds, Secret};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisDedupConfig {
    /// `host:port` (default `127.0.0.1:6379`).
    #[serde(default = "default_address")]
    pub address: String,
    /// ACL user (Redis ≥ 6); the password alone uses the default user.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub db: u32,
    /// Prepended to every fingerprint, so several ooda installations can share one Redis.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// Connect, read and write limit per command (default 500 ms): dedup sits on the alert path
    /// and must answer fast or step aside for the local fallback.
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// While Redis is unreachable, how long to stay on the local fallback before trying again
    /// (default 5 s), so an outage does not cost a connect timeout per alert.
    #[serde(default = "default_retry_after")]
    pub retry_after: Seconds,
}

fn default_address() -> String {
    "127.0.0.1:6379".into()
}

fn default_prefix() -> String {
    "ooda:dedup:".into()
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_millis(500))
}

fn default_retry_after() -> Seconds {
    Seconds(Duration::from_secs(5))
}

impl Default for RedisDedupConfig {
    fn default() -> Self {
        Self {
            address: default_address(),
            username: None,
            password: None,
            db: 0,
            key_prefix: default_prefix(),
            timeout: default_timeout(),
            retry_after: default_retry_after(),
        }
    }
}
