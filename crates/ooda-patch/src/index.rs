//! The in-memory index the matcher reads: distro verdicts by (distro, release) then source
//! package, each list sorted so that a fully patched package is dismissed with one comparison,
//! plus what is known about each CVE (CVSS, KEV, EPSS) and NVD's CPE ranges for software no
//! distro covers. Built once from the feed snapshots; read-only afterwards, so it can be shared
//! by every matching thread.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::distro::Distro;
use crate::error::Result;
use crate::feed::store::{FeedStore, Records};
use crate::feed::{
    CpeLink, CpeRange, CveRecord, Disposition, DistroFix, EpssScore, FeedKind, FixOrigin, FixState,
    KevEntry, SeverityRecord,
};

/// Index of a CVE in [`VulnIndex::cves`].
pub type CveIdx = u32;

/// Everything known about one CVE, for risk and reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CveInfo {
    pub id: String,
    pub cvss: Option<f64>,
    pub cvss_version: Option<String>,
    pub cvss_source: Option<String>,
    pub kev_added: Option<NaiveDate>,
    pub kev_due: Option<NaiveDate>,
    pub known_ransomware: bool,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub epss_model: Option<String>,
    pub description: Option<String>,
}

/// A distro verdict, compacted for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub cve: CveIdx,
    pub state: FixState,
    pub introduced: Option<String>,
    pub advisory: Option<String>,
    pub published: Option<NaiveDate>,
    pub urgency: Option<String>,
    pub origin: FixOrigin,
    pub disposition: Option<Disposition>,
}

/// The verdicts of one source package on one release, ordered for early exit.
#[derive(Debug, Clone, Default)]
pub struct PackageVerdicts {
    /// `Fixed` verdicts without an `introduced` bound, highest fixed version first: once the
    /// installed version reaches one, it reaches all the rest.
    pub fixed_descending: Vec<u32>,
    /// Everything else that can make a finding: open, end-of-life, or bounded below.
    pub other: Vec<u32>,
}

/// An NVD CPE range attached to its CVE.
#[derive(Debug, Clone, PartialEq)]
pub struct CpeEntry {
    pub cve: CveIdx,
    pub range: CpeRange,
}

/// Release key: distro and normalised release.
pub type ReleaseKey = (Distro, String);

#[derive(Debug, Default)]
pub struct VulnIndex {
    pub cves: Vec<CveInfo>,
    cve_ids: HashMap<String, CveIdx>,
    pub verdicts: Vec<Verdict>,
    by_release: HashMap<ReleaseKey, HashMap<Box<str>, PackageVerdicts>>,
    /// Source packages a distro has any data for: NVD is not consulted for those.
    covered: HashMap<Distro, HashSet<Box<str>>>,
    /// NVD ranges by lower-cased product name.
    cpe_by_product: HashMap<String, Vec<CpeEntry>>,
    /// Debian's source → (vendor, product) links.
    cpe_links: HashMap<String, Vec<(String, String)>>,
}

/// The records of every imported feed, as loaded from the store.
#[derive(Debug, Default, Clone)]
pub struct FeedSet {
    pub cves: Vec<CveRecord>,
    pub kev: Vec<KevEntry>,
    pub fixes: Vec<DistroFix>,
    pub cpe_links: Vec<CpeLink>,
    pub epss: Vec<EpssScore>,
    pub severity: Vec<SeverityRecord>,
    /// Feeds present, for reports ("KEV not imported" matters).
    pub present: Vec<FeedKind>,
    /// Per feed: when imported, how fresh its data is, what it covers.
    pub freshness: Vec<FeedFreshness>,
}

/// What a verdict rests on, per feed: shown beside every verdict and in every report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeedFreshness {
    pub feed: FeedKind,
    pub records: usize,
    pub imported_at: ooda_core::Timestamp,
    /// Newest date in the data itself; `None` when its records carry none.
    pub data_date: Option<NaiveDate>,
    pub catalogue_version: Option<String>,
    /// Releases its distro verdicts cover (`debian bullseye`), empty for non-distro feeds.
    pub releases: Vec<String>,
    pub sources: Vec<String>,
}

impl FeedFreshness {
    /// `dsa 2023-03-29 (imported 2026-12-07)`: one line per feed for tables and footers.
    pub fn describe(&self) -> String {
        let data = match (&self.data_date, &self.catalogue_version) {
            (Some(date), _) => format!("data to {date}"),
            (None, Some(version)) => format!("catalogue {version}"),
            (None, None) => "data undated".to_owned(),
        };
        format!(
            "{} ({} records, {data}, imported {})",
            self.feed,
            self.records,
            self.imported_at.format("%Y-%m-%d %H:%M")
        )
    }
}

