//! The HTTP side: one `reqwest` client per server, auth per request, bodies capped, and
//! backfill split into range-query chunks behind a progress bar.

use std::collections::BTreeMap;
use std::time::Duration;

use ooda_core::{Sample, Timestamp};

use super::config::PrometheusConfig;
use super::parse::{self, QueryValue, Response, Series};
use super::PromError;
use crate::http::{self, HttpError};

/// A Prometheus-compatible server.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    config: PrometheusConfig,
    http: reqwest::Client,
}

/// History read for baselines: every series of every expression, and the chunks that failed
/// (the rest is still usable: a missing day only shortens a baseline's memory).
#[derive(Debug, Default)]
pub struct Backfill {
    /// Per expression, its series with points in time order.
    pub series: Vec<(String, Vec<Series>)>,
    pub warnings: Vec<String>,
    pub failed_chunks: Vec<(String, i64, PromError)>,
    pub chunks: usize,
}

impl Backfill {
    /// All points as ooda samples, series by series.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        self.series
            .iter()
            .flat_map(|(expr, series)| series.iter().flat_map(move |s| s.samples(expr)))
    }
}

fn secs(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

impl PrometheusClient {
    pub fn new(config: PrometheusConfig) -> Result<Self, PromError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn config(&self) -> &PrometheusConfig {
        &self.config
    }

    fn endpoint(&self, path: &str) -> Result<url::Url, PromError> {
        let base = self.config.url.as_url();
        // Keep a path prefix (`/prometheus`, VictoriaMetrics' `/select/0/prometheus`).
        let mut joined = base.clone();
        let prefix = base.path().trim_end_matches('/');
        joined.set_path(&format!("{prefix}{path}"));
        Ok(joined)
    }

    /// POSTs a form (long selectors do not fit a URL) and returns status and capped body.
    async fn post(&self, path: &str, form: &[(&str, String)]) -> Result<(u16, Vec<u8>), PromError> {
        let timeout = self.config.timeout.get();
        let request = self.http.post(self.endpoint(path)?).form(form);
        let request = http::authorize(request, &self.config.auth)?;
        let response = request
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, timeout))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, self.config.max_body_bytes, timeout).await?;
        Ok((status, body))
    }

    fn timeout_param(&self) -> String {
        format!("{}s", self.config.timeout.get().as_secs().max(1))
    }

    /// Instant query at `at` (server time when None).
    pub async fn query(
        &self,
        expr: &str,
        at: Option<Timestamp>,
    ) -> Result<Response<QueryValue>, PromError> {
        let mut form = vec![
            ("query", expr.to_owned()),
            ("timeout", self.timeout_param()),
        ];
        if let Some(at) = at {
            form.push(("time", secs(at.timestamp_millis())));
        }
        let (status, body) = self.post("/api/v1/query", &form).await?;
        parse::query(status, &body)
    }

    /// Range query over `[start, end]` at `step`.
    pub async fn query_range(
        &self,
        expr: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Response<Vec<Series>>, PromError> {
        self.query_range_ms(expr, start.timestamp_millis(), end.timestamp_millis(), step)
            .await
    }

    async fn query_range_ms(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step: Duration,
    ) -> Result<Response<Vec<Series>>, PromError> {
        let form = [
            ("query", expr.to_owned()),
            ("start", secs(start_ms)),
            ("end", secs(end_ms)),
            ("step", format!("{:.3}", step.as_secs_f64().max(0.001))),
            ("timeout", self.timeout_param()),
        ];
        let (status, body) = self.post("/api/v1/query_range", &form).await?;
        parse::query_range(status, &body)
    }

    /// Series matching any of the selectors (`up`, `{job="node"}`), optionally within a window.
    pub async fn series(
        &self,
        matchers: &[&str],
        start: Option<Timestamp>,
        end: Option<Timestamp>,
    ) -> Result<Response<Vec<BTreeMap<String, String>>>, PromError> {
        let mut form: Vec<(&str, String)> = matchers
            .iter()
            .map(|m| ("match[]", (*m).to_owned()))
            .collect();
        if let Some(start) = start {
            form.push(("start", secs(start.timestamp_millis())));
        }
        if let Some(end) = end {
            form.push(("end", secs(end.timestamp_millis())));
        }
        let (status, body) = self.post("/api/v1/series", &form).await?;
        parse::series(status, &body)
    }

    /// Reads `[end - backfill, end]` of each expression in chunks of `backfill_chunk` at
    /// `backfill_step`. Chunk boundaries never repeat a point (each chunk starts one step after
    /// the previous one ended). A failed chunk is recorded and skipped; the bar (drawn only on a
    /// terminal) advances per chunk.
    pub async fn backfill(
        &self,
        exprs: &[String],
        end: Timestamp,
        show_progress: bool,
    ) -> Backfill {
        let end_ms = end.timestamp_millis();
        let span_ms = i64::try_from(self.config.backfill.get().as_millis()).unwrap_or(i64::MAX);
        let step = self.config.backfill_step.get();
        let step_ms = i64::try_from(step.as_millis()).unwrap_or(60_000).max(1);
        let chunk_ms = i64::try_from(self.config.backfill_chunk.get().as_millis())
            .unwrap_or(86_400_000)
            // Prometheus refuses more than 11 000 points per series per query.
            .min(step_ms.saturating_mul(10_000))
            .max(step_ms);
        let start_ms = end_ms.saturating_sub(span_ms);
        let mut windows = Vec::new();
        let mut t = start_ms;
        while t <= end_ms {
            let chunk_end = t.saturating_add(chunk_ms).min(end_ms);
            windows.push((t, chunk_end));
            t = chunk_end.saturating_add(step_ms);
        }
        let total = (windows.len() * exprs.len()) as u64;
        let bar = if show_progress {
            indicatif::ProgressBar::new(total)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "backfill {prefix} [{bar:30}] {pos}/{len} chunks ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(self.config.name.clone());
        let mut out = Backfill {
            chunks: windows.len() * exprs.len(),
            ..Backfill::default()
        };
        for expr in exprs {
            let mut by_labels: BTreeMap<BTreeMap<String, String>, Vec<(i64, f64)>> =
                BTreeMap::new();
            for &(from, to) in &windows {
                match self.query_range_ms(expr, from, to, step).await {
                    Ok(response) => {
                        out.warnings.extend(response.warnings);
                        for series in response.data {
                            by_labels
                                .entry(series.labels)
                                .or_default()
                                .extend(series.points);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(source = %self.config.name, %expr, from, %error, "backfill chunk failed");
                        out.failed_chunks.push((expr.clone(), from, error));
                    }
                }
                bar.inc(1);
            }
            let series = by_labels
                .into_iter()
                .map(|(labels, points)| Series { labels, points })
                .collect();
            out.series.push((expr.clone(), series));
        }
        bar.finish_and_clear();
        out
    }
}
