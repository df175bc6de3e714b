//! Hosts and the attributes policy and patching care about: class, environment, exposure, tags and
//! the maintenance window they may be changed in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a host is for (`web`, `database`, `cache` …). Free-form because every fleet names its own
/// classes; policy and runbooks match on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostClass(pub String);

impl HostClass {
    pub fn new(class: impl Into<String>) -> Self {
        Self(class.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for HostClass {
    fn default() -> Self {
        Self("generic".to_owned())
    }
}

/// The deployment environment. Closed: policy treats production differently from the rest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Production,
    Staging,
    Development,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
            Environment::Test => "test",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "staging" | "stage" => Ok(Environment::Staging),
            "development" | "dev" => Ok(Environment::Development),
            "test" => Ok(Environment::Test),
            other => Err(format!(
                "expected one of production, staging, development, test, found {other:?}"
            )),
        }
    }
}

/// A server ooda watches and may act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Unique host name; the `host` label on its series.
    pub name: String,
    #[serde(default)]
    pub class: HostClass,
    #[serde(default)]
    pub environment: Environment,
    /// Reachable from the internet: raises patch risk (× 1.5) and tightens policy.
    #[serde(default)]
    pub internet_facing: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Name of the maintenance window (defined in config) this host may be changed in.
    #[serde(default)]
    pub maintenance_window: Option<String>,
    /// Team or person that owns the host (reports group by it).
    #[serde(default)]
    pub owner: Option<String>,
}

impl Host {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            class: HostClass::default(),
            environment: Environment::default(),
            internet_facing: false,
            tags: BTreeMap::new(),
            maintenance_window: None,
            owner: None,
        }
    }
}
