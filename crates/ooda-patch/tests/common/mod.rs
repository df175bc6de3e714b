//! Shared helpers for the integration tests: the shared data directory sits beside the
//! repository (`../shared`); tests fail loudly when it is missing.

#![allow(dead_code)]

use std::path::PathBuf;

pub fn shared(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cve")
        .join(relative);
    assert!(
        path.exists(),
        "{} is missing: the shared data directory must sit beside the repository",
        path.display()
    );
    path
}

pub fn now() -> ooda_core::Timestamp {
    ooda_core::clock::from_millis(1_756_080_000_000) // 2025-08-25
}
