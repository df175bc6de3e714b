//! Where ooda keeps what must survive a restart: the event log (projections are rebuilt from it),
//! each series' latest sample, small key/value state, atomic counters (action budgets) and the
//! consumer bookkeeping that makes at-least-once delivery idempotent.
//!
//! [`Store`] is the port; [`sqlite::SqliteStore`] the embedded default. The port is synchronous on
//! purpose: every implementation (SQLite, PostgreSQL through a pooled client) is a blocking
//! client, and async callers wrap calls in `spawn_blocking`. Nothing here may hold a lock across
//! an await.

pub mod data_dir;
pub mod sqlite;

use ooda_core::{Event, EventId, Sample};

pub use data_dir::{AgentLock, DataDir};
pub use sqlite::SqliteStore;

/// Errors of the store. The message names the operation; callers at the API edge mask details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("data directory {path} is in use by another ooda process{pid}; stop it or choose another --data-dir")]
    Locked { path: String, pid: String },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored event {seq} cannot be decoded: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("database schema version {found} is newer than this ooda understands ({known}); upgrade ooda")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("store lock poisoned by a panic in another thread")]
    Poisoned,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An event as stored, with its position in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: u64,
    pub event: Event,
}

/// What `/api/v1/status` reports about collected series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeriesSummary {
    pub series: u64,
    pub last_sample_ms: Option<i64>,
}

/// The persistence port. Every method is atomic on its own.
pub trait Store: Send + Sync {
    /// Appends a durable event. Idempotent on the event id: appending the same event twice keeps
    /// one copy and returns its original position.
    fn append_event(&self, event: &Event) -> Result<u64>;

    /// Events after position `after_seq`, oldest first, at most `limit`.
    fn events_since(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>>;

    /// Events whose type name starts with `prefix` (`alert.`), after `after_seq`, oldest first.
    fn events_named(&self, prefix: &str, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>>;

    /// Number of events in the log.
    fn event_count(&self) -> Result<u64>;

    /// Records the latest value of each series in `samples`.
    fn record_samples(&self, samples: &[Sample]) -> Result<()>;

    /// How many series have been seen and when the newest sample arrived.
    fn series_summary(&self) -> Result<SeriesSummary>;

    /// Reads a small value (cursors, checkpoints, switches).
    fn kv_get(&self, key: &str) -> Result<Option<String>>;

    /// Writes a small value.
    fn kv_put(&self, key: &str, value: &str) -> Result<()>;

    /// Increments counter `key` by one if it is below `limit`, atomically across processes.
    /// Returns the new value, or `None` when the limit was already reached.
    fn increment_bounded(&self, key: &str, limit: u64) -> Result<Option<u64>>;

    /// The current value of counter `key` (0 if never incremented).
    fn counter(&self, key: &str) -> Result<u64>;

    /// Marks `event` processed by `consumer`. Returns `false` if it already was: the consumer
    /// must then skip it (this is what makes at-least-once delivery safe).
    fn mark_processed(&self, consumer: &str, event: EventId) -> Result<bool>;
}
