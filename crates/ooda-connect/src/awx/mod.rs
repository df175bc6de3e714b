//! AWX / Ansible Automation Platform controller: launch an allowlisted job template, poll the
//! job, fetch its stdout, cancel it. The executor behind `run_template` and AWX-routed patches.
//!
//! Safety: AWX silently drops launch fields (`limit`, `extra_vars`) that the template does not
//! prompt for and reports them in `ignored_fields`; a job launched that way would run against
//! the template's own inventory and variables. The client cancels such a job at once and fails
//! closed. Only template ids on the allowlist are ever launched.

mod client;
pub mod fake;
pub mod parse;

pub use client::{AwxClient, AwxError, JobOutcome};

use std::collections::BTreeMap;
use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds};
use serde::Deserialize;

use crate::http::{Auth, TlsConfig};

/// `[executors.awx]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwxConfig {
    /// Controller URL, e.g. `https://awx.example.com`.
    pub url: HttpUrl,
    /// API base path: `/api/v2/` for AWX, `/api/controller/v2/` for AAP 2.5+.
    #[serde(default = "default_base_path")]
    pub base_path: String,
    /// Token auth (`kind = "bearer"`, `token = "${env:AWX_TOKEN}"`).
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Per HTTP request.
    #[serde(default = "default_timeout")]
    pub timeout: Seconds,
    /// Between two polls of a running job.
    #[serde(default = "default_poll")]
    pub poll_interval: Seconds,
    /// A job still running after this is cancelled and reported as timed out.
    #[serde(default = "default_job_timeout")]
    pub job_timeout: Seconds,
    /// The allowlist: ooda's template name → AWX job template id. Nothing else is launched.
    pub templates: BTreeMap<String, u64>,
}

fn default_base_path() -> String {
    "/api/v2/".to_owned()
}
fn default_timeout() -> Seconds {
    Seconds(Duration::from_secs(30))
}
fn default_poll() -> Seconds {
    Seconds(Duration::from_secs(5))
}
fn default_job_timeout() -> Seconds {
    Seconds(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests;
