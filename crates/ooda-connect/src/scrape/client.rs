//! Scraping one target: fetch with a timeout and a body cap, parse, keep what the config
//! selects, turn counters into per-second rates and notice series that disappeared (stale).
//!
//! Read-only: a scrape is a GET. Never drops a whole body for one bad line.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ooda_core::{CounterRate, Labels, Sample, SeriesKey};

use super::config::ScrapeConfig;
use super::parse::{self, Format, LineError};
use crate::http::{self, HttpError};

/// What the OpenMetrics and Prometheus-text content negotiation asks for, as Prometheus does.
const ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("scrape {source_name}: {error}")]
    Http {
        source_name: String,
        #[source]
        error: HttpError,
    },
    #[error("scrape {source_name}: HTTP {status}: {body}")]
    Status {
        source_name: String,
        status: u16,
        body: String,
    },
}

impl ScrapeError {
    /// Short, stable reason for an error-counter label.
    pub fn reason(&self) -> &'static str {
        match self {
            ScrapeError::Http {
                error: HttpError::Timeout(_),
                ..
            } => "timeout",
            ScrapeError::Http {
                error: HttpError::TooLarge { .. },
                ..
            } => "too_large",
            ScrapeError::Http { .. } => "transport",
            ScrapeError::Status { .. } => "status",
        }
    }
}

/// The result of one successful scrape.
#[derive(Debug, Default, Clone)]
pub struct ScrapeRound {
    /// Gauges as read, counters as per-second rates (absent on a counter's first sighting).
    pub samples: Vec<Sample>,
    /// Lines that could not be read; the rest of the body was used.
    pub line_errors: Vec<LineError>,
    /// Series present in the previous round and missing from this one.
    pub stale: Vec<SeriesKey>,
    /// Sample lines in the body, before selection.
    pub parsed: usize,
    pub bytes: usize,
}

/// Counters for ooda's own `/metrics` (the lead wires them): per source, since start.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeStats {
    pub scrapes: u64,
    pub failures: u64,
    pub timeouts: u64,
    pub too_large: u64,
    pub line_errors: u64,
    pub samples: u64,
    pub stale: u64,
}

/// One exposition target with its counter and staleness state.
#[derive(Debug)]
pub struct Scraper {
    config: ScrapeConfig,
    http: reqwest::Client,
    host: String,
    rates: HashMap<SeriesKey, CounterRate>,
    seen: HashSet<SeriesKey>,
    stats: ScrapeStats,
}

impl Scraper {
    pub fn new(config: ScrapeConfig) -> Result<Self, HttpError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        let host = config
            .host
            .clone()
            .or_else(|| config.url.as_url().host_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Self {
            config,
            http,
            host,
            rates: HashMap::new(),
            seen: HashSet::new(),
            stats: ScrapeStats::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn config(&self) -> &ScrapeConfig {
        &self.config
    }

    pub fn stats(&self) -> ScrapeStats {
        self.stats
    }

    /// Fetches and reads the target once. `now_ms` stamps samples without a timestamp.
    pub async fn scrape(&mut self, now_ms: i64) -> Result<ScrapeRound, ScrapeError> {
        self.stats.scrapes += 1;
        let fetched = self.fetch().await;
        let (body, format) = match fetched {
            Ok(ok) => ok,
            Err(error) => {
                self.stats.failures += 1;
                match &error {
                    ScrapeError::Http {
                        error: HttpError::Timeout(_),
                        ..
                    } => self.stats.timeouts += 1,
                    ScrapeError::Http {
                        error: HttpError::TooLarge { .. },
                        ..
                    } => self.stats.too_large += 1,
                    _ => {}
                }
                tracing::warn!(source = %self.config.name, reason = error.reason(), %error, "scrape failed");
                return Err(error);
            }
        };
        // Invalid UTF-8 costs only the lines it sits in: they are read with replacement
        // characters and fail (or pass) on their own.
        let text = String::from_utf8_lossy(&body);
        let round = self.ingest(&text, format, now_ms);
        Ok(round)
    }

    async fn fetch(&self) -> Result<(Vec<u8>, Format), ScrapeError> {
        let timeout = self.config.timeout.get();
        let wrap = |error: HttpError| ScrapeError::Http {
            source_name: self.config.name.clone(),
            error,
        };
        let request = self
            .http
            .get(self.config.url.as_url().clone())
            .header(reqwest::header::ACCEPT, ACCEPT);
        let request = http::authorize(request, &self.config.auth).map_err(wrap)?;
        let response = request
            .send()
            .await
            .map_err(|e| wrap(HttpError::from_reqwest(e, timeout)))?;
        let status = response.status();
        let format = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(Format::from_content_type)
            .unwrap_or(Format::Prometheus);
        let body = http::read_limited(response, self.config.max_body_bytes, timeout)
            .await
            .map_err(wrap)?;
        if !status.is_success() {
            return Err(ScrapeError::Status {
                source_name: self.config.name.clone(),
                status: status.as_u16(),
                body: http::snippet(&body, 200),
            });
        }
        Ok((body, format))
    }

    /// Reads a body already fetched (tests, benchmarks, push gateways): selection, labels,
    /// rates and staleness exactly as [`Scraper::scrape`] does.
    pub fn ingest(&mut self, text: &str, format: Format, now_ms: i64) -> ScrapeRound {
        let exposition = parse::parse(text, format);
        let mut round = ScrapeRound {
            parsed: exposition.samples().len(),
            bytes: text.len(),
            ..ScrapeRound::default()
        };
        let mut seen = HashSet::with_capacity(self.seen.len());
        for raw in exposition.samples() {
            if !self.selected(raw.name) {
                continue;
            }
            let mut labels = Labels::new();
            for label in exposition.labels(raw) {
                // Target labels win; the exposed one is kept under another name.
                if label.name == "host" || self.config.labels.contains_key(label.name) {
                    labels.insert(format!("exported_{}", label.name), label.value.as_ref());
                } else {
                    labels.insert(label.name, label.value.as_ref());
                }
            }
            labels.insert("host", self.host.as_str());
            for (k, v) in &self.config.labels {
                labels.insert(k.as_str(), v.as_str());
            }
            let key = SeriesKey::new(raw.name, labels);
            let time_ms = raw.timestamp_ms.unwrap_or(now_ms);
            let value = if raw.cumulative {
                self.rates
                    .entry(key.clone())
                    .or_default()
                    .observe(time_ms, raw.value)
            } else {
                Some(raw.value).filter(|v| v.is_finite())
            };
            if let Some(value) = value {
                round.samples.push(Sample {
                    series: key.clone(),
                    time_ms,
                    value,
                });
            }
            seen.insert(key);
        }
        for gone in self.seen.difference(&seen) {
            self.rates.remove(gone);
            round.stale.push(gone.clone());
        }
        round.stale.sort();
        self.seen = seen;
        round.line_errors = exposition.errors;
        self.stats.line_errors += round.line_errors.len() as u64;
        self.stats.samples += round.samples.len() as u64;
        self.stats.stale += round.stale.len() as u64;
        if !round.line_errors.is_empty() {
            tracing::warn!(
                source = %self.config.name,
                errors = round.line_errors.len(),
                first = %round.line_errors[0],
                "malformed exposition lines skipped"
            );
        }
        round
    }

    fn selected(&self, name: &str) -> bool {
        self.config.metrics.is_empty()
            || self
                .config
                .metrics
                .iter()
                .any(|p| name.starts_with(p.as_str()))
    }

    /// The timeout the scheduler should expect a scrape to take at most.
    pub fn timeout(&self) -> Duration {
        self.config.timeout.get()
    }
}
