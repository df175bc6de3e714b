//! Matching installed packages against vulnerability data. Distro data first, by *source*
//! package and the distro's own fixed version, so a backported fix (Debian's
//! `2:4.13.13+dfsg-1~deb11u5` fixing what upstream fixed in 4.14.14) is not flagged. NVD CPE
//! ranges are consulted only for software the distro has no data about at all, and such
//! findings carry a lower confidence. Every finding says where it came from and how sure it is.
//!
//! The matcher only reads: it never changes a host.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use serde::{Deserialize, Serialize};

use crate::distro::Distro;
use crate::feed::{CpeRange, Disposition, FixOrigin, FixState};
use crate::index::{CveIdx, PackageVerdicts, VulnIndex};
use crate::inventory::InventoryHost;
use crate::version::{self, dpkg, Scheme};

/// What the operator can do about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingStatus {
    /// A fixed version exists: upgrade.
    FixAvailable,
    /// Known vulnerable, no fix released yet: mitigate and watch.
    NoFixYet,
    /// The release is out of security support for this package: no fix will come.
    NoFixPlanned,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::FixAvailable => "fix-available",
            FindingStatus::NoFixYet => "no-fix-yet",
            FindingStatus::NoFixPlanned => "no-fix-planned",
        }
    }
}

/// Where a match came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchSource {
    DebianTracker,
    DebianAdvisory,
    RedHatCsaf,
    SuseOval,
    AmazonAlas,
    Osv,
    /// NVD CPE range, product linked to the package by Debian's CPE list.
    NvdCpeLinked,
    /// NVD CPE range, product guessed from the package name.
    NvdCpeGuessed,
}

impl MatchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchSource::DebianTracker => "debian-tracker",
            MatchSource::DebianAdvisory => "debian-advisory",
            MatchSource::RedHatCsaf => "redhat-csaf",
            MatchSource::SuseOval => "suse-oval",
            MatchSource::AmazonAlas => "amazon-alas",
            MatchSource::Osv => "osv",
            MatchSource::NvdCpeLinked => "nvd-cpe-linked",
            MatchSource::NvdCpeGuessed => "nvd-cpe-guessed",
        }
    }
}

impl From<FixOrigin> for MatchSource {
    fn from(origin: FixOrigin) -> Self {
        match origin {
            FixOrigin::DebianTracker => MatchSource::DebianTracker,
            FixOrigin::DebianAdvisory => MatchSource::DebianAdvisory,
            FixOrigin::RedHatCsaf => MatchSource::RedHatCsaf,
            FixOrigin::SuseOval => MatchSource::SuseOval,
            FixOrigin::AmazonAlas => MatchSource::AmazonAlas,
            FixOrigin::Osv => MatchSource::Osv,
        }
    }
}

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The evidence behind a finding. Kept small (a fleet can hold millions of findings): the rare
/// NVD case is boxed.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// A distro verdict (index into [`VulnIndex::verdicts`]).
    Distro { verdict: u32 },
    /// An NVD CPE range.
    Cpe(Box<CpeEvidence>),
}

/// Which NVD range matched.
#[derive(Debug, Clone, PartialEq)]
pub struct CpeEvidence {
    pub vendor: String,
    pub product: String,
    /// The upstream version the range ends before, when it says.
    pub fixed_upstream: Option<String>,
}

/// One vulnerable source package on one host. Compact: strings are resolved by reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Index into the host's packages of the first binary built from the source.
    pub package: u32,
    pub cve: CveIdx,
    pub status: FindingStatus,
    pub source: MatchSource,
    pub confidence: Confidence,
    /// The distro's decision about this CVE (unimportant, end-of-life, postponed, ignored,
    /// no-DSA): such a finding is listed apart and not counted unless the scan asks to.
    pub disposition: Option<Disposition>,
    pub evidence: Evidence,
}

