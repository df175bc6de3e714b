//! Debian's own semantics on real tracker and advisory data: the earliest fix per release when
//! several advisories name a CVE, the tracker's dispositions honoured (and countable on
//! request), not-affected never a finding, tracker imports that add up, hosts no feed covers
//! reported "not assessed", and the risk shown as the formula defines it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{fixture, now};
use ooda_core::{Environment, Host};
use ooda_patch::distro::Distro;
use ooda_patch::feed::import::{import, read};
use ooda_patch::feed::store::{FeedStore, Records};
use ooda_patch::feed::{Disposition, FeedKind, FixState};
use ooda_patch::index::{FeedSet, VulnIndex};
use ooda_patch::inventory::{InstalledPackage, InventoryHost, PackageFormat};
use ooda_patch::ledger::Ledger;
use ooda_patch::matcher::{self, FindingStatus};
use ooda_patch::report::{self, Assessment, ScanPolicy};
use ooda_patch::version::dpkg;

struct Loaded {
    _dir: tempfile::TempDir,
    index: VulnIndex,
    feeds: FeedSet,
}

fn load(feeds: &[(FeedKind, &str)]) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    for (kind, path) in feeds {
        import(&store, *kind, &fixture(path), now()).unwrap();
    }
    let feeds = FeedSet::load(&store).unwrap();
    Loaded {
        _dir: dir,
        index: VulnIndex::build(&feeds),
        feeds,
    }
}

fn host(name: &str, release: &str, packages: &[(&str, &str)]) -> InventoryHost {
    let mut host = Host::new(name);
    host.environment = Environment::Production;
    InventoryHost {
        host,
        distro: Some(Distro::Debian),
        release: release.to_owned(),
        packages: packages
            .iter()
            .map(|(source, version)| {
                InstalledPackage::new(source, version, Some(source), Some(version))
            })
            .collect(),
        package_format: Some(PackageFormat::Dpkg),
    }
}

fn cves_of(index: &VulnIndex, found: &matcher::HostFindings) -> BTreeSet<String> {
    found
        .findings
        .iter()
        .map(|f| index.cves[f.cve as usize].id.clone())
        .collect()
}

/// Chromium's CVE-2022-2163 is named by DSA-5168-1 (fixed in 103.0.5060.53-1~deb11u1) and
/// again by DSA-5187-1 (103.0.5060.134-1~deb11u1). A host between the two is not vulnerable to
/// it, but is to the CVEs only DSA-5187-1 fixed.
#[test]
fn a_cve_named_by_several_advisories_takes_the_earliest_fix() {
    let loaded = load(&[(FeedKind::Dsa, "debian/DSA-list.txt")]);
    let index = &loaded.index;
    let between = host(
        "web-1",
        "bullseye",
        &[("chromium", "103.0.5060.114-1~deb11u1")],
    );
    let cves = cves_of(index, &matcher::match_host(index, 0, &between));
    assert!(
        !cves.contains("CVE-2022-2163"),
        "fixed by DSA-5168-1: {cves:?}"
    );
    assert!(cves.contains("CVE-2022-2477"), "only DSA-5187-1 fixes it");
    let before = host(
        "web-2",
        "bullseye",
        &[("chromium", "102.0.5005.115-1~deb11u1")],
    );
    let found = matcher::match_host(index, 0, &before);
    let hit = found
        .findings
        .iter()
        .find(|f| index.cves[f.cve as usize].id == "CVE-2022-2163")
        .expect("vulnerable before the first fix");
    let matcher::Evidence::Distro { verdict } = hit.evidence else {
        panic!("a distro verdict")
    };
    let verdict = &index.verdicts[verdict as usize];
    assert_eq!(verdict.advisory.as_deref(), Some("DSA-5168-1"));
    assert_eq!(
        verdict.state,
        FixState::Fixed {
            version: "103.0.5060.53-1~deb11u1".into()
        }
    );
}

