//! Grafana Tempo as a trace source: TraceQL search (`/api/search`), traces by id
//! (`/api/traces/{id}`, OTLP JSON), the call graph learnt from them, and the spans worth citing.

mod client;
mod config;
#[cfg(any(test, feature = "testkit"))]
pub mod fake;
pub mod parse;

pub use client::TempoClient;
pub use config::TempoConfig;

#[cfg(test)]
mod tests;
