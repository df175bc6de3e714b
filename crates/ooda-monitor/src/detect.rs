//! The offline face of the engine behind `ooda detect`: a CSV of one host's series in, one verdict
//! per row out. Strictly causal (a row's verdict depends only on rows up to it) and
//! deterministic (no clock, no randomness, ordered maps only).
//!
//! Bad input, row by row (each counted in [`DetectSummary`]):
//! - empty cell, `NaN`: the series is missing in that row (not scored, not learned).
//! - `inf`, `-inf`: treated as missing and counted separately; a sensor that reports infinity is
//!   broken, not anomalous.
//! - gaps in time: nothing special; baselines forget by elapsed time, buckets by the clock.
//! - a timestamp not after the previous row's (duplicate or out of order): the row is not scored
//!   nor learned; it is printed as `ok`, score 0, no metrics, and counted.
//! - columns named `*_total` are counters (Prometheus convention): turned into per-second rates
//!   (the first row has no rate yet); a decrease is a reset: that row's rate is missing (when in
//!   the interval the reset happened is unknown) and counting resumes from the new value.
//! - a constant series has no spread and never alerts; when it starts moving it is scored against
//!   its resolution (the smallest step it has made).
//! - a malformed row (wrong number of cells, unparsable timestamp, text in a numeric cell) is an
//!   error naming its line; with `skip_bad_rows` it is skipped (no output row) and counted.

use std::io::{Read, Write};

use chrono::{DateTime, NaiveDateTime};
use ooda_core::CounterRate;
use serde::Serialize;

use crate::config::MonitorConfig;
use crate::dedup::MemoryDedup;
use crate::engine::{HostMonitor, RowVerdict};
use crate::fusion::FusionEvent;
use crate::score::Level;
use crate::stage::Stage;
use crate::MonitorError;

/// Output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Default)]
pub struct DetectOptions {
    /// The timestamp column; default: the first of `timestamp`, `time`, `ts`, `date`,
    /// `datetime`, `t` (any case), else the first column.
    pub timestamp_column: Option<String>,
    pub format: OutputFormat,
    pub skip_bad_rows: bool,
    /// The host the series belong to (labels, fingerprints).
    pub host: String,
}

/// What happened to the input, for the closing line on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DetectSummary {
    pub rows: u64,
    pub alerts: u64,
    pub warning_rows: u64,
    pub critical_rows: u64,
    pub skipped_bad_rows: u64,
    pub out_of_order_rows: u64,
    pub missing_cells: u64,
    pub infinite_cells: u64,
    pub counter_columns: u64,
    pub counter_resets: u64,
}

/// Parses a timestamp cell into Unix milliseconds: RFC 3339; `YYYY-MM-DD HH:MM:SS[.fff]` (or
/// with `T`) taken as UTC; or a number of Unix seconds, or milliseconds when its magnitude is at
/// least 1e11 (1973 in milliseconds, year 5138 in seconds).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = t.parse::<f64>() {
        if !v.is_finite() {
            return None;
        }
        let ms = if v.abs() >= 1e11 { v } else { v * 1000.0 };
        return (ms.abs() < 8.0e15).then_some(ms.round() as i64);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

enum Cell {
    Value(f64),
    Missing,
    Infinite,
}

fn parse_cell(bytes: &[u8]) -> Result<Cell, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "a cell is not valid UTF-8".to_string())?
        .trim();
    if text.is_empty() {
        return Ok(Cell::Missing);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_nan() => Ok(Cell::Missing),
        Ok(v) if v.is_infinite() => Ok(Cell::Infinite),
        Ok(v) => Ok(Cell::Value(v)),
        Err(_) => Err(format!("expected a number, found {text:?}")),
    }
}

#[derive(Serialize)]
struct JsonRow<'a> {
    timestamp: &'a str,
    score: f64,
    level: &'a str,
    alert: u8,
    metrics: Vec<&'a str>,
}

