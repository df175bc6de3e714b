//! Distro-aware matching on real data: every case in `backport-cases.tsv` (patched Debian
//! packages that NVD's upstream ranges call vulnerable) must come out "fixed", while the naive
//! NVD range check really would have flagged the FLAGGED rows; and the fast matcher agrees with
//! the straightforward one.

mod common;

use std::collections::BTreeSet;

use common::{fixture as shared, now};
use ooda_core::Host;
use ooda_patch::distro::Distro;
use ooda_patch::feed::import::import;
use ooda_patch::feed::store::FeedStore;
use ooda_patch::feed::FeedKind;
use ooda_patch::index::{FeedSet, VulnIndex};
use ooda_patch::inventory::{InstalledPackage, InventoryHost, PackageFormat};
use ooda_patch::matcher::{self, baseline::Baseline, FindingStatus, MatchSource, Verdict};

fn index_with(feeds: &[(FeedKind, &str)]) -> (VulnIndex, FeedSet) {
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    for (kind, path) in feeds {
        import(&store, *kind, &shared(path), now()).unwrap();
    }
    let set = FeedSet::load(&store).unwrap();
    (VulnIndex::build(&set), set)
}

fn debian_host(name: &str, release: &str, packages: Vec<InstalledPackage>) -> InventoryHost {
    InventoryHost {
        host: Host::new(name),
        distro: Some(Distro::Debian),
        release: release.to_owned(),
        packages,
        package_format: Some(PackageFormat::Dpkg),
    }
}

fn package(binary: &str, source: &str, version: &str) -> InstalledPackage {
    InstalledPackage::new(binary, version, Some(source), Some(version))
}

struct Case {
    cve: String,
    release: String,
    source: String,
    fixed: String,
    upstream: String,
    vendor_product: String,
    flagged: bool,
}

fn backport_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(shared("backport-cases.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            Case {
                cve: c[0].into(),
                release: c[3].into(),
                source: c[4].into(),
                fixed: c[5].into(),
                upstream: c[6].into(),
                vendor_product: c[7].into(),
                flagged: c[9].starts_with("FLAGGED"),
            }
        })
        .collect()
}

#[test]
fn backported_fixes_are_not_flagged() {
    let (index, _) = index_with(&[
        (FeedKind::DebianFixed, "debian/advisories-fixed.tsv"),
        (FeedKind::Nvd, "nvd/nvd-api2-records.jsonl"),
        (FeedKind::DebianCpe, "debian/CPE-list.txt"),
    ]);
    let cases = backport_cases();
    assert_eq!(cases.len(), 14);
    assert_eq!(cases.iter().filter(|c| c.flagged).count(), 3);
    for case in &cases {
        // The distro verdict: fixed.
        let verdict = matcher::explain(
            &index,
            Distro::Debian,
            &case.release,
            &case.source,
            &case.fixed,
            &case.cve,
        );
        assert_eq!(
            verdict,
            Some((Verdict::Fixed, MatchSource::DebianAdvisory)),
            "{} {} {}",
            case.cve,
            case.source,
            case.fixed
        );
        // And a whole-host scan raises nothing for it.
        let host = debian_host(
            "h",
            &case.release,
            vec![package(&case.source, &case.source, &case.fixed)],
        );
        let found = matcher::match_host(&index, 0, &host);
        let cves: Vec<&str> = found
            .findings
            .iter()
            .map(|f| index.cves[f.cve as usize].id.as_str())
            .collect();
        assert!(
            !cves.contains(&case.cve.as_str()),
            "{} flagged on {}: {cves:?}",
            case.cve,
            case.fixed
        );

        // Control: the naive upstream-range check really does flag the FLAGGED rows.
        let (vendor, product) = case.vendor_product.split_once(':').unwrap();
        let naive = index
            .cpe_ranges(product)
            .iter()
            .filter(|e| index.cves[e.cve as usize].id == case.cve && e.range.vendor == vendor)
            .any(|e| matcher::in_cpe_range(&case.upstream, &e.range));
        if case.flagged {
            assert!(
                naive,
                "{}: the NVD range should contain {}",
                case.cve, case.upstream
            );
        }
    }
}

#[test]
fn older_versions_of_the_same_packages_are_flagged_with_the_fix() {
    let (index, _) = index_with(&[(FeedKind::DebianFixed, "debian/advisories-fixed.tsv")]);
    // One Debian revision before the DSA's fixed version.
    let host = debian_host(
        "web-1",
        "bullseye",
        vec![
            package("samba", "samba", "2:4.13.13+dfsg-1~deb11u4"),
            package("libsmbclient", "samba", "2:4.13.13+dfsg-1~deb11u4"),
        ],
    );
    let found = matcher::match_host(&index, 0, &host);
    let samba: Vec<_> = found
        .findings
        .iter()
        .filter(|f| index.cves[f.cve as usize].id == "CVE-2022-32746")
        .collect();
    assert_eq!(
        samba.len(),
        1,
        "one finding per source package, not per binary"
    );
    assert_eq!(samba[0].status, FindingStatus::FixAvailable);
    assert_eq!(samba[0].source, MatchSource::DebianAdvisory);
    assert_eq!(samba[0].confidence, matcher::Confidence::High);
}

