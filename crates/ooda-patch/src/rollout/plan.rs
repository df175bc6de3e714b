//! What a rollout is asked to do (the plan file) and the knobs it runs with (the config). Both
//! are closed serde structs: an unknown field is an error, never ignored.

use std::collections::BTreeMap;

use ooda_core::Severity;
use serde::{Deserialize, Serialize};

use super::RolloutError;

/// One rollout as requested: which package to which version, on which hosts, in which order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutPlan {
    /// Unique name: letters, digits, `.`, `_`, `-` (it is part of every idempotency key).
    pub id: String,
    pub package: String,
    pub version: String,
    /// The staging wave: patched together, then watched for the validation period.
    pub staging: Vec<String>,
    /// Production hosts, patched in this order, `batch` at a time, each inside its window.
    pub production: Vec<String>,
    /// The version each host runs now: the package downgrade target if its validation fails.
    #[serde(default)]
    pub previous: BTreeMap<String, String>,
    /// Overrides the configured batch size for this rollout.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Set when incident response asks for an emergency patch.
    #[serde(default)]
    pub emergency: Option<EmergencyRequest>,
    /// Why (shown to approvers, in the audit log and the change records).
    #[serde(default)]
    pub reason: String,
}

/// Incident response's request for an emergency patch. Only CRITICAL + known-exploited (KEV)
/// on internet-facing hosts qualifies; it shortens the validation period and needs approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    pub cve: String,
    pub severity: Severity,
    pub kev: bool,
    /// Who asks (an incident id or a person).
    pub requested_by: String,
}

impl RolloutPlan {
    /// Checks the plan's shape (not the fleet: [`super::RolloutEngine::start`] does that).
    pub fn validate(&self) -> Result<(), RolloutError> {
        let invalid = |field: &str, reason: String| {
            Err(RolloutError::InvalidPlan {
                field: field.to_owned(),
                reason,
            })
        };
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !id_ok {
            return invalid(
                "id",
                format!(
                    "expected 1-64 letters, digits, '.', '_' or '-', found {:?}",
                    self.id
                ),
            );
        }
        if self.package.trim().is_empty() || self.package.chars().any(char::is_whitespace) {
            return invalid(
                "package",
                format!("expected a package name, found {:?}", self.package),
            );
        }
        if self.version.trim().is_empty() || self.version.chars().any(char::is_whitespace) {
            return invalid(
                "version",
                format!("expected a version, found {:?}", self.version),
            );
        }
        if self.production.is_empty() && self.staging.is_empty() {
            return invalid("production", "expected at least one host".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for host in self.staging.iter().chain(&self.production) {
            if host.trim().is_empty() || host.len() > 120 || host.chars().any(char::is_whitespace) {
                return invalid("hosts", format!("expected a host name, found {host:?}"));
            }
            if !seen.insert(host) {
                return invalid("hosts", format!("{host} is listed twice"));
            }
        }
        if self.batch == Some(0) {
            return invalid("batch", "expected at least 1, found 0".into());
        }
        Ok(())
    }
}

/// How rollouts run. Defaults in one place ([`Default`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutConfig {
    /// How long the staging wave is watched before production starts.
    pub staging_validation_secs: u64,
    /// How long each production host is watched after its patch.
    pub host_validation_secs: u64,
    /// The staging validation of an approved emergency patch.
    pub emergency_validation_secs: u64,
    /// Production hosts in flight at once.
    pub batch: u32,
    /// The confidence a routine rollout step is submitted with (policy decides what it allows).
    pub confidence: f64,
    /// The confidence of emergency steps: below every autonomy tier, so policy asks a human.
    pub emergency_confidence: f64,
    /// Scrape interval asked of the monitor while a host changes.
    pub intensify_interval_secs: u64,
    /// How long the intensified monitoring lasts after each step.
    pub intensify_after_secs: u64,
    /// Job template run to roll a host back when the plan has no previous version for it.
    pub rollback_template: Option<String>,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        Self {
            staging_validation_secs: 48 * 3600,
            host_validation_secs: 30 * 60,
            emergency_validation_secs: 4 * 3600,
            batch: 1,
            confidence: 0.9,
            emergency_confidence: 0.5,
            intensify_interval_secs: 10,
            intensify_after_secs: 30 * 60,
            rollback_template: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> RolloutPlan {
        RolloutPlan {
            id: "openssl-2026-11".into(),
            package: "openssl".into(),
            version: "3.0.15-1".into(),
            staging: vec!["stage-1".into()],
            production: vec!["web-1".into(), "web-2".into()],
            previous: BTreeMap::new(),
            batch: None,
            emergency: None,
            reason: String::new(),
        }
    }

    #[test]
    fn plans_are_checked() {
        assert!(plan().validate().is_ok());
        let mut p = plan();
        p.id = "a b".into();
        assert!(p.validate().unwrap_err().to_string().contains("id"));
        let mut p = plan();
        p.production.push("stage-1".into());
        assert!(p.validate().unwrap_err().to_string().contains("twice"));
        let mut p = plan();
        p.batch = Some(0);
        assert!(p.validate().is_err());
        assert!(toml::from_str::<RolloutPlan>(
            "id = \"x\"\npackage = \"p\"\nversion = \"1\"\nstaging = []\nproduction = [\"a\"]\nfrobnicate = 1\n"
        )
        .is_err());
    }
}
