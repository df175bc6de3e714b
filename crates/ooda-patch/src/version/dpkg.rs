//! Debian package versions (`[epoch:]upstream[-revision]`) compared exactly as dpkg does, so a
//! fixed version from the security tracker and an installed version agree with `dpkg
//! --compare-versions`. Must never allocate on the comparison path: the matcher calls it millions
//! of times.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed Debian version, borrowing from its input.
#[derive(Debug, Clone, Copy)]
pub struct DebVersion<'a> {
    pub epoch: u32,
    pub upstream: &'a str,
    /// Empty when the version has no `-revision` (compares like `0`).
    pub revision: &'a str,
    /// Set when dpkg accepts the version only in lax mode (policy-invalid characters, no leading
    /// digit). Comparison still works, as it does in dpkg.
    pub policy_warning: Option<&'static str>,
}

fn error(reason: &'static str) -> VersionError {
    VersionError {
        scheme: "dpkg",
        reason,
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl<'a> DebVersion<'a> {
    /// Parses like dpkg's `parseversion`: surrounding blanks are ignored, embedded ones are not.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        let trimmed = input.trim_matches(|c: char| c == ' ' || c == '\t');
        if trimmed.is_empty() {
            return Err(error("version string is empty"));
        }
        if trimmed.bytes().any(is_blank) {
            return Err(error("version string has embedded spaces"));
        }
        let (epoch, rest) = match trimmed.find(':') {
            None => (0, trimmed),
            Some(colon) => {
                let epoch = parse_epoch(&trimmed[..colon])?;
                let rest = &trimmed[colon + 1..];
                if rest.is_empty() {
                    return Err(error("nothing after colon in version number"));
                }
                (epoch, rest)
            }
        };
        let (upstream, revision) = match rest.rfind('-') {
            None => (rest, ""),
            Some(hyphen) => {
                let revision = &rest[hyphen + 1..];
                if revision.is_empty() {
                    return Err(error("revision number is empty"));
                }
                (&rest[..hyphen], revision)
            }
        };
        if upstream.is_empty() {
            return Err(error("version number is empty"));
        }
        Ok(Self {
            epoch,
            upstream,
            revision,
            policy_warning: policy_warning(upstream, revision),
        })
    }
}

/// dpkg reads the epoch with `strtol`: an optional sign and digits, nothing else before the colon.
fn parse_epoch(text: &str) -> Result<u32, VersionError> {
    let digits = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    if digits.is_empty() || !digits.as_bytes()[0].is_ascii_digit() {
        return Err(error("epoch in version is empty"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error("epoch in version is not number"));
    }
    if text.starts_with('-') && digits.bytes().any(|b| b != b'0') {
        return Err(error("epoch in version is negative"));
    }
    // dpkg stores the epoch as an int: anything above INT_MAX is refused.
    match digits.parse::<u64>() {
        Ok(value) if value <= i32::MAX as u64 => Ok(value as u32),
        _ => Err(error("epoch in version is too big")),
    }
}

fn policy_warning(upstream: &str, revision: &str) -> Option<&'static str> {
    let bytes = upstream.as_bytes();
    if !bytes[0].is_ascii_digit() {
        return Some("version number does not start with digit");
    }
    if !bytes
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b".-+~:".contains(&c))
    {
        return Some("invalid character in version number");
    }
    if !revision
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b".+~".contains(&c))
    {
        return Some("invalid character in revision number");
    }
    None
}

impl Ord for DebVersion<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream, other.upstream))
            .then_with(|| verrevcmp(self.revision, other.revision))
    }
}

impl PartialOrd for DebVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is dpkg's: `1.0` equals `1.0-0` and `0:1.00`.
impl PartialEq for DebVersion<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebVersion<'_> {}

/// Compares two Debian version strings like `dpkg --compare-versions`.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(DebVersion::parse(a)?.cmp(&DebVersion::parse(b)?))
}

/// dpkg's character weight: `~` before the end of the string, letters before everything else.
fn order(c: u8) -> i32 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        i32::from(c)
    } else if c == b'~' {
        -1
    } else if c != 0 {
        i32::from(c) + 256
    } else {
        0
    }
}

/// dpkg's `verrevcmp`: alternating non-digit runs (compared by `order`) and digit runs (compared
/// numerically, leading zeros ignored, any length).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(at(a, i));
            let bc = order(at(b, j));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// The upstream part of a Debian version (no epoch, no revision): what NVD's ranges speak of.
pub fn upstream_part(version: &str) -> &str {
    match DebVersion::parse(version) {
        Ok(parsed) => parsed.upstream,
        Err(_) => version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_sorts_before_release_and_revision_zero_is_absent() {
        assert_eq!(compare("1.0~rc1", "1.0").unwrap(), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-0").unwrap(), Ordering::Equal);
        assert_eq!(compare("1:0.1", "9.9").unwrap(), Ordering::Greater);
        assert_eq!(compare("1.0-0~", "1.0").unwrap(), Ordering::Less);
    }

    #[test]
    fn long_digit_runs_do_not_overflow() {
        let a = "1.123456789012345678901234567890";
        let b = "1.123456789012345678901234567891";
        assert_eq!(compare(a, b).unwrap(), Ordering::Less);
    }

    #[test]
    fn parse_splits_on_first_colon_and_last_hyphen() {
        let v = DebVersion::parse("0:0-0:0-0").unwrap();
        assert_eq!((v.epoch, v.upstream, v.revision), (0, "0-0:0", "0"));
        assert!(DebVersion::parse("0:").is_err());
        assert!(DebVersion::parse("1.0-").is_err());
        assert!(DebVersion::parse("-1:0-1").is_err());
        assert!(DebVersion::parse("0:abc3-0")
            .unwrap()
            .policy_warning
            .is_some());
    }

    #[test]
    fn upstream_part_strips_epoch_and_revision() {
        assert_eq!(upstream_part("2:4.13.13+dfsg-1~deb11u5"), "4.13.13+dfsg");
        assert_eq!(upstream_part("7.52.1-5+deb9u7"), "7.52.1");
    }
}
