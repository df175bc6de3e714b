//! Jaeger as a trace source through its query service's HTTP API: `/api/services`,
//! `/api/traces` (search by service and window) and `/api/dependencies` (the service call graph
//! Jaeger aggregates itself).

mod client;
mod config;
#[cfg(any(test, feature = "testkit"))]
pub mod fake;
pub mod parse;

pub use client::JaegerClient;
pub use config::JaegerConfig;

#[cfg(test)]
mod tests;
