//! Every shared feed file imports, with the record counts the data's README states, and the
//! snapshot store keeps the last good copy when a bad file comes in.

mod common;

use common::{fixture as shared, now};
use ooda_patch::feed::import::{import, read};
use ooda_patch::feed::store::{FeedStore, Records};
use ooda_patch::feed::{FeedKind, FixState};
use ooda_patch::index::{FeedSet, VulnIndex};

fn store() -> (tempfile::TempDir, FeedStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    (dir, store)
}

#[test]
fn kev_catalogue_imports_whole() {
    let (_dir, store) = store();
    let report = import(
        &store,
        FeedKind::Kev,
        &shared("kev/known_exploited_vulnerabilities.json"),
        now(),
    )
    .unwrap();
    assert_eq!(report.imported, 197, "the trimmed catalogue");
    assert_eq!(report.skipped, 0, "{:?}", report.first_error);
    let snapshot = store.load(FeedKind::Kev).unwrap().unwrap();
    assert_eq!(snapshot.catalogue_version.as_deref(), Some("2025.08.25"));
}

#[test]
fn nvd_records_and_page() {
    let (_dir, store) = store();
    let report = import(
        &store,
        FeedKind::Nvd,
        &shared("nvd/nvd-api2-records.jsonl"),
        now(),
    )
    .unwrap();
    // One record carries a path-traversal id (`CVE-2024/../../x-0001`): refused and counted.
    assert_eq!((report.imported, report.skipped), (126, 1));
    assert!(report
        .first_error
        .unwrap()
        .contains("CVE-2024/../../x-0001"));
    // The page sample merges in (same CVE: newer lastModified wins, no duplicate).
    let report = import(
        &store,
        FeedKind::Nvd,
        &shared("nvd/api-page-sample.json"),
        now(),
    )
    .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.total, 126, "CVE-2021-44228 is in both");
    let Records::Cves(cves) = store.load(FeedKind::Nvd).unwrap().unwrap().records else {
        panic!("NVD snapshot holds CVE records");
    };
    let log4shell = cves.iter().find(|c| c.id == "CVE-2021-44228").unwrap();
    let cvss = log4shell.cvss.as_ref().unwrap();
    assert_eq!((cvss.version.as_str(), cvss.score), ("3.1", 10.0));
    assert!(log4shell.cpe_ranges.iter().any(|r| r.product == "log4j"));
    let scored = cves.iter().filter(|c| c.cvss.is_some()).count();
    assert!(
        scored >= 110,
        "most records carry a usable score, got {scored}"
    );
    // v4.0 is preferred where present.
    assert!(cves
        .iter()
        .any(|c| c.cvss.as_ref().is_some_and(|s| s.version == "4.0")));
}

#[test]
fn nvd_escaped_versions_are_unescaped() {
    let (parsed, _) = read(FeedKind::Nvd, &shared("nvd/nvd-api2-records.jsonl")).unwrap();
    let Records::Cves(cves) = &parsed.records[0] else {
        panic!()
    };
    let bounds: Vec<&str> = cves
        .iter()
        .flat_map(|c| &c.cpe_ranges)
        .filter_map(|r| r.end_excluding.as_deref())
        .collect();
    assert!(bounds.contains(&"12.6(1)"), "escaped bound read as 12.6(1)");
    assert!(!bounds.iter().any(|b| b.contains('\\')));
}

#[test]
fn debian_lists_table_tracker_and_cpe() {
    let (_dir, store) = store();
    let dsa = import(&store, FeedKind::Dsa, &shared("debian/DSA-list.txt"), now()).unwrap();
    let dla = import(&store, FeedKind::Dla, &shared("debian/DLA-list.txt"), now()).unwrap();
    assert!(dsa.imported > 3_000, "DSA verdicts: {}", dsa.imported);
    assert!(dla.imported > 1_000, "DLA verdicts: {}", dla.imported);
    assert!(
        dsa.skipped < 50,
        "DSA skipped {}: {:?}",
        dsa.skipped,
        dsa.first_error
    );
    let table = import(
        &store,
        FeedKind::DebianFixed,
        &shared("debian/advisories-fixed.tsv"),
        now(),
    )
    .unwrap();
    assert_eq!(table.skipped, 0, "{:?}", table.first_error);
    for name in [
        "tracker-json-excerpt-vunnel.json",
        "tracker-json-excerpt-vuls.json",
        "tracker-json-mock-osvdev.json",
    ] {
        let (parsed, _) =
            read(FeedKind::DebianTracker, &shared(&format!("debian/{name}"))).unwrap();
        assert_eq!(parsed.skipped, 0, "{name}: {:?}", parsed.first_error);
        assert!(
            parsed.records.iter().map(|r| r.len()).sum::<usize>() > 0,
            "{name}"
        );
    }
    let cpe = import(
        &store,
        FeedKind::DebianCpe,
        &shared("debian/CPE-list.txt"),
        now(),
    )
    .unwrap();
    assert!(cpe.imported > 1_000);
}

#[test]
fn debian_fixed_table_has_every_row() {
    let (parsed, _) = read(
        FeedKind::DebianFixed,
        &shared("debian/advisories-fixed.tsv"),
    )
    .unwrap();
    let Records::Fixes(fixes) = &parsed.records[0] else {
        panic!()
    };
    let advisories: std::collections::HashSet<(&str, &str, &str)> = fixes
        .iter()
        .map(|f| {
            (
                f.advisory.as_deref().unwrap_or(""),
                f.release.as_str(),
                f.source.as_str(),
            )
        })
        .collect();
    // 2 923 rows (bullseye, buster, stretch).
    assert!(advisories.len() > 2_800, "{}", advisories.len());
    let samba = fixes
        .iter()
        .find(|f| f.cve == "CVE-2022-32746" && f.release == "bullseye")
        .unwrap();
    assert_eq!(
        samba.state,
        FixState::Fixed {
            version: "2:4.13.13+dfsg-1~deb11u5".into()
        }
    );
}

