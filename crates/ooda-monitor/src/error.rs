//! The one error type of the monitoring engine. Messages say what was expected and what was found,
//! and name the line for input errors, so `ooda detect` can print them as they are.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MonitorError {
    /// The CSV could not be read at all (I/O, or the csv reader gave up).
    #[error("reading CSV: {0}")]
    Csv(String),
    /// The header is unusable: no timestamp column, no metric columns, duplicate names.
    #[error("CSV header: {0}")]
    Header(String),
    /// One data row is malformed; `line` is 1-based and counts the header as line 1.
    #[error("line {line}: {reason}")]
    Row { line: u64, reason: String },
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(String),
    /// The configuration is invalid; `path` is the dotted key (`scoring.default.warning_z`).
    #[error("config {path}: {reason}")]
    Config { path: String, reason: String },
    /// A dedup store could not be reached (the Redis adapter maps its errors here).
    #[error("dedup store: {0}")]
    Dedup(String),
}
