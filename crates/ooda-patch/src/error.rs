//! The one error type of this crate. Messages say what was expected and what was found; the
//! path or feed is always part of the message so an operator can find the bad input.

use std::path::PathBuf;

use crate::feed::FeedKind;
use crate::version::VersionError;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Version(#[from] VersionError),
    /// A feed document that cannot be read at all (truncated, wrong format): nothing applied.
    #[error("{kind} feed {path}: {message}")]
    Feed {
        kind: FeedKind,
        path: PathBuf,
        message: String,
    },
    /// Every record was bad (or there were none): refusing to replace the last good snapshot.
    #[error("{kind} feed {path}: no valid records ({skipped} skipped{})", first_error.as_ref().map(|e| format!(", first error: {e}")).unwrap_or_default())]
    NoRecords {
        kind: FeedKind,
        path: PathBuf,
        skipped: usize,
        first_error: Option<String>,
    },
    #[error("snapshot {path}: {message}")]
    Snapshot { path: PathBuf, message: String },
    #[error("inventory {path}: {message}")]
    Inventory { path: PathBuf, message: String },
    #[error("running {command}: {message}")]
    Command { command: String, message: String },
    #[error("NVD sync: {0}")]
    Sync(String),
}

impl PatchError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PatchError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = PatchError> = std::result::Result<T, E>;
