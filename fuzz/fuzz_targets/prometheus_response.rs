//! Prometheus (or VictoriaMetrics) HTTP API bodies, with any status: instant and range queries.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_connect::prometheus::parse;

fuzz_target!(|data: &[u8]| {
    let status = data.first().map_or(200, |b| if b % 2 == 0 { 200 } else { 400 + u16::from(*b) });
    let body = data.get(1..).unwrap_or_default();
    if let Ok(response) = parse::query(status, body) {
        if let parse::QueryValue::Vector(series) = response.data {
            for s in series {
                let _ = s.samples("fuzz");
            }
        }
    }
    if let Ok(response) = parse::query_range(status, body) {
        for s in response.data {
            let _ = s.samples("fuzz");
        }
    }
});
