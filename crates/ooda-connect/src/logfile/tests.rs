use chrono::TimeZone;

use super::parse::{journal_record, line_time};
use super::{LogFileConfig, LogFileSource};
use crate::logs::{cluster, LogQuery};

fn window() -> LogQuery {
    LogQuery {
        host: None,
        service: None,
        start: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 7, 0, 0)
            .single()
            .expect("t"),
        end: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .expect("t"),
        limit: 1000,
        errors_only: true,
    }
}

#[test]
fn times_at_line_start() {
    assert_eq!(
        line_time("2026-11-26T07:00:01Z ERROR x", 2026).map(|t| t.timestamp()),
        Some(1_795_676_401)
    );
    assert_eq!(
        line_time("2026-11-26 07:00:01,123 ERROR x", 2026).map(|t| t.timestamp()),
        Some(1_795_676_401)
    );
    assert_eq!(
        line_time("Nov 26 07:00:01 web-1 sshd[1]: fail", 2026).map(|t| t.timestamp()),
        Some(1_795_676_401)
    );
    assert_eq!(
        line_time("Nov  6 07:00:01 web-1 x", 2026).map(|t| t.timestamp() > 0),
        Some(true)
    );
    assert_eq!(line_time("    at com.example.Foo(Foo.java:12)", 2026), None);
    assert_eq!(line_time("é", 2026), None);
}

#[test]
fn journal_records() {
    let line = journal_record(r#"{"__REALTIME_TIMESTAMP":"1795676401000000","MESSAGE":"Out of memory: Killed process 12","_SYSTEMD_UNIT":"app.service","PRIORITY":"3","_HOSTNAME":"web-1"}"#).expect("record");
    assert_eq!(line.time.timestamp(), 1_795_676_401);
    assert_eq!(line.labels["unit"], "app.service");
    let bytes =
        journal_record(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,105,255]}"#).expect("bytes");
    assert_eq!(bytes.line, "hi\u{fffd}");
    assert!(journal_record("{}").is_none());
    assert!(journal_record("not json").is_none());
}

#[test]
fn file_tails_in_the_window_cluster_into_templates() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("app.log");
    let mut text = String::from("2026-11-26T06:59:59Z ERROR too early\n");
    for i in 0..500 {
        text.push_str(&format!(
            "2026-11-26T07:{:02}:{:02}Z ERROR upstream 10.0.0.{} timed out after {} ms\n",
            i / 60 % 60,
            i % 60,
            i % 250,
            1000 + i
        ));
        text.push_str("    at handler (app.js:12)\n");
    }
    text.push_str("2026-11-26T07:30:00Z INFO all good\n");
    text.push_str("2026-11-26T08:00:01Z ERROR too late\n");
    std::fs::write(&path, text).expect("write");
    let mut config = LogFileConfig::new("local");
    config.paths = vec![path, dir.path().join("missing.log")];
    config.journald = false;
    config.host = Some("web-1".into());
    let source = LogFileSource::new(config);
    let batch = source.fetch(&window()).expect("fetch");
    assert_eq!(batch.lines.len(), 500, "only error lines inside the window");
    assert_eq!(
        batch.warnings.len(),
        1,
        "the missing file is a warning: {:?}",
        batch.warnings
    );
    let top = cluster(batch.lines.iter().map(|l| l.line.as_str()), "file", 3);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].count, 500);
    assert_eq!(
        top[0].template,
        "<ts> ERROR upstream <ip> timed out after <num> ms"
    );

    let mut other = window();
    other.host = Some("db-1".into());
    assert!(
        source.fetch(&other).expect("fetch").lines.is_empty(),
        "another host's logs are not here"
    );
}

#[test]
fn tail_bytes_bounds_what_is_read() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("big.log");
    let line = "2026-11-26T07:10:00Z ERROR same thing\n";
    std::fs::write(&path, line.repeat(1000)).expect("write");
    let mut config = LogFileConfig::new("local");
    config.paths = vec![path];
    config.journald = false;
    config.tail_bytes = (line.len() * 10) as u64;
    let batch = LogFileSource::new(config).fetch(&window()).expect("fetch");
    assert!(
        batch.lines.len() <= 10 && batch.lines.len() >= 9,
        "{}",
        batch.lines.len()
    );
}

#[tokio::test]
async fn enrichment_over_a_file_source() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("app.log");
    let body: String = (0..100)
        .map(|i| format!("2026-11-26T07:10:{:02}Z ERROR job {i} failed\n", i % 60))
        .collect();
    std::fs::write(&path, body).expect("write");
    let mut config = LogFileConfig::new("app-log");
    config.paths = vec![path];
    config.journald = false;
    let sources = [crate::logs::LogSource::File(LogFileSource::new(config))];
    let (lines, errors) =
        crate::logs::enrichment(&sources, &window(), 5, std::time::Duration::from_secs(5)).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].source.as_str(), lines[0].count), ("app-log", 100));
    assert_eq!(lines[0].template, "<ts> ERROR job <num> failed");
}
