//! Actuators: the code that changes the world, reachable only through the Gate (they implement
//! [`ooda_govern::Actuator`], whose `execute` needs a token only the Gate can mint).
//!
//! The local actuator runs argv vectors from a fixed table (never a shell string), cleans only
//! allowlisted paths, is idempotent on the Gate's key, and keeps a bounded copy of what the
//! command printed as evidence. systemd units and `ansible-playbook` are rows of that table.

mod local;
pub mod process;
pub mod supervisor;

pub use local::{dir_size, CommandSpec, LocalActuator, LocalConfig};
pub use process::CpuControl;
pub use supervisor::{ServiceSpec, Supervisor};

#[cfg(test)]
mod tests;
