//! `[alertmanager]`: where ooda pushes its alerts (so teams keep their routing) and whose
//! silences it honours.

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub name: String,
    pub url: HttpUrl,
    /// Per-request limit (default 10 s).
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Push ooda's alerts to `POST /api/v2/alerts` (default true).
    #[serde(default = "yes")]
    pub push: bool,
    /// Read `GET /api/v2/silences` and hold back alerts they match (default true).
    #[serde(default = "yes")]
    pub honour_silences: bool,
    /// Link put in each pushed alert's `generatorURL` (ooda's console), if set.
    #[serde(default)]
    pub generator_url: Option<HttpUrl>,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(10))
}

fn yes() -> bool {
    true
}

impl AlertmanagerConfig {
    pub fn new(name: impl Into<String>, url: HttpUrl) -> Self {
        Self {
            name: name.into(),
            url,
            timeout: default_timeout(),
            auth: Auth::None,
            tls: TlsConfig::default(),
            push: true,
            honour_silences: true,
            generator_url: None,
        }
    }
}
