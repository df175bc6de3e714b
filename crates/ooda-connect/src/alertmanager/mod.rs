//! Alertmanager, both ways: its webhook (payload version 4) becomes ooda alerts of kind
//! External; ooda's alerts are pushed to `POST /api/v2/alerts` so teams keep their routing; and
//! its silences are read so ooda holds back what people silenced.
//!
//! Alerts that came in from Alertmanager are never pushed back to it.

mod client;
mod config;
pub mod parse;

pub use client::AlertmanagerClient;
pub use config::AlertmanagerConfig;
pub use parse::{webhook, GettableAlert, PostableAlert, Silence, SilenceSet, WebhookPayload};

use crate::http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum AlertmanagerError {
    #[error("alertmanager: {0}")]
    Http(#[from] HttpError),
    #[error("alertmanager answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("alertmanager payload: {0}")]
    Payload(String),
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod integration_tests;
