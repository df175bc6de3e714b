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
