//! dpkg, rpm and SemVer parsing and comparison must never panic, and must stay antisymmetric.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_patch::version::{dpkg, rpm, semver};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    if let (Ok(x), Ok(y)) = (dpkg::compare(a, b), dpkg::compare(b, a)) {
        assert_eq!(x, y.reverse());
    }
    assert_eq!(rpm::rpmvercmp(a, b), rpm::rpmvercmp(b, a).reverse());
    let _ = rpm::compare_evr(a, b);
    let _ = semver::compare(a, b);
    let _ = semver::SemVer::parse(a);
});
