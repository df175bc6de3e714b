//! RPM versions compared as rpm 4.18 does: `rpmvercmp` for one version or release string
//! (`~` sorts before everything, `^` after the base version but before the next segment), and
//! `[epoch:]version[-release]` where the release only counts when both sides have one.
//!
//! Bytes outside ASCII letters and digits are separators, exactly like rpm; never panics and
//! never allocates.

use std::cmp::Ordering;

use super::VersionError;

/// rpm's `rpmvercmp` on one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let one = a.as_bytes();
    let two = b.as_bytes();
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    // NUL counts as a separator too (C rpm would stop there); this keeps the order antisymmetric
    // on any Rust string.
    let is_separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0usize, 0usize);

    while i < one.len() || j < two.len() {
        while i < one.len() && is_separator(one[i]) {
            i += 1;
        }
        while j < two.len() && is_separator(two[j]) {
            j += 1;
        }

        // Tilde: sorts before everything else, even the end of the string.
        if at(one, i) == b'~' || at(two, j) == b'~' {
            if at(one, i) != b'~' {
                return Ordering::Greater;
            }
            if at(two, j) != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }

        // Caret: like tilde, except that the end of the string (the base version) sorts lower.
        if at(one, i) == b'^' || at(two, j) == b'^' {
            if i >= one.len() {
                return Ordering::Less;
            }
            if j >= two.len() {
                return Ordering::Greater;
            }
            if at(one, i) != b'^' {
                return Ordering::Greater;
            }
            if at(two, j) != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }

        if i >= one.len() || j >= two.len() {
            break;
        }

        // One segment: all digits or all letters, the type decided by the first string.
        let numeric = one[i].is_ascii_digit();
        let segment_end = |s: &[u8], from: usize| {
            let mut end = from;
            while end < s.len()
                && if numeric {
                    s[end].is_ascii_digit()
                } else {
                    s[end].is_ascii_alphabetic()
                }
            {
                end += 1;
            }
            end
        };
        let end_one = segment_end(one, i);
        let end_two = segment_end(two, j);

        // Different types: a numeric segment is newer than an alphabetic one.
        if end_two == j {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }

        let mut seg_one = &one[i..end_one];
        let mut seg_two = &two[j..end_two];
        if numeric {
            while seg_one.first() == Some(&b'0') {
                seg_one = &seg_one[1..];
            }
            while seg_two.first() == Some(&b'0') {
                seg_two = &seg_two[1..];
            }
            // The number with more digits is larger: no overflow on long numbers.
            match seg_one.len().cmp(&seg_two.len()) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        match seg_one.cmp(seg_two) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        i = end_one;
        j = end_two;
    }

    match (i >= one.len(), j >= two.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// An `[epoch:]version[-release]` triple, borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evr<'a> {
    /// `None` when the string had no epoch; compares as `0`.
    pub epoch: Option<&'a str>,
    pub version: &'a str,
    pub release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    /// Splits like rpm's `parseEVR`: the epoch is the leading digits before a colon, the release
    /// follows the last hyphen.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(VersionError {
                scheme: "rpm",
                reason: "version string is empty",
            });
        }
        let digits = input.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = if input.as_bytes().get(digits) == Some(&b':') {
            let epoch = &input[..digits];
            (
                Some(if epoch.is_empty() { "0" } else { epoch }),
                &input[digits + 1..],
            )
        } else {
            (None, input)
        };
        let (version, release) = match rest.rfind('-') {
            Some(hyphen) => (&rest[..hyphen], Some(&rest[hyphen + 1..])),
            None => (rest, None),
        };
        Ok(Self {
            epoch,
            version,
            release,
        })
    }

    /// rpm's EVR order. Not a total order on purpose: `1.0` equals both `1.0-1` and `1.0-2`,
    /// because rpm compares releases only when both sides name one.
    pub fn compare(&self, other: &Self) -> Ordering {
        rpmvercmp(self.epoch.unwrap_or("0"), other.epoch.unwrap_or("0"))
            .then_with(|| rpmvercmp(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                _ => Ordering::Equal,
            })
    }
}

/// Compares two full `[epoch:]version[-release]` strings the way rpm does.
pub fn compare_evr(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(Evr::parse(a)?.compare(&Evr::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_and_caret() {
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.01"), Ordering::Less);
    }

    #[test]
    fn evr_release_only_when_both_present() {
        assert_eq!(compare_evr("1.0", "1.0-5").unwrap(), Ordering::Equal);
        assert_eq!(compare_evr("1.0-4", "1.0-5").unwrap(), Ordering::Less);
        assert_eq!(compare_evr("1:1.0", "2.0").unwrap(), Ordering::Greater);
        let evr = Evr::parse("(none):1.0-1").unwrap();
        assert_eq!(evr.epoch, None, "non-numeric prefix is not an epoch");
    }
}
