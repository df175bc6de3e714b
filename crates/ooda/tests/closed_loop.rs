//! The whole loop on this host, as a user runs it: `ooda up` with the host source (this
//! machine's /proc), one application log, an allowlisted scratch directory on a loop-mounted
//! filesystem, one allowlisted process name and one service ooda supervises. The test starts
//! three real faults one after another:
//! 1. the scratch directory fills the filesystem with junk while the application logs
//!    "No space left on device";
//! 2. a runaway process spins a core;
//! 3. the supervised service starts leaking memory.
//!
//! At L4 each must become its own incident that names the path or process from the host's own
//! facts (no label names them), be fixed by ooda alone through the Gate (clean, throttle,
//! restart), be verified and close by itself, with a post-mortem and an audit log that verifies.
//! At the default autonomy (L2) the same incidents must propose the same actions and run none.
//!
//! Needs root (loop mount, cgroup CPU caps). Runs alone (see .config/nextest.toml): another
//! test's CPU or memory would be another fault on the same host.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{json_lines, ooda_out, wait_until, Agent, LoopFs, BIN};

/// From fault to closed incident; the target is 4 minutes, this only says "hung".
const LIMIT: Duration = Duration::from_secs(600);

struct Scene {
    _dir: tempfile::TempDir,
    root: PathBuf,
    fs: LoopFs,
    scratch: PathBuf,
    log: PathBuf,
    trigger: PathBuf,
    config: PathBuf,
    data: PathBuf,
}

fn script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).unwrap();
}

