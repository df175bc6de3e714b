//! `[[logs]] kind = "file"`: local log files and journald, the embedded default log source.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFileConfig {
    pub name: String,
    /// Plain-text log files to read (their tails).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Also read journald through `journalctl -o json` (default true; skipped with a warning
    /// where journalctl is missing).
    #[serde(default = "yes")]
    pub journald: bool,
    /// How much of each file's end is read per query (default 8 MiB): enrichment looks at the
    /// recent window, and a 10 GiB log must not be read whole.
    #[serde(default = "default_tail_bytes")]
    pub tail_bytes: u64,
    /// The host these logs belong to; queries for another host get nothing from this source.
    #[serde(default)]
    pub host: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_tail_bytes() -> u64 {
    8 * 1024 * 1024
}

impl LogFileConfig {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            paths: Vec::new(),
            journald: true,
            tail_bytes: default_tail_bytes(),
            host: None,
        }
    }
}
