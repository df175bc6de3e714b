//! `ooda patch …` end to end through the real binary: vercmp for scripts, feed import into a
//! data directory, then scan, plan and report over a small CMDB on the real feed fixtures committed with ooda-patch.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The real, trimmed feed data committed with ooda-patch (origins and licences in its README).
fn shared(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ooda-patch/tests/fixtures")
        .join(relative);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

fn ooda(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ooda"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run ooda");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn vercmp_prints_one_symbol() {
    let dir = tempfile::tempdir().unwrap();
    for (scheme, a, b, expected) in [
        ("dpkg", "1.0~rc1", "1.0", "<"),
        ("dpkg", "1:0.1", "9.9", ">"),
        ("dpkg", "1.0", "1.0-0", "="),
        ("rpm", "1.0^git1", "1.0", ">"),
        ("semver", "1.0.0-rc.1", "1.0.0", "<"),
    ] {
        let (ok, out, err) = ooda(dir.path(), &["patch", "vercmp", scheme, a, b]);
        assert!(ok, "{err}");
        assert_eq!(out, format!("{expected}\n"), "{scheme} {a} {b}");
    }
    let (ok, _, err) = ooda(dir.path(), &["patch", "vercmp", "dpkg", "a:1", "1"]);
    assert!(!ok);
    assert!(err.contains("epoch"), "{err}");
    // As dpkg: surrounding blanks are trimmed, embedded ones refused.
    let (ok, _, err) = ooda(dir.path(), &["patch", "vercmp", "dpkg", "1.0 1", "1"]);
    assert!(!ok);
    assert!(err.contains("embedded spaces"), "{err}");
    let (ok, out, _) = ooda(dir.path(), &["patch", "vercmp", "dpkg", " 1.0\t", "1.0"]);
    assert!(ok && out == "=\n", "{out}");
}

#[test]
fn import_scan_plan_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (kind, path) in [
        ("debian-fixed", "debian/advisories-fixed.tsv"),
        ("nvd", "nvd/nvd-api2-records.jsonl"),
        ("kev", "kev/known_exploited_vulnerabilities.json"),
        ("epss", "epss/epss_scores-2023-03-07.csv.gz"),
    ] {
        let (ok, out, err) = ooda(
            &data,
            &[
                "patch",
                "feeds",
                "import",
                kind,
                shared(path).to_str().unwrap(),
            ],
        );
        assert!(ok, "{kind}: {err}");
        assert!(out.starts_with("imported "), "{out}");
    }
    let (ok, out, _) = ooda(&data, &["patch", "feeds", "status"]);
    assert!(
        ok && out.contains("debian-fixed") && out.contains("197"),
        "{out}"
    );

    let inventory = dir.path().join("inventory");
    std::fs::create_dir_all(&inventory).unwrap();
    std::fs::write(
        inventory.join("cmdb.csv"),
        "host,distro,release,class,environment,internet_facing,owner,maintenance_window\n\
         web-1,debian,11,web,production,yes,team-web,tue-03\n\
         db-1,debian,bullseye,database,staging,no,team-db,sun-02\n",
    )
    .unwrap();
    // web-1: samba one revision before DSA-5205-1's fix; db-1: exactly at the fix (backport).
    std::fs::write(
        inventory.join("web-1.dpkg"),
        "samba\t2:4.13.13+dfsg-1~deb11u4\tsamba\t2:4.13.13+dfsg-1~deb11u4\n",
    )
    .unwrap();
    std::fs::write(
        inventory.join("db-1"),
        "samba\t2:4.13.13+dfsg-1~deb11u5\tsamba\t2:4.13.13+dfsg-1~deb11u5\n",
    )
    .unwrap();
    let cmdb = inventory.join("cmdb.csv");
    let common = [
        "--cmdb",
        cmdb.to_str().unwrap(),
        "--packages",
        inventory.to_str().unwrap(),
        "--at",
        "2023-04-10T00:00:00Z",
    ];

    let mut args = vec!["patch", "scan", "--format", "json"];
    args.extend(common);
    let (ok, out, err) = ooda(&data, &args);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The scan says what it rests on: every feed with its data date.
    let feeds = doc["feeds"].as_array().unwrap();
    assert!(feeds
        .iter()
        .any(|f| f["feed"] == "debian-fixed" && f["data_date"] == "2023-04-01"));
    assert!(doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["assessed"] == "assessed"));
    let rows = doc["findings"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["host"] == "web-1" && r["cve"] == "CVE-2022-32746"));
    assert!(
        !rows.iter().any(|r| r["host"] == "db-1"),
        "the patched host has no findings: {out}"
    );
    let samba = rows.iter().find(|r| r["cve"] == "CVE-2022-32746").unwrap();
    assert_eq!(samba["matched_by"], "debian-advisory");
    assert_eq!(samba["confidence"], "high");
    assert_eq!(samba["status"], "fix-available");
    assert_eq!(samba["advisory"], "DSA-5205-1");
    assert!(samba["rule"]
        .as_str()
        .unwrap()
        .contains("earliest fix in bullseye"));
    let capped = samba["risk"]["score"].as_f64().unwrap();
    assert!(capped <= 1.0 && capped <= samba["risk"]["uncapped"].as_f64().unwrap());

    let mut args = vec!["patch", "plan"];
    args.extend(common);
    let (ok, out, err) = ooda(&data, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("web-1") && out.contains("2:4.13.13+dfsg-1~deb11u5"),
        "{out}"
    );

    for format in ["table", "json", "csv", "html"] {
        let mut args = vec!["patch", "report", "--format", format];
        args.extend(common);
        let (ok, out, err) = ooda(&data, &args);
        assert!(ok, "{format}: {err}");
        assert!(out.contains("team-web"), "{format}: {out}");
        // Every report states the data dates it rests on.
        assert!(out.contains("2023-04-01"), "{format}: {out}");
    }
    let mut args = vec!["patch", "report", "--html"];
    args.extend(common);
    let (ok, out, err) = ooda(&data, &args);
    assert!(ok, "{err}");
    assert!(out.starts_with("<!doctype html>") && out.contains("<style>"));
    assert!(
        !out.contains("http://") && !out.contains("https://"),
        "no external assets"
    );

    // A Debian 12 host against data with no bookworm advisories is not assessed, never clean.
    std::fs::write(
        inventory.join("cmdb.csv"),
        "host,distro,release,class,environment,internet_facing,owner,maintenance_window\n\
         new-1,debian,12,web,production,yes,team-web,tue-03\n",
    )
    .unwrap();
    std::fs::write(
        inventory.join("new-1"),
        "samba\t2:4.17.12+dfsg-0+deb12u1\tsamba\t2:4.17.12+dfsg-0+deb12u1\n",
    )
    .unwrap();
    let mut args = vec!["patch", "scan"];
    args.extend(common);
    let (ok, out, err) = ooda(&data, &args);
    assert!(ok, "{err}");
    assert!(
        err.contains("new-1 NOT ASSESSED: no loaded feed covers debian bookworm"),
        "{err}"
    );
    assert!(out.contains("assessed 0/1 hosts"), "{out}");
}
