//! NVD CVE API 2.0: offline import of records and pages (`parse`), and online incremental sync
//! (`client`, behind the `sync` feature). This product uses data from the NVD API but is not
//! endorsed or certified by the NVD.

pub mod parse;

#[cfg(feature = "sync")]
pub mod client;
