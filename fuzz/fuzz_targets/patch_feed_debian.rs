//! Debian tracker JSON, DSA/DLA lists, the fixed table and the CPE list must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_patch::feed::debian::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse::parse_tracker(text);
        let _ = parse::parse_advisory_list(text);
        let _ = parse::parse_fixed_table(text);
        let _ = parse::parse_cpe_list(text);
    }
});
