//! Local logs for the embedded default: tails of plain files and journald via
//! `journalctl -o json`.

mod config;
pub mod parse;
mod source;

pub use config::LogFileConfig;
pub use source::LogFileSource;

#[cfg(test)]
mod tests;
