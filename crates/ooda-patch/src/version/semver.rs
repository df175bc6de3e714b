//! Semantic Versioning 2.0.0 precedence, for software that is not a distro package (SBOM
//! components, NVD ranges of libraries). Strict parsing follows the spec; loose parsing also
//! accepts what node-semver's loose mode does (`v1.2.3`, `= 1.2.3`, surrounding blanks).
//!
//! Numbers are compared as digit strings, so no input can overflow.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed SemVer version, borrowing from its input.
#[derive(Debug, Clone)]
pub struct SemVer<'a> {
    pub major: &'a str,
    pub minor: &'a str,
    pub patch: &'a str,
    /// Dot-separated pre-release identifiers; empty for a release.
    pub pre: Vec<&'a str>,
    /// Build metadata: kept, but never part of precedence.
    pub build: Option<&'a str>,
}

fn error(reason: &'static str) -> VersionError {
    VersionError {
        scheme: "semver",
        reason,
    }
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

fn is_numeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit())
}

fn check_number(text: &str) -> Result<(), VersionError> {
    if !is_numeric(text) {
        return Err(error("major, minor and patch must be numbers"));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(error("numbers must not have leading zeros"));
    }
    Ok(())
}

impl<'a> SemVer<'a> {
    /// Strict SemVer 2.0.0.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        let (rest, build) = match input.split_once('+') {
            Some((rest, build)) => {
                if !build.split('.').all(is_identifier) {
                    return Err(error("build metadata must be dot-separated [0-9A-Za-z-]"));
                }
                (rest, Some(build))
            }
            None => (input, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => {
                let identifiers: Vec<&str> = pre.split('.').collect();
                for identifier in &identifiers {
                    if !is_identifier(identifier) {
                        return Err(error("pre-release must be dot-separated [0-9A-Za-z-]"));
                    }
                    if is_numeric(identifier) && identifier.len() > 1 && identifier.starts_with('0')
                    {
                        return Err(error(
                            "numeric pre-release identifiers must not have leading zeros",
                        ));
                    }
                }
                (core, identifiers)
            }
            None => (rest, Vec::new()),
        };
        let mut parts = core.split('.');
        let (Some(major), Some(minor), Some(patch), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(error("expected MAJOR.MINOR.PATCH"));
        };
        check_number(major)?;
        check_number(minor)?;
        check_number(patch)?;
        Ok(Self {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    /// node-semver's loose mode: leading `v`, `=` and blanks, trailing blanks.
    pub fn parse_loose(input: &'a str) -> Result<Self, VersionError> {
        let trimmed = input
            .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_ascii_whitespace())
            .trim_end();
        Self::parse(trimmed)
    }

    /// Precedence per SemVer 2.0.0 §11; build metadata is ignored.
    pub fn precedence(&self, other: &Self) -> Ordering {
        compare_numbers(self.major, other.major)
            .then_with(|| compare_numbers(self.minor, other.minor))
            .then_with(|| compare_numbers(self.patch, other.patch))
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_pre(a: &[&str], b: &[&str]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        // A release has higher precedence than any of its pre-releases.
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    for (x, y) in a.iter().zip(b.iter()) {
        let ordering = match (is_numeric(x), is_numeric(y)) {
            (true, true) => compare_numbers(x, y),
            // Numeric identifiers have lower precedence than alphanumeric ones.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.as_bytes().cmp(y.as_bytes()),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.len().cmp(&b.len())
}

/// Compares two versions with the loose parser (which accepts every strict version).
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(SemVer::parse_loose(a)?.precedence(&SemVer::parse_loose(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_order() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(
                compare(pair[0], pair[1]).unwrap(),
                Ordering::Less,
                "{pair:?}"
            );
        }
    }

    #[test]
    fn strict_rejects_what_loose_accepts() {
        assert!(SemVer::parse("v1.2.3").is_err());
        assert!(SemVer::parse_loose(" = v1.2.3 ").is_ok());
        assert!(SemVer::parse("01.2.3").is_err());
        assert!(SemVer::parse("1.2").is_err());
        assert!(SemVer::parse("1.2.3-").is_err());
    }
}
