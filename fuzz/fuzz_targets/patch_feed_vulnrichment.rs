//! The CVE 5 / Vulnrichment summary table must never panic the parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ooda_patch::feed::vulnrichment::parse::parse(text);
    }
});
