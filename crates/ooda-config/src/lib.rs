//! The configuration file: one TOML document with a `version` key, a closed model (tagged enums,
//! `deny_unknown_fields`), defaults in [`defaults`], secrets only by reference, and a checker
//! that reports every error with its path and what was expected.
//!
//! Loading and checking are the same code path ([`check`]): a file that `ooda config check`
//! accepts is exactly a file `ooda up` runs.

mod check;
pub mod defaults;
mod model;
mod types;

pub use check::{check, check_file, ConfigError, ConfigErrors};
pub use model::{
    ActuatorConfig, BusConfig, ChangesConfig, Config, DedupConfig, EnrichmentConfig,
    ExecutorsConfig, HostSourceConfig, IncidentConfig, LogSourceConfig, MemoryBusConfig,
    NotifyConfig, PagerDutyNotifyConfig, ServerConfig, SlackNotifyConfig, SourceConfig,
    SqliteStoreConfig, StoreConfig, WatchConfig, WatchTransform, WebhookNotifyConfig,
};
pub use types::{HttpUrl, ListenAddr, Seconds, Secret, SecretError};

/// The annotated example configuration `ooda config example` prints.
pub const EXAMPLE: &str = include_str!("example.toml");

/// The configuration version this build reads.
pub const CONFIG_VERSION: u32 = 1;