/// The Must-show inventory: every (release, source, CVE) that several real Debian advisories
/// name with different fixed versions (244 of them across ten releases, in
/// `advisories-fixed-multi.tsv`). A host with the earliest fixed version installed has no
/// finding for it; a host one step before has it, with the earliest advisory as evidence.
#[test]
fn inventory_of_multiply_named_cves_has_no_false_positives() {
    let path = "debian/advisories-fixed-multi.tsv";
    let loaded = load(&[(FeedKind::DebianFixed, path)]);
    let index = &loaded.index;
    // The oracle, computed straight from the parsed table with dpkg's ordering.
    let mut fixes: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    let (parsed, _) = read(FeedKind::DebianFixed, &fixture(path)).unwrap();
    let Records::Fixes(records) = &parsed.records[0] else {
        panic!()
    };
    for fix in records {
        if let FixState::Fixed { version } = &fix.state {
            fixes
                .entry((fix.release.clone(), fix.source.clone(), fix.cve.clone()))
                .or_default()
                .insert(version.clone());
        }
    }
    let multiple: Vec<_> = fixes.iter().filter(|(_, v)| v.len() > 1).collect();
    // 245 rows name different version strings; one of them (squid CVE-2005-2794 in sarge)
    // only differs by a trailing `(medium)` note, so 244 are truly different fixes.
    assert_eq!(multiple.len(), 244, "multiply-fixed (release, source, CVE)");
    let mut hosts = Vec::new();
    for ((release, source, cve), versions) in &multiple {
        let earliest = versions
            .iter()
            .min_by(|a, b| dpkg::compare(a, b).unwrap())
            .unwrap();
        let at = host("at", release, &[(source, earliest)]);
        let cves = cves_of(index, &matcher::match_host(index, 0, &at));
        assert!(
            !cves.contains(cve),
            "{cve} flagged on {source} {earliest} ({release}), fixes {versions:?}"
        );
        let older = format!("{earliest}~before");
        let before = host("before", release, &[(source, &older)]);
        let found = matcher::match_host(index, 0, &before);
        let hit = found
            .findings
            .iter()
            .find(|f| &index.cves[f.cve as usize].id == cve)
            .unwrap_or_else(|| panic!("{cve} missed on {source} {older}"));
        let matcher::Evidence::Distro { verdict } = hit.evidence else {
            panic!()
        };
        assert_eq!(
            index.verdicts[verdict as usize].state,
            FixState::Fixed {
                version: earliest.clone()
            }
        );
        hosts.push(at);
    }
    // The whole inventory at once, through the fleet matcher: still no false positive.
    let results = matcher::match_fleet(index, &hosts, 2);
    for (((_, _, cve), _), result) in multiple.iter().zip(&results) {
        assert!(!cves_of(index, result).contains(cve), "{cve}");
    }
}

#[test]
fn tracker_dispositions_are_kept_apart_unless_counted() {
    let loaded = load(&[
        (
            FeedKind::DebianTracker,
            "debian/tracker-json-mock-osvdev.json",
        ),
        (
            FeedKind::DebianTracker,
            "debian/tracker-json-excerpt-vuls.json",
        ),
        (
            FeedKind::DebianTracker,
            "debian/tracker-json-excerpt-vunnel.json",
        ),
    ]);
    let index = &loaded.index;
    let hosts = vec![
        host(
            "ldap-1",
            "bullseye",
            &[("apparmor", "2.13.6-10"), ("389-ds-base", "1.4.4.11-2")],
        ),
        host(
            "old-1",
            "buster",
            &[("chromium", "90.0.4430.212-1~deb10u1")],
        ),
    ];
    let results = matcher::match_fleet(index, &hosts, 1);
    let disposition = |host: usize, cve: &str| {
        results[host]
            .findings
            .iter()
            .find(|f| index.cves[f.cve as usize].id == cve)
            .map(|f| (f.status, f.disposition))
    };
    // apparmor CVE-2016-1585: open, urgency unimportant (it was rated CRITICAL 1.91 before).
    assert_eq!(
        disposition(0, "CVE-2016-1585"),
        Some((FindingStatus::NoFixYet, Some(Disposition::Unimportant)))
    );
    // 389-ds-base CVE-2016-5416: open, no DSA, reason "ignored".
    assert_eq!(
        disposition(0, "CVE-2016-5416"),
        Some((FindingStatus::NoFixYet, Some(Disposition::Ignored)))
    );
    // CVE-2012-0833: resolved with fixed version 0 (never affected): not even listed apart.
    assert_eq!(disposition(0, "CVE-2012-0833"), None);
    // CVE-2016-5405 was fixed in 1.3.5.15-1, long before the installed version.
    assert_eq!(disposition(0, "CVE-2016-5405"), None);
    // chromium in buster: end-of-life.
    assert_eq!(
        disposition(1, "CVE-2022-0456"),
        Some((FindingStatus::NoFixPlanned, Some(Disposition::EndOfLife)))
    );

    let rows = |policy: &ScanPolicy| {
        report::rows(
            index,
            &hosts,
            &results,
            &Ledger::default(),
            &loaded.feeds.freshness,
            policy,
            now(),
        )
    };
    let default = rows(&ScanPolicy::default());
    assert!(!default.is_empty());
    assert!(
        default
            .iter()
            .all(|r| !r.counted && r.disposition.is_some()),
        "every finding here is dispositioned: none counts by default"
    );
    assert!(default.iter().all(|r| r.due.is_none()));
    let apparmor = default.iter().find(|r| r.cve == "CVE-2016-1585").unwrap();
    assert!(apparmor.rule.contains("unimportant"), "{}", apparmor.rule);
    let counting = ScanPolicy {
        count_dispositions: [Disposition::Unimportant].into(),
        ..ScanPolicy::default()
    };
    let counted: Vec<String> = rows(&counting)
        .into_iter()
        .filter(|r| r.counted)
        .map(|r| r.cve)
        .collect();
    assert_eq!(counted, vec!["CVE-2016-1585".to_owned()]);
}

