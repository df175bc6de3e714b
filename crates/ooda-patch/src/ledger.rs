//! The findings ledger: when each (host, source package, CVE) was first seen and when it went
//! away. It is what turns scans into "share within SLA" and "mean time to patch". Stored as one
//! JSON file in the data directory, replaced atomically after each scan.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use ooda_core::Timestamp;

use crate::error::{PatchError, Result};
use crate::risk::Tier;

/// One finding's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub first_seen: Timestamp,
    /// When the finding was last seen in a scan.
    pub last_seen: Timestamp,
    /// Set when a later scan of the same host no longer found it (patched or removed).
    pub closed_at: Option<Timestamp>,
    /// SLA due time while open (fix-available findings only).
    pub due: Option<Timestamp>,
    pub tier: Tier,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Key: `host|source|cve`.
    pub entries: BTreeMap<String, Entry>,
}

/// What the current scan saw of one finding.
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    pub host: &'a str,
    pub source: &'a str,
    pub cve: &'a str,
    pub tier: Tier,
    pub due: Option<Timestamp>,
    pub owner: Option<&'a str>,
}

pub fn key(host: &str, source: &str, cve: &str) -> String {
    format!("{host}|{source}|{cve}")
}

impl Ledger {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("patch").join("ledger.json")
    }

    pub fn load(data_dir: &Path) -> Result<Self> {
        let path = Self::path(data_dir);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PatchError::Snapshot {
                path,
                message: e.to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(PatchError::io(path, error)),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<()> {
        let path = Self::path(data_dir);
        let dir = path.parent().unwrap_or(data_dir).to_owned();
        fs::create_dir_all(&dir).map_err(|e| PatchError::io(&dir, e))?;
        let temp = dir.join(format!(".ledger.json.tmp-{}", std::process::id()));
        let bytes = serde_json::to_vec(self).map_err(|e| PatchError::Snapshot {
            path: temp.clone(),
            message: e.to_string(),
        })?;
        let mut file = File::create(&temp).map_err(|e| PatchError::io(&temp, e))?;
        file.write_all(&bytes)
            .map_err(|e| PatchError::io(&temp, e))?;
        file.sync_all().map_err(|e| PatchError::io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| PatchError::io(&path, e))
    }

    /// The time a finding was first seen (now, for a new one).
    pub fn first_seen(&self, host: &str, source: &str, cve: &str, now: Timestamp) -> Timestamp {
        match self.entries.get(&key(host, source, cve)) {
            Some(entry) if entry.closed_at.is_none() => entry.first_seen,
            _ => now,
        }
    }

    /// Records a scan: opens new findings, keeps open ones, closes those a scanned host no longer
    /// has. Hosts not in `scanned_hosts` are left alone (not scanned ≠ patched).
    pub fn record(&mut self, seen: &[Seen<'_>], scanned_hosts: &[&str], now: Timestamp) {
        let mut current = std::collections::HashSet::with_capacity(seen.len());
        for finding in seen {
            let key = key(finding.host, finding.source, finding.cve);
            current.insert(key.clone());
            let entry = self.entries.entry(key).or_insert_with(|| Entry {
                first_seen: now,
                last_seen: now,
                closed_at: None,
                due: finding.due,
                tier: finding.tier,
                owner: finding.owner.map(str::to_owned),
            });
            if entry.closed_at.is_some() {
                // Came back (downgrade, reinstall): a new life.
                entry.first_seen = now;
                entry.closed_at = None;
            }
            entry.last_seen = now;
            entry.due = finding.due;
            entry.tier = finding.tier;
            entry.owner = finding.owner.map(str::to_owned);
        }
        let scanned: std::collections::HashSet<&str> = scanned_hosts.iter().copied().collect();
        for (key, entry) in self.entries.iter_mut() {
            let host = key.split('|').next().unwrap_or("");
            if entry.closed_at.is_none() && scanned.contains(host) && !current.contains(key) {
                entry.closed_at = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Timestamp {
        ooda_core::clock::from_millis(1_700_000_000_000 + hours * 3_600_000)
    }

    #[test]
    fn findings_open_close_and_reopen() {
        let mut ledger = Ledger::default();
        let seen = |cve| Seen {
            host: "h1",
            source: "openssl",
            cve,
            tier: Tier::High,
            due: None,
            owner: None,
        };
        ledger.record(&[seen("CVE-1"), seen("CVE-2")], &["h1"], at(0));
        ledger.record(&[seen("CVE-2")], &["h1"], at(10));
        let closed = &ledger.entries[&key("h1", "openssl", "CVE-1")];
        assert_eq!(closed.closed_at, Some(at(10)));
        // h2 not scanned: nothing of it closes.
        ledger.record(&[], &["h2"], at(20));
        assert!(ledger.entries[&key("h1", "openssl", "CVE-2")]
            .closed_at
            .is_none());
        ledger.record(&[seen("CVE-1"), seen("CVE-2")], &["h1"], at(30));
        let back = &ledger.entries[&key("h1", "openssl", "CVE-1")];
        assert_eq!((back.first_seen, back.closed_at), (at(30), None));
        assert_eq!(ledger.first_seen("h1", "openssl", "CVE-2", at(40)), at(0));
    }
}
