//! ooda's monitoring engine: contextual baselines, cold start, correlation breaks, precursor
//! fingerprints, fusion, dedup, grouping, inhibition and silences.
//!
//! A pure library: no network, no clock of its own (every call carries its time, so the lab and
//! backtests replay exactly), no randomness. The live pipeline, `ooda detect` and the lab all
//! drive it the same way: rows of samples into a [`HostMonitor`], anomalies into [`Fusion`],
//! alerts into [`Grouper`].

pub mod baseline;
pub mod calendar;
pub mod coldstart;
pub mod config;
pub mod correlation;
pub mod dedup;
pub mod detect;
pub mod engine;
mod error;
pub mod forecast;
pub mod fusion;
pub mod grouping;
pub mod precursor;
pub mod score;
pub mod series;
pub mod stage;

pub use baseline::{Baseline, BaselineParams, DayKind, Expectation};
pub use config::MonitorConfig;
pub use dedup::{Dedup, MemoryDedup};
pub use detect::{detect, DetectOptions, DetectSummary, OutputFormat};
pub use engine::{HostMonitor, Member, RowVerdict};
pub use error::MonitorError;
pub use fusion::{Fusion, FusionEvent};
pub use grouping::Grouper;

pub use score::Level;
pub use stage::Stage;
