//! Loki as a log source: LogQL range queries for an alert's host or service and window.

mod client;
mod config;
pub mod parse;

pub use client::LokiClient;
pub use config::LokiConfig;

#[cfg(test)]
mod tests;
