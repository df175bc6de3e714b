//! The real binary, started on a free loopback port: health, status, metrics, clean SIGTERM,
//! kill -9 recovery, the data-directory lock, and the config commands.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Agent, BIN};

#[test]
fn serves_health_status_and_metrics_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&dir.path().join("data"));
    assert_eq!(agent.get("/healthz").0, 200);
    let status = agent.wait_for("host series and the source's report", |s| {
        s["series"].as_u64().unwrap_or(0) > 10 && s["sources"][0]["kind"] == "host"
    });
    assert_eq!(status["sources"][0]["kind"], "host");
    assert!(status["last_sample_time"].is_string(), "{status}");
    assert_eq!(agent.get("/readyz").0, 200);
    let (code, metrics) = agent.get("/metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.contains("ooda_samples_total{source=\"host\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("ooda_series "), "{metrics}");

    let asked = Instant::now();
    agent.signal("TERM");
    // The agent's own grace is 5 s; it must be done by then (a little slack for a loaded CI box).
    let exit = agent
        .wait_exit(Duration::from_secs(8))
        .expect("ooda exits after SIGTERM");
    eprintln!("SIGTERM to exit: {:?}", asked.elapsed());
    assert!(exit.success(), "exit status {exit:?}");
    // Every stage drained within the grace: the stop was recorded as clean, so the next start
    // is not a recovery.
    drop(agent);
    let data = dir.path().join("data");
    let again = Agent::start(&data);
    again.wait_for("the restart's event stored", |s| {
        s["events_stored"].as_u64().unwrap_or(0) >= 3
    });
    let db = rusqlite_free_check(&data);
    assert!(db.contains("SIGTERM"), "the stop event was persisted");
    assert!(
        !db.contains("\"recovered\":true"),
        "a clean stop must not look like a crash on the next start"
    );
}

#[test]
fn a_second_agent_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _agent = Agent::start(&data);
    let second = Command::new(BIN)
        .args(["up", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is in use by another ooda process"),
        "{stderr}"
    );
}

#[test]
fn kill_9_then_restart_keeps_stored_events() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut agent = Agent::start(&data);
    let before = agent.wait_for("an event stored", |s| {
        s["events_stored"].as_u64().unwrap_or(0) >= 1
    });
    let series_before = before["series"].as_u64().unwrap();
    agent.signal("KILL");
    agent.wait_exit(Duration::from_secs(10)).expect("killed");
    drop(agent);

    let agent = Agent::start(&data);
    let after = agent.wait_for("the restart's event stored", |s| {
        s["events_stored"].as_u64().unwrap_or(0) >= 2
    });
    assert!(after["series"].as_u64().unwrap() >= series_before);
    // The new agent.started event says it recovered from an unclean stop.
    let db = rusqlite_free_check(&data);
    assert!(db.contains("\"recovered\":true"), "{db}");
}

/// Reads the event log with the sqlite3 CLI if present, else through the agent's own store via
/// a `strings`-like scan of the database file (the body column is plain JSON text).
fn rusqlite_free_check(data: &Path) -> String {
    let mut text = String::new();
    for name in ["ooda.sqlite", "ooda.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(data.join(name)) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

#[test]
fn config_example_passes_config_check() {
    let example = Command::new(BIN)
        .args(["config", "example"])
        .output()
        .unwrap();
    assert!(example.status.success());
    let mut check = Command::new(BIN)
        .args(["config", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(&example.stdout)
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is valid"));
}

#[test]
fn config_check_lists_every_error_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "version = 1\n[[sources]]\nkind = \"host\"\n[[sources]]\nkind = \"host\"\nname = \"b\"\n[[sources]]\nkind = \"ftp\"\n[server]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sources[2].kind: expected one of host, scrape, prometheus, found \"ftp\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("server.listen: expected an address"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors"), "{stderr}");
}

#[test]
fn doctor_passes_on_a_fresh_data_dir_and_fails_on_a_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ooda.toml");
    std::fs::write(&config, "version = 1\n[server]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(BIN)
        .arg("doctor")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("✔ store"), "{stdout}");
    assert!(!stdout.contains('✖'), "{stdout}");

    std::fs::write(&config, "version = 1\n[server]\nlisten = 5\n").unwrap();
    let out = Command::new(BIN)
        .arg("doctor")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("✖ config"));
}

#[test]
fn the_kill_switch_is_reachable_over_the_api_and_shared_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let agent = Agent::start(&data);
    let client = reqwest::blocking::Client::new();
    let url = format!("{}/api/v1/kill-switch", agent.base);
    let off: serde_json::Value = client.get(&url).send().unwrap().json().unwrap();
    assert_eq!(off["on"], false);

    let bad = client
        .post(&url)
        .body(r#"{"on": true, "surprise": 1}"#)
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(
        bad.text().unwrap().contains("surprise"),
        "the error names the field"
    );

    let on: serde_json::Value = client
        .post(&url)
        .body(r#"{"on": true, "by": "alice", "reason": "maintenance"}"#)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(on["on"], true);
    assert_eq!(on["by"], "alice");

    let status = Command::new(BIN)
        .args(["kill-switch", "status"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.to_lowercase().contains("on"), "{text}");
    assert!(
        text.contains("alice"),
        "the CLI sees what the API set: {text}"
    );
}
