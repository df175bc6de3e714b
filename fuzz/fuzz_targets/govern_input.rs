//! Governance's parsers of outside input must never panic: policy files, the governance config,
//! approval ids, action requests, kill-switch and vote API bodies and audit log lines. The first byte picks the
//! parser so one target covers them all; each has a proptest twin in ooda-govern.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static ooda_govern::PolicyEngine {
    static ENGINE: OnceLock<ooda_govern::PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| ooda_govern::PolicyEngine::with_defaults().expect("shipped policies compile"))
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first() else { return };
    match selector % 6 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = engine().reload_sources(&[("fuzz.cedar".to_owned(), text.to_owned())]);
            }
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = ooda_govern::GovernConfig::from_toml(text);
            }
        }
        2 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = ooda_govern::approval::parse_id(text);
            }
        }
        3 => {
            let _ = serde_json::from_slice::<ooda_core::ActionRequest>(rest);
        }
        4 => {
            let _ = ooda_govern::audit::decode_line(rest);
        }
        _ => {
            let _ = ooda_govern::api::parse_kill_switch(rest);
            let _ = ooda_govern::api::parse_vote(rest);
        }
    }
});
