//! Shared helpers for the integration tests: the real, trimmed feed data committed under
//! `tests/fixtures/` (origins and licences in its README). Nothing outside the crate is read.

#![allow(dead_code)]

use std::path::PathBuf;

pub fn fixture(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

pub fn now() -> ooda_core::Timestamp {
    ooda_core::clock::from_millis(1_756_080_000_000) // 2025-08-25
}
