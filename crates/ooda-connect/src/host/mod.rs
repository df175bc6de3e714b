//! This host's metrics from /proc and /sys: CPU by mode, load, memory, swap, disk I/O and
//! utilisation per device, filesystem usage and inodes, network counters per interface, process
//! count and open file descriptors.
//!
//! Counters become per-second rates through [`ooda_core::CounterRate`]; the first round after a
//! start yields gauges only. One unreadable file costs its own metrics, never the round.

pub mod config;
pub mod parse;
pub mod processes;
mod source;

pub use config::HostSourceConfig;
pub use source::{Collection, HostSource};

#[cfg(test)]
mod tests;
