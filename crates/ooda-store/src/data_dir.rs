//! The data directory and the agent lock. Only one `ooda up` may run on a data directory; other
//! commands (`ooda kill-switch`, `ooda audit verify` …) open the store beside it, which SQLite's
//! WAL mode allows.
//!
//! The lock is an advisory `flock` on `ooda.lock`: the kernel releases it when the process dies,
//! so a kill -9 never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use crate::{Result, StoreError};

/// A data directory that exists and is writable.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// Creates the directory if needed.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.path.join("ooda.sqlite")
    }

    /// Takes the agent lock, or explains who holds it.
    pub fn lock_agent(&self) -> Result<AgentLock> {
        let lock_path = self.path.join("ooda.lock");
        let io_err = |source| StoreError::Io {
            path: lock_path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_err)?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(self.locked_error(&mut file))
            }
            Err(e) => return Err(io_err(e)),
        }
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        writeln!(file, "{}", std::process::id()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        Ok(AgentLock { _file: file })
    }

    fn locked_error(&self, file: &mut File) -> StoreError {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        let pid = pid.trim();
        StoreError::Locked {
            path: self.path.display().to_string(),
            pid: if pid.is_empty() {
                String::new()
            } else {
                format!(" (pid {pid})")
            },
        }
    }
}

/// Held for the life of `ooda up`; dropping it (or dying) releases the data directory.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(dir.path().join("d")).unwrap();
        let held = data.lock_agent().unwrap();
        let err = data.lock_agent().unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("in use by another ooda process"),
            "{message}"
        );
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(held);
        data.lock_agent().expect("released on drop");
    }
}
