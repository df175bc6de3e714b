//! The AWX HTTP client. Async methods for async callers; [`AwxClient::run`] is the blocking
//! launch → poll → stdout sequence the executor uses, on the client's own small runtime (call it
//! from `spawn_blocking` when inside an async runtime).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::parse::{self, JobStatus, Launched};
use super::AwxConfig;
use crate::http::{self, HttpError};

const MAX_BODY: u64 = 1 << 20;
/// How much of a failed job's stdout an error carries.
const STDOUT_TAIL: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum AwxError {
    #[error("awx: {0}")]
    Http(#[from] HttpError),
    #[error("awx answered {status} to {path}: {message}")]
    Api {
        status: u16,
        path: String,
        message: String,
    },
    #[error("awx sent an unexpected answer to {path}: {reason}")]
    Malformed { path: String, reason: String },
    #[error("awx: template {template:?} is not on the allowlist (configured: {known})")]
    UnknownTemplate { template: String, known: String },
    #[error("awx: job template id {id} is not on the allowlist")]
    NotAllowed { id: u64 },
    #[error("awx ignored {fields} when launching template {template:?} (it does not prompt for them on launch); job {job} {cancel}: failing closed")]
    IgnoredFields {
        template: String,
        job: u64,
        fields: String,
        cancel: String,
    },
    #[error("awx job {job} ended {status}: {explanation}\n{stdout_tail}")]
    JobFailed {
        job: u64,
        status: &'static str,
        explanation: String,
        stdout_tail: String,
    },
    #[error("awx job {job} still {status} after {after:?}; {cancel}")]
    Timeout {
        job: u64,
        status: &'static str,
        after: Duration,
        cancel: String,
    },
    #[error("awx: base_path must start and end with '/', found {0:?}")]
    BasePath(String),
    #[error("awx: cannot start the client runtime: {0}")]
    Runtime(String),
}

/// A job that ran to success.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    pub job: u64,
    pub stdout: String,
}

pub struct AwxClient {
    config: AwxConfig,
    client: reqwest::Client,
    pub(super) runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for AwxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwxClient")
            .field("url", &self.config.url)
            .field("base_path", &self.config.base_path)
            .finish()
    }
}

