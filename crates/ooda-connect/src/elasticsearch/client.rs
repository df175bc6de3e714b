//! `POST /<index>/_search` with the query DSL.

use super::config::ElasticsearchConfig;
use super::parse;
use crate::http::{self, HttpError};
use crate::logs::{LogBatch, LogError, LogQuery};

#[derive(Debug, Clone)]
pub struct ElasticsearchClient {
    config: ElasticsearchConfig,
    http: reqwest::Client,
}

impl ElasticsearchClient {
    pub fn new(config: ElasticsearchConfig) -> Result<Self, HttpError> {
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
        let mut url = self.config.url.as_url().clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        // The index pattern is a path segment: commas and wildcards are allowed, slashes not.
        let index = self.config.index.replace('/', "%2F");
        url.set_path(&format!("{prefix}/{index}/_search"));
        let request = self
            .http
            .post(url)
            .query(&[("ignore_unavailable", "true"), ("allow_no_indices", "true")])
            .json(&parse::search_body(&self.config, query));
        let request = http::authorize(request, &self.config.auth).map_err(wrap)?;
        let response = request
            .send()
            .await
            .map_err(|e| wrap(HttpError::from_reqwest(e, timeout)))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, self.config.max_body_bytes, timeout)
            .await
            .map_err(wrap)?;
        parse::response(&self.config, status, &body).map_err(|(status, reason)| {
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
