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
