//! Package lists (dpkg-query, rpm, ansible facts) and CMDB files must never panic the parsers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_patch::inventory::{cmdb, packages};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = packages::parse_any(text);
        let _ = packages::parse_os_release(text);
        let _ = cmdb::parse_csv(text);
        let _ = cmdb::parse_json(text);
        let _ = cmdb::parse_yaml(text);
    }
});
