//! The value types of the config file live in `ooda_core::value` (every integration's config
//! uses them); re-exported here so `ooda_config::Secret` keeps working.

pub use ooda_core::value::{HttpUrl, ListenAddr, Seconds, Secret, SecretError};
