//! A clone of this repository alone must build and pass its tests: no test, example or bench
//! under `crates/` may name a path outside the repository — the development data beside it
//! (`../shared`), one machine's checkout (`/work/…`) or someone's home directory. Larger real data
//! is passed to benches and examples by argument or environment variable instead, and the
//! fixtures tests need are committed under the crate that uses them.

use std::path::{Path, PathBuf};

/// Test code: `tests/`, `examples/` and `benches/` of every crate, and unit-test files in `src`
/// (`tests.rs`, `src/**/tests/…`).
fn is_test_code(relative: &Path) -> bool {
    let parts: Vec<&str> = relative
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    // crates/<crate>/<kind>/…
    match parts.get(2).copied() {
        Some("tests" | "examples" | "benches") => true,
        Some("src") => parts[3..]
            .iter()
            .enumerate()
            .any(|(i, p)| *p == "tests.rs" || (*p == "tests" && i + 4 < parts.len())),
        _ => false,
    }
}

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files(&path, into);
        } else {
            into.push(path);
        }
    }
}

/// What names a place outside the repository, with why. Built from pieces so this file does not
/// match itself.
fn outside(line: &str) -> Option<&'static str> {
    let dots = "..";
    let patterns: [(String, &'static str); 6] = [
        (
            format!("{dots}/shared"),
            "the shared data beside the repository",
        ),
        (
            format!("\"{dots}/{dots}/{dots}/"),
            "a path climbing out of the repository from a crate",
        ),
        (format!("/{}/", "work"), "one machine's checkout"),
        (format!("/{}/", "home"), "a home directory"),
        (format!("/{}/", "Users"), "a home directory"),
        (format!("/{}/", "root"), "root's home directory"),
    ];
    patterns
        .into_iter()
        .find(|(pattern, _)| line.contains(pattern.as_str()))
        .map(|(_, why)| why)
}

#[test]
fn no_test_example_or_bench_names_a_path_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap();
    let mut all = Vec::new();
    files(&root.join("crates"), &mut all);
    let mut checked = 0;
    let mut found = Vec::new();
    for path in &all {
        let relative = path.strip_prefix(&root).unwrap();
        // This file names the patterns it looks for.
        if !is_test_code(relative) || relative.ends_with("crates/ooda/tests/self_contained.rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // binary fixtures
        };
        checked += 1;
        for (n, line) in text.lines().enumerate() {
            if let Some(why) = outside(line) {
                found.push(format!(
                    "{}:{}: {why}: {}",
                    relative.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} test files found under {}",
        root.display()
    );
    assert!(
        found.is_empty(),
        "test code names paths outside the repository (commit a trimmed fixture under the \
         crate, or take the path from an argument or environment variable):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_what_it_is_for_and_passes_what_it_is_not() {
    for bad in [
        concat!(".join(\"../../", "../shared/data/cve\")"),
        concat!("PathBuf::from(\"/wo", "rk/shared/data/metrics/asd/test\")"),
        concat!("let p = \"/ho", "me/alice/data.csv\";"),
        concat!("// see ", "../sha", "red/design"),
    ] {
        assert!(outside(bad).is_some(), "{bad}");
    }
    for good in [
        "Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/fixtures/kev.json\")",
        "std::env::var_os(\"OODA_CVE_DATA\")",
        "clean_path { path: \"/var/tmp/work\" }",
        "let home = \"/home\";",
    ] {
        assert!(outside(good).is_none(), "{good}");
    }
    assert!(is_test_code(Path::new(
        "crates/ooda-lab/src/patch/tests.rs"
    )));
    assert!(is_test_code(Path::new(
        "crates/ooda-patch/benches/vercmp.rs"
    )));
    assert!(is_test_code(Path::new(
        "crates/ooda-monitor/examples/forecast_bench.rs"
    )));
    assert!(!is_test_code(Path::new("crates/ooda-lab/src/patch/mod.rs")));
}
