//! OSV records must never panic the parser, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ooda_patch::feed::osv::parse::parse(text);
    }
});
