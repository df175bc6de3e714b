//! Alertmanager webhook bodies reach ooda from the network (`POST /api/v1/alerts/alertmanager`):
//! any body is an error or alerts, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ooda_connect::alertmanager::webhook(data, chrono::Utc::now());
});
