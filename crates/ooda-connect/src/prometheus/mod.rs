//! Prometheus HTTP API (and VictoriaMetrics, which speaks the same): instant and range queries,
//! series discovery by matchers, and chunked backfill of history so baselines skip the cold
//! start. Read-only: only query endpoints are called.

mod client;
mod config;
pub mod parse;

pub use client::{Backfill, PrometheusClient};
pub use config::PrometheusConfig;
pub use parse::{QueryValue, Response, Series};

use crate::http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("prometheus: {0}")]
    Http(#[from] HttpError),
    /// The API's own error: `{"status":"error","errorType":"bad_data","error":"…"}`.
    #[error("prometheus answered HTTP {status} {error_type}: {error}")]
    Api {
        status: u16,
        error_type: String,
        error: String,
    },
    /// A non-API body with an error status (proxy pages, empty 502s).
    #[error("prometheus answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("prometheus response: {reason}; body starts {body:?}")]
    Decode { reason: String, body: String },
    #[error("prometheus URL: {0}")]
    Url(String),
}

impl PromError {
    /// Whether retrying later may help (outage, overload, timeout) as opposed to a bad query.
    pub fn is_transient(&self) -> bool {
        match self {
            PromError::Http(_) => true,
            PromError::Api {
                status, error_type, ..
            } => {
                *status >= 500
                    || matches!(error_type.as_str(), "timeout" | "canceled" | "unavailable")
            }
            PromError::Status { status, .. } => *status >= 500 || *status == 429,
            PromError::Decode { .. } | PromError::Url(_) => false,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod integration_tests;
