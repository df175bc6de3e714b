//! The HTTP side: one `reqwest` client, the key revealed per request, bodies capped, and retries
//! with exponential back-off on 429, 529, 5xx and network failures, honouring `retry-after`.

use std::time::Duration;

use super::config::AnthropicConfig;
use super::parse::{self, MessagesRequest, MessagesResponse};
use super::AnthropicError;
use crate::http::{self, backoff, HttpError};

#[derive(Debug, Clone)]
pub struct AnthropicClient {
    config: AnthropicConfig,
    http: reqwest::Client,
}

/// One exchange as it happened: the answer and every wait before a retry.
#[derive(Debug)]
pub struct Exchange {
    pub result: Result<MessagesResponse, AnthropicError>,
    pub attempts: u32,
    pub waits: Vec<Duration>,
}

impl AnthropicClient {
    pub fn new(config: AnthropicConfig) -> Result<Self, AnthropicError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    fn endpoint(&self) -> url::Url {
        let base = self.config.url.as_url();
        let mut joined = base.clone();
        let prefix = base.path().trim_end_matches('/');
        joined.set_path(&format!("{prefix}/v1/messages"));
        joined
    }

    /// Sends one request, retrying transient failures.
    pub async fn messages(
        &self,
        request: &MessagesRequest,
    ) -> Result<MessagesResponse, AnthropicError> {
        self.exchange(request).await.result
    }

    /// [`Self::messages`], also reporting attempts and waits (tests, metrics).
    pub async fn exchange(&self, request: &MessagesRequest) -> Exchange {
        let body = match serde_json::to_vec(request) {
            Ok(body) => body,
            Err(e) => {
                return Exchange {
                    result: Err(AnthropicError::Encode(e.to_string())),
                    attempts: 0,
                    waits: vec![],
                }
            }
        };
        let mut waits = Vec::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (result, retry_after) = self.attempt(&body).await;
            let retry = match &result {
                Err(error) => error.is_transient() && attempt <= self.config.max_retries,
                Ok(_) => false,
            };
            if !retry {
                return Exchange {
                    result,
                    attempts: attempt,
                    waits,
                };
            }
            let wait = backoff(
                self.config.backoff.get(),
                attempt,
                retry_after,
                self.config.max_wait.get(),
            );
            if let Err(error) = &result {
                tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, %error, "anthropic: retrying");
            }
            waits.push(wait);
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        body: &[u8],
    ) -> (Result<MessagesResponse, AnthropicError>, Option<Duration>) {
        let key = match self.config.api_key.reveal() {
            Ok(key) => key,
            Err(e) => return (Err(AnthropicError::Http(HttpError::Secret(e))), None),
        };
        let timeout = self.config.timeout.get();
        let sent = self
            .http
            .post(self.endpoint())
            .header("x-api-key", key)
            .header("anthropic-version", &self.config.version)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return (Err(HttpError::from_reqwest(e, timeout).into()), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse::retry_after);
        let body = match http::read_limited(response, self.config.max_body_bytes, timeout).await {
            Ok(body) => body,
            Err(e) => return (Err(e.into()), retry_after),
        };
        (parse::response(status, &body), retry_after)
    }
}
