//! One test host per distro family against real excerpts of each vendor's data, with findings
//! checked by hand against the advisories (see each test's comment for the arithmetic).
//! Debian's own host lives in `debian_semantics.rs` (and `matching.rs`).

mod common;

use common::{fixture, now};
use ooda_core::Host;
use ooda_patch::distro::Distro;
use ooda_patch::feed::import::import;
use ooda_patch::feed::store::FeedStore;
use ooda_patch::feed::FeedKind;
use ooda_patch::index::{FeedSet, VulnIndex};
use ooda_patch::inventory::{packages, InstalledPackage, InventoryHost, PackageFormat};
use ooda_patch::ledger::Ledger;
use ooda_patch::matcher;
use ooda_patch::report::{self, Assessment, ScanPolicy, ScanRow};
use ooda_patch::risk::Tier;

fn scan(feeds: &[(FeedKind, &str)], hosts: &[InventoryHost]) -> (VulnIndex, Vec<ScanRow>) {
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    for (kind, path) in feeds {
        import(&store, *kind, &fixture(path), now()).unwrap();
    }
    let set = FeedSet::load(&store).unwrap();
    let index = VulnIndex::build(&set);
    let results = matcher::match_fleet(&index, hosts, 1);
    let rows = report::rows(
        &index,
        hosts,
        &results,
        &Ledger::default(),
        &set.freshness,
        &ScanPolicy::default(),
        now(),
    );
    for (host, result) in hosts.iter().zip(&results) {
        if host.release == "9" {
            assert_eq!(
                report::assess(&index, host, result),
                Assessment::NotAssessed("no loaded feed covers rhel 9".into())
            );
        }
    }
    (index, rows)
}

fn rpm_host(name: &str, release: &str, rpm_qa: &str) -> InventoryHost {
    let parsed = packages::parse_rpm_query(rpm_qa);
    assert_eq!(parsed.skipped, 0, "{:?}", parsed.first_error);
    InventoryHost {
        host: Host::new(name),
        distro: Some(Distro::Rhel),
        release: release.to_owned(),
        packages: parsed.records,
        package_format: Some(PackageFormat::Rpm),
    }
}

/// RHSA-2023:3821 (Red Hat CSAF) fixes CVE-2021-33621, CVE-2023-28755 and CVE-2023-28756 in
/// the ruby:2.7 module of RHEL 8 with source RPM ruby-0:2.7.8-139.module+el8.8.0+18745+f1bef313.
/// rhel-1 runs ruby 2.7.6-138 (from the 8.7 module): all three, once for the source package
/// although two binaries come from it. rhel-2 runs 2.7.8-139, whose rubygem-irb subpackage is
/// versioned 1.2.6-139: fixed, because the source RPM's version is what is compared. rhel-3 is
/// RHEL 9, which the advisory does not cover: not assessed. Impact "Moderate" with no CVSS
/// loaded → vendor severity 5.0, × 1.3 production = 0.65 → HIGH.
#[test]
fn rhel_host_against_red_hat_csaf() {
    let old = "ruby\t0:2.7.6-138.module+el8.7.0+15051+c0a4f0c4\truby-2.7.6-138.module+el8.7.0+15051+c0a4f0c4.src.rpm\n\
               rubygem-irb\t0:1.2.6-138.module+el8.7.0+15051+c0a4f0c4\truby-2.7.6-138.module+el8.7.0+15051+c0a4f0c4.src.rpm\n\
               bash\t0:4.4.20-4.el8_6\tbash-4.4.20-4.el8_6.src.rpm\n";
    let new = "ruby\t0:2.7.8-139.module+el8.8.0+18745+f1bef313\truby-2.7.8-139.module+el8.8.0+18745+f1bef313.src.rpm\n\
               rubygem-irb\t0:1.2.6-139.module+el8.8.0+18745+f1bef313\truby-2.7.8-139.module+el8.8.0+18745+f1bef313.src.rpm\n";
    let hosts = vec![
        rpm_host("rhel-1", "8", old),
        rpm_host("rhel-2", "8", new),
        rpm_host("rhel-3", "9", old),
    ];
    let (_, rows) = scan(&[(FeedKind::RedhatCsaf, "redhat")], &hosts);
    let mut found: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.host.as_str(), r.cve.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("rhel-1", "CVE-2021-33621"),
            ("rhel-1", "CVE-2023-28755"),
            ("rhel-1", "CVE-2023-28756"),
        ]
    );
    for row in &rows {
        assert_eq!(row.source, "ruby");
        assert_eq!(row.matched_by, "redhat-csaf");
        assert_eq!(row.confidence, "high");
        assert_eq!(
            row.fixed_version.as_deref(),
            Some("0:2.7.8-139.module+el8.8.0+18745+f1bef313")
        );
        assert_eq!(
            row.advisory.as_deref(),
            Some("RHSA-2023:3821 (module ruby:2.7)")
        );
        assert_eq!(row.cvss, None);
        assert_eq!(row.severity_basis, "vendor moderate → 5.0");
        assert!((row.risk.score - 0.65).abs() < 1e-9);
        assert_eq!(row.risk.tier, Tier::High);
        assert_eq!(row.data_as_of, chrono::NaiveDate::from_ymd_opt(2023, 6, 27));
    }
}

/// USN-5614-1 (Canonical's notice, in OSV form as Canonical publishes it) fixes CVE-2021-3782
/// in wayland 1.20.0-1ubuntu0.1 for 22.04. ubuntu-1 runs 1.20.0-1: one finding, by OSV, medium
/// confidence (a conversion of the vendor's data). ubuntu-2 runs the fixed version: none.
#[test]
fn ubuntu_host_against_canonical_osv() {
    let host = |name: &str, version: &str| InventoryHost {
        host: Host::new(name),
        distro: Some(Distro::Ubuntu),
        release: Distro::Ubuntu.normalise_release("jammy"),
        packages: vec![
            InstalledPackage::new(
                "libwayland-client0",
                version,
                Some("wayland"),
                Some(version),
            ),
            InstalledPackage::new(
                "libwayland-server0",
                version,
                Some("wayland"),
                Some(version),
            ),
        ],
        package_format: Some(PackageFormat::Dpkg),
    };
    let hosts = vec![
        host("ubuntu-1", "1.20.0-1"),
        host("ubuntu-2", "1.20.0-1ubuntu0.1"),
    ];
    let (_, rows) = scan(&[(FeedKind::Osv, "osv/samples")], &hosts);
    let found: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.host.as_str(), r.cve.as_str(), r.confidence))
        .collect();
    assert_eq!(found, vec![("ubuntu-1", "CVE-2021-3782", "medium")]);
    assert_eq!(rows[0].fixed_version.as_deref(), Some("1.20.0-1ubuntu0.1"));
}
