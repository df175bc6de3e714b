//! ooda's runtime as a library: [`Agent::build`] opens the data directory once and
//! [`Agent::run`] runs sources, monitor, alert routing, incident response, the rollout scheduler
//! and the HTTP API.
//! `ooda up` is a thin call into it; nothing here parses command lines or prints.

mod agent;
pub mod changes;
pub mod executors;
pub mod notifications;
pub mod patch;
pub mod pipeline;
pub mod respond;
pub mod route;
pub mod sources;

pub use agent::{open_home, Agent, Running};
