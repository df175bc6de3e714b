//! What runs where: hosts from the CMDB joined with the packages collected from each. A host
//! without a package list is kept (reports show it as not covered) rather than dropped.

pub mod cmdb;
pub mod packages;

use std::path::{Path, PathBuf};

use serde::Serialize;

use ooda_core::Host;

use crate::distro::Distro;
use crate::error::{PatchError, Result};
pub use packages::{InstalledPackage, PackageFormat};

/// One host ready for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryHost {
    pub host: Host,
    pub distro: Option<Distro>,
    /// Normalised release.
    pub release: String,
    pub packages: Vec<InstalledPackage>,
    /// `None` when no package list was found for the host.
    pub package_format: Option<PackageFormat>,
}

impl InventoryHost {
    /// The collector could not name source packages (ansible facts): matching used binary names.
    pub fn source_assumed(&self) -> bool {
        self.package_format == Some(PackageFormat::AnsibleFacts)
    }
}

/// Makes every repeated name and version one shared allocation: 10 000 hosts × 1 500 packages
/// hold a few hundred thousand distinct strings, not fifteen million.
pub fn intern(hosts: &mut [InventoryHost]) {
    let mut pool: std::collections::HashSet<std::sync::Arc<str>> = std::collections::HashSet::new();
    let mut share = |text: &mut std::sync::Arc<str>| {
        if let Some(existing) = pool.get(&**text) {
            *text = existing.clone();
        } else {
            pool.insert(text.clone());
        }
    };
    for host in hosts {
        for package in &mut host.packages {
            share(&mut package.name);
            share(&mut package.version);
            if let Some(source) = &mut package.source {
                share(source);
            }
            if let Some(version) = &mut package.source_version {
                share(version);
            }
        }
    }
}

/// How the inventory load went.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InventoryReport {
    pub hosts: usize,
    pub skipped_rows: usize,
    pub skipped_packages: usize,
    pub first_error: Option<String>,
    pub hosts_without_packages: Vec<String>,
}

/// Finds a host's package list: the CMDB's `packages` column (relative to the CMDB file), else
/// `<dir>/<host>`, `<dir>/<host>.dpkg`, `.rpm`, `.tsv`, `.txt`, `.json`.
fn package_file(
    cmdb_dir: &Path,
    packages_dir: Option<&Path>,
    host: &str,
    declared: Option<&str>,
) -> Option<PathBuf> {
    if let Some(declared) = declared {
        return Some(cmdb_dir.join(declared));
    }
    let dir = packages_dir?;
    ["", ".dpkg", ".rpm", ".tsv", ".txt", ".json"]
        .iter()
        .map(|ext| dir.join(format!("{host}{ext}")))
        .find(|path| path.is_file())
}

/// Loads the CMDB and each host's packages.
pub fn load(
    cmdb_path: &Path,
    packages_dir: Option<&Path>,
) -> Result<(Vec<InventoryHost>, InventoryReport)> {
    let text = std::fs::read_to_string(cmdb_path).map_err(|e| PatchError::io(cmdb_path, e))?;
    let parsed =
        cmdb::parse_file_text(cmdb_path, &text).map_err(|message| PatchError::Inventory {
            path: cmdb_path.to_owned(),
            message,
        })?;
    let mut report = InventoryReport {
        skipped_rows: parsed.skipped,
        first_error: parsed.first_error,
        ..InventoryReport::default()
    };
    let cmdb_dir = cmdb_path.parent().unwrap_or(Path::new("."));
    let mut hosts = Vec::with_capacity(parsed.records.len());
    for row in parsed.records {
        let file = package_file(
            cmdb_dir,
            packages_dir,
            &row.host.name,
            row.packages.as_deref(),
        );
        let (packages, format) = match file {
            None => {
                report.hosts_without_packages.push(row.host.name.clone());
                (Vec::new(), None)
            }
            Some(file) => {
                let text = std::fs::read_to_string(&file).map_err(|e| PatchError::io(&file, e))?;
                let (format, packages) =
                    packages::parse_any(&text).map_err(|message| PatchError::Inventory {
                        path: file.clone(),
                        message,
                    })?;
                report.skipped_packages += packages.skipped;
                if report.first_error.is_none() {
                    report.first_error = packages
                        .first_error
                        .map(|e| format!("{}: {e}", file.display()));
                }
                (packages.records, Some(format))
            }
        };
        hosts.push(InventoryHost {
            host: row.host,
            distro: row.distro,
            release: row.release,
            packages,
            package_format: format,
        });
    }
    report.hosts = hosts.len();
    intern(&mut hosts);
    Ok((hosts, report))
}
