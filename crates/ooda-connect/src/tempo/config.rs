//! `kind = "tempo"`.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoConfig {
    pub name: String,
    pub url: HttpUrl,
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Sent as `X-Scope-OrgID` to multi-tenant Tempo.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Link for a trace in evidence; `{trace_id}` is replaced (default: the API's trace URL).
    #[serde(default)]
    pub link_template: Option<String>,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(15))
}

fn default_max_body_bytes() -> u64 {
    32 * 1024 * 1024
}

impl TempoConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            tenant: None,
            link_template: None,
            max_body_bytes: default_max_body_bytes(),
        }
    }

    /// The link for one trace.
    pub fn link(&self, trace_id: &str) -> String {
        match &self.link_template {
            Some(template) => template.replace("{trace_id}", trace_id),
            None => format!(
                "{}/api/traces/{trace_id}",
                self.url.as_url().as_str().trim_end_matches('/')
            ),
        }
    }
}
