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

/// Enrichment for one alert window: each source's lines clustered into its `top` templates,
/// most frequent first. Sources are asked at once, each within `timeout`: a failing or slow
/// source costs its own lines only; its error is returned beside the rest.
pub async fn enrichment(
    sources: &[LogSource],
    query: &LogQuery,
    top: usize,
    timeout: std::time::Duration,
) -> (Vec<ooda_core::alert::EnrichmentLine>, Vec<LogError>) {
    let mut fetches = tokio::task::JoinSet::new();
    for source in sources {
        // Each fetch runs as its own task, which owns what it uses.
        let (source, query) = (source.clone(), query.clone());
        fetches.spawn(async move {
            let fetched = match tokio::time::timeout(timeout, source.fetch(&query)).await {
                Ok(fetched) => fetched,
                Err(_) => Err(LogError::Io {
                    source_name: source.name().to_owned(),
                    reason: format!("no answer within {timeout:?}"),
                }),
            };
            fetched.map(|batch| {
                cluster(
                    batch.lines.iter().map(|l| l.line.as_str()),
                    source.name(),
                    top,
                )
            })
        });
    }
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = fetches.join_next().await {
        match joined {
            Ok(Ok(templates)) => lines.extend(templates),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(LogError::Io {
                source_name: "logs".to_owned(),
                reason: format!("fetch task failed: {e}"),
            }),
        }
    }
    // Join order is completion order; sort fully so the result does not depend on it.
    lines.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.template.cmp(&b.template))
    });
    (lines, errors)
}
