//! Times at the start of log lines (RFC 3339, `YYYY-MM-DD HH:MM:SS`, classic syslog
//! `Nov 26 07:00:01`) and journald's JSON export records.
//!
//! Naive times are read as UTC: the file does not say its zone, and guessing the machine's
//! zone would make tests depend on it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use ooda_core::Timestamp;
use serde_json::Value;

use crate::logs::LogLine;

/// The time a line starts with, if it starts with one. `year` completes syslog stamps.
pub fn line_time(line: &str, year: i32) -> Option<Timestamp> {
    let first = line.split_whitespace().next()?;
    let first = first.trim_start_matches('[').trim_end_matches(']');
    if let Ok(t) = DateTime::parse_from_rfc3339(first) {
        return Some(t.with_timezone(&Utc));
    }
    // `2026-11-26 07:00:01[.123]`
    if line.len() >= 19 && line.is_char_boundary(19) {
        let head = &line[..19];
        if let Ok(t) = NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S") {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    // `Nov 26 07:00:01`
    if line.len() >= 15 && line.is_char_boundary(15) {
        let stamped = format!("{year} {}", &line[..15]);
        if let Ok(t) = NaiveDateTime::parse_from_str(&stamped, "%Y %b %e %H:%M:%S") {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    None
}

/// The year syslog stamps are completed with: the query's end year.
pub fn year_of(t: Timestamp) -> i32 {
    t.year()
}

/// One `journalctl -o json` record. MESSAGE may be a byte array when it is not valid UTF-8.
pub fn journal_record(json: &str) -> Option<LogLine> {
    let record: Value = serde_json::from_str(json).ok()?;
    let micros: i64 = record.get("__REALTIME_TIMESTAMP")?.as_str()?.parse().ok()?;
    let message = match record.get("MESSAGE")? {
        Value::String(s) => s.clone(),
        Value::Array(bytes) => {
            let raw: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64())
                .filter_map(|b| u8::try_from(b).ok())
                .collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => return None,
    };
    let mut labels = BTreeMap::new();
    for (field, label) in [
        ("_SYSTEMD_UNIT", "unit"),
        ("SYSLOG_IDENTIFIER", "identifier"),
        ("_HOSTNAME", "host"),
        ("PRIORITY", "priority"),
    ] {
        if let Some(v) = record.get(field).and_then(Value::as_str) {
            labels.insert(label.to_owned(), v.to_owned());
        }
    }
    Some(LogLine {
        time: ooda_core::clock::from_millis(micros.div_euclid(1000)),
        line: message,
        labels,
    })
}
