//! `GET /api/services`, `GET /api/traces?service=…&start=…&end=…&limit=…` (microseconds) and
//! `GET /api/dependencies?endTs=…&lookback=…` (milliseconds).

use super::config::JaegerConfig;
use super::parse;
use crate::http::{self, HttpError};
use crate::traces::{ServiceCall, Trace, TraceError};

#[derive(Debug, Clone)]
pub struct JaegerClient {
    config: JaegerConfig,
    http: reqwest::Client,
}

impl JaegerClient {
    pub fn new(config: JaegerConfig) -> Result<Self, HttpError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn link(&self, trace_id: &str) -> String {
        self.config.link(trace_id)
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), TraceError> {
        let timeout = self.config.timeout.get();
        let wrap = |error: HttpError| TraceError::Http {
            source_name: self.config.name.clone(),
            error,
        };
        let mut url = self.config.url.as_url().clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        let request =
            http::authorize(self.http.get(url).query(query), &self.config.auth).map_err(wrap)?;
        let response = request
            .send()
            .await
            .map_err(|e| wrap(HttpError::from_reqwest(e, timeout)))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, self.config.max_body_bytes, timeout)
            .await
            .map_err(wrap)?;
        Ok((status, body))
    }

    fn sort_error(&self, (status, reason): (u16, String)) -> TraceError {
        if (200..300).contains(&status) {
            TraceError::Decode {
                source_name: self.config.name.clone(),
                reason,
            }
        } else {
            TraceError::Status {
                source_name: self.config.name.clone(),
                status,
                reason,
            }
        }
    }

    pub async fn services(&self) -> Result<Vec<String>, TraceError> {
        let (status, body) = self.get("/api/services", &[]).await?;
        parse::services(status, &body).map_err(|e| self.sort_error(e))
    }

    /// Traces through `service` that started in `[start, end]` (unix seconds).
    pub async fn traces(
        &self,
        service: &str,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<Trace>, TraceError> {
        let micros = |seconds: i64| seconds.saturating_mul(1_000_000).to_string();
        let (status, body) = self
            .get(
                "/api/traces",
                &[
                    ("service", service.to_string()),
                    ("start", micros(start)),
                    ("end", micros(end)),
                    ("limit", limit.to_string()),
                ],
            )
            .await?;
        parse::traces(status, &body).map_err(|e| self.sort_error(e))
    }

    /// The service call graph Jaeger aggregated over `lookback_seconds` before `end` (unix s).
    pub async fn dependencies(
        &self,
        end: i64,
        lookback_seconds: i64,
    ) -> Result<Vec<ServiceCall>, TraceError> {
        let (status, body) = self
            .get(
                "/api/dependencies",
                &[
                    ("endTs", end.saturating_mul(1000).to_string()),
                    (
                        "lookback",
                        lookback_seconds.saturating_mul(1000).to_string(),
                    ),
                ],
            )
            .await?;
        parse::dependencies(status, &body).map_err(|e| self.sort_error(e))
    }
}
