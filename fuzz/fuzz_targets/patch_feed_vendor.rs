//! The vendors' own feeds (Red Hat CSAF, SUSE OVAL, Amazon updateinfo, plain or gzipped) must
//! never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_patch::feed::{amazon, redhat, suse};

fuzz_target!(|data: &[u8]| {
    let _ = amazon::parse::parse_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = redhat::parse::parse(text);
        let _ = suse::parse::parse(text);
    }
});
