//! The in-process bus: a bounded log shared by consumer groups, with pending lists and
//! redelivery after a visibility timeout. Nothing survives the process; the durable facts are in
//! the store (see [`crate::persist`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ooda_core::{Event, SharedClock};
use tokio::sync::Notify;

use crate::{check_group, Bus, BusError, Delivery, Subscription};

/// Tunables of the in-process bus.
#[derive(Debug, Clone)]
pub struct MemoryBusOptions {
    /// How long a delivery may stay unacknowledged before it is handed out again.
    pub visibility_timeout: Duration,
    /// Most events kept for slow groups; beyond it the oldest are dropped and counted.
    pub capacity: usize,
}

impl Default for MemoryBusOptions {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            capacity: 100_000,
        }
    }
}

#[derive(Debug)]
struct Pending {
    delivered_ms: i64,
    attempt: u32,
}

#[derive(Debug, Default)]
struct Group {
    next_offset: u64,
    pending: BTreeMap<u64, Pending>,
}

#[derive(Debug, Default)]
struct State {
    /// Offset of `log[0]`.
    base: u64,
    log: VecDeque<Arc<Event>>,
    groups: HashMap<String, Group>,
    closed: bool,
    dropped: u64,
}

impl State {
    fn end(&self) -> u64 {
        self.base + self.log.len() as u64
    }

    /// Drops the prefix no group needs any more, and beyond capacity the oldest regardless.
    fn trim(&mut self, capacity: usize) {
        let needed = self
            .groups
            .values()
            .map(|g| {
                g.pending
                    .keys()
                    .next()
                    .copied()
                    .unwrap_or(g.next_offset)
                    .min(g.next_offset)
            })
            .min()
            .unwrap_or(self.end());
        while self.base < needed && !self.log.is_empty() {
            self.log.pop_front();
            self.base += 1;
        }
        while self.log.len() > capacity {
            self.log.pop_front();
            self.base += 1;
            self.dropped += 1;
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub struct MemoryBus {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
    clock: SharedClock,
    options: MemoryBusOptions,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBus").finish_non_exhaustive()
    }
}

impl MemoryBus {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_options(clock, MemoryBusOptions::default())
    }

    pub fn with_options(clock: SharedClock, options: MemoryBusOptions) -> Self {
        Self {
            state: Arc::default(),
            notify: Arc::new(Notify::new()),
            clock,
            options,
        }
    }

    /// Publishes without awaiting (the in-process bus never blocks on publish).
    pub fn publish_now(&self, event: Event) -> Result<(), BusError> {
        {
            let mut state = self.state.lock().map_err(|_| BusError::Closed)?;
            if state.closed {
                return Err(BusError::Closed);
            }
            state.log.push_back(Arc::new(event));
            let capacity = self.options.capacity;
            state.trim(capacity);
        }
        self.notify.notify_waiters();
        Ok(())
    }

    /// Stops the bus: publishers get [`BusError::Closed`]; consumers drain what is left.
    pub fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
        }
        self.notify.notify_waiters();
    }

    /// Events dropped because a group fell more than `capacity` behind.
    pub fn dropped(&self) -> u64 {
        self.state.lock().map(|s| s.dropped).unwrap_or(0)
    }

    /// Unacknowledged deliveries of `group`.
    pub fn pending(&self, group: &str) -> usize {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.groups.get(group).map(|g| g.pending.len()))
            .unwrap_or(0)
    }

    /// Joins a group synchronously (the lab's entry point).
    pub fn subscribe_now(
        &self,
        group: &str,
        consumer: &str,
    ) -> Result<MemorySubscription, BusError> {
        check_group(group)?;
        let mut state = self.state.lock().map_err(|_| BusError::Closed)?;
        let end = state.end();
        state.groups.entry(group.to_owned()).or_insert(Group {
            next_offset: end,
            pending: BTreeMap::new(),
        });
        Ok(MemorySubscription {
            bus: self.clone(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
        })
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        self.publish_now(event)
    }

    async fn subscribe(
        &self,
        group: &str,
        consumer: &str,
    ) -> Result<Box<dyn Subscription>, BusError> {
        Ok(Box::new(self.subscribe_now(group, consumer)?))
    }
}

/// One consumer of one group on a [`MemoryBus`].
#[derive(Debug)]
pub struct MemorySubscription {
    bus: MemoryBus,
    group: String,
    #[allow(dead_code)] // kept for logs and parity with Redis consumer names
    consumer: String,
}

impl MemorySubscription {
    fn take(&mut self) -> Option<Delivery> {
        let now = self.bus.clock.now_ms();
        let timeout = self.bus.options.visibility_timeout.as_millis() as i64;
        let mut state = self.bus.state.lock().ok()?;
        let State {
            groups, base, log, ..
        } = &mut *state;
        let group = groups.get_mut(&self.group)?;
        // Expired deliveries first, oldest first: a crashed consumer's work is not starved.
        let expired = group
            .pending
            .iter()
            .find(|(_, p)| now - p.delivered_ms >= timeout)
            .map(|(o, _)| *o);
        if let Some(offset) = expired {
            let event = offset
                .checked_sub(*base)
                .and_then(|i| log.get(i as usize))
                .cloned();
            let Some(event) = event else {
                // Trimmed away by capacity: it cannot be redelivered.
                group.pending.remove(&offset);
                return None;
            };
            let pending = group.pending.get_mut(&offset)?;
            pending.delivered_ms = now;
            pending.attempt += 1;
            return Some(Delivery {
                event,
                offset,
                attempt: pending.attempt,
            });
        }
        let offset = group.next_offset.max(*base);
        let event = offset
            .checked_sub(*base)
            .and_then(|i| log.get(i as usize))
            .cloned()?;
        group.next_offset = offset + 1;
        group.pending.insert(
            offset,
            Pending {
                delivered_ms: now,
                attempt: 1,
            },
        );
        Some(Delivery {
            event,
            offset,
            attempt: 1,
        })
    }

    fn is_closed_and_drained(&self) -> bool {
        let Ok(state) = self.bus.state.lock() else {
            return true;
        };
        if !state.closed {
            return false;
        }
        state
            .groups
            .get(&self.group)
            .map(|g| g.next_offset >= state.end() && g.pending.is_empty())
            .unwrap_or(true)
    }

    /// Acknowledges synchronously.
    pub fn ack_now(&mut self, delivery: &Delivery) {
        if let Ok(mut state) = self.bus.state.lock() {
            if let Some(group) = state.groups.get_mut(&self.group) {
                group.pending.remove(&delivery.offset);
            }
            let capacity = self.bus.options.capacity;
            state.trim(capacity);
        }
    }
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            let notify = self.bus.notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(delivery) = self.take() {
                return Some(delivery);
            }
            if self.is_closed_and_drained() {
                return None;
            }
            // Wake on a publish, or periodically to pick up expired deliveries.
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
        }
    }

    fn try_next(&mut self) -> Option<Delivery> {
        self.take()
    }

    async fn ack(&mut self, delivery: &Delivery) -> Result<(), BusError> {
        self.ack_now(delivery);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
