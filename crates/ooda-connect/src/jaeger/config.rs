//! `kind = "jaeger"`.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JaegerConfig {
    pub name: String,
    /// The query service (UI) URL, e.g. `http://jaeger-query:16686`.
    pub url: HttpUrl,
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(15))
}

fn default_max_body_bytes() -> u64 {
    32 * 1024 * 1024
}

impl JaegerConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            max_body_bytes: default_max_body_bytes(),
        }
    }

    /// The Jaeger UI page of one trace.
    pub fn link(&self, trace_id: &str) -> String {
        format!(
            "{}/trace/{trace_id}",
            self.url.as_url().as_str().trim_end_matches('/')
        )
    }
}
