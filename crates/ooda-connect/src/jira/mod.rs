//! Jira issues as change records (REST API v2 for Data Center, v3 with Atlassian Document Format
//! for Cloud): the adapter behind `ooda_core::ChangeRecords` when ITSM is Jira.
//!
//! Creates an issue when the gate is about to act, comments with progress and the outcome, and
//! moves it through a configured transition. Never deletes or edits other issues.

mod client;
pub mod parse;

pub use client::{JiraChanges, JiraError};

use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

/// `[itsm] kind = "jira"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Site URL, e.g. `https://example.atlassian.net` or `https://jira.example.com`.
    pub url: HttpUrl,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// REST API version: 2 (plain-text bodies) or 3 (Atlassian Document Format).
    #[serde(default = "default_api_version")]
    pub api_version: u8,
    /// Project key the issues are created in.
    pub project: String,
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    #[serde(default = "default_labels")]
    pub labels: Vec<String>,
    /// Transition (by name) applied when the action succeeded, e.g. `Done`.
    #[serde(default)]
    pub success_transition: Option<String>,
    /// Transition (by name) applied when it failed.
    #[serde(default)]
    pub failure_transition: Option<String>,
}

fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(30))
}
fn default_api_version() -> u8 {
    2
}
fn default_issue_type() -> String {
    "Task".to_owned()
}
fn default_labels() -> Vec<String> {
    vec!["ooda".to_owned()]
}

impl JiraConfig {
    pub fn new(url: HttpUrl, project: impl Into<String>) -> Self {
        Self {
            url,
            auth: Auth::None,
            tls: TlsConfig::default(),
            timeout: default_timeout(),
            api_version: default_api_version(),
            project: project.into(),
            issue_type: default_issue_type(),
            labels: default_labels(),
            success_transition: None,
            failure_transition: None,
        }
    }
}

#[cfg(test)]
mod tests;