impl FeedSet {
    /// Loads every snapshot in the store; a missing feed is simply absent.
    pub fn load(store: &FeedStore) -> Result<Self> {
        let mut set = FeedSet::default();
        for kind in FeedKind::ALL {
            if let Some(snapshot) = store.load(kind)? {
                set.present.push(kind);
                set.freshness.push(FeedFreshness {
                    feed: kind,
                    records: snapshot.records.len(),
                    imported_at: snapshot.imported_at,
                    // Snapshots written before data dates were kept: compute it now.
                    data_date: snapshot
                        .data_date
                        .or_else(|| snapshot.records.newest_date()),
                    catalogue_version: snapshot.catalogue_version.clone(),
                    releases: snapshot
                        .records
                        .releases()
                        .into_iter()
                        .map(|(d, r)| format!("{d} {r}"))
                        .collect(),
                    sources: snapshot.sources.clone(),
                });
                set.add(snapshot.records);
            }
        }
        Ok(set)
    }

    pub fn add(&mut self, records: Records) {
        match records {
            Records::Cves(r) => self.cves.extend(r),
            Records::Kev(r) => self.kev.extend(r),
            Records::Fixes(r) => self.fixes.extend(r),
            Records::CpeLinks(r) => self.cpe_links.extend(r),
            Records::Epss(r) => self.epss.extend(r),
            Records::Severity(r) => self.severity.extend(r),
        }
    }
}

impl VulnIndex {
    pub fn cve_idx(&mut self, id: &str) -> CveIdx {
        if let Some(&idx) = self.cve_ids.get(id) {
            return idx;
        }
        let idx = self.cves.len() as CveIdx;
        self.cves.push(CveInfo {
            id: id.to_owned(),
            ..CveInfo::default()
        });
        self.cve_ids.insert(id.to_owned(), idx);
        idx
    }

    pub fn cve(&self, id: &str) -> Option<&CveInfo> {
        self.cve_ids.get(id).map(|&idx| &self.cves[idx as usize])
    }

    /// The verdicts for one release, keyed by source package.
    pub fn release(
        &self,
        distro: Distro,
        release: &str,
    ) -> Option<&HashMap<Box<str>, PackageVerdicts>> {
        self.by_release.get(&(distro, release.to_owned()))
    }

    pub fn is_covered(&self, distro: Distro, source: &str) -> bool {
        self.covered
            .get(&distro)
            .is_some_and(|sources| sources.contains(source))
    }

