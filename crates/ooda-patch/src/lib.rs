//! Patch intelligence: which hosts run which vulnerable packages, how urgent each fix is, and
//! when it is due.
//!
//! Feeds (NVD, CISA KEV, Debian tracker and advisories, OSV, EPSS) are imported into snapshots;
//! the matcher compares each host's *source* packages with its distro's fixed versions (so
//! backported fixes are not flagged) and falls back to NVD CPE ranges only where no distro data
//! exists. This crate reads the world and never changes it: rollouts go through the Gate.

pub mod distro;
pub mod error;
pub mod exceptions;
pub mod feed;
pub mod version;

pub use error::PatchError;
pub mod index;
pub mod inventory;
pub mod ledger;
pub mod matcher;
pub mod report;
pub mod risk;
pub mod rollout;
pub mod scan;
pub mod windows;
