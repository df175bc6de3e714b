//! The log port shared by Loki, Elasticsearch and local files: one query shape in (host or
//! service, a time window, a line budget), log lines out; and [`template`], which clusters the
//! error lines of an alert's window into templates with counts for enrichment.
//!
//! Log sources only read.

pub mod template;

use std::collections::BTreeMap;

use ooda_core::Timestamp;

pub use template::{cluster, is_error_line, mask};

/// What enrichment asks a log source for: the lines around an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub host: Option<String>,
    pub service: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Upper bound on lines returned (newest first where the source can sort).
    pub limit: usize,
    /// Only lines that look like errors (the source filters server-side where it can).
    pub errors_only: bool,
}

/// One line with its time and whatever labels or fields the source had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: Timestamp,
    pub line: String,
    pub labels: BTreeMap<String, String>,
}

/// Lines plus what the source said about their completeness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBatch {
    pub lines: Vec<LogLine>,
    /// The source answered with less than it could (shard failures, timeouts, line limit hit).
    pub partial: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[cfg(feature = "http")]
    #[error("{source_name}: {error}")]
    Http {
        source_name: String,
        #[source]
        error: crate::http::HttpError,
    },
    /// The vendor's own error, with its type when it gives one.
    #[error("{source_name} answered HTTP {status}: {reason}")]
    Status {
        source_name: String,
        status: u16,
        reason: String,
    },
    #[error("{source_name} response: {reason}")]
    Decode { source_name: String, reason: String },
    #[error("{source_name}: {reason}")]
    Io { source_name: String, reason: String },
}

#[cfg(test)]
mod tests;