impl AwxClient {
    pub fn new(config: AwxConfig) -> Result<Self, AwxError> {
        if !config.base_path.starts_with('/') || !config.base_path.ends_with('/') {
            return Err(AwxError::BasePath(config.base_path.clone()));
        }
        let client = http::client(config.timeout.0, &config.tls)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AwxError::Runtime(e.to_string()))?;
        Ok(Self {
            config,
            client,
            runtime,
        })
    }

    pub fn config(&self) -> &AwxConfig {
        &self.config
    }

    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.config.base_path)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.url.as_str().trim_end_matches('/'))
    }

    fn timeout(&self) -> Duration {
        self.config.timeout.0
    }

    /// Sends; returns the body of a 2xx answer or the decoded error.
    async fn send(
        &self,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, AwxError> {
        let request = http::authorize(request, &self.config.auth)?;
        let response = request
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout()))?;
        let status = response.status().as_u16();
        let body = http::read_limited(response, MAX_BODY, self.timeout()).await?;
        if !(200..300).contains(&status) {
            return Err(AwxError::Api {
                status,
                path: path.to_owned(),
                message: parse::error_message(&body),
            });
        }
        Ok(body)
    }

    /// The allowlisted id of template `name`.
    pub fn template_id(&self, name: &str) -> Result<u64, AwxError> {
        self.config
            .templates
            .get(name)
            .copied()
            .ok_or_else(|| AwxError::UnknownTemplate {
                template: name.to_owned(),
                known: self
                    .config
                    .templates
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// `POST job_templates/{id}/launch/` with `limit` and `extra_vars`. Refuses ids off the
    /// allowlist before anything is sent.
    pub async fn launch(
        &self,
        id: u64,
        limit: &str,
        extra_vars: &Value,
    ) -> Result<Launched, AwxError> {
        if !self.config.templates.values().any(|allowed| *allowed == id) {
            return Err(AwxError::NotAllowed { id });
        }
        let path = self.path(&format!("job_templates/{id}/launch/"));
        let body = self
            .send(
                &path,
                self.client
                    .post(self.url(&path))
                    .header("Accept", "application/json")
                    .json(&json!({ "limit": limit, "extra_vars": extra_vars })),
            )
            .await?;
        parse::launched(&body).map_err(|reason| AwxError::Malformed { path, reason })
    }

    pub async fn job(&self, id: u64) -> Result<parse::Job, AwxError> {
        let path = self.path(&format!("jobs/{id}/"));
        let body = self
            .send(
                &path,
                self.client
                    .get(self.url(&path))
                    .header("Accept", "application/json"),
            )
            .await?;
        parse::job(&body).map_err(|reason| AwxError::Malformed { path, reason })
    }

    /// `GET jobs/{id}/stdout/?format=txt`.
    pub async fn stdout(&self, id: u64) -> Result<String, AwxError> {
        let path = self.path(&format!("jobs/{id}/stdout/"));
        let body = self
            .send(
                &path,
                self.client.get(self.url(&path)).query(&[("format", "txt")]),
            )
            .await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// `POST jobs/{id}/cancel/` (202; 405 when the job can no longer be cancelled).
    pub async fn cancel(&self, id: u64) -> Result<(), AwxError> {
        let path = self.path(&format!("jobs/{id}/cancel/"));
        self.send(
            &path,
            self.client
                .post(self.url(&path))
                .header("Accept", "application/json"),
        )
        .await
        .map(|_| ())
    }

    async fn cancel_note(&self, job: u64) -> String {
        match self.cancel(job).await {
            Ok(()) => "cancelled".to_owned(),
            Err(error) => format!("NOT cancelled ({error}): check it by hand"),
        }
    }

    async fn run_async(
        &self,
        template: &str,
        limit: &str,
        extra_vars: &Value,
    ) -> Result<JobOutcome, AwxError> {
        let id = self.template_id(template)?;
        let launched = self.launch(id, limit, extra_vars).await?;
        let job = launched.job;
        if !launched.ignored_fields.is_empty() {
            // Sorted: the object's key order depends on serde_json features elsewhere in the build.
            let mut fields = launched.ignored_fields.keys().cloned().collect::<Vec<_>>();
            fields.sort();
            let fields = fields.join(", ");
            let cancel = self.cancel_note(job).await;
            tracing::error!(template, job, %fields, "awx ignored launch fields; job cancelled");
            return Err(AwxError::IgnoredFields {
                template: template.to_owned(),
                job,
                fields,
                cancel,
            });
        }
        let started = Instant::now();
        let finished = loop {
            let state = match self.job(job).await {
                Ok(state) => state,
                Err(error) => {
                    // We cannot see the job any more: stop it rather than let it run unwatched.
                    let _ = self.cancel(job).await;
                    return Err(error);
                }
            };
            if state.status.is_finished() {
                break state;
            }
            if started.elapsed() >= self.config.job_timeout.0 {
                let cancel = self.cancel_note(job).await;
                return Err(AwxError::Timeout {
                    job,
                    status: state.status.as_str(),
                    after: self.config.job_timeout.0,
                    cancel,
                });
            }
            tokio::time::sleep(self.config.poll_interval.0).await;
        };
        let stdout = match self.stdout(job).await {
            Ok(text) => text,
            Err(error) => format!("(stdout unavailable: {error})"),
        };
        if finished.status == JobStatus::Successful {
            return Ok(JobOutcome { job, stdout });
        }
        let tail_start = stdout
            .char_indices()
            .rev()
            .nth(STDOUT_TAIL)
            .map_or(0, |(i, _)| i);
        Err(AwxError::JobFailed {
            job,
            status: finished.status.as_str(),
            explanation: finished.explanation,
            stdout_tail: stdout[tail_start..].to_owned(),
        })
    }

    /// Launches allowlisted template `template` limited to `limit`, waits for the job and
    /// returns its stdout. Any ignored launch field cancels the job and fails.
    pub fn run(
        &self,
        template: &str,
        limit: &str,
        extra_vars: &Value,
    ) -> Result<JobOutcome, AwxError> {
        self.runtime
            .block_on(self.run_async(template, limit, extra_vars))
    }
}
