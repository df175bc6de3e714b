//! CLI manners: every list and show command writing into a pipe whose reader has gone (`ooda
//! alerts list | head`) ends quietly — success or SIGPIPE (141 in a shell), never a panic or a
//! backtrace on stderr. Each command runs twice: with the reader closed before the first write,
//! and with a reader that takes one line and closes (what `head -1` does), on a store holding
//! enough alerts and incidents that the output is larger than a pipe's buffer.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::BIN;
use ooda_core::{Alert, AlertId, AlertKind, AlertState, Event, EventKind, ManualClock, Severity};
use ooda_incident::register::Register;
use ooda_store::{DataDir, SqliteStore, Store};

const ALERTS: u128 = 400;

/// A store with ALERTS firing alerts (long fingerprints and summaries) and an incident for each.
fn populate(dir: &Path) -> (String, String) {
    let data = DataDir::open(dir).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&data.database()).unwrap());
    let clock = ManualClock::at_ms(1_700_000_000_000);
    let register = Register::new(store.clone(), Arc::new(clock.clone()));
    let mut incident = String::new();
    for i in 0..ALERTS {
        let alert = Alert {
            id: AlertId::from_u128(i + 1),
            fingerprint: format!("alertmanager:{:032x}", i * 7919 + 1),
            host: Some(format!("web-{i}.example.org")),
            kind: AlertKind::Threshold,
            severity: Severity::Warning,
            state: AlertState::Firing,
            summary: format!("disk /var is {i} % full and filling; {}", "x".repeat(80)),
            probable_cause: Some("disk_full".into()),
            members: vec![],
            labels: Default::default(),
            opened_at: ooda_core::clock::from_millis(1_700_000_000_000),
            updated_at: ooda_core::clock::from_millis(1_700_000_000_000 + i as i64),
            enrichment: vec![],
        };
        store
            .append_event(&Event::new(
                alert.opened_at,
                "test",
                EventKind::AlertOpened(Box::new(alert.clone())),
            ))
            .unwrap();
        let (_, opened) = register.attach(&alert).unwrap();
        incident = opened.id.to_string();
    }
    (format!("alertmanager:{:032x}", 1), incident)
}

/// How the reader goes away.
#[derive(Debug, Clone, Copy)]
enum Reader {
    /// Closed before the command writes anything.
    Gone,
    /// Reads one line, then closes.
    OneLine,
}

fn run_into_closed_pipe(data: &Path, args: &[&str], reader: Reader) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_BACKTRACE", "1")
        .env_remove("OODA_CONFIG")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let status_and_stderr = match reader {
        Reader::Gone => {
            let (pipe_reader, pipe_writer) = std::io::pipe().unwrap();
            drop(pipe_reader);
            let mut child = command.stdout(pipe_writer).spawn().unwrap();
            drop(command);
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            (child.wait().unwrap(), stderr)
        }
        Reader::OneLine => {
            let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            // The reader is dropped here: the pipe has no reader any more.
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            (child.wait().unwrap(), stderr)
        }
    };
    let (status, stderr) = status_and_stderr;
    let quiet = status.success() || status.signal() == Some(libc::SIGPIPE);
    assert!(
        quiet,
        "ooda {args:?} ({reader:?}): ended with {status:?}; stderr:\n{stderr}"
    );
    for noise in ["panicked", "backtrace", "Broken pipe", "failed printing"] {
        assert!(
            !stderr.contains(noise),
            "ooda {args:?} ({reader:?}): stderr mentions {noise:?}:\n{stderr}"
        );
    }
}

#[test]
fn every_list_and_show_command_ends_quietly_when_its_reader_closes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (fingerprint, incident) = populate(&data);
    let commands: Vec<Vec<&str>> = vec![
        vec!["alerts", "list"],
        vec!["alerts", "list", "--all"],
        vec!["alerts", "list", "--json"],
        vec!["alerts", "show", &fingerprint],
        vec!["incidents", "list"],
        vec!["incidents", "list", "--json"],
        vec!["incidents", "show", &incident],
        vec!["incidents", "show", &incident, "--json"],
        vec!["incidents", "timeline", &incident],
        vec!["runbooks", "list"],
        vec!["runbooks", "list", "--json"],
        vec!["runbooks", "show", "hung_service"],
        vec!["approvals", "list", "--all"],
        vec!["approvals", "list", "--all", "--json"],
        vec!["autonomy", "show"],
        vec!["autonomy", "show", "--json"],
        vec!["patch", "feeds", "status"],
        vec!["patch", "feeds", "status", "--json"],
        vec!["patch", "rollout", "status"],
        vec!["patch", "rollout", "status", "--json"],
        vec!["kill-switch", "status"],
        vec!["config", "example"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
    ];
    for args in &commands {
        for reader in [Reader::Gone, Reader::OneLine] {
            run_into_closed_pipe(&data, args, reader);
        }
    }
}

/// The full fingerprint is in the table, column-aligned, and each row's differs (it was cut to
/// `alertmanager:000`, the same on every row).
#[test]
fn the_alerts_table_shows_whole_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (fingerprint, _) = populate(&data);
    let out = Command::new(BIN)
        .args(["alerts", "list", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u128, ALERTS + 1, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{fingerprint} "))),
        "{text}"
    );
    let column = lines[0].find("STATE").unwrap();
    assert!(
        lines[1..].iter().all(|l| l[column..].starts_with("firing")),
        "{text}"
    );
    let distinct: std::collections::BTreeSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(distinct.len() as u128, ALERTS);
}
