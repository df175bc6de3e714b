//! Feed snapshots on disk: `<data-dir>/feeds/<kind>.json`, one per feed kind. A snapshot is
//! written to a temporary file in the same directory, fsynced, then renamed over the old one, so
//! a reader sees the old snapshot or the new one and never half of either. Nothing here parses
//! vendor formats.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PatchError, Result};
use crate::feed::{
    CpeLink, CveRecord, DistroFix, EpssScore, FeedKind, KevEntry, Parsed, SeverityRecord,
};
use ooda_core::Timestamp;

/// Snapshot format version; bump when the record shapes change incompatibly.
pub const SNAPSHOT_VERSION: u32 = 1;

/// What a snapshot holds, by feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "records", rename_all = "kebab-case")]
pub enum Records {
    Cves(Vec<CveRecord>),
    Kev(Vec<KevEntry>),
    Fixes(Vec<DistroFix>),
    CpeLinks(Vec<CpeLink>),
    Epss(Vec<EpssScore>),
    Severity(Vec<SeverityRecord>),
}

impl Records {
    pub fn len(&self) -> usize {
        match self {
            Records::Cves(r) => r.len(),
            Records::Kev(r) => r.len(),
            Records::Fixes(r) => r.len(),
            Records::CpeLinks(r) => r.len(),
            Records::Epss(r) => r.len(),
            Records::Severity(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One feed's imported state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub kind: FeedKind,
    pub imported_at: Timestamp,
    /// Files or URLs the records came from (all of them, for merged feeds).
    pub sources: Vec<String>,
    /// Records skipped as malformed in the import that produced this snapshot.
    pub skipped: usize,
    pub first_error: Option<String>,
    /// The catalogue's own version when it has one (KEV `catalogVersion`).
    pub catalogue_version: Option<String>,
    /// The newest date the data itself carries (last advisory, last NVD modification, KEV's
    /// last addition, EPSS score date): how fresh the feed is, as opposed to when it was
    /// imported. `None` for feeds whose records carry no date (the tracker JSON).
    #[serde(default)]
    pub data_date: Option<chrono::NaiveDate>,
    pub records: Records,
}

impl Records {
    /// The newest date in the records (see [`Snapshot::data_date`]).
    pub fn newest_date(&self) -> Option<chrono::NaiveDate> {
        use crate::feed::parse_iso_date;
        match self {
            Records::Cves(r) => r
                .iter()
                .filter_map(|c| c.last_modified.as_deref().and_then(parse_iso_date))
                .max(),
            Records::Kev(r) => r.iter().map(|k| k.date_added).max(),
            Records::Fixes(r) => r.iter().filter_map(|f| f.published).max(),
            Records::Epss(r) => r
                .iter()
                .filter_map(|e| e.score_date.as_deref().and_then(parse_iso_date))
                .max(),
            Records::Severity(_) | Records::CpeLinks(_) => None,
        }
    }

    /// The (distro, release) pairs distro verdicts speak of, sorted: what the feed can assess.
    pub fn releases(&self) -> Vec<(crate::distro::Distro, String)> {
        let Records::Fixes(fixes) = self else {
            return Vec::new();
        };
        let set: std::collections::BTreeSet<(crate::distro::Distro, &str)> = fixes
            .iter()
            .map(|f| (f.distro, f.release.as_str()))
            .collect();
        set.into_iter().map(|(d, r)| (d, r.to_owned())).collect()
    }
}

/// The feeds directory.
#[derive(Debug, Clone)]
pub struct FeedStore {
    dir: PathBuf,
}

impl FeedStore {
    /// `<data_dir>/feeds`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("feeds"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, kind: FeedKind) -> PathBuf {
        self.dir.join(format!("{}.json", kind.as_str()))
    }

    /// The last good snapshot of a feed, if any.
    pub fn load(&self, kind: FeedKind) -> Result<Option<Snapshot>> {
        let path = self.path(kind);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(PatchError::io(path, error)),
        };
        let snapshot: Snapshot =
            serde_json::from_reader(BufReader::new(file)).map_err(|e| PatchError::Snapshot {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if snapshot.version != SNAPSHOT_VERSION || snapshot.kind != kind {
            return Err(PatchError::Snapshot {
                path,
                message: format!(
                    "expected version {SNAPSHOT_VERSION} of {kind}, found version {} of {}; re-import the feed",
                    snapshot.version, snapshot.kind
                ),
            });
        }
        Ok(Some(snapshot))
    }

    /// Replaces a feed's snapshot atomically: temp file, fsync, rename, fsync the directory.
    pub fn save(&self, snapshot: &Snapshot) -> Result<PathBuf> {
        fs::create_dir_all(&self.dir).map_err(|e| PatchError::io(&self.dir, e))?;
        let path = self.path(snapshot.kind);
        let temp = self.dir.join(format!(
            ".{}.json.tmp-{}",
            snapshot.kind.as_str(),
            std::process::id()
        ));
        let result = (|| -> Result<()> {
            let file = File::create(&temp).map_err(|e| PatchError::io(&temp, e))?;
            let mut writer = BufWriter::new(file);
            serde_json::to_writer(&mut writer, snapshot).map_err(|e| PatchError::Snapshot {
                path: temp.clone(),
                message: e.to_string(),
            })?;
            writer.flush().map_err(|e| PatchError::io(&temp, e))?;
            let file = writer
                .into_inner()
                .map_err(|e| PatchError::io(&temp, e.into_error()))?;
            file.sync_all().map_err(|e| PatchError::io(&temp, e))?;
            fs::rename(&temp, &path).map_err(|e| PatchError::io(&path, e))?;
            // The rename is durable only once the directory entry is.
            if let Ok(dir) = File::open(&self.dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map(|()| path)
    }
}

/// Summary of one import, for the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub kind: FeedKind,
    pub path: PathBuf,
    /// Valid records read from the input.
    pub imported: usize,
    /// Records in the snapshot after the import (more than `imported` for merged feeds).
    pub total: usize,
    pub skipped: usize,
    pub first_error: Option<String>,
}

/// Builds the new snapshot from parsed input (merging with the old one for NVD and OSV) and
/// saves it. Refuses an input without a single valid record, so an empty or garbled download
/// never replaces the last good copy.
pub fn commit(
    store: &FeedStore,
    kind: FeedKind,
    path: &Path,
    parsed: Parsed<Records>,
    catalogue_version: Option<String>,
    now: Timestamp,
) -> Result<ImportReport> {
    let Parsed {
        records: mut chunks,
        skipped,
        first_error,
    } = parsed;
    let imported: usize = chunks.iter().map(Records::len).sum();
    if imported == 0 {
        return Err(PatchError::NoRecords {
            kind,
            path: path.to_owned(),
            skipped,
            first_error,
        });
    }
    let mut records = chunks.pop().ok_or_else(|| PatchError::Snapshot {
        path: path.to_owned(),
        message: "no records".to_owned(),
    })?;
    for chunk in chunks {
        records = concat(records, chunk);
    }
    let mut sources = vec![path.display().to_string()];
    if kind.merges() {
        if let Some(old) = store.load(kind)? {
            records = merge(old.records, records);
            sources = old.sources;
            let new_source = path.display().to_string();
            if !sources.contains(&new_source) {
                sources.push(new_source);
            }
        }
    }
    let total = records.len();
    let snapshot = Snapshot {
        version: SNAPSHOT_VERSION,
        kind,
        imported_at: now,
        sources,
        skipped,
        first_error: first_error.clone(),
        catalogue_version,
        data_date: records.newest_date(),
        records,
    };
    store.save(&snapshot)?;
    Ok(ImportReport {
        kind,
        path: path.to_owned(),
        imported,
        total,
        skipped,
        first_error,
    })
}

fn concat(a: Records, b: Records) -> Records {
    match (a, b) {
        (Records::Cves(mut a), Records::Cves(b)) => {
            a.extend(b);
            Records::Cves(a)
        }
        (Records::Fixes(mut a), Records::Fixes(b)) => {
            a.extend(b);
            Records::Fixes(a)
        }
        (Records::Kev(mut a), Records::Kev(b)) => {
            a.extend(b);
            Records::Kev(a)
        }
        (Records::Epss(mut a), Records::Epss(b)) => {
            a.extend(b);
            Records::Epss(a)
        }
        (Records::Severity(mut a), Records::Severity(b)) => {
            a.extend(b);
            Records::Severity(a)
        }
        (Records::CpeLinks(mut a), Records::CpeLinks(b)) => {
            a.extend(b);
            Records::CpeLinks(a)
        }
        // Parsers of one kind always produce one variant; keep the newer data if not.
        (_, b) => b,
    }
}

/// Upserts: NVD by CVE id (the newer `lastModified` wins), OSV by advisory id (a re-imported
/// advisory replaces all its verdicts).
pub fn merge(old: Records, new: Records) -> Records {
    match (old, new) {
        (Records::Cves(old), Records::Cves(new)) => {
            let mut by_id: std::collections::BTreeMap<String, CveRecord> =
                old.into_iter().map(|r| (r.id.clone(), r)).collect();
            for record in new {
                let keep_old = by_id.get(&record.id).is_some_and(|existing| {
                    existing.last_modified.is_some()
                        && existing.last_modified > record.last_modified
                });
                if !keep_old {
                    by_id.insert(record.id.clone(), record);
                }
            }
            Records::Cves(by_id.into_values().collect())
        }
        (Records::Fixes(old), Records::Fixes(new)) => {
            // An advisory's verdicts are replaced as a whole by its re-import; a tracker entry
            // (no advisory) by the new entry for the same package and CVE. Everything else the
            // old snapshot held stays: importing the tracker file by file adds up.
            let key = |f: &DistroFix| match &f.advisory {
                Some(advisory) => (Some(advisory.clone()), None),
                None => (None, Some((f.distro, f.source.clone(), f.cve.clone()))),
            };
            let replaced: std::collections::HashSet<_> = new.iter().map(key).collect();
            let mut merged: Vec<DistroFix> = old
                .into_iter()
                .filter(|f| !replaced.contains(&key(f)))
                .collect();
            merged.extend(new);
            Records::Fixes(merged)
        }
        (Records::CpeLinks(old), Records::CpeLinks(new)) => {
            let mut seen: std::collections::HashSet<(String, String, String)> =
                std::collections::HashSet::new();
            let merged = old
                .into_iter()
                .chain(new)
                .filter(|l| seen.insert((l.source.clone(), l.vendor.clone(), l.product.clone())))
                .collect();
            Records::CpeLinks(merged)
        }
        (_, new) => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::KevEntry;

    fn kev(cve: &str) -> KevEntry {
        KevEntry {
            cve: cve.to_owned(),
            vendor: String::new(),
            product: String::new(),
            name: String::new(),
            date_added: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            due_date: None,
            known_ransomware: false,
        }
    }

    fn now() -> Timestamp {
        ooda_core::clock::from_millis(1_700_000_000_000)
    }

    #[test]
    fn empty_import_never_replaces_the_last_good_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = FeedStore::in_data_dir(dir.path());
        let good = Parsed {
            records: vec![Records::Kev(vec![kev("CVE-2024-0001")])],
            skipped: 0,
            first_error: None,
        };
        commit(
            &store,
            FeedKind::Kev,
            Path::new("a.json"),
            good,
            None,
            now(),
        )
        .unwrap();
        let bad = Parsed {
            records: vec![Records::Kev(vec![])],
            skipped: 3,
            first_error: Some("broken".into()),
        };
        let error = commit(&store, FeedKind::Kev, Path::new("b.json"), bad, None, now())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no valid records (3 skipped, first error: broken)"),
            "{error}"
        );
        let snapshot = store.load(FeedKind::Kev).unwrap().unwrap();
        assert_eq!(snapshot.records.len(), 1);
        assert_eq!(snapshot.sources, vec!["a.json".to_owned()]);
        let leftovers: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temp files left behind");
    }

    #[test]
    fn corrupt_snapshot_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = FeedStore::in_data_dir(dir.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.path(FeedKind::Epss), b"{\"version\":1,").unwrap();
        assert!(store.load(FeedKind::Epss).is_err());
        assert!(store.load(FeedKind::Kev).unwrap().is_none());
    }
}
