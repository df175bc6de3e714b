//! ooda's own metrics. One struct, one registry: every component that counts something holds a
//! clone of [`Telemetry`] and updates the metric next to the log line that reports the same fact.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub event: String,
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `executed`, `parked`, `refused`.
    pub outcome: String,
    /// The refusal code (`kill_switch`, `autonomy`, `policy` …); empty unless refused.
    pub refusal: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub kind: String,
    /// `succeeded`, `failed`, `not_run`, `unknown`.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    pub channel: String,
    /// `sent`, `failed`, or why it was dropped before delivery (`queue_full`, `stopped`).
    pub outcome: String,
}

/// Handles to every metric ooda exports about itself.
#[derive(Clone)]
pub struct Telemetry {
    registry: Arc<Registry>,
    pub samples: Family<SourceLabels, Counter>,
    pub collections: Family<SourceLabels, Counter>,
    pub collection_errors: Family<SourceLabels, Counter>,
    pub series: Gauge,
    pub events_published: Family<EventLabels, Counter>,
    pub bus_dropped: Gauge,
    pub uptime_seconds: Gauge,
    pub alerts: Family<AlertLabels, Counter>,
    pub watched_series: Gauge,
    /// Alerts an Alertmanager silence matched (kept from incident response).
    pub alerts_silenced: Counter,
    /// Alerts received on the Alertmanager webhook.
    pub alerts_received: Counter,
    pub alertmanager_pushed: Counter,
    pub alertmanager_push_errors: Counter,
    /// Seconds from a sample batch's collection to the end of its scoring.
    pub monitor_lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// 1 while alert dedup runs on local claims because Redis is unreachable.
    pub dedup_local: Gauge,
    /// Alerts incident response handled.
    pub incident_alerts: Counter,
    /// Gate decisions, by outcome and refusal code ([`GateDecided`]).
    pub gate_decisions: Family<DecisionLabels, Counter>,
    /// Actions the Gate ran, by kind and status ([`ActionCompleted`]).
    pub actions: Family<ActionLabels, Counter>,
    /// LLM reasoner investigations that fell back to the built-in reasoner ([`ReasonerFellBack`]).
    pub reasoner_fallbacks: Counter,
    /// Notification deliveries, by channel and outcome ([`NotificationSent`]).
    pub notifications: Family<NotificationLabels, Counter>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

impl Telemetry {
    pub fn new(version: &str) -> Self {
        let mut registry = Registry::with_prefix("ooda");
        let samples = Family::<SourceLabels, Counter>::default();
        let collections = Family::<SourceLabels, Counter>::default();
        let collection_errors = Family::<SourceLabels, Counter>::default();
        let series = Gauge::default();
        let events_published = Family::<EventLabels, Counter>::default();
        let bus_dropped = Gauge::default();
        let uptime_seconds = Gauge::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let watched_series = Gauge::default();
        let alerts_silenced = Counter::default();
        let alerts_received = Counter::default();
        let alertmanager_pushed = Counter::default();
        let alertmanager_push_errors = Counter::default();
        let monitor_lag_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let dedup_local = Gauge::default();
        let incident_alerts = Counter::default();
        let gate_decisions = Family::<DecisionLabels, Counter>::default();
        let actions = Family::<ActionLabels, Counter>::default();
        let reasoner_fallbacks = Counter::default();
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "gate_decisions",
            "Gate decisions, by outcome (executed, parked, refused) and refusal code",
            gate_decisions.clone(),
        );
        registry.register(
            "actions",
            "Actions the Gate ran, by kind and status",
            actions.clone(),
        );
        registry.register(
            "reasoner_fallbacks",
            "LLM reasoner investigations that fell back to the built-in reasoner",
            reasoner_fallbacks.clone(),
        );
        registry.register(
            "notifications",
            "Notification deliveries, by channel and outcome",
            notifications.clone(),
        );
        registry.register(
            "alerts_silenced",
            "Alerts matched by an Alertmanager silence (not handed to incident response)",
            alerts_silenced.clone(),
        );
        registry.register(
            "alerts_received",
            "Alerts received on the Alertmanager webhook",
            alerts_received.clone(),
        );
        registry.register(
            "alertmanager_pushed",
            "Alerts pushed to Alertmanager",
            alertmanager_pushed.clone(),
        );
        registry.register(
            "alertmanager_push_errors",
            "Failed pushes to Alertmanager",
            alertmanager_push_errors.clone(),
        );
        registry.register(
            "monitor_lag_seconds",
            "Seconds from the last sample batch's collection to the end of its scoring",
            monitor_lag_seconds.clone(),
        );
        registry.register(
            "dedup_local",
            "1 while alert dedup runs on local claims because Redis is unreachable",
            dedup_local.clone(),
        );
        registry.register(
            "incident_alerts",
            "Alert events handled by incident response",
            incident_alerts.clone(),
        );
        registry.register(
            "alerts",
            "Alert events routed, by event (opened, updated, resolved) and severity",
            alerts.clone(),
        );
        registry.register(
            "watched_series",
            "Series the monitoring engine scores",
            watched_series.clone(),
        );
        registry.register(
            "build",
            "ooda build information",
            Info::new(vec![("version".to_owned(), version.to_owned())]),
        );
        registry.register("samples", "Samples collected, by source", samples.clone());
        registry.register(
            "source_collections",
            "Collection rounds run, by source",
            collections.clone(),
        );
        registry.register(
            "source_errors",
            "Collection rounds with at least one error, by source",
            collection_errors.clone(),
        );
        registry.register("series", "Series known to the store", series.clone());
        registry.register(
            "bus_events_published",
            "Events published on the bus, by type",
            events_published.clone(),
        );
        registry.register(
            "bus_dropped_events",
            "Events dropped because a consumer group fell behind the bus capacity",
            bus_dropped.clone(),
        );
        registry.register(
            "uptime_seconds",
            "Seconds since the agent started",
            uptime_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            samples,
            collections,
            collection_errors,
            series,
            events_published,
            bus_dropped,
            uptime_seconds,
            alerts,
            watched_series,
            alerts_silenced,
            alerts_received,
            alertmanager_pushed,
            alertmanager_push_errors,
            monitor_lag_seconds,
            dedup_local,
            incident_alerts,
            gate_decisions,
            actions,
            reasoner_fallbacks,
            notifications,
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn source(&self, source: &str) -> SourceLabels {
        SourceLabels {
            source: source.to_owned(),
        }
    }
}

// Internal events (Vector's `internal_events` pattern): each fact ooda counts about itself is one
// named struct whose `emit` writes the structured log event and updates the metric together, so
// the log and `/metrics` cannot disagree and every call site counts the same way.

/// The Gate decided on a request.
#[derive(Debug)]
pub struct GateDecided<'a> {
    pub action: &'a str,
    pub kind: &'a str,
    pub host: &'a str,
    /// `executed`, `parked`, `refused`.
    pub outcome: &'static str,
    /// The refusal code when refused.
    pub refusal: Option<&'static str>,
}

impl GateDecided<'_> {
    pub fn emit(self, telemetry: &Telemetry) {
        tracing::info!(
            event = "gate_decided",
            action = self.action,
            kind = self.kind,
            host = self.host,
            outcome = self.outcome,
            refusal = self.refusal.unwrap_or(""),
            "gate decision"
        );
        telemetry
            .gate_decisions
            .get_or_create(&DecisionLabels {
                outcome: self.outcome.to_owned(),
                refusal: self.refusal.unwrap_or("").to_owned(),
            })
            .inc();
    }
}