/// A host's findings, plus what could not be checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFindings {
    pub host: usize,
    pub findings: Vec<Finding>,
    /// Installed versions that could not be parsed (so were not checked).
    pub unparseable: u32,
    /// The host's distro or release has no data at all: only NVD ranges applied.
    pub release_without_data: bool,
}

/// What a distro verdict says about one installed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Vulnerable(FindingStatus),
    Fixed,
    NotAffected,
}

/// Applies one verdict to an installed version.
pub fn judge(
    scheme: Scheme,
    installed: &str,
    state: &FixState,
    introduced: Option<&str>,
) -> Result<Verdict, version::VersionError> {
    if let Some(introduced) = introduced {
        if scheme.compare(installed, introduced)? == Ordering::Less {
            return Ok(Verdict::NotAffected);
        }
    }
    Ok(match state {
        FixState::NotAffected => Verdict::NotAffected,
        FixState::Open => Verdict::Vulnerable(FindingStatus::NoFixYet),
        FixState::EndOfLife => Verdict::Vulnerable(FindingStatus::NoFixPlanned),
        FixState::Fixed { version } => match scheme.compare(installed, version)? {
            Ordering::Less => Verdict::Vulnerable(FindingStatus::FixAvailable),
            _ => Verdict::Fixed,
        },
    })
}

/// Matches one host.
pub fn match_host(index: &VulnIndex, host_idx: usize, host: &InventoryHost) -> HostFindings {
    let mut out = HostFindings {
        host: host_idx,
        ..HostFindings::default()
    };
    let release = host
        .distro
        .and_then(|distro| index.release(distro, &host.release).map(|r| (distro, r)));
    out.release_without_data = release.is_none();
    let scheme = host.distro.map(Distro::scheme).unwrap_or(Scheme::Dpkg);
    let by_binary = host.distro.is_some_and(Distro::matches_binaries);
    // Binary packages built from one source share its verdicts: check each source version once.
    // Vendors whose data names binaries (SUSE, Amazon) are checked binary by binary instead.
    let mut seen: HashMap<(&str, &str), ()> = HashMap::with_capacity(host.packages.len());
    for (package_idx, package) in host.packages.iter().enumerate() {
        let (source, installed) = if by_binary {
            (&*package.name, &*package.version)
        } else {
            (package.source_name(), package.source_version())
        };
        if seen.insert((source, installed), ()).is_some() {
            continue;
        }
        let package_idx = package_idx as u32;
        let verdicts = release.and_then(|(_, packages)| packages.get(source));
        match verdicts {
            Some(verdicts) => {
                if !match_distro(
                    index,
                    scheme,
                    installed,
                    verdicts,
                    package_idx,
                    host.source_assumed(),
                    &mut out.findings,
                ) {
                    out.unparseable += 1;
                }
            }
            None => {
                let covered = host.distro.is_some_and(|d| index.is_covered(d, source));
                if !covered {
                    match_cpe(
                        index,
                        scheme,
                        source,
                        installed,
                        package_idx,
                        &mut out.findings,
                    );
                }
            }
        }
    }
    if by_binary {
        // Several binaries of one source fixed by one advisory are one finding (the source
        // needs the update), as they are for source-keyed distros.
        let mut kept: HashMap<(&str, CveIdx), ()> = HashMap::with_capacity(out.findings.len());
        out.findings.retain(|finding| {
            let source = host.packages[finding.package as usize].source_name();
            kept.insert((source, finding.cve), ()).is_none()
        });
    }
    out
}

