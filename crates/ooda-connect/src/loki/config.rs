//! `[[logs]] kind = "loki"`.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LokiConfig {
    pub name: String,
    pub url: HttpUrl,
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Sent as `X-Scope-OrgID` to multi-tenant Loki.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Stream label holding the host name (default `host`).
    #[serde(default = "default_host_label")]
    pub host_label: String,
    /// Stream label holding the service name (default `service_name`, Loki's own default).
    #[serde(default = "default_service_label")]
    pub service_label: String,
    /// Stream selector used when the query names neither host nor service.
    #[serde(default = "default_selector")]
    pub selector: String,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(15))
}

fn default_host_label() -> String {
    "host".into()
}

fn default_service_label() -> String {
    "service_name".into()
}

fn default_selector() -> String {
    r#"{job=~".+"}"#.into()
}

fn default_max_body_bytes() -> u64 {
    32 * 1024 * 1024
}

impl LokiConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            tenant: None,
            host_label: default_host_label(),
            service_label: default_service_label(),
            selector: default_selector(),
            max_body_bytes: default_max_body_bytes(),
        }
    }
}
