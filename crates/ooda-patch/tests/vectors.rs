//! Every version-comparison vector in `tests/fixtures/` must pass: they were checked against
//! dpkg 1.21, rpm 4.18 and the SemVer rules, so any mismatch is our bug.

use std::cmp::Ordering;
use std::path::PathBuf;

use ooda_patch::version::{dpkg, rpm, semver};

fn shared_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read fixture {}: {error}", path.display()))
}

/// Rows of a vector file: comment lines and the header skipped.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect()
}

fn sign(expected: &str) -> Ordering {
    match expected {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("unexpected expected value {other:?}"),
    }
}

#[test]
fn dpkg_comparison_vectors() {
    let text = shared_file("vercmp-dpkg.tsv");
    let rows = rows(&text);
    assert_eq!(rows.len(), 116, "vector count changed");
    for row in rows {
        let (a, b, expected) = (row[0], row[1], sign(row[2]));
        let got = dpkg::compare(a, b).unwrap_or_else(|e| panic!("{a} vs {b}: {e}"));
        assert_eq!(got, expected, "{a} vs {b}");
        assert_eq!(
            dpkg::compare(b, a).unwrap(),
            expected.reverse(),
            "{b} vs {a}"
        );
    }
}

/// The parse vectors encode tabs as `\t`; a lone backslash stays a backslash.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn dpkg_parse_vectors() {
    let text = shared_file("verparse-dpkg.tsv");
    let mut count = 0;
    for row in rows(&text) {
        count += 1;
        let input = unescape(row[0]);
        let parsed = dpkg::DebVersion::parse(&input);
        match row[1] {
            "ok" => {
                let v = parsed.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                assert_eq!(v.epoch.to_string(), row[2], "{input:?} epoch");
                assert_eq!(v.upstream, row[3], "{input:?} upstream");
                assert_eq!(
                    v.revision,
                    row.get(4).copied().unwrap_or(""),
                    "{input:?} revision"
                );
                assert_eq!(v.policy_warning, None, "{input:?}");
            }
            "invalid:error" => assert!(parsed.is_err(), "{input:?} must be refused"),
            "invalid:warn" => {
                let v = parsed.unwrap_or_else(|e| panic!("{input:?} is lax-valid: {e}"));
                assert!(v.policy_warning.is_some(), "{input:?} must warn");
            }
            other => panic!("unknown result {other:?}"),
        }
    }
    assert!(count >= 80, "only {count} parse vectors read");
}

#[test]
fn rpm_comparison_vectors() {
    let text = shared_file("vercmp-rpm.tsv");
    let rows = rows(&text);
    assert_eq!(rows.len(), 108, "vector count changed");
    for row in rows {
        let (a, b, expected, mode) = (row[0], row[1], sign(row[2]), row[3]);
        let got = match mode {
            "rpmvercmp" => rpm::rpmvercmp(a, b),
            "evr" => rpm::compare_evr(a, b).unwrap_or_else(|e| panic!("{a} vs {b}: {e}")),
            other => panic!("unknown mode {other:?}"),
        };
        // Rows disabled upstream document rpm's current behaviour, which we follow too.
        assert_eq!(got, expected, "{mode}: {a} vs {b}");
    }
}

#[test]
fn semver_comparison_vectors() {
    let text = shared_file("vercmp-semver.tsv");
    let rows = rows(&text);
    assert_eq!(rows.len(), 78, "vector count changed");
    for row in rows {
        let (a, b, expected, mode) = (row[0], row[1], sign(row[2]), row[3]);
        let got = match mode {
            "semver" => {
                let x = semver::SemVer::parse(a).unwrap_or_else(|e| panic!("{a}: {e}"));
                let y = semver::SemVer::parse(b).unwrap_or_else(|e| panic!("{b}: {e}"));
                x.precedence(&y)
            }
            "semver-loose" => semver::compare(a, b).unwrap_or_else(|e| panic!("{a} vs {b}: {e}")),
            other => panic!("unknown mode {other:?}"),
        };
        assert_eq!(got, expected, "{mode}: {a:?} vs {b:?}");
    }
}

/// Validation as dpkg's `parseversion` does it, as properties over the real parse vectors:
/// surrounding blanks are ignored (the same version), a blank anywhere inside is refused (dpkg:
/// "version string has embedded spaces"), and the version compares equal to itself either way.
mod validation {
    use super::*;
    use proptest::prelude::*;

    fn valid_inputs() -> Vec<String> {
        let text = shared_file("verparse-dpkg.tsv");
        rows(&text)
            .into_iter()
            .filter(|row| row[1] == "ok")
            .map(|row| unescape(row[0]).trim_matches([' ', '\t']).to_owned())
            .filter(|input| input.chars().count() >= 2)
            .collect()
    }

    proptest! {
        #[test]
        fn blanks_inside_are_refused_around_are_trimmed(
            pick in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            blank in prop::sample::select(vec![" ", "\t", "  ", " \t"]),
            pad in prop::sample::select(vec!["", " ", "\t", " \t "]),
        ) {
            let inputs = valid_inputs();
            let input = &inputs[pick.index(inputs.len())];
            let chars: Vec<char> = input.chars().collect();
            let cut = 1 + at.index(chars.len() - 1);
            let inside: String = chars[..cut].iter().chain(blank.chars().collect::<Vec<_>>().iter()).chain(&chars[cut..]).collect();
            let error = dpkg::DebVersion::parse(&inside).expect_err("embedded blank accepted");
            prop_assert!(error.to_string().contains("embedded spaces"), "{}", error);
            prop_assert!(dpkg::compare(&inside, input).is_err());
            let padded = format!("{pad}{input}{pad}");
            let (a, b) = (dpkg::DebVersion::parse(&padded).unwrap(), dpkg::DebVersion::parse(input).unwrap());
            prop_assert_eq!((a.epoch, a.upstream, a.revision), (b.epoch, b.upstream, b.revision));
            prop_assert_eq!(dpkg::compare(&padded, input).unwrap(), Ordering::Equal);
        }
    }
}
