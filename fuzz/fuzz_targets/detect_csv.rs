//! `ooda detect`'s CSV parser and engine on arbitrary bytes: must never panic (errors are fine).
//! Twin: `never_panics_on_arbitrary_input` in crates/ooda-monitor/src/detect/tests.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ooda_monitor::{detect::detect_bytes, DetectOptions, MonitorConfig};

fuzz_target!(|data: &[u8]| {
    let config = MonitorConfig::default();
    let skip = data.first().is_some_and(|b| b & 1 == 1);
    let options = DetectOptions {
        skip_bad_rows: skip,
        ..DetectOptions::default()
    };
    let _ = detect_bytes(data, &config, &options);
});