/// An installed version parsed once, compared against many fixed versions.
enum Prepared<'a> {
    Deb(dpkg::DebVersion<'a>),
    Rpm(version::rpm::Evr<'a>),
    Text(&'a str),
}

impl<'a> Prepared<'a> {
    fn new(scheme: Scheme, installed: &'a str) -> Result<Self, version::VersionError> {
        Ok(match scheme {
            Scheme::Dpkg => Prepared::Deb(dpkg::DebVersion::parse(installed)?),
            Scheme::Rpm => Prepared::Rpm(version::rpm::Evr::parse(installed)?),
            Scheme::Semver => {
                version::semver::SemVer::parse_loose(installed)?;
                Prepared::Text(installed)
            }
        })
    }

    fn compare(&self, scheme: Scheme, other: &str) -> Result<Ordering, version::VersionError> {
        match self {
            Prepared::Deb(installed) => Ok(installed.cmp(&dpkg::DebVersion::parse(other)?)),
            Prepared::Rpm(installed) => Ok(installed.compare(&version::rpm::Evr::parse(other)?)),
            Prepared::Text(installed) => scheme.compare(installed, other),
        }
    }
}

/// How sure a distro verdict's match is: the distro's own data on its own source package is
/// exact (high); OSV is a conversion of it, one step removed (medium); a package list without
/// source names makes the source a guess, one step lower. NVD ranges are always low.
pub fn distro_confidence(origin: FixOrigin, source_assumed: bool) -> Confidence {
    match (origin, source_assumed) {
        (FixOrigin::Osv, false) => Confidence::Medium,
        (FixOrigin::Osv, true) => Confidence::Low,
        (_, false) => Confidence::High,
        (_, true) => Confidence::Medium,
    }
}

/// Distro verdicts for one source package. Returns false when the installed version could not
/// be compared.
fn match_distro(
    index: &VulnIndex,
    scheme: Scheme,
    installed: &str,
    verdicts: &PackageVerdicts,
    package: u32,
    source_assumed: bool,
    findings: &mut Vec<Finding>,
) -> bool {
    let Ok(prepared) = Prepared::new(scheme, installed) else {
        return false;
    };
    let mut ok = true;
    // Highest fixed version first: the first fix the installed version has reached covers
    // every older fix too, so one comparison dismisses a fully patched package.
    for &verdict_idx in &verdicts.fixed_descending {
        let verdict = &index.verdicts[verdict_idx as usize];
        let FixState::Fixed { version: fixed } = &verdict.state else {
            continue;
        };
        match prepared.compare(scheme, fixed) {
            Ok(Ordering::Less) => findings.push(Finding {
                package,
                cve: verdict.cve,
                status: FindingStatus::FixAvailable,
                source: verdict.origin.into(),
                confidence: distro_confidence(verdict.origin, source_assumed),
                disposition: verdict.disposition,
                evidence: Evidence::Distro {
                    verdict: verdict_idx,
                },
            }),
            Ok(_) => break,
            Err(_) => {
                ok = false;
                break;
            }
        }
    }
    for &verdict_idx in &verdicts.other {
        let verdict = &index.verdicts[verdict_idx as usize];
        match judge(
            scheme,
            installed,
            &verdict.state,
            verdict.introduced.as_deref(),
        ) {
            Ok(Verdict::Vulnerable(status)) => findings.push(Finding {
                package,
                cve: verdict.cve,
                status,
                source: verdict.origin.into(),
                confidence: distro_confidence(verdict.origin, source_assumed),
                disposition: verdict.disposition,
                evidence: Evidence::Distro {
                    verdict: verdict_idx,
                },
            }),
            Ok(_) => {}
            Err(_) => ok = false,
        }
    }
    ok
}

/// The upstream part of an installed version, as NVD ranges speak of it.
pub fn upstream_version(scheme: Scheme, installed: &str) -> &str {
    match scheme {
        Scheme::Dpkg => dpkg::upstream_part(installed),
        Scheme::Rpm => version::rpm::Evr::parse(installed)
            .map(|evr| evr.version)
            .unwrap_or(installed),
        Scheme::Semver => installed,
    }
}

/// Whether an upstream version lies in an NVD CPE range.
pub fn in_cpe_range(upstream: &str, range: &CpeRange) -> bool {
    let cmp = version::compare_loose;
    if let Some(exact) = &range.exact {
        return cmp(upstream, exact) == Ordering::Equal;
    }
    let checks = [
        range
            .start_including
            .as_deref()
            .map(|s| cmp(upstream, s) != Ordering::Less),
        range
            .start_excluding
            .as_deref()
            .map(|s| cmp(upstream, s) == Ordering::Greater),
        range
            .end_including
            .as_deref()
            .map(|e| cmp(upstream, e) != Ordering::Greater),
        range
            .end_excluding
            .as_deref()
            .map(|e| cmp(upstream, e) == Ordering::Less),
    ];
    checks.iter().all(|check| check.unwrap_or(true))
}

fn match_cpe(
    index: &VulnIndex,
    scheme: Scheme,
    source: &str,
    installed: &str,
    package: u32,
    findings: &mut Vec<Finding>,
) {
    let upstream = upstream_version(scheme, installed);
    let links = index.cpe_links(source);
    let guessed;
    let (candidates, match_source, confidence): (&[(String, String)], _, _) = if links.is_empty() {
        guessed = [(String::new(), source.to_ascii_lowercase())];
        (&guessed, MatchSource::NvdCpeGuessed, Confidence::Low)
    } else {
        // Linked by the distro's CPE list, but still an upstream range on a distro build:
        // backports make it wrong often enough that it stays low.
        (links, MatchSource::NvdCpeLinked, Confidence::Low)
    };
    let first_new = findings.len();
    for (vendor, product) in candidates {
        for entry in index.cpe_ranges(product) {
            let range = &entry.range;
            if range.part != "a" || (!vendor.is_empty() && range.vendor != *vendor) {
                continue;
            }
            if !in_cpe_range(upstream, range) {
                continue;
            }
            // One finding per CVE even when several of its ranges match.
            if findings[first_new..].iter().any(|f| f.cve == entry.cve) {
                continue;
            }
            let fixed_upstream = range.end_excluding.clone();
            let status = if fixed_upstream.is_some() || range.end_including.is_some() {
                FindingStatus::FixAvailable
            } else {
                FindingStatus::NoFixYet
            };
            findings.push(Finding {
                package,
                cve: entry.cve,
                status,
                source: match_source,
                confidence,
                disposition: None,
                evidence: Evidence::Cpe(Box::new(CpeEvidence {
                    vendor: range.vendor.clone(),
                    product: range.product.clone(),
                    fixed_upstream,
                })),
            });
        }
    }
}

/// Matches a fleet on `threads` threads (hosts handed out in small batches so a slow host does
/// not stall a thread's share). Results are in host order.
pub fn match_fleet(
    index: &VulnIndex,
    hosts: &[InventoryHost],
    threads: usize,
) -> Vec<HostFindings> {
    const BATCH: usize = 32;
    let threads = threads.max(1);
    if threads == 1 || hosts.len() <= BATCH {
        return hosts
            .iter()
            .enumerate()
            .map(|(i, host)| match_host(index, i, host))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<HostFindings> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut local = Vec::new();
                    loop {
                        let start = next.fetch_add(BATCH, AtomicOrdering::Relaxed);
                        if start >= hosts.len() {
                            break;
                        }
                        let end = (start + BATCH).min(hosts.len());
                        for (i, host) in hosts[start..end].iter().enumerate() {
                            local.push(match_host(index, start + i, host));
                        }
                    }
                    local
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|r| r.host);
    results
}

/// The straightforward matcher, kept as the reference the fast one is measured and checked
/// against: every binary package, every verdict of its source, both versions parsed on every
/// comparison, strings copied into each result. Same answers, none of the shortcuts.
pub mod baseline {
    use std::collections::{BTreeSet, HashMap};

    use crate::feed::DistroFix;
    use crate::inventory::InventoryHost;

    use super::{judge, FindingStatus, Verdict};

    /// `(host, source, cve, status)`: what both matchers must agree on.
    pub type Key = (String, String, String, FindingStatus);

    pub struct Baseline {
        by_source: HashMap<String, Vec<DistroFix>>,
    }

    impl Baseline {
        pub fn new(fixes: &[DistroFix]) -> Self {
            let mut by_source: HashMap<String, Vec<DistroFix>> = HashMap::new();
            for fix in fixes {
                by_source
                    .entry(fix.source.clone())
                    .or_default()
                    .push(fix.clone());
            }
            Self { by_source }
        }

        pub fn match_host(&self, host: &InventoryHost) -> BTreeSet<Key> {
            let mut out = BTreeSet::new();
            let Some(distro) = host.distro else {
                return out;
            };
            for package in &host.packages {
                let source = package.source_name().to_owned();
                let installed = package.source_version().to_owned();
                let Some(fixes) = self.by_source.get(&source) else {
                    continue;
                };
                // Choose one verdict per CVE, as the index does, by scanning everything.
                let mut chosen: HashMap<String, DistroFix> = HashMap::new();
                for fix in fixes {
                    if fix.distro != distro || fix.release != host.release {
                        continue;
                    }
                    let replace = match chosen.get(&fix.cve) {
                        None => true,
                        Some(existing) => crate::index::prefer(fix, existing),
                    };
                    if replace {
                        chosen.insert(fix.cve.clone(), fix.clone());
                    }
                }
                for fix in chosen.values() {
                    if let Ok(Verdict::Vulnerable(status)) = judge(
                        distro.scheme(),
                        &installed,
                        &fix.state,
                        fix.introduced.as_deref(),
                    ) {
                        out.insert((
                            host.host.name.clone(),
                            source.clone(),
                            fix.cve.clone(),
                            status,
                        ));
                    }
                }
            }
            out
        }
    }
}

/// What the distro data says about one CVE for one installed source version: `None` when the
/// distro has no verdict for it. For `ooda patch explain`-style questions and tests.
pub fn explain(
    index: &VulnIndex,
    distro: Distro,
    release: &str,
    source: &str,
    installed: &str,
    cve: &str,
) -> Option<(Verdict, MatchSource)> {
    let packages = index.release(distro, release)?;
    let verdicts = packages.get(source)?;
    let all = verdicts.fixed_descending.iter().chain(&verdicts.other);
    for &verdict_idx in all {
        let verdict = &index.verdicts[verdict_idx as usize];
        if index.cves[verdict.cve as usize].id != cve {
            continue;
        }
        let judged = judge(
            distro.scheme(),
            installed,
            &verdict.state,
            verdict.introduced.as_deref(),
        )
        .ok()?;
        return Some((judged, verdict.origin.into()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_stay_small() {
        // A fleet holds millions of these: keep the common case at 32 bytes or less.
        assert!(
            std::mem::size_of::<Finding>() <= 32,
            "{}",
            std::mem::size_of::<Finding>()
        );
    }

    #[test]
    fn cpe_ranges() {
        let range = |start: Option<&str>, end: Option<&str>| CpeRange {
            part: "a".into(),
            vendor: "v".into(),
            product: "p".into(),
            exact: None,
            start_including: start.map(Into::into),
            start_excluding: None,
            end_including: None,
            end_excluding: end.map(Into::into),
        };
        assert!(in_cpe_range(
            "4.13.13+dfsg",
            &range(Some("4.3.0"), Some("4.14.14"))
        ));
        assert!(!in_cpe_range(
            "4.14.14",
            &range(Some("4.3.0"), Some("4.14.14"))
        ));
        assert!(!in_cpe_range("4.2", &range(Some("4.3.0"), None)));
        assert!(
            in_cpe_range("1", &range(None, None)),
            "no bounds: every version"
        );
        let exact = CpeRange {
            exact: Some("2.0".into()),
            ..range(None, None)
        };
        assert!(in_cpe_range("2.0", &exact) && !in_cpe_range("2.0.1", &exact));
    }
}
