//! `GET /api/search` (TraceQL in `q`, `start`/`end` in unix seconds, `limit`) and
//! `GET /api/traces/{id}`.

use super::config::TempoConfig;
use super::parse;
use crate::http::{self, HttpError};
use crate::traces::{Trace, TraceError, TraceSummary};

#[derive(Debug, Clone)]
pub struct TempoClient {
    config: TempoConfig,
    http: reqwest::Client,
}

impl TempoClient {
    pub fn new(config: TempoConfig) -> Result<Self, HttpError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The link for a trace in evidence.
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
        let mut request = self.http.get(url).query(query);
        if let Some(tenant) = &self.config.tenant {
            request = request.header("X-Scope-OrgID", tenant);
        }
        let request = http::authorize(request, &self.config.auth).map_err(wrap)?;
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

    /// TraceQL search over `[start, end]` (unix seconds).
    pub async fn search(
        &self,
        traceql: &str,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, TraceError> {
        let (status, body) = self
            .get(
                "/api/search",
                &[
                    ("q", traceql.to_string()),
                    ("start", start.to_string()),
                    ("end", end.to_string()),
                    ("limit", limit.to_string()),
                ],
            )
            .await?;
        parse::search(status, &body).map_err(|e| self.sort_error(e))
    }

    /// One trace by id (hex).
    pub async fn trace(&self, trace_id: &str) -> Result<Trace, TraceError> {
        let id: String = trace_id.chars().filter(char::is_ascii_hexdigit).collect();
        let (status, body) = self.get(&format!("/api/traces/{id}"), &[]).await?;
        parse::trace(status, &body).map_err(|e| self.sort_error(e))
    }

    /// Search, then fetch each hit: the traces behind a TraceQL query. A trace that fails to
    /// load is skipped (a search hit can expire before it is read); a failed search fails.
    pub async fn traces(
        &self,
        traceql: &str,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<Trace>, TraceError> {
        let mut traces = Vec::new();
        for hit in self.search(traceql, start, end, limit).await? {
            match self.trace(&hit.trace_id).await {
                Ok(trace) => traces.push(trace),
                Err(error) => {
                    tracing::debug!(source = %self.config.name, trace = %hit.trace_id, %error, "trace skipped")
                }
            }
        }
        Ok(traces)
    }
}
