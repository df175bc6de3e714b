//! Integrations, one folder each, the same file names inside (`mod.rs` wiring, `parse.rs` pure
//! parsing of what the outside sends, `source.rs`/`client.rs` the I/O, `tests.rs`). Each sits
//! behind a cargo feature so a build compiles only what it uses.
//!
//! Sources are read-only: no type in a source folder has a method that changes the world.

#[cfg(feature = "host")]
pub mod host;

#[cfg(feature = "http")]
pub mod http;

#[cfg(feature = "scrape")]
pub mod scrape;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

#[cfg(feature = "prometheus")]
pub mod prometheus;

#[cfg(feature = "anthropic")]
pub mod anthropic;

#[cfg(feature = "openai")]
pub mod openai;

#[cfg(feature = "servicenow")]
pub mod servicenow;

#[cfg(feature = "jira")]
pub mod jira;

#[cfg(any(test, feature = "scripted"))]
pub mod scripted;

#[cfg(feature = "alertmanager")]
pub mod alertmanager;

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "logs")]
pub mod logs;

#[cfg(feature = "loki")]
pub mod loki;

#[cfg(feature = "traces")]
pub mod traces;

#[cfg(feature = "tempo")]
pub mod tempo;

#[cfg(feature = "jaeger")]
pub mod jaeger;

#[cfg(feature = "elasticsearch")]
pub mod elasticsearch;

#[cfg(feature = "logfile")]
pub mod logfile;

#[cfg(feature = "notify")]
pub mod notify;

#[cfg(feature = "awx")]
pub mod awx;
