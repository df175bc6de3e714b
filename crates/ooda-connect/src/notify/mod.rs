//! Notifications out: a generic JSON webhook, Slack incoming webhooks and PagerDuty Events v2. The incident pillar's
//! `Notify` port is adapted onto [`WebhookNotifier::send`] by the binary.
//!
//! A delivery failure is returned to the caller to log; it must never fail an incident. Never
//! logs the webhook URL: for Slack it is the secret.

mod client;

pub use client::{Message, NotifyError, Shape, WebhookNotifier, PAGERDUTY_EVENTS_URL};

#[cfg(test)]
mod tests;
