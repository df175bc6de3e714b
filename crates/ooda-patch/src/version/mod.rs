//! Version comparison in the three schemes patching meets: Debian (`dpkg`), RPM (`rpm`) and
//! Semantic Versioning (`semver`). A wrong answer here is a missed or a false finding, so each
//! scheme follows its reference tool byte for byte; none of them may panic on any input.

pub mod dpkg;
pub mod rpm;
pub mod semver;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// Why a version string could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version: {reason}")]
pub struct VersionError {
    pub scheme: &'static str,
    pub reason: &'static str,
}

/// A version scheme. Closed: each ecosystem the matcher knows maps to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Dpkg,
    Rpm,
    Semver,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Semver => "semver",
        }
    }

    /// Compares two versions of this scheme. `rpm` compares full `[epoch:]version[-release]`
    /// strings; `semver` uses the loose parser.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare_evr(a, b),
            Scheme::Semver => semver::compare(a, b),
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dpkg" | "deb" | "debian" => Ok(Scheme::Dpkg),
            "rpm" => Ok(Scheme::Rpm),
            "semver" => Ok(Scheme::Semver),
            other => Err(format!(
                "expected one of dpkg, rpm, semver, found {other:?}"
            )),
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<`, `=` or `>`: what `ooda patch vercmp` prints.
pub fn ordering_symbol(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// Compares versions for ranges that come without a declared scheme (NVD CPE ranges): rpm's
/// segment rule handles the dotted numbers, letters and dates these carry without ever failing.
pub fn compare_loose(a: &str, b: &str) -> Ordering {
    rpm::rpmvercmp(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dpkg_version() -> impl Strategy<Value = String> {
        // Short strings from dpkg's alphabet so that collisions and near-collisions are common.
        "([0-3]:)?[0-9][0-9a-c.+~]{0,5}(-[0-9a-c.+~]{1,4})?"
    }

    fn rpm_string() -> impl Strategy<Value = String> {
        "[0-9a-c.~^_]{0,7}"
    }

    fn semver_version() -> impl Strategy<Value = String> {
        "(0|[1-9][0-9]?)\\.(0|[1-9])\\.(0|[1-9])(-(0|[1-9]|[a-c]{1,2})(\\.(0|[1-9]|[a-c-]{1,2})){0,2})?(\\+[a-z0-9]{1,3})?"
    }

    fn check_order_laws(
        cmp: impl Fn(&str, &str) -> Ordering,
        a: &str,
        b: &str,
        c: &str,
    ) -> Result<(), TestCaseError> {
        let ab = cmp(a, b);
        prop_assert_eq!(ab, cmp(b, a).reverse(), "antisymmetry {} {}", a, b);
        prop_assert_eq!(cmp(a, a), Ordering::Equal, "reflexive {}", a);
        if a == b {
            prop_assert_eq!(ab, Ordering::Equal, "equal strings compare equal");
        }
        let bc = cmp(b, c);
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(
                cmp(a, c),
                Ordering::Greater,
                "transitivity {} {} {}",
                a,
                b,
                c
            );
        }
        if ab == Ordering::Equal {
            // Equal versions are interchangeable: they compare the same against anything.
            prop_assert_eq!(cmp(a, c), bc, "substitution {} {} {}", a, b, c);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn dpkg_is_a_total_order(a in dpkg_version(), b in dpkg_version(), c in dpkg_version()) {
            let cmp = |x: &str, y: &str| dpkg::compare(x, y).expect("generated versions are valid");
            check_order_laws(cmp, &a, &b, &c)?;
            let (x, y) = (dpkg::DebVersion::parse(&a).unwrap(), dpkg::DebVersion::parse(&b).unwrap());
            prop_assert_eq!(x == y, x.cmp(&y) == Ordering::Equal);
        }

        #[test]
        fn rpmvercmp_is_a_total_order(a in rpm_string(), b in rpm_string(), c in rpm_string()) {
            check_order_laws(rpm::rpmvercmp, &a, &b, &c)?;
        }

        #[test]
        fn rpm_evr_with_releases_is_a_total_order(
            a in "([0-2]:)?[0-9][0-9a-b.]{0,3}-[0-9][0-9a-b.]{0,2}",
            b in "([0-2]:)?[0-9][0-9a-b.]{0,3}-[0-9][0-9a-b.]{0,2}",
            c in "([0-2]:)?[0-9][0-9a-b.]{0,3}-[0-9][0-9a-b.]{0,2}",
        ) {
            let cmp = |x: &str, y: &str| rpm::compare_evr(x, y).expect("generated versions are valid");
            check_order_laws(cmp, &a, &b, &c)?;
        }

        #[test]
        fn semver_is_a_total_order(a in semver_version(), b in semver_version(), c in semver_version()) {
            let cmp = |x: &str, y: &str| semver::compare(x, y).expect("generated versions are valid");
            check_order_laws(cmp, &a, &b, &c)?;
        }

        #[test]
        fn parsers_never_panic(input in "\\PC{0,40}", other in "\\PC{0,40}") {
            let _ = dpkg::compare(&input, &other);
            let _ = rpm::compare_evr(&input, &other);
            let _ = rpm::rpmvercmp(&input, &other);
            let _ = semver::compare(&input, &other);
            let _ = semver::SemVer::parse(&input);
        }

        #[test]
        fn rpmvercmp_is_antisymmetric_on_any_bytes(a in any::<String>(), b in any::<String>()) {
            prop_assert_eq!(rpm::rpmvercmp(&a, &b), rpm::rpmvercmp(&b, &a).reverse());
        }
    }
}
