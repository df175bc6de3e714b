use super::*;

fn scenario() -> Scenario {
    Scenario {
        hosts: 20,
        ..Scenario::default()
    }
}

fn classes(n: usize) -> Vec<Class> {
    (0..n)
        .map(|i| crate::fleet::SimHost::new(i, 7).class)
        .collect()
}

#[test]
fn the_embedded_table_parses_and_has_kev_and_scored_entries() {
    let table = parse_cves(cves::TABLE).unwrap();
    assert!(table.len() >= 50, "{}", table.len());
    assert!(table.iter().filter(|c| c.kev_added.is_some()).count() >= 5);
    assert!(table.iter().any(|c| c.cvss.is_some()));
    assert!(table
        .iter()
        .all(|c| !c.fixed_version.contains(char::is_whitespace)));
    let e = parse_cves("h\nCVE-1\tp\t1\ta\td\televen\t\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().contains("cvss"), "{e}");
}

/// The embedded subset must say what the real data says: the committed excerpts of it by default
/// (`fixtures/cve`, with their source and licence), the full KEV catalogue and Debian advisory
/// list when `OODA_CVE_DATA` names a directory holding them.
#[test]
fn the_embedded_table_matches_the_real_data() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cve");
    let (kev_path, debian_path) = match std::env::var_os("OODA_CVE_DATA") {
        Some(root) => {
            let root = std::path::PathBuf::from(root);
            (
                root.join("kev/known_exploited_vulnerabilities.json"),
                root.join("debian/advisories-fixed.tsv"),
            )
        }
        None => (
            fixtures.join("kev-subset.json"),
            fixtures.join("advisories-fixed-subset.tsv"),
        ),
    };
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let (kev, debian) = (read(&kev_path), read(&debian_path));
    let kev: serde_json::Value = serde_json::from_str(&kev).unwrap();
    let kev_ids: BTreeMap<&str, &str> = kev["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["cveID"].as_str().unwrap(),
                v["dateAdded"].as_str().unwrap(),
            )
        })
        .collect();
    for cve in parse_cves(cves::TABLE).unwrap() {
        let added = kev_ids.get(cve.id.as_str()).map(|d| d.to_string());
        assert_eq!(
            cve.kev_added.map(|d| d.to_string()),
            added,
            "{}: KEV membership",
            cve.id
        );
        let advisory_line = debian.lines().any(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f.len() == 7
                && f[0] == cve.advisory
                && f[3] == "bullseye"
                && f[4] == cve.package
                && f[5] == cve.fixed_version
                && f[6].split(' ').any(|c| c == cve.id)
        });
        assert!(
            advisory_line,
            "{} not in the Debian advisories as embedded",
            cve.id
        );
    }
}

#[test]
fn arrivals_are_seeded_and_affect_hosts_running_the_package() {
    let table = parse_cves(cves::TABLE).unwrap();
    let config = PatchScenario::default();
    let classes = classes(40);
    let a = plan_arrivals(&config, &table, &classes, 7, 0, 30 * DAY_MS);
    let b = plan_arrivals(&config, &table, &classes, 7, 0, 30 * DAY_MS);
    assert_eq!(a, b, "same seed, same arrivals");
    assert_ne!(
        a,
        plan_arrivals(&config, &table, &classes, 8, 0, 30 * DAY_MS)
    );
    // 20 a month on average: a Poisson count over 30 days stays well inside 5..60.
    assert!((5..60).contains(&a.len()), "{}", a.len());
    assert!(
        a.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "in time order"
    );
    for arrival in &a {
        for &h in &arrival.hosts {
            assert!(cves::runs(classes[h], &arrival.cve.package));
        }
    }
    let none = PatchScenario {
        cves_per_month: 0.0,
        ..config
    };
    assert!(plan_arrivals(&none, &table, &classes, 7, 0, 30 * DAY_MS).is_empty());
}

