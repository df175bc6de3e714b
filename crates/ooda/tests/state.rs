//! One state, no split brain: with `[store] path` set outside the data directory, the running
//! `ooda up`, its HTTP API and the CLI nouns read and write the same database. Before, the CLI
//! opened `DATA_DIR/ooda.sqlite` while the agent used the configured one: `ooda kill-switch on`
//! reached no agent and `ooda incidents list` said "no incidents" while the agent had one.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{post_json, wait_until, Agent, BIN};

fn ooda(args: &[&str], data: &Path, config: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ooda {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn with_a_store_path_the_cli_the_api_and_the_agent_share_one_state() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("elsewhere").join("state.sqlite");
    let config = dir.path().join("ooda.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\nsources = []\nlogs = []\n[store]\nkind = \"sqlite\"\npath = \"{}\"\n",
            database.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let agent = Agent::start_with(&data, &["--config", config.to_str().unwrap()]);
    assert!(
        database.exists(),
        "the agent opened the configured database"
    );

    // The CLI flips the switch; the agent's API reports it.
    ooda(
        &[
            "kill-switch",
            "on",
            "--reason",
            "maintenance",
            "--as",
            "alice",
        ],
        &data,
        &config,
    );
    let (code, body) = agent.get("/api/v1/kill-switch");
    assert_eq!(code, 200, "{body}");
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["on"], true, "{state}");
    assert_eq!(state["by"], "alice", "{state}");

    // The API turns it off; the CLI reports that.
    let (code, body) = post_json(
        &format!("{}/api/v1/kill-switch", agent.base),
        &serde_json::json!({"on": false, "by": "bob", "reason": "done"}),
    );
    assert_eq!(code, 200, "{body}");
    let status = ooda(&["kill-switch", "status"], &data, &config);
    assert!(status.contains("kill switch: off"), "{status}");

    // An alert the agent turns into an incident is listed by `ooda incidents list`.
    let now = chrono::Utc::now();
    let (code, body) = post_json(
        &format!("{}/api/v1/alerts/alertmanager", agent.base),
        &serde_json::json!({
            "version": "4",
            "groupKey": "{}:{alertname=\"DiskFull\"}",
            "status": "firing",
            "receiver": "ooda",
            "groupLabels": {"alertname": "DiskFull"},
            "commonLabels": {"alertname": "DiskFull"},
            "commonAnnotations": {},
            "externalURL": "http://am:9093",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "DiskFull", "host": "web-1"},
                "annotations": {"summary": "disk full on web-1"},
                "startsAt": now.to_rfc3339(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "0123456789abcdef"
            }]
        }),
    );
    assert_eq!(code, 200, "{body}");
    let listed = wait_until(
        "the agent's incident in `ooda incidents list`",
        Duration::from_secs(120),
        || {
            let out = ooda(&["incidents", "list", "--json"], &data, &config);
            let incidents: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap_or_default();
            incidents.into_iter().find(|i| i["host"] == "web-1")
        },
    );
    assert!(
        listed["title"].as_str().unwrap_or("").contains("disk full"),
        "{listed:#}"
    );

    // Nothing of it went to the default database in the data directory.
    assert!(
        !data.join("ooda.sqlite").exists(),
        "no second database beside the configured one"
    );
    drop(agent);
}