    pub fn cpe_ranges(&self, product: &str) -> &[CpeEntry] {
        self.cpe_by_product
            .get(product)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn cpe_links(&self, source: &str) -> &[(String, String)] {
        self.cpe_links.get(source).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn releases(&self) -> impl Iterator<Item = &ReleaseKey> {
        self.by_release.keys()
    }

    pub fn verdict_count(&self) -> usize {
        self.verdicts.len()
    }

    /// Builds the index. Several feeds may speak of the same (release, source, CVE): the tracker
    /// wins over the advisory lists, which win over OSV; within one feed the earliest fixed
    /// version wins (see [`prefer`]).
    pub fn build(feeds: &FeedSet) -> Self {
        let mut index = VulnIndex::default();

        for record in &feeds.cves {
            let idx = index.cve_idx(&record.id) as usize;
            let info = &mut index.cves[idx];
            if let Some(cvss) = &record.cvss {
                info.cvss = Some(cvss.score);
                info.cvss_version = Some(cvss.version.clone());
                info.cvss_source = Some(cvss.source.clone());
            }
            info.description = record.description.clone();
            for range in &record.cpe_ranges {
                index
                    .cpe_by_product
                    .entry(range.product.to_ascii_lowercase())
                    .or_default()
                    .push(CpeEntry {
                        cve: idx as CveIdx,
                        range: range.clone(),
                    });
            }
        }
        for record in &feeds.severity {
            let idx = index.cve_idx(&record.cve) as usize;
            let info = &mut index.cves[idx];
            // NVD's own choice stays; the summary fills the gaps.
            if info.cvss.is_none() {
                if let Some(cvss) = &record.cvss {
                    info.cvss = Some(cvss.score);
                    info.cvss_version = Some(cvss.version.clone());
                    info.cvss_source = Some(cvss.source.clone());
                }
            }
        }
        for entry in &feeds.kev {
            let idx = index.cve_idx(&entry.cve) as usize;
            let info = &mut index.cves[idx];
            info.kev_added = Some(entry.date_added);
            info.kev_due = entry.due_date;
            info.known_ransomware = entry.known_ransomware;
        }
        for score in &feeds.epss {
            let idx = index.cve_idx(&score.cve) as usize;
            let info = &mut index.cves[idx];
            // Keep the newest model's score: scores of different models are not comparable.
            if info.epss.is_none() || score.model_version >= info.epss_model {
                info.epss = Some(score.probability);
                info.epss_percentile = score.percentile;
                info.epss_model = score.model_version.clone();
            }
        }
        for link in &feeds.cpe_links {
            index
                .cpe_links
                .entry(link.source.clone())
                .or_default()
                .push((
                    link.vendor.to_ascii_lowercase(),
                    link.product.to_ascii_lowercase(),
                ));
        }

        index.add_fixes(&feeds.fixes);
        index
    }

    fn add_fixes(&mut self, fixes: &[DistroFix]) {
        // Pick one verdict per (distro, release, source, cve).
        let mut chosen: HashMap<(Distro, &str, &str, &str), &DistroFix> = HashMap::new();
        for fix in fixes {
            let key = (
                fix.distro,
                fix.release.as_str(),
                fix.source.as_str(),
                fix.cve.as_str(),
            );
            match chosen.get(&key) {
                Some(existing) if !prefer(fix, existing) => {}
                _ => {
                    chosen.insert(key, fix);
                }
            }
        }
        // The tracker carries no dates: borrow the advisory's date for the same fixed version.
        let mut dates: HashMap<(Distro, &str, &str, &str), NaiveDate> = HashMap::new();
        for fix in fixes {
            if let (FixState::Fixed { version }, Some(date)) = (&fix.state, fix.published) {
                let key = (
                    fix.distro,
                    fix.release.as_str(),
                    fix.source.as_str(),
                    version.as_str(),
                );
                let slot = dates.entry(key).or_insert(date);
                *slot = (*slot).min(date);
            }
        }

        let mut chosen: Vec<&DistroFix> = chosen.into_values().collect();
        // Deterministic order whatever the hash seed.
        chosen.sort_by(|a, b| {
            (a.distro, &a.release, &a.source, &a.cve)
                .cmp(&(b.distro, &b.release, &b.source, &b.cve))
        });
        for fix in chosen {
            self.covered
                .entry(fix.distro)
                .or_default()
                .insert(Box::from(fix.source.as_str()));
            let published = fix.published.or_else(|| match &fix.state {
                FixState::Fixed { version } => dates
                    .get(&(
                        fix.distro,
                        fix.release.as_str(),
                        fix.source.as_str(),
                        version.as_str(),
                    ))
                    .copied(),
                _ => None,
            });
            let cve = self.cve_idx(&fix.cve);
            let verdict_idx = self.verdicts.len() as u32;
            self.verdicts.push(Verdict {
                cve,
                state: fix.state.clone(),
                introduced: fix.introduced.clone(),
                advisory: fix.advisory.clone(),
                published,
                urgency: fix.urgency.clone(),
                origin: fix.origin,
                disposition: fix.disposition,
            });
            let package = self
                .by_release
                .entry((fix.distro, fix.release.clone()))
                .or_default()
                .entry(Box::from(fix.source.as_str()))
                .or_default();
            match (&fix.state, &fix.introduced) {
                (FixState::NotAffected, _) => {}
                (FixState::Fixed { .. }, None) => package.fixed_descending.push(verdict_idx),
                _ => package.other.push(verdict_idx),
            }
        }
        // Sort each package's fixed verdicts, highest version first.
        let verdicts = &self.verdicts;
        for ((distro, _), packages) in self.by_release.iter_mut() {
            let scheme = distro.scheme();
            for package in packages.values_mut() {
                package.fixed_descending.sort_by(|&a, &b| {
                    let version = |i: u32| match &verdicts[i as usize].state {
                        FixState::Fixed { version } => version.as_str(),
                        _ => "",
                    };
                    scheme
                        .compare(version(b), version(a))
                        .unwrap_or(Ordering::Equal)
                });
            }
        }
    }
}

/// Whether `candidate` should replace `existing` for the same (distro, release, source, CVE).
///
/// Between feeds, the more exact one wins (tracker, then advisories, then OSV). Within one feed,
/// the *earliest* fixed version wins: a CVE named by several advisories (Chromium's CVE-2022-2163
/// by DSA-5168-1 and again by DSA-5187-1) was fixed in that release by the first of them, and a
/// host between the two versions is not vulnerable to it.
pub fn prefer(candidate: &DistroFix, existing: &DistroFix) -> bool {
    if candidate.origin != existing.origin {
        return candidate.origin < existing.origin;
    }
    match (&candidate.state, &existing.state) {
        (FixState::Fixed { version: a }, FixState::Fixed { version: b }) => {
            match candidate.distro.scheme().compare(a, b) {
                Ok(Ordering::Less) => true,
                // The same version named twice: keep the earlier advisory (by date, then id).
                Ok(Ordering::Equal) => {
                    (candidate.published, &candidate.advisory)
                        < (existing.published, &existing.advisory)
                        && candidate.published.is_some()
                }
                _ => false,
            }
        }
        // A fix beats "open" from the same feed (the advisory that fixed it is newer news).
        (FixState::Fixed { .. }, _) => true,
        _ => false,
    }
}
