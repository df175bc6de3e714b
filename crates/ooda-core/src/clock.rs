//! Time is injected. Everything that reads "now" takes a [`Clock`], so the lab and backtests can
//! run on virtual time, deterministically and far faster than real time.
//!
//! Never call `Utc::now()` outside [`SystemClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

/// A point in time, UTC, millisecond precision where it matters.
pub type Timestamp = DateTime<Utc>;

/// The source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;

    /// Milliseconds since the Unix epoch; the unit samples are stored in.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// A clock handle that can be cloned into every component.
pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// A clock that only moves when told to: tests, the lab and backtests.
///
/// Cloning shares the same time, so a test can hold one handle and advance the time that every
/// component sees.
#[derive(Debug, Clone)]
pub struct ManualClock {
    epoch_ms: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            epoch_ms: Arc::new(AtomicI64::new(start.timestamp_millis())),
        }
    }

    /// Starts at the given Unix time in milliseconds.
    pub fn at_ms(epoch_ms: i64) -> Self {
        Self {
            epoch_ms: Arc::new(AtomicI64::new(epoch_ms)),
        }
    }

    /// Moves time forward. Time never goes backwards: a negative step is ignored.
    pub fn advance(&self, by: std::time::Duration) {
        let step = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.epoch_ms.fetch_add(step, Ordering::SeqCst);
    }

    /// Sets the time, if it is not earlier than the current one (clocks are monotonic here).
    pub fn set(&self, to: Timestamp) {
        self.epoch_ms
            .fetch_max(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let ms = self.epoch_ms.load(Ordering::SeqCst);
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    fn now_ms(&self) -> i64 {
        self.epoch_ms.load(Ordering::SeqCst)
    }
}

/// Converts Unix milliseconds into a [`Timestamp`], clamping values chrono cannot represent.
pub fn from_millis(ms: i64) -> Timestamp {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn manual_clock_is_shared_and_monotonic() {
        let clock = ManualClock::at_ms(1_000);
        let other = clock.clone();
        clock.advance(Duration::from_secs(2));
        assert_eq!(other.now_ms(), 3_000);
        other.set(from_millis(500));
        assert_eq!(clock.now_ms(), 3_000, "set never moves time backwards");
        other.set(from_millis(10_000));
        assert_eq!(clock.now().timestamp_millis(), 10_000);
    }

    #[test]
    fn system_clock_moves() {
        let a = SystemClock.now_ms();
        assert!(a > 1_600_000_000_000);
    }
}