#[test]
fn open_tracker_entries_are_no_fix_yet() {
    let (index, _) = index_with(&[(
        FeedKind::DebianTracker,
        "debian/tracker-json-excerpt-vuls.json",
    )]);
    // 389-ds-base CVE-2016-5416 is open in bullseye: no fixed version exists.
    let host = debian_host(
        "ldap-1",
        "bullseye",
        vec![package("389-ds-base", "389-ds-base", "1.4.4.11-2")],
    );
    let found = matcher::match_host(&index, 0, &host);
    let open = found
        .findings
        .iter()
        .find(|f| index.cves[f.cve as usize].id == "CVE-2016-5416")
        .expect("open CVE reported");
    assert_eq!(open.status, FindingStatus::NoFixYet);
    // Resolved with fixed_version 0: never affected.
    assert!(!found
        .findings
        .iter()
        .any(|f| index.cves[f.cve as usize].id == "CVE-2012-0833"));
}

#[test]
fn nvd_ranges_only_where_no_distro_data_with_lower_confidence() {
    let (index, _) = index_with(&[
        (FeedKind::DebianFixed, "debian/advisories-fixed.tsv"),
        (FeedKind::Nvd, "nvd/nvd-api2-records.jsonl"),
        (FeedKind::DebianCpe, "debian/CPE-list.txt"),
    ]);
    // Log4j 2.14 from a tarball: no Debian source package of that name → NVD range, guessed.
    let host = debian_host(
        "app-1",
        "bullseye",
        vec![package("log4j", "log4j", "2.14.1")],
    );
    let found = matcher::match_host(&index, 0, &host);
    let hit = found
        .findings
        .iter()
        .find(|f| index.cves[f.cve as usize].id == "CVE-2021-44228")
        .expect("NVD fallback finds log4shell");
    assert_eq!(hit.source, MatchSource::NvdCpeGuessed);
    assert_eq!(hit.confidence, matcher::Confidence::Low);
    // curl has Debian data: NVD's haxx:libcurl range is never consulted for it.
    let host = debian_host(
        "app-2",
        "stretch",
        vec![package("curl", "curl", "7.52.1-5+deb9u7")],
    );
    let found = matcher::match_host(&index, 0, &host);
    assert!(found.findings.iter().all(|f| !matches!(
        f.source,
        MatchSource::NvdCpeGuessed | MatchSource::NvdCpeLinked
    )));
}

#[test]
fn fast_matcher_agrees_with_the_straightforward_one() {
    let (index, feeds) = index_with(&[
        (FeedKind::DebianFixed, "debian/advisories-fixed.tsv"),
        (FeedKind::Osv, "osv/samples"),
        (
            FeedKind::DebianTracker,
            "debian/tracker-json-excerpt-vuls.json",
        ),
    ]);
    let baseline = Baseline::new(&feeds.fixes);
    // Hosts with real source packages at versions below, at and above their fixed versions.
    let mut hosts = Vec::new();
    for (release, offset) in [
        ("bullseye", 0),
        ("buster", 1),
        ("stretch", 2),
        ("jessie", 3),
    ] {
        let mut packages = Vec::new();
        for (i, fix) in feeds
            .fixes
            .iter()
            .filter(|f| f.release == release)
            .enumerate()
            .skip(offset)
        {
            if i % 7 != 0 {
                continue;
            }
            let ooda_patch::feed::FixState::Fixed { version } = &fix.state else {
                continue;
            };
            let installed = match i % 3 {
                0 => format!("{version}~older"),
                1 => version.clone(),
                _ => format!("{version}+newer"),
            };
            // A host has one version of each source package.
            if packages
                .iter()
                .any(|p: &InstalledPackage| p.source_name() == fix.source)
            {
                continue;
            }
            packages.push(package(&fix.source, &fix.source, &installed));
        }
        hosts.push(debian_host(release, release, packages));
    }
    let fast = matcher::match_fleet(&index, &hosts, 2);
    let mut total = 0;
    for (host, result) in hosts.iter().zip(&fast) {
        let fast_keys: BTreeSet<_> = result
            .findings
            .iter()
            .map(|f| {
                let package = &host.packages[f.package as usize];
                (
                    host.host.name.clone(),
                    package.source_name().to_owned(),
                    index.cves[f.cve as usize].id.clone(),
                    f.status,
                )
            })
            .collect();
        assert_eq!(
            fast_keys.len(),
            result.findings.len(),
            "no duplicate findings"
        );
        let slow_keys = baseline.match_host(host);
        assert_eq!(fast_keys, slow_keys, "host {}", host.host.name);
        total += fast_keys.len();
    }
    assert!(total > 100, "the comparison covered {total} findings");
}
