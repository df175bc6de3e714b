//! CISA's Known Exploited Vulnerabilities catalogue: a CVE in it doubles its risk.

pub mod parse;
