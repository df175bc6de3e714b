//! SUSE's own security data: the OVAL definitions SUSE publishes per product line
//! (`suse.linux.enterprise.server.15.xml`, `suse.linux.enterprise.15-affected.xml`, and the
//! `-patch` variants) at `https://ftp.suse.com/pub/projects/security/oval/`. Offline import
//! only (a file or a directory of them); the same files are what a sync would mirror.

pub mod parse;
