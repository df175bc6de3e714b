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

/// The configured log sources, closed like the config: one variant per integration.
#[derive(Debug, Clone)]
pub enum LogSource {
    #[cfg(feature = "loki")]
    Loki(crate::loki::LokiClient),
    #[cfg(feature = "elasticsearch")]
    Elasticsearch(crate::elasticsearch::ElasticsearchClient),
    #[cfg(feature = "logfile")]
    File(crate::logfile::LogFileSource),
}

impl LogSource {
    pub fn name(&self) -> &str {
        match self {
            #[cfg(feature = "loki")]
            LogSource::Loki(c) => c.name(),
            #[cfg(feature = "elasticsearch")]
            LogSource::Elasticsearch(c) => c.name(),
            #[cfg(feature = "logfile")]
            LogSource::File(s) => s.name(),
        }
    }

    /// Fetches lines; local files and journalctl are read on a blocking thread so the caller's
    /// runtime never stalls on disk.
    pub async fn fetch(&self, query: &LogQuery) -> Result<LogBatch, LogError> {
        match self {
            #[cfg(feature = "loki")]
            LogSource::Loki(c) => c.fetch(query).await,
            #[cfg(feature = "elasticsearch")]
            LogSource::Elasticsearch(c) => c.fetch(query).await,
            #[cfg(feature = "logfile")]
            LogSource::File(s) => {
                let (source, query) = (s.clone(), query.clone());
                tokio::task::spawn_blocking(move || source.fetch(&query))
                    .await
                    .map_err(|e| LogError::Io {
                        source_name: s.name().to_owned(),
                        reason: format!("reader task failed: {e}"),
                    })?
            }
        }
    }
}

/// Enrichment for one alert window: each source's lines clustered into its `top` templates.
/// A failing source costs its own lines only; its error is returned beside the rest.
pub async fn enrichment(
    sources: &[LogSource],
    query: &LogQuery,
    top: usize,
) -> (Vec<ooda_core::alert::EnrichmentLine>, Vec<LogError>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        match source.fetch(query).await {
            Ok(batch) => lines.extend(cluster(
                batch.lines.iter().map(|l| l.line.as_str()),
                source.name(),
                top,
            )),
            Err(e) => errors.push(e),
        }
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.count));
    (lines, errors)
}
