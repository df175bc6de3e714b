//! Alert routing in `ooda up`: every alert the monitor fuses, and every alert Alertmanager posts
//! to ooda's webhook, passes here in order. Opened alerts are enriched with the log errors of
//! their window (templated, with counts); alerts an Alertmanager silence matches are marked and
//! kept from incident response; then the event goes on the bus (where the store keeps it for
//! `ooda alerts` and incident response picks it up) and ooda's own alerts are pushed to
//! Alertmanager, so teams keep their routing.
//!
//! One task keeps the order: an `alert.updated` never overtakes the `alert.opened` it follows,
//! even while the opened one waits for its log lines.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ooda_bus::MemoryBus;
use ooda_config::EnrichmentConfig;
use ooda_connect::alertmanager::{AlertmanagerClient, SilenceSet};
use ooda_connect::logs::{LogQuery, LogSource};
use ooda_core::alert::EnrichmentLine;
use ooda_core::{Alert, AlertId, AlertState, Event, EventKind, SharedClock};
use ooda_server::Telemetry;
use tokio::sync::{mpsc, watch};

use crate::pipeline::LiveView;

/// The label a silenced alert carries (the silence's id); incident response skips such alerts.
pub const SILENCED_LABEL: &str = "silenced_by";

/// What reaches the router.
#[derive(Debug)]
pub enum Routed {
    Opened(Alert),
    Updated(Alert),
    Resolved(Alert),
}

impl Routed {
    pub fn from_alert(alert: Alert) -> Self {
        match alert.state {
            AlertState::Resolved => Routed::Resolved(alert),
            _ => Routed::Opened(alert),
        }
    }
}

/// The log lines an alert was enriched with, and how many members it had then.
struct Enriched {
    members: usize,
    lines: Vec<EnrichmentLine>,
}

pub struct Router {
    pub bus: MemoryBus,
    pub telemetry: Telemetry,
    pub clock: SharedClock,
    pub live: Arc<LiveView>,
    pub logs: Vec<LogSource>,
    pub enrichment: EnrichmentConfig,
    pub alertmanager: Option<AlertmanagerClient>,
}

/// How often silences are re-read and firing alerts re-pushed (Alertmanager resolves an alert
/// that is not re-sent within its `resolve_timeout`, 5 min by default).
const REFRESH: Duration = Duration::from_secs(60);

