//! The monitor's query port: "latest values and bands for host H, series S, window W", and the
//! alerts it raised. Incident evidence and verification ask here instead of sharing the
//! monitor's memory, so an incident worker in another process can ask over the bus or read the
//! store through the same trait. Questions and answers are plain serde data for that reason.

use serde::{Deserialize, Serialize};

use crate::{Alert, AlertId};

/// One question about one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricQuery {
    pub host: String,
    /// Engine series names (`cpu_busy_percent`, `filesystem_free_percent{mountpoint="/"}`);
    /// empty asks for every watched series of the host.
    pub series: Vec<String>,
    /// How far back, from each series' latest sample, the history goes; 0 asks for none.
    pub window_ms: i64,
}

/// What the monitor knows about one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesAnswer {
    pub series: String,
    /// The latest sample: (time in ms, value).
    pub latest: (i64, f64),
    /// The band the detector expected, while one of its alerts fires on the series; `None` when
    /// the monitor saw nothing wrong with it.
    pub band: Option<Band>,
    /// Samples inside the window, oldest first. A monitor may keep history only for some series
    /// (the in-process one keeps capacity series, for fill rates): an empty history is "not kept",
    /// never "flat".
    pub history: Vec<(i64, f64)>,
}

/// Inclusive bounds of a normal value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// Why a query got no answer (the monitor is unreachable, timed out …), as opposed to an empty
/// answer (the monitor watches nothing matching).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("monitor query: {0}")]
pub struct QueryError(pub String);

/// Implemented by the monitor stage in process; a bus or store implementation can follow.
pub trait MonitorQuery: Send + Sync {
    /// The host's watched series matching the query; unknown hosts and series are left out.
    fn metrics(&self, query: &MetricQuery) -> Result<Vec<SeriesAnswer>, QueryError>;
    /// The alert as last routed (open or resolved), if the monitor still remembers it.
    fn alert(&self, id: AlertId) -> Result<Option<Alert>, QueryError>;
}