/// An action the Gate let through finished (or was reconciled after a crash).
#[derive(Debug)]
pub struct ActionCompleted<'a> {
    pub action: &'a str,
    pub kind: &'a str,
    pub host: &'a str,
    pub status: &'static str,
    pub change: Option<&'a str>,
}

impl ActionCompleted<'_> {
    pub fn emit(self, telemetry: &Telemetry) {
        tracing::info!(
            event = "action_completed",
            action = self.action,
            kind = self.kind,
            host = self.host,
            status = self.status,
            change = self.change.unwrap_or(""),
            "action completed"
        );
        telemetry
            .actions
            .get_or_create(&ActionLabels {
                kind: self.kind.to_owned(),
                status: self.status.to_owned(),
            })
            .inc();
    }
}

/// The LLM reasoner fell back to the built-in one.
#[derive(Debug)]
pub struct ReasonerFellBack<'a> {
    pub message: &'a str,
}

impl ReasonerFellBack<'_> {
    pub fn emit(self, telemetry: &Telemetry) {
        tracing::warn!(
            event = "reasoner_fell_back",
            message = self.message,
            "reasoner fell back"
        );
        telemetry.reasoner_fallbacks.inc();
    }
}

/// One delivery to one notification channel.
#[derive(Debug)]
pub struct NotificationSent<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub error: Option<String>,
}

impl NotificationSent<'_> {
    pub fn emit(self, telemetry: &Telemetry) {
        let outcome = match &self.error {
            None => {
                tracing::info!(
                    event = "notification_sent",
                    channel = self.channel,
                    kind = self.kind,
                    "notification delivered"
                );
                "sent"
            }
            Some(error) => {
                tracing::warn!(event = "notification_failed", channel = self.channel, kind = self.kind, %error, "notification not delivered");
                "failed"
            }
        };
        telemetry
            .notifications
            .get_or_create(&NotificationLabels {
                channel: self.channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// A notice dropped before delivery.
#[derive(Debug)]
pub struct NotificationDropped {
    /// `queue_full`, `stopped`.
    pub reason: &'static str,
}

impl NotificationDropped {
    pub fn emit(self, telemetry: &Telemetry) {
        tracing::warn!(
            event = "notification_dropped",
            reason = self.reason,
            "notification dropped"
        );
        telemetry
            .notifications
            .get_or_create(&NotificationLabels {
                channel: String::new(),
                outcome: self.reason.to_owned(),
            })
            .inc();
    }
}

/// The Gate reports every decision here: `/metrics` and the log hear it from one place.
impl ooda_govern::gate::DecisionObserver for Telemetry {
    fn decided(&self, request: &ooda_core::ActionRequest, decision: &ooda_govern::Decision) {
        let action = request.id.to_string();
        let (outcome, refusal) = match decision {
            ooda_govern::Decision::Executed { .. } => ("executed", None),
            ooda_govern::Decision::Parked { .. } => ("parked", None),
            ooda_govern::Decision::Refused(refusal) => ("refused", Some(refusal.code())),
        };
        GateDecided {
            action: &action,
            kind: request.kind().as_str(),
            host: &request.host.name,
            outcome,
            refusal,
        }
        .emit(self);
        if let ooda_govern::Decision::Executed { status, change, .. } = decision {
            ActionCompleted {
                action: &action,
                kind: request.kind().as_str(),
                host: &request.host.name,
                status: status.as_str(),
                change: change.as_ref().map(|c| c.number.as_str()),
            }
            .emit(self);
        }
    }
}
