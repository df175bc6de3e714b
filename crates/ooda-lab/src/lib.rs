//! The lab: a simulated fleet on virtual time, with faults drawn from the incident catalogue, run
//! through the real monitoring engine, scored against ooda's claims.
//!
//! Deterministic for a seed: one PRNG per host stream, no wall clock, no hash-map iteration in
//! anything that reaches the output.

pub mod backtest;
pub mod faults;
pub mod fleet;
pub mod patch;
pub mod report;
pub mod respond;
pub mod rng;
pub mod run;
pub mod sandbox;
pub mod scenario;
pub mod scorecard;
pub mod world;

pub use run::{run, Progress};
pub use scenario::{Scenario, ScenarioError};
pub use scorecard::Scorecard;