#[test]
fn tracker_imported_file_by_file_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let first = import(
        &store,
        FeedKind::DebianTracker,
        &fixture("debian/tracker-json-excerpt-vuls.json"),
        now(),
    )
    .unwrap();
    let second = import(
        &store,
        FeedKind::DebianTracker,
        &fixture("debian/tracker-json-excerpt-vunnel.json"),
        now(),
    )
    .unwrap();
    assert_eq!(second.total, first.imported + second.imported);
    // Importing the first again replaces its entries instead of doubling them.
    let again = import(
        &store,
        FeedKind::DebianTracker,
        &fixture("debian/tracker-json-excerpt-vuls.json"),
        now(),
    )
    .unwrap();
    assert_eq!(again.total, second.total);
    let snapshot = store.load(FeedKind::DebianTracker).unwrap().unwrap();
    assert_eq!(snapshot.sources.len(), 2);
    let Records::Fixes(fixes) = snapshot.records else {
        panic!()
    };
    assert!(fixes.iter().any(|f| f.source == "389-ds-base"));
    assert!(fixes.iter().any(|f| f.source == "prototypejs"));
}

#[test]
fn a_release_no_feed_covers_is_not_assessed() {
    let loaded = load(&[(FeedKind::DebianFixed, "debian/advisories-fixed.tsv")]);
    let index = &loaded.index;
    // The fixtures hold no bookworm advisories: a bookworm host is not clean, it is unknown.
    let hosts = vec![
        host("new-1", "bookworm", &[("openssl", "3.0.11-1~deb12u2")]),
        host("old-1", "bullseye", &[("openssl", "1.1.1w-0+deb11u1")]),
    ];
    let results = matcher::match_fleet(index, &hosts, 1);
    assert_eq!(
        report::assess(index, &hosts[0], &results[0]),
        Assessment::NotAssessed("no loaded feed covers debian bookworm".into())
    );
    assert_eq!(
        report::assess(index, &hosts[1], &results[1]),
        Assessment::Assessed
    );
    let rows = report::rows(
        index,
        &hosts,
        &results,
        &Ledger::default(),
        &loaded.feeds.freshness,
        &ScanPolicy::default(),
        now(),
    );
    let summary = report::summarise(
        index,
        &hosts,
        &results,
        &rows,
        &Ledger::default(),
        &loaded.feeds.freshness,
        now(),
    );
    assert_eq!(summary.hosts_assessed, 1);
    assert_eq!(summary.not_assessed[0].host, "new-1");
    // Every verdict carries the date of the data it rests on.
    assert_eq!(
        summary.feeds[0].data_date,
        chrono::NaiveDate::from_ymd_opt(2023, 4, 1)
    );
    let text = report::summary_table(&summary);
    assert!(
        text.contains("NOT ASSESSED: no loaded feed covers debian bookworm"),
        "{text}"
    );
    assert!(text.contains("2023-04-01"), "{text}");
}

#[test]
fn risk_is_shown_capped_beside_the_rank_and_missing_cvss_is_never_silent() {
    let loaded = load(&[
        (FeedKind::DebianFixed, "debian/advisories-fixed.tsv"),
        (FeedKind::Kev, "kev/known_exploited_vulnerabilities.json"),
        (FeedKind::Nvd, "nvd/nvd-api2-records.jsonl"),
    ]);
    let index = &loaded.index;
    // Log4Shell on an internet-facing production host: 10 × 2 × 1.5 × 1.3 = 3.9 uncapped.
    let mut web = host("web-1", "bullseye", &[("apache-log4j2", "2.13.3-1")]);
    web.host.internet_facing = true;
    let hosts = vec![web];
    let results = matcher::match_fleet(index, &hosts, 1);
    let rows = report::rows(
        index,
        &hosts,
        &results,
        &Ledger::default(),
        &loaded.feeds.freshness,
        &ScanPolicy::default(),
        now(),
    );
    let log4shell = rows.iter().find(|r| r.cve == "CVE-2021-44228").unwrap();
    assert_eq!(log4shell.risk.score, 1.0, "capped as the formula says");
    assert!((log4shell.risk.uncapped - 3.9).abs() < 1e-9);
    assert_eq!(log4shell.severity_basis, "cvss 3.1");
    assert!(
        log4shell
            .rule
            .contains("earliest fix in bullseye, DSA-5020-1"),
        "{}",
        log4shell.rule
    );
    assert_eq!(log4shell.confidence, "high");
    // CVEs without any CVSS here: shown as missing, basis named.
    for row in rows.iter().filter(|r| r.cvss.is_none()) {
        assert!(row.risk.cvss_assumed);
        assert!(
            row.severity_basis.starts_with("none: assumed")
                || row.severity_basis.starts_with("vendor")
                || row.severity_basis.starts_with("epss"),
            "{}",
            row.severity_basis
        );
    }
    assert!(rows.iter().any(|r| r.cvss.is_none()));
}