#[test]
fn tiers_follow_ooda_patch_risk() {
    let cve = |cvss: Option<f64>, kev: bool| Cve {
        id: "CVE-2022-0001".into(),
        package: "openssl".into(),
        fixed_version: "1".into(),
        advisory: "DSA-1".into(),
        cvss,
        kev_added: kev.then(|| NaiveDate::from_ymd_opt(2022, 1, 1).unwrap()),
    };
    // KEV doubles: critical anywhere.
    assert_eq!(
        tier_of(&cve(None, true), Class::Database, false, 0),
        Tier::Critical
    );
    // Unscored (5.0 assumed) × internet-facing × production × young fix = 0.83: HIGH.
    assert_eq!(tier_of(&cve(None, false), Class::Web, false, 0), Tier::High);
    // The same on an internal production host: 0.55, MEDIUM.
    assert_eq!(
        tier_of(&cve(None, false), Class::Batch, false, 0),
        Tier::Medium
    );
    // A staging host is not production: 0.425, still MEDIUM; a low score drops to LOW.
    assert_eq!(
        tier_of(&cve(Some(3.0), false), Class::Cache, true, 0),
        Tier::Low
    );
}

#[test]
fn staging_hosts_are_a_share_of_every_class() {
    let mut classes = vec![Class::Web; 20];
    classes[3] = Class::Database;
    let s = staging_hosts(&classes, 0.1);
    assert_eq!(
        s.iter().filter(|x| **x).count(),
        3,
        "2 of 19 web, the only database"
    );
    assert!(s[3]);
    assert_eq!(
        staging_hosts(&classes[..3], 0.0)
            .iter()
            .filter(|x| **x)
            .count(),
        1
    );
}

/// The whole pillar on a quiet fleet: advisories arrive, staging goes first, production follows
/// in its windows, a broken patch makes the host unhealthy and the health gate notices.
#[test]
fn rollouts_patch_staging_first_then_production_in_windows() {
    let mut scenario = scenario();
    scenario.patch.cves_per_month = 30.0;
    scenario.patch.failure_rate = 0.0;
    scenario.patch.executor_failure_rate = 0.0;
    let start = crate::run::EPOCH_MS;
    let end = start + 10 * DAY_MS;
    let mut pillar = PatchPillar::new(&scenario, classes(20), start, start, end).unwrap();
    assert!(!pillar.arrivals.is_empty());
    let mut t = start;
    while t < end {
        pillar.step(t, &[], false);
        t += 60_000;
    }
    let score = pillar.score();
    assert!(score.errors == 0, "{:?}", pillar.errors);
    assert!(score.fixed > 0, "{score:?}");
    assert_eq!(score.bad_patches, 0);
    // Production patches only ran inside the 01:00-05:00 UTC window; staging hosts any time.
    let state = pillar.lock();
    for event in &state.events {
        if !pillar.staging[event.host] {
            let minute_of_day = (event.at_ms.rem_euclid(DAY_MS)) / 60_000;
            assert!((60..300).contains(&minute_of_day), "{event:?}");
        }
    }
    drop(state);
    // No finding is patched before the 48 h staging validation unless it is on a staging host.
    let fixed = pillar.fixed_at();
    for f in &pillar.findings {
        if let Some(at) = fixed.get(&(f.arrival, f.host)) {
            let waited = at - pillar.arrivals[f.arrival].at_ms;
            assert!(pillar.staging[f.host] || waited >= 48 * 3_600_000, "{f:?}");
        }
    }
}

#[test]
fn a_broken_host_degrades_until_reverted() {
    let scenario = scenario();
    let pillar = PatchPillar::new(&scenario, classes(3), 0, 0, DAY_MS).unwrap();
    let mut values = [10.0, 1.0, 50.0, 50.0, 10.0, 0.0, 20.0];
    pillar.degrade(1, &mut values);
    assert_eq!(values[LATENCY], 20.0, "healthy hosts are left alone");
    let mut pillar = pillar;
    pillar.degraded[1] = true;
    pillar.degrade(1, &mut values);
    assert_eq!(values[LATENCY], 80.0);
    assert_eq!(values[CPU], 30.0);
}
