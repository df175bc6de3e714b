//! CVE 5 / CISA Vulnrichment summary: CVSS for CVEs NVD has not scored, and SSVC exploitation.

pub mod parse;
