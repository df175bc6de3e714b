//! Talking to Alertmanager's v2 API: push ooda's alerts, read alerts back and read silences.
//! Never creates or expires silences: those stay with the people who own the routing.

use ooda_core::Alert;

use super::config::AlertmanagerConfig;
use super::parse::{self, GettableAlert, Silence, SilenceSet, SOURCE_LABEL};
use super::AlertmanagerError;
use crate::http::{self, HttpError};

const MAX_BODY: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    config: AlertmanagerConfig,
    http: reqwest::Client,
}

impl AlertmanagerClient {
    pub fn new(config: AlertmanagerConfig) -> Result<Self, AlertmanagerError> {
        let http = http::client(config.timeout.get(), &config.tls)?;
        Ok(Self { config, http })
    }

    pub fn config(&self) -> &AlertmanagerConfig {
        &self.config
    }

    fn endpoint(&self, path: &str) -> url::Url {
        let mut url = self.config.url.as_url().clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, AlertmanagerError> {
        let timeout = self.config.timeout.get();
        let request = http::authorize(request, &self.config.auth)?;
        let response = request
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, timeout))?;
        let status = response.status();
        let body = http::read_limited(response, MAX_BODY, timeout).await?;
        if !status.is_success() {
            return Err(AlertmanagerError::Status {
                status: status.as_u16(),
                body: http::snippet(&body, 300),
            });
        }
        Ok(body)
    }

    /// Pushes alerts (firing and resolved). Alerts that came from Alertmanager itself are left
    /// out, so ooda never loops them back. Returns how many were sent.
    pub async fn push(&self, alerts: &[Alert]) -> Result<usize, AlertmanagerError> {
        let generator = self.config.generator_url.as_ref().map(|u| u.as_str());
        let body: Vec<_> = alerts
            .iter()
            .filter(|a| a.labels.get(SOURCE_LABEL).map(String::as_str) != Some("alertmanager"))
            .map(|a| parse::postable(a, generator))
            .collect();
        if body.is_empty() {
            return Ok(0);
        }
        self.send(self.http.post(self.endpoint("/api/v2/alerts")).json(&body))
            .await?;
        Ok(body.len())
    }

    /// `GET /api/v2/alerts`: what Alertmanager currently holds.
    pub async fn alerts(&self) -> Result<Vec<GettableAlert>, AlertmanagerError> {
        let body = self
            .send(self.http.get(self.endpoint("/api/v2/alerts")))
            .await?;
        serde_json::from_slice(&body)
            .map_err(|e| AlertmanagerError::Payload(format!("alerts list: {e}")))
    }

    /// `GET /api/v2/silences`, raw.
    pub async fn silence_list(&self) -> Result<Vec<Silence>, AlertmanagerError> {
        let body = self
            .send(self.http.get(self.endpoint("/api/v2/silences")))
            .await?;
        serde_json::from_slice(&body)
            .map_err(|e| AlertmanagerError::Payload(format!("silence list: {e}")))
    }

    /// The silences, compiled for matching. Refresh it every round (silences are cheap).
    pub async fn silences(&self) -> Result<SilenceSet, AlertmanagerError> {
        Ok(SilenceSet::new(self.silence_list().await?))
    }
}
