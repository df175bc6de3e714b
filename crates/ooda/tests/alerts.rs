//! The live loop in the real binary: a host source reading a fixture /proc whose CPU goes from
//! idle to saturated → one alert on the bus and in the store (`ooda alerts list`), resolved when
//! the CPU is idle again.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Agent, BIN};

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn fixture(root: &Path) {
    for d in [
        "proc/sys/fs",
        "proc/sys/kernel",
        "proc/net",
        "proc/self",
        "sys/block",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let p = root.join("proc");
    std::fs::write(p.join("loadavg"), "0.10 0.10 0.10 1/100 1\n").unwrap();
    std::fs::write(
        p.join("meminfo"),
        "MemTotal: 1000 kB\nMemAvailable: 600 kB\n",
    )
    .unwrap();
    std::fs::write(p.join("vmstat"), "oom_kill 0\n").unwrap();
    std::fs::write(p.join("diskstats"), "").unwrap();
    std::fs::write(p.join("net/dev"), "h1\nh2\n").unwrap();
    std::fs::write(p.join("self/mounts"), "").unwrap();
    std::fs::write(p.join("sys/fs/file-nr"), "100 0 1000\n").unwrap();
    write_atomic(&p.join("stat"), "cpu  0 0 0 0 0 0 0 0\n");
}

fn alerts(data: &Path, all: bool) -> Vec<serde_json::Value> {
    let mut cmd = Command::new(BIN);
    cmd.args(["alerts", "list", "--json"])
        .arg("--data-dir")
        .arg(data);
    if all {
        cmd.arg("--all");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_cpu_burst_opens_one_alert_that_resolves_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let config = dir.path().join("ooda.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[[sources]]\nkind = \"host\"\ninterval = \"1s\"\nhost_label = \"fixture\"\nproc_path = \"{}\"\nsys_path = \"{}\"\n[monitor.fusion]\nwindow = \"3s\"\n",
            dir.path().join("proc").display(),
            dir.path().join("sys").display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");

    // The fixture's CPU: counters advance every 50 ms, mostly idle unless `busy` is set.
    let busy = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (busy, stop, stat) = (busy.clone(), stop.clone(), dir.path().join("proc/stat"));
        std::thread::spawn(move || {
            let (mut user, mut idle) = (0u64, 0u64);
            while !stop.load(Ordering::SeqCst) {
                if busy.load(Ordering::SeqCst) {
                    user += 99;
                    idle += 1;
                } else {
                    user += 10;
                    idle += 90;
                }
                write_atomic(&stat, &format!("cpu  {user} 0 0 {idle} 0 0 0 0\n"));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let agent = Agent::start_with(&data, &["--config", config.to_str().unwrap()]);
    agent.wait_for("a few rounds", |s| {
        s["sources"][0]["samples_last_round"].as_u64().unwrap_or(0) > 5
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        alerts(&data, true).is_empty(),
        "an idle host raises nothing"
    );

    busy.store(true, Ordering::SeqCst);
    wait_until("the CPU alert", || !alerts(&data, false).is_empty());
    let firing = alerts(&data, false);
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert_eq!(firing[0]["host"], "fixture");
    assert!(
        firing[0]["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["series"]["metric"] == "cpu_busy_percent"),
        "{firing:#?}"
    );

    busy.store(false, Ordering::SeqCst);
    wait_until("the alert to resolve", || alerts(&data, false).is_empty());
    let all = alerts(&data, true);
    assert_eq!(all.len(), 1, "still one alert, now resolved: {all:#?}");
    assert_eq!(all[0]["state"], "resolved");

    let (_, metrics) = agent.get("/metrics");
    assert!(
        metrics.contains("ooda_alerts_total{event=\"opened\""),
        "{metrics}"
    );
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
}