#[test]
fn osv_directory_imports_every_sample() {
    let (_dir, store) = store();
    let report = import(&store, FeedKind::Osv, &shared("osv/samples"), now()).unwrap();
    // Two files are osv.dev's internal "parts" format (arrays without ids), not OSV records:
    // their 8 entries are skipped and counted, the 10 real records import.
    assert_eq!(report.skipped, 8, "{:?}", report.first_error);
    assert!(report
        .first_error
        .unwrap()
        .contains("expected a string \"id\""));
    assert!(report.imported >= 12, "{}", report.imported);
    let Records::Fixes(fixes) = store.load(FeedKind::Osv).unwrap().unwrap().records else {
        panic!()
    };
    let ubuntu = fixes
        .iter()
        .filter(|f| f.distro == ooda_patch::distro::Distro::Ubuntu)
        .count();
    let debian = fixes
        .iter()
        .filter(|f| f.distro == ooda_patch::distro::Distro::Debian)
        .count();
    assert!(ubuntu > 0 && debian > 0, "ubuntu {ubuntu} debian {debian}");
    // Re-importing the same records replaces them rather than duplicating.
    let again = import(&store, FeedKind::Osv, &shared("osv/samples"), now()).unwrap();
    assert_eq!(again.total, report.total);
}

#[test]
fn epss_all_model_versions() {
    for (name, model) in [
        ("epss_scores-2021-04-14.csv.gz", None),
        ("epss_scores-2022-02-04.csv.gz", Some("v2022.01.01")),
        ("epss_scores-2023-03-07.csv.gz", Some("v2023.03.01")),
    ] {
        let (parsed, _) = read(FeedKind::Epss, &shared(&format!("epss/{name}"))).unwrap();
        let Records::Epss(scores) = &parsed.records[0] else {
            panic!()
        };
        assert!(!scores.is_empty(), "{name}");
        assert_eq!(parsed.skipped, 0, "{name}: {:?}", parsed.first_error);
        assert_eq!(scores[0].model_version.as_deref(), model, "{name}");
    }
}

#[test]
fn vulnrichment_summary() {
    let (parsed, _) = read(FeedKind::Vulnrichment, &shared("vulnrichment/summary.tsv")).unwrap();
    let Records::Severity(records) = &parsed.records[0] else {
        panic!()
    };
    assert_eq!(records.len() + parsed.skipped, 694);
    assert_eq!(parsed.skipped, 0, "{:?}", parsed.first_error);
}

#[test]
fn truncated_file_never_replaces_last_good_copy() {
    let (dir, store) = store();
    import(
        &store,
        FeedKind::Kev,
        &shared("kev/known_exploited_vulnerabilities.json"),
        now(),
    )
    .unwrap();
    let full = std::fs::read(shared("kev/known_exploited_vulnerabilities.json")).unwrap();
    let truncated = dir.path().join("kev-truncated.json");
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let error = import(&store, FeedKind::Kev, &truncated, now()).unwrap_err();
    assert!(error.to_string().contains("KEV catalogue"), "{error}");
    let snapshot = store.load(FeedKind::Kev).unwrap().unwrap();
    assert_eq!(snapshot.records.len(), 197, "last good copy kept");
}

#[test]
fn malformed_records_are_skipped_counted_and_first_error_shown() {
    let (dir, store) = store();
    let lines = std::fs::read_to_string(shared("nvd/nvd-api2-records.jsonl")).unwrap();
    let mut broken: Vec<String> = lines.lines().take(5).map(str::to_owned).collect();
    broken.insert(2, r#"{"cve": {"id": "not-a-cve"}}"#.to_owned());
    broken.insert(4, r#"{"cve": {"id": "CVE-2020-0001""#.to_owned());
    let path = dir.path().join("broken.jsonl");
    std::fs::write(&path, broken.join("\n")).unwrap();
    let report = import(&store, FeedKind::Nvd, &path, now()).unwrap();
    assert_eq!((report.imported, report.skipped), (5, 2));
    assert!(report.first_error.unwrap().starts_with("line 3:"));
}

#[test]
fn index_from_all_feeds() {
    let (_dir, store) = store();
    for (kind, path) in [
        (FeedKind::Nvd, "nvd/nvd-api2-records.jsonl"),
        (FeedKind::Kev, "kev/known_exploited_vulnerabilities.json"),
        (FeedKind::DebianFixed, "debian/advisories-fixed.tsv"),
        (FeedKind::Osv, "osv/samples"),
        (FeedKind::Epss, "epss/epss_scores-2023-03-07.csv.gz"),
        (FeedKind::DebianCpe, "debian/CPE-list.txt"),
    ] {
        import(&store, kind, &shared(path), now()).unwrap();
    }
    let feeds = FeedSet::load(&store).unwrap();
    let index = VulnIndex::build(&feeds);
    let log4shell = index.cve("CVE-2021-44228").unwrap();
    assert!(log4shell.kev_added.is_some());
    assert_eq!(log4shell.cvss, Some(10.0));
    assert!(index.cve("CVE-2020-5902").unwrap().epss.is_some());
    assert!(index.verdict_count() > 5_000, "{}", index.verdict_count());
}
