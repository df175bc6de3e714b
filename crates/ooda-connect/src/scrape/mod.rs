//! Exposition scrape: Prometheus text 0.0.4 and OpenMetrics from any target (node-exporter,
//! application `/metrics`). Counters become rates through [`ooda_core::CounterRate`]; series that
//! vanish are reported stale; bodies are capped in size and time.
//!
//! The parser ([`parse`]) is pure and never panics; the client only reads.

pub mod classify;
mod client;
mod config;
pub mod parse;

pub use client::{ScrapeError, ScrapeRound, ScrapeStats, Scraper};
pub use config::{ScrapeConfig, DEFAULT_MAX_BODY_BYTES};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod integration_tests;
