//! The configured notification channels (`[[notify]]`) behind both notification ports: the
//! Gate's [`ooda_govern::Notifier`] (escalations, approval requests, act-with-notify,
//! recommendations) and the incident responder's [`Notify`] (escalated, paused, resolved).
//!
//! Neither port may block a decision, so a notice is queued and delivered by one background
//! thread with its own small runtime (the Gate is called from async workers, blocking threads
//! and plain CLI commands alike). A full queue or a failed delivery is logged and counted, never
//! raised. Every notice is logged too, so nothing is lost with no channel configured.

use std::sync::mpsc;

use anyhow::Context;
use ooda_config::NotifyConfig;
use ooda_connect::notify::{Message, Shape, WebhookNotifier};
use ooda_incident::responder::{Notification, Notify};
use ooda_server::telemetry::{NotificationDropped, NotificationSent};
use ooda_server::Telemetry;

/// Notices waiting for delivery before new ones are dropped (a receiver down for a while must
/// not grow memory without bound).
const QUEUE: usize = 1_000;

/// The responder's kinds that reach the channels. `acting` and `approval_needed` are left to
/// the Gate, which sends them with the concrete action and approval id (one page, not two).
const INCIDENT_KINDS: &[&str] = &["escalated", "paused", "resolved"];

/// One configured channel.
struct Channel {
    name: String,
    notifier: WebhookNotifier,
}

/// Cheap to clone; every clone feeds the same delivery thread.
#[derive(Clone)]
pub struct Notifications {
    queue: Option<mpsc::SyncSender<Message>>,
    telemetry: Telemetry,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications")
            .field("channels", &self.queue.is_some())
            .finish_non_exhaustive()
    }
}

impl Notifications {
    /// Builds the channels and starts the delivery thread (none without channels). Secrets are
    /// read here: a missing one is an error at start, not at the first escalation.
    pub fn start(configs: &[NotifyConfig], telemetry: Telemetry) -> anyhow::Result<Self> {
        let mut channels = Vec::new();
        for config in configs {
            let name = config.name().to_owned();
            let notifier = match config {
                NotifyConfig::Webhook(c) => {
                    WebhookNotifier::new(c.url.as_str(), Shape::Generic, c.timeout.get())
                }
                NotifyConfig::Slack(c) => WebhookNotifier::new(
                    c.url
                        .reveal()
                        .with_context(|| format!("notify {name}: url"))?,
                    Shape::Slack,
                    c.timeout.get(),
                ),
                NotifyConfig::PagerDuty(c) => WebhookNotifier::new(
                    c.url
                        .as_ref()
                        .map_or(ooda_connect::notify::PAGERDUTY_EVENTS_URL.to_owned(), |u| {
                            u.as_str().to_owned()
                        }),
                    Shape::PagerDuty {
                        routing_key: c
                            .routing_key
                            .reveal()
                            .with_context(|| format!("notify {name}: routing_key"))?,
                    },
                    c.timeout.get(),
                ),
            }
            .with_context(|| format!("notify {name}"))?;
            channels.push(Channel { name, notifier });
        }
        if channels.is_empty() {
            return Ok(Self {
                queue: None,
                telemetry,
            });
        }
        let (queue, inbox) = mpsc::sync_channel::<Message>(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the notification runtime")?;
        let counters = telemetry.clone();
        std::thread::Builder::new()
            .name("ooda-notify".into())
            .spawn(move || deliver(&runtime, &channels, &inbox, &counters))
            .context("starting the notification thread")?;
        Ok(Self {
            queue: Some(queue),
            telemetry,
        })
    }

    fn send(&self, message: Message) {
        tracing::warn!(kind = %message.kind, subject = %message.incident, title = %message.title, "notification");
        let Some(queue) = &self.queue else { return };
        if let Err(error) = queue.try_send(message) {
            let reason = match error {
                mpsc::TrySendError::Full(_) => "queue_full",
                mpsc::TrySendError::Disconnected(_) => "stopped",
            };
            NotificationDropped { reason }.emit(&self.telemetry);
        }
    }
}

/// Delivers until every sender is gone. Channels are tried one after the other: a dead one costs
/// its own timeout only.
fn deliver(
    runtime: &tokio::runtime::Runtime,
    channels: &[Channel],
    inbox: &mpsc::Receiver<Message>,
    telemetry: &Telemetry,
) {
    while let Ok(message) = inbox.recv() {
        for channel in channels {
            let result = runtime.block_on(channel.notifier.send(&message));
            NotificationSent {
                channel: &channel.name,
                kind: &message.kind,
                error: result.err().map(|e| e.to_string()),
            }
            .emit(telemetry);
        }
    }
}

impl ooda_govern::Notifier for Notifications {
    fn notify(&self, notice: &ooda_govern::Notice) {
        let subject = notice
            .action
            .map(|a| a.to_string())
            .or_else(|| notice.host.clone())
            .unwrap_or_default();
        let title = match &notice.host {
            Some(host) => format!("{} on {host}", notice.kind.replace('_', " ")),
            None => notice.kind.replace('_', " "),
        };
        self.send(Message {
            kind: notice.kind.to_owned(),
            incident: subject,
            title,
            text: notice.message.clone(),
        });
    }
}

impl Notify for Notifications {
    fn notify(&self, n: &Notification) {
        if !INCIDENT_KINDS.contains(&n.kind.as_str()) {
            tracing::info!(kind = %n.kind, incident = %n.incident, title = %n.title, "incident notification (log only)");
            return;
        }
        self.send(Message {
            kind: n.kind.clone(),
            incident: n.incident.to_string(),
            title: n.title.clone(),
            text: n.text.clone(),
        });
    }
}
