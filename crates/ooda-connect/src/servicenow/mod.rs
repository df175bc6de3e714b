//! ServiceNow change records through the Table API (`/api/now/table/change_request`): the
//! adapter behind `ooda_core::ChangeRecords` when ITSM is ServiceNow.
//!
//! Opens a change (POST) when the gate is about to act, adds work notes and closes it (PATCH)
//! with the outcome. Never deletes or reads other records.

mod client;
pub mod parse;

pub use client::{ServiceNowChanges, ServiceNowError};

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

/// `[itsm] kind = "servicenow"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowConfig {
    /// Instance URL, e.g. `https://example.service-now.com`.
    pub url: HttpUrl,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Per-request limit (default 30 s).
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// `type` of the change requests ooda opens (`normal`, `standard`, `emergency`).
    #[serde(default = "default_change_type")]
    pub change_type: String,
    /// Assignment group (display value, resolved by ServiceNow).
    #[serde(default)]
    pub assignment_group: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(30))
}

fn default_change_type() -> String {
    "normal".to_owned()
}

impl ServiceNowConfig {
    pub fn new(url: HttpUrl) -> Self {
        Self {
            url,
            auth: Auth::None,
            tls: TlsConfig::default(),
            timeout: default_timeout(),
            change_type: default_change_type(),
            assignment_group: None,
            category: None,
        }
    }
}

#[cfg(test)]
mod tests;
