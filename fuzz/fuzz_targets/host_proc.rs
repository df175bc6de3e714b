//! The /proc parsers must never panic on whatever a kernel (or a fixture) writes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_connect::host::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse::stat(&text);
    let _ = parse::loadavg(&text);
    let _ = parse::meminfo(&text);
    let _ = parse::vmstat(&text);
    let _ = parse::diskstats(&text);
    let _ = parse::net_dev(&text);
    let _ = parse::mounts(&text);
    let _ = parse::file_nr(&text);
});
