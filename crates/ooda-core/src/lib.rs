//! The vocabulary every ooda crate shares: identifiers, clocks, hosts, series and samples,
//! severities, alerts and the events that travel on the bus.
//!
//! This crate does no I/O and holds no policy: it only names things, so that pillars which never
//! depend on each other still speak the same language when they meet on the bus.

pub mod action;
pub mod alert;
pub mod clock;
pub mod event;
pub mod host;
pub mod id;
pub mod query;
pub mod rate;
pub mod series;
pub mod severity;
pub mod value;

pub use action::{
    Action, ActionId, ActionKind, ActionRequest, ChangeDraft, ChangeError, ChangeRecords,
    ChangeRef, ChangeStatus, Principal, RiskClass,
};
pub use alert::{Alert, AlertKind, AlertState, Anomaly, Forecast, Saturation};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock, Timestamp};
pub use event::{Event, EventKind, EVENT_SCHEMA_VERSION};
pub use host::{Environment, Host, HostClass};
pub use id::{AlertId, EventId, IncidentId};
pub use rate::CounterRate;
pub use series::{Labels, MetricClass, Sample, SeriesKey};
pub use severity::Severity;
