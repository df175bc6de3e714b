//! The CVEs the lab draws its arrivals from: a small real subset of the shared CVE data (Debian
//! advisories, NVD and vulnrichment scores, CISA KEV), embedded so a lab run never reads the
//! network or a path outside the crate. `cves.tsv` says how it was derived.

use chrono::NaiveDate;

use crate::fleet::Class;

/// The embedded table.
pub const TABLE: &str = include_str!("cves.tsv");

/// One CVE as the lab uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cve {
    pub id: String,
    /// Debian source package it is fixed in.
    pub package: String,
    pub fixed_version: String,
    pub advisory: String,
    /// CVSS base score; `None` when no source scores it (the risk formula assumes 5.0 then).
    pub cvss: Option<f64>,
    pub kev_added: Option<NaiveDate>,
}

/// A line of the table that does not parse (the embedded table is checked by a unit test, so
/// this only names what went wrong if someone edits it badly).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cves.tsv line {line}: {reason}")]
pub struct TableError {
    pub line: usize,
    pub reason: String,
}

/// Parses a table in the `cves.tsv` format (comment lines start with `#`, then a header).
pub fn parse(text: &str) -> Result<Vec<Cve>, TableError> {
    let mut out = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        let error = |reason: String| TableError {
            line: line_no,
            reason,
        };
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, package, fixed, advisory, _date, cvss, kev] = fields[..] else {
            return Err(error(format!(
                "expected 7 tab-separated fields, found {}",
                fields.len()
            )));
        };
        let cvss = if cvss.is_empty() {
            None
        } else {
            Some(
                cvss.parse::<f64>()
                    .ok()
                    .filter(|c| (0.0..=10.0).contains(c))
                    .ok_or_else(|| error(format!("cvss: expected 0..=10, found {cvss:?}")))?,
            )
        };
        let kev_added = if kev.is_empty() {
            None
        } else {
            Some(
                NaiveDate::parse_from_str(kev, "%Y-%m-%d")
                    .map_err(|e| error(format!("kev_added {kev:?}: {e}")))?,
            )
        };
        if !id.starts_with("CVE-") || package.is_empty() || fixed.is_empty() {
            return Err(error(format!(
                "expected a CVE id, a package and a fixed version, found {id:?} {package:?} {fixed:?}"
            )));
        }
        out.push(Cve {
            id: id.to_owned(),
            package: package.to_owned(),
            fixed_version: fixed.to_owned(),
            advisory: advisory.to_owned(),
            cvss,
            kev_added,
        });
    }
    Ok(out)
}

/// Source packages every simulated host runs, whatever its class.
const BASE: [&str; 14] = [
    "linux",
    "openssl",
    "curl",
    "sudo",
    "policykit-1",
    "expat",
    "zlib",
    "libxml2",
    "dpkg",
    "xz-utils",
    "util-linux",
    "gnutls28",
    "krb5",
    "openldap",
];

/// Whether a host of `class` runs source package `package`.
pub fn runs(class: Class, package: &str) -> bool {
    if BASE.contains(&package) {
        return true;
    }
    let extra: &[&str] = match class {
        Class::Web => &["apache2", "nginx", "php7.4", "haproxy"],
        Class::Database => &["postgresql-13", "samba"],
        Class::Cache => &["redis", "varnish"],
        Class::Batch => &["openjdk-17", "apache-log4j2", "git", "tomcat9"],
    };
    extra.contains(&package)
}
