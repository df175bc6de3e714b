//! Events are facts: everything that happens in ooda is one [`Event`] on the bus. The store keeps
//! the durable ones so projections can be rebuilt.
//!
//! The wire form is JSON with a `schema` version; a consumer that meets a newer schema than it
//! knows must refuse loudly rather than guess.

use serde::{Deserialize, Serialize};

use crate::{Alert, AlertId, EventId, IncidentId, Sample, Severity, Timestamp};

/// The version of the event encoding. Bump on any incompatible change to [`EventKind`].
pub const EVENT_SCHEMA_VERSION: u16 = 1;

/// One fact on the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub schema: u16,
    pub time: Timestamp,
    /// The component that emitted it (`source/host`, `monitor`, `gate` …).
    pub origin: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    pub fn new(time: Timestamp, origin: impl Into<String>, kind: EventKind) -> Self {
        Self {
            id: EventId::new(),
            schema: EVENT_SCHEMA_VERSION,
            time,
            origin: origin.into(),
            kind,
        }
    }

    /// The dotted name of the event type (`alert.opened`).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// What happened. Closed: adding a fact means adding a variant here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventKind {
    /// The agent started. `recovered` is set when the previous run did not stop cleanly
    /// (killed, crashed, power loss).
    #[serde(rename = "agent.started")]
    AgentStarted {
        version: String,
        pid: u32,
        #[serde(default)]
        recovered: bool,
    },
    /// The agent stopped cleanly.
    #[serde(rename = "agent.stopped")]
    AgentStopped { reason: String },
    /// A batch of samples from one collection round of one source.
    #[serde(rename = "samples")]
    Samples {
        source: String,
        samples: Vec<Sample>,
    },
    /// A source's collection succeeded or failed.
    #[serde(rename = "source.health")]
    SourceHealth {
        source: String,
        ok: bool,
        error: Option<String>,
    },
    #[serde(rename = "alert.opened")]
    AlertOpened(Box<Alert>),
    #[serde(rename = "alert.updated")]
    AlertUpdated(Box<Alert>),
    #[serde(rename = "alert.resolved")]
    AlertResolved(Box<Alert>),
    /// Scrape these hosts more often for a while (the patch pillar asks during changes).
    #[serde(rename = "monitoring.intensify")]
    MonitoringIntensify {
        hosts: Vec<String>,
        interval_secs: u64,
        duration_secs: u64,
    },
    /// ooda itself is degraded (invalid policy reload, lost dependency …).
    #[serde(rename = "self.alert")]
    SelfAlert {
        component: String,
        severity: Severity,
        message: String,
    },
    /// An incident moved in its lifecycle (`open`, `triaged`, … `closed`; states by name so the
    /// vocabulary does not depend on the incident crate).
    #[serde(rename = "incident.transition")]
    IncidentTransition {
        incident: IncidentId,
        from: String,
        to: String,
        reason: String,
    },
    /// An alert was attached to an incident (a new one or one already open on the host).
    #[serde(rename = "incident.alert_attached")]
    IncidentAlertAttached {
        incident: IncidentId,
        alert: AlertId,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::AgentStarted { .. } => "agent.started",
            EventKind::AgentStopped { .. } => "agent.stopped",
            EventKind::Samples { .. } => "samples",
            EventKind::SourceHealth { .. } => "source.health",
            EventKind::AlertOpened(_) => "alert.opened",
            EventKind::AlertUpdated(_) => "alert.updated",
            EventKind::AlertResolved(_) => "alert.resolved",
            EventKind::MonitoringIntensify { .. } => "monitoring.intensify",
            EventKind::SelfAlert { .. } => "self.alert",
            EventKind::IncidentTransition { .. } => "incident.transition",
            EventKind::IncidentAlertAttached { .. } => "incident.alert_attached",
        }
    }

    /// Whether the event is a fact worth keeping in the store's event log.
    ///
    /// Sample batches are telemetry: they flow on the bus to the detectors, and the store keeps
    /// only each series' latest value; logging every batch would grow the event log by the
    /// fleet's sample rate for no projection that needs it.
    pub fn is_durable(&self) -> bool {
        !matches!(self, EventKind::Samples { .. })
    }
}

/// Convenience for code that checks `time` ordering.
pub fn event_time(event: &Event) -> Timestamp {
    event.time
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_millis;
    use crate::{Labels, SeriesKey};

    #[test]
    fn events_round_trip_through_json() {
        let sample = Sample {
            series: SeriesKey::new("node_load1", Labels::new().with("host", "a")),
            time_ms: 1_700_000_000_000,
            value: 0.5,
        };
        let event = Event::new(
            from_millis(1_700_000_000_000),
            "source/host",
            EventKind::Samples {
                source: "host".into(),
                samples: vec![sample],
            },
        );
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#""type":"samples""#), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert!(!event.kind.is_durable());
    }

    #[test]
    fn unknown_event_types_are_rejected() {
        let json = r#"{"id":"0190a0f0-0000-7000-8000-000000000000","schema":1,"time":"2024-01-01T00:00:00Z","origin":"x","type":"nope","data":{}}"#;
        assert!(serde_json::from_str::<Event>(json).is_err());
    }
}