impl Router {
    /// Routes until `stop` is set, then routes what is queued and returns.
    pub async fn run(self, mut input: mpsc::Receiver<Routed>, mut stop: watch::Receiver<bool>) {
        let mut silences = SilenceSet::new(Vec::new());
        let mut enriched: HashMap<AlertId, Enriched> = HashMap::new();
        let mut firing: HashMap<String, Alert> = HashMap::new();
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                routed = input.recv() => {
                    let Some(routed) = routed else { return };
                    self.route(routed, &silences, &mut enriched, &mut firing).await;
                }
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    while let Ok(routed) = input.try_recv() {
                        self.route(routed, &silences, &mut enriched, &mut firing).await;
                    }
                    return;
                }
                _ = refresh.tick() => {
                    if let Some(client) = &self.alertmanager {
                        if client.config().honour_silences {
                            match client.silences().await {
                                Ok(set) => silences = set,
                                Err(error) => tracing::warn!(%error, "alertmanager silences not read; keeping the last ones"),
                            }
                        }
                        if client.config().push && !firing.is_empty() {
                            let alerts: Vec<Alert> = firing.values().cloned().collect();
                            self.push(client, &alerts).await;
                        }
                    }
                }
            }
        }
    }

    async fn route(
        &self,
        routed: Routed,
        silences: &SilenceSet,
        enriched: &mut HashMap<AlertId, Enriched>,
        firing: &mut HashMap<String, Alert>,
    ) {
        let (name, mut alert) = match routed {
            Routed::Opened(a) => ("opened", a),
            Routed::Updated(a) => ("updated", a),
            Routed::Resolved(a) => ("resolved", a),
        };
        // Enrichment is read when the alert opens, and again when series join it (a disk that
        // fills after the CPU alarmed has other log lines); other updates carry the same lines.
        if alert.enrichment.is_empty() && name != "resolved" {
            match enriched.get(&alert.id) {
                Some(e) if e.members >= alert.members.len() => {
                    alert.enrichment = e.lines.clone();
                }
                _ => {
                    alert.enrichment = self.enrich(&alert).await;
                    enriched.insert(
                        alert.id,
                        Enriched {
                            members: alert.members.len(),
                            lines: alert.enrichment.clone(),
                        },
                    );
                }
            }
        } else if let Some(e) = enriched.get(&alert.id) {
            if alert.enrichment.is_empty() {
                alert.enrichment = e.lines.clone();
            }
        }
        if let Some(silence) = silences.silences(&alert, self.clock.now()) {
            alert
                .labels
                .insert(SILENCED_LABEL.to_owned(), silence.id.clone());
            self.telemetry.alerts_silenced.inc();
        }
        if name == "resolved" {
            enriched.remove(&alert.id);
            firing.remove(&alert.fingerprint);
        } else {
            firing.insert(alert.fingerprint.clone(), alert.clone());
        }
        self.live.record_alert(&alert);
        tracing::info!(
            host = alert.host.as_deref().unwrap_or("-"),
            severity = %alert.severity,
            fingerprint = %alert.fingerprint,
            enrichment = alert.enrichment.len(),
            silenced = alert.labels.contains_key(SILENCED_LABEL),
            summary = %alert.summary,
            "alert {name}"
        );
        self.telemetry
            .alerts
            .get_or_create(&ooda_server::telemetry::AlertLabels {
                event: name.to_owned(),
                severity: alert.severity.to_string(),
            })
            .inc();
        if let Some(client) = &self.alertmanager {
            if client.config().push && !alert.labels.contains_key(SILENCED_LABEL) {
                self.push(client, std::slice::from_ref(&alert)).await;
            }
        }
        let boxed = Box::new(alert);
        let kind = match name {
            "opened" => EventKind::AlertOpened(boxed),
            "updated" => EventKind::AlertUpdated(boxed),
            _ => EventKind::AlertResolved(boxed),
        };
        crate::agent::publish(
            &self.bus,
            &self.telemetry,
            Event::new(self.clock.now(), "monitor", kind),
        );
    }

    async fn push(&self, client: &AlertmanagerClient, alerts: &[Alert]) {
        match client.push(alerts).await {
            Ok(sent) => {
                self.telemetry.alertmanager_pushed.inc_by(sent as u64);
            }
            Err(error) => {
                self.telemetry.alertmanager_push_errors.inc();
                tracing::warn!(%error, "alerts not pushed to alertmanager");
            }
        }
    }

    /// The top error templates of the alert's host in its window, from every log source at
    /// once; a source that fails or is slow costs its own lines only.
    async fn enrich(&self, alert: &Alert) -> Vec<EnrichmentLine> {
        if self.logs.is_empty() {
            return Vec::new();
        }
        let window = chrono::Duration::from_std(self.enrichment.window.get())
            .unwrap_or_else(|_| chrono::Duration::minutes(15));
        let now = self.clock.now();
        let query = LogQuery {
            host: alert.host.clone(),
            service: alert.labels.get("service").cloned(),
            start: alert.opened_at.min(now) - window,
            end: now,
            limit: 5_000,
            errors_only: true,
        };
        let (mut lines, errors) = ooda_connect::logs::enrichment(
            &self.logs,
            &query,
            self.enrichment.top,
            self.enrichment.timeout.get(),
        )
        .await;
        for error in errors {
            tracing::warn!(%error, "log enrichment source failed");
        }
        lines.truncate(self.enrichment.top);
        lines
    }
}
