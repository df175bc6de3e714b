//! Dedup on Redis: ooda-monitor's [`ooda_monitor::Dedup`] port implemented with `SET key NX PX
//! ttl`, so several monitor workers never page twice for one alert. Falls back to local dedup
//! (and says so) when Redis is unreachable.

mod client;
mod config;
mod source;

pub use config::RedisDedupConfig;
pub use source::{DedupChange, DedupHealth, RedisDedup};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod integration_tests;
