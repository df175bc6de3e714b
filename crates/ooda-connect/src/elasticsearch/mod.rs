//! Elasticsearch (and OpenSearch) as a log source: `_search` with the query DSL over an index
//! pattern, ECS field names by default.

mod client;
mod config;
pub mod parse;

pub use client::ElasticsearchClient;
pub use config::ElasticsearchConfig;

#[cfg(test)]
mod tests;
