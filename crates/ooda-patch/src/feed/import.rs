//! Offline import: read a feed file (or a directory of them), parse it with its kind's parser and
//! commit one snapshot. In a directory, a file that cannot be read at all counts as one skipped
//! record; a single file that cannot be read at all fails the import and changes nothing.

use std::path::{Path, PathBuf};

use crate::error::{PatchError, Result};
use crate::feed::store::{commit, FeedStore, ImportReport, Records};
use crate::feed::{
    amazon, debian, epss, kev, nvd, osv, redhat, suse, vulnrichment, FeedKind, Parsed,
};
use ooda_core::Timestamp;

/// Parses one document of a feed kind. Returns the records and the catalogue version, if any.
pub fn parse_document(
    kind: FeedKind,
    bytes: &[u8],
) -> std::result::Result<(Parsed<Records>, Option<String>), String> {
    if kind == FeedKind::Epss {
        return epss::parse::parse(bytes).map(|p| (wrap(p, Records::Epss), None));
    }
    if kind == FeedKind::AmazonAlas {
        // Amazon ships updateinfo.xml gzipped; a plain file is read as it is.
        return amazon::parse::parse_bytes(bytes).map(|p| (wrap(p, Records::Fixes), None));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("expected UTF-8 text: {e}"))?;
    Ok(match kind {
        FeedKind::Nvd => (wrap(nvd::parse::parse(text)?, Records::Cves), None),
        FeedKind::Kev => {
            let (version, parsed) = kev::parse::parse(text)?;
            (wrap(parsed, Records::Kev), version)
        }
        FeedKind::DebianTracker => (
            wrap(debian::parse::parse_tracker(text)?, Records::Fixes),
            None,
        ),
        FeedKind::Dsa | FeedKind::Dla => (
            wrap(debian::parse::parse_advisory_list(text), Records::Fixes),
            None,
        ),
        FeedKind::DebianFixed => (
            wrap(debian::parse::parse_fixed_table(text)?, Records::Fixes),
            None,
        ),
        FeedKind::DebianCpe => (
            wrap(debian::parse::parse_cpe_list(text), Records::CpeLinks),
            None,
        ),
        FeedKind::Osv => (wrap(osv::parse::parse(text)?, Records::Fixes), None),
        FeedKind::RedhatCsaf => (wrap(redhat::parse::parse(text)?, Records::Fixes), None),
        FeedKind::SuseOval => (wrap(suse::parse::parse(text)?, Records::Fixes), None),
        FeedKind::Vulnrichment => (
            wrap(vulnrichment::parse::parse(text)?, Records::Severity),
            None,
        ),
        FeedKind::Epss | FeedKind::AmazonAlas => unreachable!("handled above"),
    })
}

fn wrap<T>(parsed: Parsed<T>, variant: fn(Vec<T>) -> Records) -> Parsed<Records> {
    Parsed {
        records: vec![variant(parsed.records)],
        skipped: parsed.skipped,
        first_error: parsed.first_error,
    }
}

/// Every regular file under `dir`, sorted, so imports are reproducible.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| PatchError::io(&current, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PatchError::io(&current, e))?;
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and parses a file or a directory without touching the store.
pub fn read(kind: FeedKind, path: &Path) -> Result<(Parsed<Records>, Option<String>)> {
    if path.is_dir() {
        let mut all = Parsed::default();
        let mut catalogue_version = None;
        for file in files_under(path)? {
            let bytes = std::fs::read(&file).map_err(|e| PatchError::io(&file, e))?;
            match parse_document(kind, &bytes) {
                Ok((parsed, version)) => {
                    all.extend(parsed);
                    catalogue_version = catalogue_version.or(version);
                }
                Err(error) => all.skip(|| format!("{}: {error}", file.display())),
            }
        }
        return Ok((all, catalogue_version));
    }
    let bytes = std::fs::read(path).map_err(|e| PatchError::io(path, e))?;
    parse_document(kind, &bytes).map_err(|message| PatchError::Feed {
        kind,
        path: path.to_owned(),
        message,
    })
}

/// Imports a feed file or directory into the store: all of it or nothing.
pub fn import(
    store: &FeedStore,
    kind: FeedKind,
    path: &Path,
    now: Timestamp,
) -> Result<ImportReport> {
    let (parsed, catalogue_version) = read(kind, path)?;
    commit(store, kind, path, parsed, catalogue_version, now)
}
