//! The exposition parser must never panic on whatever a scrape target sends, in either format.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_connect::scrape::parse::{parse, Format};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let e = parse(&text, format);
        for s in e.samples() {
            let _ = e.labels(s);
            let _ = e.kind(s);
        }
    }
});
