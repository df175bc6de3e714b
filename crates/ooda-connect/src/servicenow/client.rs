//! The ServiceNow HTTP client. Async methods for async callers; the synchronous
//! [`ChangeRecords`] port runs them on the client's own small runtime (call it from
//! `spawn_blocking` when inside an async runtime, as with the store).

use std::time::Duration;

use ooda_core::{ChangeDraft, ChangeError, ChangeRecords, ChangeRef, ChangeStatus};

use super::parse::{self, Answer};
use super::ServiceNowConfig;
use crate::http::{self, HttpError};

const MAX_BODY: u64 = 1 << 20;
const TABLE: &str = "api/now/table/change_request";

#[derive(Debug, thiserror::Error)]
pub enum ServiceNowError {
    #[error("servicenow: {0}")]
    Http(#[from] HttpError),
    #[error("servicenow answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("servicenow sent an unexpected answer: {0}")]
    Malformed(String),
    #[error("servicenow: cannot start the client runtime: {0}")]
    Runtime(String),
}

impl From<ServiceNowError> for ChangeError {
    fn from(error: ServiceNowError) -> Self {
        match error {
            ServiceNowError::Api { status, message } => ChangeError::Rejected {
                status,
                body: message,
            },
            ServiceNowError::Malformed(m) => ChangeError::Malformed(m),
            other => ChangeError::Unreachable(other.to_string()),
        }
    }
}

pub struct ServiceNowChanges {
    config: ServiceNowConfig,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for ServiceNowChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNowChanges")
            .field("url", &self.config.url)
            .finish()
    }
}

impl ServiceNowChanges {
    pub fn new(config: ServiceNowConfig) -> Result<Self, ServiceNowError> {
        let client = http::client(config.timeout.0, &config.tls)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ServiceNowError::Runtime(e.to_string()))?;
        Ok(Self {
            config,
            client,
            runtime,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.config.url.as_str().trim_end_matches('/'))
    }

    fn timeout(&self) -> Duration {
        self.config.timeout.0
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, ServiceNowError> {
        let request = http::authorize(request, &self.config.auth)?
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        let response = request
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout()))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, MAX_BODY, self.timeout()).await?;
        Ok(parse::answer(status, &body))
    }

    fn record(answer: Answer) -> Result<(String, String), ServiceNowError> {
        match answer {
            Answer::Record { sys_id, number } => Ok((sys_id, number)),
            Answer::Error { status, message } => Err(ServiceNowError::Api { status, message }),
            Answer::Malformed(m) => Err(ServiceNowError::Malformed(m)),
        }
    }

    /// Opens a change request; returns its reference.
    pub async fn create(&self, draft: &ChangeDraft) -> Result<ChangeRef, ServiceNowError> {
        let request = self
            .client
            .post(self.url(TABLE))
            .query(&[
                ("sysparm_input_display_value", "true"),
                ("sysparm_fields", "sys_id,number"),
            ])
            .json(&parse::create_body(&self.config, draft));
        let (sys_id, number) = Self::record(self.send(request).await?)?;
        Ok(ChangeRef {
            system: "servicenow".into(),
            id: sys_id,
            number,
        })
    }

    /// Adds a work note and moves the change according to `status`.
    pub async fn record_status(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), ServiceNowError> {
        let request = self
            .client
            .patch(self.url(&format!("{TABLE}/{}", change.id)))
            .query(&[("sysparm_fields", "sys_id,number")])
            .json(&parse::update_body(status, note));
        Self::record(self.send(request).await?).map(|_| ())
    }
}

impl ChangeRecords for ServiceNowChanges {
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
