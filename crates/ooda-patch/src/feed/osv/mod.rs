//! OSV records (osv.dev schema) for distro ecosystems: Debian, Ubuntu and RHEL rebuilds.

pub mod parse;
