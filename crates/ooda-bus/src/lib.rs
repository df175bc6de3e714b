//! The bus: every [`Event`] travels here, from producers to consumer groups.
//!
//! Semantics are those of Redis Streams consumer groups, so the Redis implementation can follow
//! without changing callers:
//! - every **group** sees every event published after it was created; within a group, each event
//!   goes to **one** consumer;
//! - delivery is **at least once**: an event stays pending until its consumer acknowledges it,
//!   and is redelivered (to any consumer of the group) once its visibility timeout passes;
//! - consumers are therefore **idempotent** on the event id ([`ooda_store::Store::mark_processed`]).
//!
//! Durable events are also appended to the store by the [`persist`] consumer, so projections can
//! be rebuilt from the log.

pub mod memory;
pub mod persist;

use std::sync::Arc;

use async_trait::async_trait;
use ooda_core::Event;

pub use memory::MemoryBus;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus is closed")]
    Closed,
    #[error("consumer group name {0:?} is invalid: use letters, digits, '-', '_' and '.'")]
    InvalidGroup(String),
    #[error("bus backend: {0}")]
    Backend(String),
}

/// One delivery of one event to one consumer. Acknowledge it with [`Subscription::ack`] once
/// the consumer's effects are durable.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: Arc<Event>,
    /// Position in the stream; the acknowledgement handle.
    pub offset: u64,
    /// 1 on first delivery, more on redelivery.
    pub attempt: u32,
}

/// The publishing side.
#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, event: Event) -> Result<(), BusError>;

    /// Joins consumer `consumer` to `group`, creating the group at the current end of the
    /// stream if it does not exist.
    async fn subscribe(
        &self,
        group: &str,
        consumer: &str,
    ) -> Result<Box<dyn Subscription>, BusError>;
}

/// The consuming side: one consumer in one group.
#[async_trait]
pub trait Subscription: Send {
    /// Waits for the next delivery; `None` once the bus is closed and nothing is left.
    async fn next(&mut self) -> Option<Delivery>;

    /// The next delivery if one is ready now (the lab drives the bus this way on virtual time).
    fn try_next(&mut self) -> Option<Delivery>;

    /// Acknowledges a delivery; it will not be redelivered.
    async fn ack(&mut self, delivery: &Delivery) -> Result<(), BusError>;
}

pub(crate) fn check_group(group: &str) -> Result<(), BusError> {
    let ok = !group.is_empty()
        && group.len() <= 128
        && group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(BusError::InvalidGroup(group.to_owned()))
    }
}
