//! Counters into rates. Every source that reads monotonic counters (/proc, exposition targets)
//! turns them into per-second rates here, so reset handling is written once.

/// Tracks one counter and yields its per-second rate.
///
/// - The first observation yields nothing (a rate needs two points).
/// - A decrease is a counter reset (process restart, wrap, device re-attach): the rate for that
///   interval is taken as `current / dt`, the increase since the reset, as Prometheus' `rate()`
///   does; it is never negative.
/// - A non-increasing timestamp (duplicate or out-of-order scrape) yields nothing and keeps the
///   previous point.
/// - Non-finite values are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CounterRate {
    last: Option<(i64, f64)>,
}

impl CounterRate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one observation (`time_ms`, `value`); returns the rate per second since the previous
    /// one, when it can be computed.
    pub fn observe(&mut self, time_ms: i64, value: f64) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        let Some((last_time, last_value)) = self.last else {
            self.last = Some((time_ms, value));
            return None;
        };
        if time_ms <= last_time {
            return None;
        }
        self.last = Some((time_ms, value));
        let seconds = (time_ms - last_time) as f64 / 1000.0;
        let increase = if value >= last_value {
            value - last_value
        } else {
            // Reset: everything counted since the reset happened in this interval.
            value.max(0.0)
        };
        Some(increase / seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rate_and_reset() {
        let mut r = CounterRate::new();
        assert_eq!(r.observe(0, 100.0), None);
        assert_eq!(r.observe(10_000, 200.0), Some(10.0));
        assert_eq!(r.observe(20_000, 50.0), Some(5.0), "reset counts from zero");
        assert_eq!(r.observe(20_000, 60.0), None, "same timestamp");
        assert_eq!(r.observe(15_000, 60.0), None, "out of order");
        assert_eq!(r.observe(30_000, f64::NAN), None);
        assert_eq!(r.observe(30_000, 60.0), Some(1.0));
    }

    proptest! {
        #[test]
        fn rates_are_never_negative(points in proptest::collection::vec((0i64..1_000_000, -1e12f64..1e12), 0..64)) {
            let mut r = CounterRate::new();
            for (t, v) in points {
                if let Some(rate) = r.observe(t, v) {
                    prop_assert!(rate >= 0.0 && rate.is_finite());
                }
            }
        }
    }
}
