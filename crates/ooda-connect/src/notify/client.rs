use std::time::Duration;

use serde::Serialize;

use crate::http::{self, HttpError, TlsConfig};

/// What is sent: one incident notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `acting`, `approval_needed`, `paused`, `escalated`, `resolved`.
    pub kind: String,
    pub incident: String,
    pub title: String,
    /// Markdown.
    pub text: String,
}

/// The body shape the receiver expects.
#[derive(Clone, PartialEq, Eq)]
pub enum Shape {
    /// `{"kind", "incident", "title", "text"}` as JSON.
    Generic,
    /// Slack incoming webhook: `{"text": …}` (mrkdwn), Slack's documented minimal payload.
    Slack,
    /// PagerDuty Events API v2 (`POST /v2/enqueue`): a `trigger` event for the integration
    /// whose routing key this is, deduplicated per incident.
    PagerDuty { routing_key: String },
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The routing key is a secret: never in a log line.
        match self {
            Shape::Generic => f.write_str("Generic"),
            Shape::Slack => f.write_str("Slack"),
            Shape::PagerDuty { .. } => f.write_str("PagerDuty"),
        }
    }
}

/// PagerDuty's Events API v2 endpoint.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// PagerDuty refuses a `summary` longer than 1024 characters.
const PAGERDUTY_SUMMARY_LIMIT: usize = 1_024;

fn truncated(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit.saturating_sub(1)) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("receiver answered {status}: {body}")]
    Rejected { status: u16, body: String },
}

/// Slack shows at most 40 000 characters of `text`; stay well inside.
const SLACK_TEXT_LIMIT: usize = 3_900;

#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: String,
    shape: Shape,
    timeout: Duration,
}

impl WebhookNotifier {
    pub fn new(
        url: impl Into<String>,
        shape: Shape,
        timeout: Duration,
    ) -> Result<Self, NotifyError> {
        Ok(Self {
            client: http::client(timeout, &TlsConfig::default())?,
            url: url.into(),
            shape,
            timeout,
        })
    }

    /// The JSON body for `message` in this notifier's shape.
    pub fn body(&self, message: &Message) -> serde_json::Value {
        match &self.shape {
            Shape::Generic => serde_json::to_value(message).unwrap_or_default(),
            Shape::Slack => {
                let mut text = format!("*[{}] {}*\n{}", message.kind, message.title, message.text);
                if let Some((cut, _)) = text.char_indices().nth(SLACK_TEXT_LIMIT) {
                    text.truncate(cut);
                    text.push('…');
                }
                serde_json::json!({ "text": text })
            }
            Shape::PagerDuty { routing_key } => {
                // Escalations page; everything else is a warning a human reads when they can.
                let severity = match message.kind.as_str() {
                    "escalated" | "escalation" => "critical",
                    "approval_needed" | "paused" => "warning",
                    _ => "info",
                };
                serde_json::json!({
                    "routing_key": routing_key,
                    "event_action": "trigger",
                    "dedup_key": format!("ooda-{}-{}", message.incident, message.kind),
                    "payload": {
                        "summary": truncated(
                            &format!("[{}] {}", message.kind, message.title),
                            PAGERDUTY_SUMMARY_LIMIT,
                        ),
                        "source": "ooda",
                        "severity": severity,
                        "component": message.incident,
                        "custom_details": { "text": message.text },
                    },
                })
            }
        }
    }

    pub async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let response = self
            .client
            .post(&self.url)
            .json(&self.body(message))
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout))?;
        let status = response.status();
        let body = http::read_limited(response, 64 * 1024, self.timeout).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Rejected {
                status: status.as_u16(),
                body: http::snippet(&body, 200),
            })
        }
    }
}
