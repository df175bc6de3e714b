//! Every default in one place, so the example config, the docs and the code cannot drift.

use std::time::Duration;

/// Where the HTTP API listens when neither the config nor `--listen` says otherwise.
pub const LISTEN: &str = "127.0.0.1:9677";

/// Longest a graceful shutdown may take before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The host source's defaults live with it.
pub use ooda_connect::host::config::{HOST_INTERVAL, IGNORED_FILESYSTEMS};
