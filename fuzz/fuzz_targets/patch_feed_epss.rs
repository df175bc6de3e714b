//! EPSS CSV, plain or gzipped, must never panic the parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ooda_patch::feed::epss::parse::parse(data);
});
