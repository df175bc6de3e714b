//! `GET /loki/api/v1/query_range` with LogQL.

use super::config::LokiConfig;
use super::parse;
use crate::http::{self, HttpError};
use crate::logs::{LogBatch, LogError, LogQuery};

#[derive(Debug, Clone)]
pub struct LokiClient {
    config: LokiConfig,
    http: reqwest::Client,
}

fn nanos(t: ooda_core::Timestamp) -> String {
    format!("{}000000", t.timestamp_millis())
}

impl LokiClient {
    pub fn new(config: LokiConfig) -> Result<Self, HttpError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub async fn fetch(&self, query: &LogQuery) -> Result<LogBatch, LogError> {
        let timeout = self.config.timeout.get();
        let wrap = |error: HttpError| LogError::Http {
            source_name: self.config.name.clone(),
            error,
        };
        let logql = parse::logql(
            query,
            &self.config.host_label,
            &self.config.service_label,
            &self.config.selector,
        );
        let mut url = self.config.url.as_url().clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/loki/api/v1/query_range"));
        let mut request = self.http.get(url).query(&[
            ("query", logql.as_str()),
            ("start", nanos(query.start).as_str()),
            ("end", nanos(query.end).as_str()),
            ("limit", query.limit.to_string().as_str()),
            ("direction", "backward"),
        ]);
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
        parse::response(status, &body, query.limit.max(1)).map_err(|(status, reason)| {
            if (200..300).contains(&status) {
                LogError::Decode {
                    source_name: self.config.name.clone(),
                    reason,
                }
            } else {
                LogError::Status {
                    source_name: self.config.name.clone(),
                    status,
                    reason,
                }
            }
        })
    }
}
