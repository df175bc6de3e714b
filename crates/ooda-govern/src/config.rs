//! Governance settings: the policy directory, budget, breaker and approval rules. A closed
//! world like the rest of ooda's config (`deny_unknown_fields`, defaults here and nowhere else);
//! the policies themselves are Cedar files, so "configurable per action type and server class"
//! means editing or adding a policy, not a knob here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ooda_core::{ActionKind, RiskClass};
use serde::{Deserialize, Serialize};

use crate::autonomy::AutonomyConfig;
use crate::{GovernError, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GovernConfig {
    /// A directory of `*.cedar` files. Without one, the shipped defaults apply.
    pub policy_dir: Option<PathBuf>,
    pub budget: BudgetConfig,
    pub breaker: BreakerConfig,
    pub approvals: ApprovalConfig,
    /// The autonomy level ooda starts at (L2 notify unless set); `ooda autonomy set` changes it
    /// at run time.
    pub autonomy: AutonomyConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// Autonomous actions allowed per incident; past it the gate escalates to a human.
    pub per_incident: u64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self { per_incident: 8 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Failures of one action type within `window_secs` that open its breaker.
    pub failures: u32,
    pub window_secs: u64,
    /// Fleet-wide executions of one action type within `window_secs` that open its breaker (a
    /// runaway loop restarting everything is stopped even if every restart "succeeds").
    pub max_rate: u32,
    /// How long an open breaker stays open before letting one trial action through.
    pub cooldown_secs: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures: 3,
            window_secs: 600,
            max_rate: 30,
            cooldown_secs: 900,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalConfig {
    /// How long a parked action waits before it is escalated and expires.
    pub timeout_secs: u64,
    /// Approver name → roles.
    pub approvers: BTreeMap<String, Vec<String>>,
    /// The role an approver needs, per risk class. A class missing here needs no special role
    /// (any listed approver).
    pub role_for_risk: BTreeMap<RiskClass, String>,
    /// Role overrides per action type (win over `role_for_risk`).
    pub role_for_action: BTreeMap<ActionKind, String>,
    /// Risk classes that need two distinct approvers (four-eyes on top of the requester rule).
    pub two_approvers_for: Vec<RiskClass>,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 1800,
            approvers: BTreeMap::new(),
            role_for_risk: [
                (RiskClass::High, "sre".to_owned()),
                (RiskClass::Critical, "sre".to_owned()),
            ]
            .into_iter()
            .collect(),
            role_for_action: BTreeMap::new(),
            two_approvers_for: vec![RiskClass::Critical],
        }
    }
}

impl GovernConfig {
    /// Parses the TOML form; errors name the field.
    pub fn from_toml(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| GovernError::Invalid {
            field: "governance".into(),
            reason: e.message().to_owned()
                + &e.span()
                    .map(|s| format!(" (at byte {})", s.start))
                    .unwrap_or_default(),
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, reason: &str| {
            Err(GovernError::Invalid {
                field: field.into(),
                reason: reason.into(),
            })
        };
        if self.breaker.failures == 0 {
            return invalid("breaker.failures", "expected at least 1, found 0");
        }
        if self.breaker.window_secs == 0 {
            return invalid("breaker.window_secs", "expected at least 1, found 0");
        }
        if self.breaker.max_rate == 0 {
            return invalid("breaker.max_rate", "expected at least 1, found 0");
        }
        if self.approvals.timeout_secs == 0 {
            return invalid("approvals.timeout_secs", "expected at least 1, found 0");
        }
        for (i, s) in self.autonomy.set.iter().enumerate() {
            if s.class.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return invalid(
                    &format!("autonomy.set[{i}].class"),
                    "expected a server class name, found an empty string",
                );
            }
        }
        for (name, roles) in &self.approvals.approvers {
            if name.trim().is_empty() {
                return invalid("approvals.approvers", "approver names must not be empty");
            }
            if roles.is_empty() {
                return invalid(
                    &format!("approvals.approvers.{name}"),
                    "expected at least one role",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_toml_round_trip() {
        let config = GovernConfig::from_toml(
            r#"
            [budget]
            per_incident = 4
            [approvals]
            approvers = { alice = ["sre"], bob = ["sre", "dba"] }
            two_approvers_for = ["critical", "high"]
            [approvals.role_for_action]
            failover_database = "dba"
            "#,
        )
        .unwrap();
        assert_eq!(config.budget.per_incident, 4);
        assert_eq!(
            config.autonomy.default,
            crate::autonomy::Level::Notify,
            "starts at L2"
        );
        assert_eq!(config.breaker, BreakerConfig::default());
        assert_eq!(
            config
                .approvals
                .role_for_action
                .get(&ActionKind::FailoverDatabase),
            Some(&"dba".to_owned())
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let err = GovernConfig::from_toml("[budget]\nper_incidnet = 3").unwrap_err();
        assert!(err.to_string().contains("per_incidnet"), "{err}");
        let err = GovernConfig::from_toml("[autonomy]\ndefault = \"L5\"").unwrap_err();
        assert!(err.to_string().contains("L5"), "{err}");
        let config = GovernConfig::from_toml(
            "[autonomy]\ndefault = \"L4\"\n[[autonomy.set]]\naction = \"reboot\"\nlevel = \"L3\"",
        )
        .unwrap();
        assert_eq!(config.autonomy.set.len(), 1);
        let err = GovernConfig::from_toml("[breaker]\nfailures = 0").unwrap_err();
        assert!(err.to_string().contains("breaker.failures"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,300}") {
            let _ = GovernConfig::from_toml(&text);
        }
    }
}