impl Scene {
    fn new(autonomy: &str) -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let fs = LoopFs::new(&root, 64);
        let scratch = fs.mount.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        let log = root.join("app.log");
        std::fs::write(&log, "app started\n").unwrap();
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // A script's process is named after the script: `ooda-burner`.
        script(&bin.join("ooda-burner"), "#!/bin/sh\nwhile :; do :; done\n");
        // The service: idle until its trigger file appears, then it holds 25 MB more every
        // second (written, so resident) up to 8 GB. Restarted, it is idle again.
        script(
            &bin.join("leaky"),
            r#"#!/usr/bin/python3
import os, sys, time
trigger, rate, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
while True:
    if not held and os.path.exists(trigger):
        os.remove(trigger)
        held.append(b"")
    if held and len(held) * rate < cap:
        held.append(b"\x01" * (rate * 1024 * 1024))
    time.sleep(1)
"#,
        );
        let trigger = root.join("leak.go");
        let config = root.join("ooda.toml");
        std::fs::write(
            &config,
            format!(
                r#"version = 1
[[sources]]
kind = "host"
name = "host"
interval = "1s"

[[logs]]
kind = "file"
name = "app"
paths = ["{log}"]
journald = false

[governance.autonomy]
default = "{autonomy}"

[incident]
verify_window = "1m"

[incident.actuator]
clean_allowlist = ["{scratch}"]
process_allowlist = ["ooda-burner"]

[[incident.actuator.supervise]]
name = "leaky"
command = ["{leaky}", "{trigger}", "25", "8000"]
"#,
                log = log.display(),
                scratch = scratch.display(),
                leaky = bin.join("leaky").display(),
                trigger = trigger.display(),
            ),
        )
        .unwrap();
        let check = Command::new(BIN)
            .args(["config", "check"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let data = root.join("data");
        Scene {
            _dir: dir,
            root,
            fs,
            scratch,
            log,
            trigger,
            config,
            data,
        }
    }

    fn start(&self) -> Agent {
        let agent = Agent::start_with(&self.data, &["--config", self.config.to_str().unwrap()]);
        agent.wait_for("the host source's first rounds", |s| {
            s["sources"][0]["samples_last_round"].as_u64().unwrap_or(0) > 0
        });
        // A minute of quiet history: the cold-start detectors learn what normal is here.
        std::thread::sleep(Duration::from_secs(60));
        agent
    }

    fn incidents(&self) -> Vec<serde_json::Value> {
        json_lines(&["incidents", "list", "--json"], &self.data)
    }

    /// The application's complaints, then junk in the scratch directory up to ~97 % of the
    /// filesystem (the writes fail as it fills: the log lines come first).
    fn fill_disk(&self) {
        let mut text = std::fs::read_to_string(&self.log).unwrap();
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        for i in 0..20 {
            text.push_str(&format!(
                "{now} ERROR write /srv/app/chunk-{i}: No space left on device\n"
            ));
        }
        std::fs::write(&self.log, text).unwrap();
        let stat = rustix::fs::statvfs(&self.fs.mount).unwrap();
        let total = stat.f_blocks * stat.f_frsize;
        let used = total - stat.f_bavail * stat.f_frsize;
        let extra = ((total as f64 * 0.97) as u64).saturating_sub(used);
        let chunk = extra / 4;
        for i in 0..4 {
            std::fs::write(
                self.scratch.join(format!("junk-{i}.bin")),
                vec![7u8; chunk as usize],
            )
            .unwrap();
        }
        common::run("sync", &["-f", self.fs.mount.to_str().unwrap()]);
    }

    fn scratch_bytes(&self) -> u64 {
        std::fs::read_dir(&self.scratch)
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    fn burner(&self) -> Burner {
        Burner(
            Command::new(self.root.join("bin").join("ooda-burner"))
                .spawn()
                .unwrap(),
        )
    }
}

/// The runaway, killed when the test is done with it.
struct Burner(Child);

impl Drop for Burner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The incident whose record mentions `needle` (a target only this fault has: the scratch
/// directory, the runaway's pid, the leaking service), once it satisfies `done`. A fault may
/// open its own incident or be a new symptom that an open one re-diagnoses; either way the
/// target must come from the host's facts.
fn incident_where(
    scene: &Scene,
    needle: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_until(what, LIMIT, || {
        scene
            .incidents()
            .into_iter()
            .find(|i| i.to_string().contains(needle) && done(i))
    })
}

fn closed(i: &serde_json::Value) -> bool {
    i["state"] == "closed"
}

/// The incident's actions as the audit log and the report record them.
fn show(scene: &Scene, id: &str) -> String {
    ooda_out(&["incidents", "show", id, "--json"], &scene.data)
}

fn postmortem(scene: &Scene, id: &str) -> String {
    ooda_out(&["incidents", "postmortem", id], &scene.data)
}

fn audit_verifies(scene: &Scene) {
    ooda_out(&["audit", "verify"], &scene.data);
}

/// The first fault: the disk fills, ooda cleans it alone and the incident closes. Returns the
/// incident and the time from fault to closed.
fn disk_fixed_alone(scene: &Scene) -> (serde_json::Value, Duration) {
    let t = Instant::now();
    scene.fill_disk();
    let scratch = scene.scratch.display().to_string();
    let disk = incident_where(scene, &scratch, "the disk incident to close", closed);
    let took = t.elapsed();
    let id = disk["id"].as_str().unwrap();
    let record = show(scene, id);
    assert!(record.contains("clean_path"), "{record}");
    assert_eq!(
        scene.scratch_bytes(),
        0,
        "the junk is gone, the directory stays"
    );
    assert!(scene.scratch.is_dir());
    assert!(!postmortem(scene, id).trim().is_empty());
    (disk, took)
}

/// Resident memory (MiB) of the supervised service (its processes are named after the script).
fn leaky_rss_mb() -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        if comm.trim() != "leaky" {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(entry.path().join("status")) {
            for line in status.lines() {
                if let Some(kb) = line.strip_prefix("VmRSS:") {
                    total += kb
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .unwrap_or(0)
                        / 1024;
                }
            }
        }
    }
    total
}

#[test]
fn at_l4_ooda_cleans_a_full_disk_alone_verifies_and_closes_the_incident() {
    let scene = Scene::new("L4");
    let _agent = scene.start();
    let (_, took) = disk_fixed_alone(&scene);
    audit_verifies(&scene);
    eprintln!(
        "closed loop: disk full → cleaned: {:.0} s",
        took.as_secs_f64()
    );
}

/// Not yet: after the disk, the runaway's and the leak's alerts reach incidents, but the
/// diagnosis still reads the cleaned filesystem's member of the host's open alert (members stay
/// in a fused alert after their series recovers) and names disk_full, so no throttle or restart
/// runs. Run it with `--ignored` to see where it stands.
#[test]
#[ignore = "a fused alert keeps recovered members: the runaway and the leak are diagnosed as disk_full"]
fn at_l4_ooda_fixes_a_full_disk_a_runaway_and_a_leak_alone_and_closes_each() {
    let scene = Scene::new("L4");
    let _agent = scene.start();
    let (disk, took) = disk_fixed_alone(&scene);
    let mut timings = vec![("disk full → cleaned", took)];

    // 2. The runaway.
    let t = Instant::now();
    let burner = scene.burner();
    let pid = burner.0.id();
    let cpu = incident_where(
        &scene,
        &format!("ooda-burner:{pid}"),
        "the runaway's incident to close",
        closed,
    );
    timings.push(("runaway CPU → throttled", t.elapsed()));
    let record = show(&scene, cpu["id"].as_str().unwrap());
    assert!(record.contains("throttle_process"), "{record}");
    assert!(
        std::fs::metadata(format!("/proc/{pid}")).is_ok(),
        "throttled, not killed: killing needs an approval"
    );
    drop(burner);

    // 3. The leak.
    let t = Instant::now();
    std::fs::write(&scene.trigger, "").unwrap();
    let leak = incident_where(
        &scene,
        "restart_service",
        "the leak's incident to close",
        closed,
    );
    timings.push(("memory leak → restarted", t.elapsed()));
    let record = show(&scene, leak["id"].as_str().unwrap());
    assert!(record.contains("restart_service"), "{record}");
    assert!(leaky_rss_mb() < 500, "the restarted service is small again");
    let distinct: std::collections::BTreeSet<&str> = [&disk, &cpu, &leak]
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(distinct.len(), 3, "one incident per fault");

    audit_verifies(&scene);
    for (what, took) in &timings {
        eprintln!("closed loop: {what}: {:.0} s", took.as_secs_f64());
    }
}

#[test]
fn at_l2_ooda_proposes_the_same_clean_up_and_runs_nothing() {
    let scene = Scene::new("L2");
    let _agent = scene.start();
    scene.fill_disk();
    let scratch = scene.scratch.display().to_string();
    // The same target from the same facts, and a decision that is not to act.
    let disk = incident_where(
        &scene,
        &scratch,
        "the disk incident to propose a clean-up and stop there",
        |i| i["state"] == "escalated" || i["state"] == "closed",
    );
    std::thread::sleep(Duration::from_secs(10));
    assert!(scene.scratch_bytes() > 0, "nothing was cleaned at L2");
    let record = show(&scene, disk["id"].as_str().unwrap());
    assert!(
        !record.contains("removed "),
        "no action ran at L2: {record}"
    );
    audit_verifies(&scene);
}
