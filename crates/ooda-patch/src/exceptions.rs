//! Risk exceptions: a finding someone with authority accepted for a while (a compensating
//! control, a vendor fix pending), with an owner, a reason and an expiry. An active exception
//! takes the finding off the overdue list; an expired one puts it back and says so. Reports list
//! every exception that matched anything, so the auditor sees what was waived, by whom, until
//! when.
//!
//! ```toml
//! version = 1
//! [[exception]]
//! cve = "CVE-2016-5416"
//! host = "ldap-1"          # optional: every host when absent
//! source = "389-ds-base"   # optional: every package when absent
//! owner = "team-directory"
//! reason = "ACI read needs an authenticated bind; bind is restricted to the admin network"
//! expires = "2026-03-31"
//! approved_by = "ciso"     # optional
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::feed::is_cve_id;

/// The version of the exceptions file this code reads.
pub const EXCEPTIONS_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExceptionError {
    #[error("exceptions file: {0}")]
    Parse(String),
    #[error("exceptions file: expected version {EXCEPTIONS_VERSION}, found {0}")]
    Version(u32),
    #[error("exception #{index} ({cve}): {problem}")]
    Invalid {
        index: usize,
        cve: String,
        problem: &'static str,
    },
}

/// One accepted finding (or set of findings, when host or source is left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub cve: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub owner: String,
    pub reason: String,
    /// Last day the exception holds (inclusive).
    pub expires: NaiveDate,
    #[serde(default)]
    pub approved_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    version: u32,
    #[serde(default, rename = "exception")]
    exceptions: Vec<Exception>,
}

/// The loaded, checked exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exceptions {
    list: Vec<Exception>,
}

impl Exceptions {
    pub fn from_toml(text: &str) -> Result<Self, ExceptionError> {
        let file: ExceptionsFile =
            toml::from_str(text).map_err(|e| ExceptionError::Parse(e.to_string()))?;
        if file.version != EXCEPTIONS_VERSION {
            return Err(ExceptionError::Version(file.version));
        }
        for (index, exception) in file.exceptions.iter().enumerate() {
            let invalid = |problem| ExceptionError::Invalid {
                index: index + 1,
                cve: exception.cve.clone(),
                problem,
            };
            if !is_cve_id(&exception.cve) {
                return Err(invalid("cve must be a CVE id (CVE-YYYY-NNNN)"));
            }
            if exception.owner.trim().is_empty() {
                return Err(invalid("owner must name who answers for it"));
            }
            if exception.reason.trim().is_empty() {
                return Err(invalid("reason must say why the risk is accepted"));
            }
        }
        Ok(Self {
            list: file.exceptions,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Exception> {
        self.list.iter()
    }

    /// The most specific exception for a finding (host and source named beat wildcards); among
    /// equals, the one that lasts longest.
    pub fn find(&self, host: &str, source: &str, cve: &str) -> Option<&Exception> {
        self.list
            .iter()
            .filter(|e| e.cve == cve)
            .filter(|e| e.host.as_deref().is_none_or(|h| h == host))
            .filter(|e| e.source.as_deref().is_none_or(|s| s == source))
            .max_by_key(|e| (e.host.is_some(), e.source.is_some(), e.expires))
    }
}

impl Exception {
    /// Holds through its expiry day.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        day <= self.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
version = 1
[[exception]]
cve = "CVE-2016-5416"
owner = "team-directory"
reason = "bind restricted to the admin network"
expires = "2026-03-31"

[[exception]]
cve = "CVE-2016-5416"
host = "ldap-1"
owner = "alice"
reason = "host retired in March"
expires = "2026-01-15"
"#;

    #[test]
    fn the_most_specific_exception_wins() {
        let exceptions = Exceptions::from_toml(FILE).unwrap();
        assert_eq!(
            exceptions
                .find("ldap-1", "389-ds-base", "CVE-2016-5416")
                .unwrap()
                .owner,
            "alice"
        );
        assert_eq!(
            exceptions
                .find("ldap-2", "389-ds-base", "CVE-2016-5416")
                .unwrap()
                .owner,
            "team-directory"
        );
        assert!(exceptions.find("ldap-1", "x", "CVE-2020-0001").is_none());
        let e = exceptions.find("ldap-1", "x", "CVE-2016-5416").unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(e.active_on(day("2026-01-15")));
        assert!(!e.active_on(day("2026-01-16")));
    }

    #[test]
    fn bad_files_name_the_problem() {
        let no_owner = FILE.replace("owner = \"alice\"", "owner = \" \"");
        let error = Exceptions::from_toml(&no_owner).unwrap_err().to_string();
        assert!(
            error.contains("exception #2") && error.contains("owner"),
            "{error}"
        );
        let bad_cve = FILE.replacen("CVE-2016-5416", "CVE-16", 1);
        assert!(Exceptions::from_toml(&bad_cve)
            .unwrap_err()
            .to_string()
            .contains("CVE id"));
        assert!(Exceptions::from_toml("version = 2").is_err());
        assert!(Exceptions::from_toml("version = 1\n[[exception]]\ncve = 1").is_err());
        let unknown = format!("{FILE}\nextra = 1");
        assert!(Exceptions::from_toml(&unknown).is_err());
    }
}
