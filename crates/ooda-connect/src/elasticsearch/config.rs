//! `[[logs]] kind = "elasticsearch"` (OpenSearch answers the same `_search`).

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchConfig {
    pub name: String,
    pub url: HttpUrl,
    /// Index or pattern searched (default `logs-*`, the data-stream convention).
    #[serde(default = "default_index")]
    pub index: String,
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Field names (ECS defaults); dotted paths reach into objects.
    #[serde(default = "default_time_field")]
    pub time_field: String,
    #[serde(default = "default_message_field")]
    pub message_field: String,
    #[serde(default = "default_host_field")]
    pub host_field: String,
    #[serde(default = "default_service_field")]
    pub service_field: String,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

fn default_index() -> String {
    "logs-*".into()
}
fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(15))
}
fn default_time_field() -> String {
    "@timestamp".into()
}
fn default_message_field() -> String {
    "message".into()
}
fn default_host_field() -> String {
    "host.name".into()
}
fn default_service_field() -> String {
    "service.name".into()
}
fn default_max_body_bytes() -> u64 {
    32 * 1024 * 1024
}

impl ElasticsearchConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            index: default_index(),
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            time_field: default_time_field(),
            message_field: default_message_field(),
            host_field: default_host_field(),
            service_field: default_service_field(),
            max_body_bytes: default_max_body_bytes(),
        }
    }
}
