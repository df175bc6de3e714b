//! Debian Security Tracker data: the JSON export, the DSA/DLA lists, the flattened fixed table
//! and the CPE map. Matching by source package against these is what keeps backported fixes
//! from being flagged.

pub mod parse;