/// Runs the engine over a CSV and writes one verdict per row.
pub fn detect<R: Read, W: Write>(
    input: R,
    output: W,
    config: &MonitorConfig,
    options: &DetectOptions,
) -> Result<DetectSummary, MonitorError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| MonitorError::Csv(e.to_string()))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
        return Err(MonitorError::Header(
            "the input is empty: expected a header row".into(),
        ));
    }
    let ts_index = match &options.timestamp_column {
        Some(wanted) => names.iter().position(|n| n == wanted).ok_or_else(|| {
            MonitorError::Header(format!("no column named {wanted:?}; columns are {names:?}"))
        })?,
        None => ["timestamp", "time", "ts", "date", "datetime", "t"]
            .iter()
            .find_map(|w| names.iter().position(|n| n.eq_ignore_ascii_case(w)))
            .unwrap_or(0),
    };
    let metric_columns: Vec<usize> = (0..names.len()).filter(|&i| i != ts_index).collect();
    if metric_columns.is_empty() {
        return Err(MonitorError::Header(format!(
            "expected at least one metric column beside the timestamp column {:?}",
            names[ts_index]
        )));
    }
    let metric_names: Vec<String> = metric_columns.iter().map(|&i| names[i].clone()).collect();
    for (i, n) in metric_names.iter().enumerate() {
        if metric_names[..i].contains(n) {
            return Err(MonitorError::Header(format!("column {n:?} appears twice")));
        }
    }

    let mut summary = DetectSummary::default();
    let mut counters: Vec<Option<(CounterRate, Option<f64>)>> = metric_names
        .iter()
        .map(|n| n.ends_with("_total").then(|| (CounterRate::new(), None)))
        .collect();
    summary.counter_columns = counters.iter().flatten().count() as u64;

    let host = if options.host.is_empty() {
        "detect"
    } else {
        options.host.as_str()
    };
    let mut monitor = HostMonitor::new(host, metric_names.clone(), config);
    let mut stage = Stage::new(config, std::sync::Arc::new(MemoryDedup::new()));
    let mut out = std::io::BufWriter::with_capacity(1 << 16, output);
    let write_err = |e: std::io::Error| MonitorError::Output(e.to_string());
    if options.format == OutputFormat::Csv {
        out.write_all(b"timestamp,score,level,alert,metrics\n")
            .map_err(write_err)?;
    }

    let mut record = csv::ByteRecord::new();
    let mut values: Vec<Option<f64>> = vec![None; metric_columns.len()];
    let mut last_ms: Option<i64> = None;
    let mut metrics_text = String::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if options.skip_bad_rows && line > 0 {
                    summary.skipped_bad_rows += 1;
                    continue;
                }
                return Err(MonitorError::Row {
                    line,
                    reason: e.to_string(),
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let parsed = parse_row(
            &record,
            names.len(),
            ts_index,
            &metric_columns,
            &mut values,
            &mut summary,
        );
        let time_ms = match parsed {
            Ok(t) => t,
            Err(reason) => {
                if options.skip_bad_rows {
                    summary.skipped_bad_rows += 1;
                    continue;
                }
                return Err(MonitorError::Row { line, reason });
            }
        };
        summary.rows += 1;
        let ts_text = String::from_utf8_lossy(record.get(ts_index).unwrap_or_default());
        let ts_text = ts_text.trim();

        let in_order = last_ms.is_none_or(|last| time_ms > last);
        let (verdict, opened) = if in_order {
            last_ms = Some(time_ms);
            for (v, counter) in values.iter_mut().zip(counters.iter_mut()) {
                if let Some((rate, last)) = counter {
                    *v = v.and_then(|x| {
                        let reset = last.is_some_and(|l| x < l);
                        *last = Some(x);
                        let r = rate.observe(time_ms, x);
                        if reset {
                            // When in the interval the reset happened is unknown, so the rate
                            // over it is too: missing, rather than a made-up dip.
                            summary.counter_resets += 1;
                            None
                        } else {
                            r
                        }
                    });
                }
            }
            let verdict = stage.observe(&mut monitor, time_ms, &values);
            let opened = stage
                .close(time_ms)?
                .iter()
                .any(|event| matches!(event, FusionEvent::Opened(_)));
            (verdict, opened)
        } else {
            summary.out_of_order_rows += 1;
            (RowVerdict::default(), false)
        };

        match verdict.level {
            Level::Warning => summary.warning_rows += 1,
            Level::Critical => summary.critical_rows += 1,
            Level::Ok => {}
        }
        summary.alerts += u64::from(opened);
        let mut implicated: Vec<&str> = verdict
            .members
            .iter()
            .map(|m| metric_names[m.series].as_str())
            .collect();
        implicated.dedup();
        match options.format {
            OutputFormat::Csv => {
                metrics_text.clear();
                metrics_text.push_str(&implicated.join(";"));
                let ts_field = csv_field(ts_text);
                let metrics_field = csv_field(&metrics_text);
                writeln!(
                    out,
                    "{ts_field},{:.4},{},{},{metrics_field}",
                    verdict.score,
                    verdict.level.as_str(),
                    u8::from(opened)
                )
                .map_err(write_err)?;
            }
            OutputFormat::Jsonl => {
                let row = JsonRow {
                    timestamp: ts_text,
                    score: (verdict.score * 1e4).round() / 1e4,
                    level: verdict.level.as_str(),
                    alert: u8::from(opened),
                    metrics: implicated,
                };
                serde_json::to_writer(&mut out, &row)
                    .map_err(|e| MonitorError::Output(e.to_string()))?;
                out.write_all(b"\n").map_err(write_err)?;
            }
        }
    }
    out.flush().map_err(write_err)?;
    Ok(summary)
}

fn parse_row(
    record: &csv::ByteRecord,
    width: usize,
    ts_index: usize,
    metric_columns: &[usize],
    values: &mut [Option<f64>],
    summary: &mut DetectSummary,
) -> Result<i64, String> {
    if record.len() != width {
        return Err(format!(
            "expected {width} cells as in the header, found {}",
            record.len()
        ));
    }
    let ts_bytes = record.get(ts_index).unwrap_or_default();
    let ts_text = std::str::from_utf8(ts_bytes)
        .map_err(|_| "the timestamp is not valid UTF-8".to_string())?;
    let time_ms = parse_timestamp(ts_text).ok_or_else(|| {
        format!("expected a timestamp (RFC 3339, YYYY-MM-DD HH:MM:SS, or Unix seconds/milliseconds), found {ts_text:?}")
    })?;
    let (mut missing, mut infinite) = (0, 0);
    for (slot, &col) in values.iter_mut().zip(metric_columns) {
        *slot = match parse_cell(record.get(col).unwrap_or_default())? {
            Cell::Value(v) => Some(v),
            Cell::Missing => {
                missing += 1;
                None
            }
            Cell::Infinite => {
                infinite += 1;
                None
            }
        };
    }
    summary.missing_cells += missing;
    summary.infinite_cells += infinite;
    Ok(time_ms)
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Runs [`detect`] over in-memory bytes; used by tests, the fuzz target and benchmarks.
pub fn detect_bytes(
    input: &[u8],
    config: &MonitorConfig,
    options: &DetectOptions,
) -> Result<(Vec<u8>, DetectSummary), MonitorError> {
    let mut out = Vec::new();
    let summary = detect(input, &mut out, config, options)?;
    Ok((out, summary))
}

#[cfg(test)]
mod tests;
