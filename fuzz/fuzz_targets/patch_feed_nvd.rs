//! NVD records, pages and JSON lines must never panic the parser, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ooda_patch::feed::nvd::parse::parse(text);
        let _ = ooda_patch::feed::nvd::parse::parse_page(text);
    }
});
