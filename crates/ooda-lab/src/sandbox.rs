//! The private, throw-away state a lab pillar runs its real Gate on: a temporary directory (on
//! tmpfs when there is one: the audit log fsyncs every record), a manual clock on virtual time,
//! a SQLite store and a hash-chained audit log.

use std::sync::Arc;

use ooda_core::{ManualClock, SharedClock};
use ooda_govern::AuditLog;
use ooda_store::{SqliteStore, Store};

/// Why a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("{what}: {reason}")]
    Setup { what: &'static str, reason: String },
}

pub struct Sandbox {
    /// Removed when dropped; kept alive by the pillar that owns the sandbox.
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    /// The same clock, as the pillars' ports take it.
    pub shared: SharedClock,
    pub store: Arc<dyn Store>,
    pub audit: Arc<AuditLog>,
}

impl Sandbox {
    /// A fresh sandbox whose directory name starts with `prefix`, its clock at `start_ms`.
    pub fn open(prefix: &str, start_ms: i64) -> Result<Self, SandboxError> {
        let shm = std::path::Path::new("/dev/shm");
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        let dir = if shm.is_dir() {
            builder.tempdir_in(shm)
        } else {
            builder.tempdir()
        }
        .map_err(SandboxError::TempDir)?;
        let root = dir.path();
        let clock = ManualClock::at_ms(start_ms);
        let shared: SharedClock = Arc::new(clock.clone());
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&root.join("ooda.sqlite")).map_err(|e| {
                SandboxError::Setup {
                    what: "store",
                    reason: e.to_string(),
                }
            })?);
        let audit = Arc::new(
            AuditLog::open(&root.join("audit"), shared.clone(), Some(store.clone())).map_err(
                |e| SandboxError::Setup {
                    what: "audit log",
                    reason: e.to_string(),
                },
            )?,
        );
        Ok(Self {
            dir,
            clock,
            shared,
            store,
            audit,
        })
    }
}
