//! Red Hat's own security data: CSAF 2.0 advisories (RHSA) as published at
//! `https://security.access.redhat.com/data/csaf/v2/advisories/`. Offline import only (a file or
//! a directory of advisories); the same files are what a sync would mirror.

pub mod parse;
