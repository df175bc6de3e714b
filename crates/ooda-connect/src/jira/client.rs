//! The Jira HTTP client. Async methods for async callers; the synchronous [`ChangeRecords`]
//! port runs them on the client's own small runtime (call it from `spawn_blocking` when inside
//! an async runtime, as with the store).

use std::time::Duration;

use ooda_core::{ChangeDraft, ChangeError, ChangeRecords, ChangeRef, ChangeStatus};

use super::parse;
use super::JiraConfig;
use crate::http::{self, HttpError};

const MAX_BODY: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    #[error("jira: {0}")]
    Http(#[from] HttpError),
    #[error("jira answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("jira sent an unexpected answer: {0}")]
    Malformed(String),
    #[error("jira: api_version: expected 2 or 3, found {0}")]
    Version(u8),
    #[error("jira: cannot start the client runtime: {0}")]
    Runtime(String),
}

impl From<JiraError> for ChangeError {
    fn from(error: JiraError) -> Self {
        match error {
            JiraError::Api { status, message } => ChangeError::Rejected {
                status,
                body: message,
            },
            JiraError::Malformed(m) => ChangeError::Malformed(m),
            other => ChangeError::Unreachable(other.to_string()),
        }
    }
}

pub struct JiraChanges {
    config: JiraConfig,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for JiraChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraChanges")
            .field("url", &self.config.url)
            .finish()
    }
}

impl JiraChanges {
    pub fn new(config: JiraConfig) -> Result<Self, JiraError> {
        if !matches!(config.api_version, 2 | 3) {
            return Err(JiraError::Version(config.api_version));
        }
        let client = http::client(config.timeout.0, &config.tls)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| JiraError::Runtime(e.to_string()))?;
        Ok(Self {
            config,
            client,
            runtime,
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/rest/api/{}/{path}",
            self.config.url.as_str().trim_end_matches('/'),
            self.config.api_version
        )
    }

    fn timeout(&self) -> Duration {
        self.config.timeout.0
    }

    /// Sends; returns the body of a 2xx answer or the decoded error.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, JiraError> {
        let request =
            http::authorize(request, &self.config.auth)?.header("Accept", "application/json");
        let response = request
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout()))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, MAX_BODY, self.timeout()).await?;
        if !(200..300).contains(&status) {
            return Err(JiraError::Api {
                status,
                message: parse::error_message(&body),
            });
        }
        Ok(body)
    }

    /// Creates the issue.
    pub async fn create(&self, draft: &ChangeDraft) -> Result<ChangeRef, JiraError> {
        let body = self
            .send(
                self.client
                    .post(self.url("issue"))
                    .json(&parse::create_body(&self.config, draft)),
            )
            .await?;
        let (id, key) = parse::created(&body).map_err(JiraError::Malformed)?;
        Ok(ChangeRef {
            system: "jira".into(),
            id,
            number: key,
        })
    }

    pub async fn comment(&self, key: &str, note: &str) -> Result<(), JiraError> {
        self.send(
            self.client
                .post(self.url(&format!("issue/{key}/comment")))
                .json(&parse::comment_body(self.config.api_version, note)),
        )
        .await
        .map(|_| ())
    }

    /// Applies the transition named `name`, looked up among those the issue offers now.
    pub async fn transition(&self, key: &str, name: &str) -> Result<(), JiraError> {
        let offered = self
            .send(
                self.client
                    .get(self.url(&format!("issue/{key}/transitions"))),
            )
            .await?;
        let id = parse::transition_id(&offered, name).map_err(JiraError::Malformed)?;
        self.send(
            self.client
                .post(self.url(&format!("issue/{key}/transitions")))
                .json(&parse::transition_body(&id)),
        )
        .await
        .map(|_| ())
    }

    /// Comments with the note and, for a final outcome, applies the configured transition.
    pub async fn record_status(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), JiraError> {
        let label = match status {
            ChangeStatus::Implementing => "implementing",
            ChangeStatus::Succeeded => "succeeded",
            ChangeStatus::Failed => "failed",
            ChangeStatus::Unknown => "outcome unknown, needs a human",
        };
        self.comment(&change.number, &format!("ooda: {label}: {note}"))
            .await?;
        let transition = match status {
            ChangeStatus::Succeeded => self.config.success_transition.as_deref(),
            ChangeStatus::Failed => self.config.failure_transition.as_deref(),
            ChangeStatus::Implementing | ChangeStatus::Unknown => None,
        };
        if let Some(name) = transition {
            self.transition(&change.number, name).await?;
        }
        Ok(())
    }
}

impl ChangeRecords for JiraChanges {
    fn open(&self, draft: &ChangeDraft) -> Result<ChangeRef, ChangeError> {
        Ok(self.runtime.block_on(self.create(draft))?)
    }

    fn update(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), ChangeError> {
        Ok(self
            .runtime
            .block_on(self.record_status(change, status, note))?)
    }
}
