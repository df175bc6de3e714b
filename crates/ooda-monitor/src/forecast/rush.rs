//! The fast path of forecasting: a limit approached in minutes, not days.
//!
//! The daily forecaster needs a day of history before it says anything, which is right for a
//! disk that fills over weeks and useless for a process leaking a gigabyte a minute: the OOM
//! killer comes first. This looks at the last few minutes only and speaks when three things
//! hold together, so that a compile job's burst or a cache warming up stays quiet:
//! - the move is steady: nearly every pair of samples moves toward the limit (Kendall's τ);
//! - it is large: a real share of the headroom has gone within the window;
//! - it is close: at the robust (Theil–Sen) rate the limit is reached within the horizon.

use std::collections::VecDeque;

use super::Limit;

/// One point kept per this much series time (the window holds at most 61 points).
const STEP_MS: i64 = 5_000;
/// The trend looked at.
const WINDOW_MS: i64 = 5 * 60_000;
/// Less history than this says nothing (two minutes of a steady climb).
const MIN_SPAN_MS: i64 = 2 * 60_000;
const MIN_POINTS: usize = 12;
/// Share of the headroom (distance to the limit at the window's start) that must be gone.
const MIN_CONSUMED: f64 = 0.10;
/// Kendall's τ toward the limit: 1 is a perfect climb, 0 noise.
const MIN_TAU: f64 = 0.8;
/// Saturation further away than this is the daily forecaster's business.
pub const HORIZON_MS: i64 = 30 * 60_000;
/// Saturation this close is critical.
pub const CRITICAL_MS: i64 = 10 * 60_000;

/// A limit the fast trend reaches soon.
#[derive(Debug, Clone, PartialEq)]
pub struct Rushing {
    pub at_ms: i64,
    /// Per hour, toward the limit's side (negative for free space).
    pub rate_per_hour: f64,
    pub note: String,
}

/// The last few minutes of one series, thinned to one point per [`STEP_MS`].
#[derive(Debug, Clone, Default)]
pub struct Rush {
    points: VecDeque<(i64, f32)>,
}

impl Rush {
    pub fn state_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<(i64, f32)>()
    }

    pub fn observe(&mut self, time_ms: i64, value: f64) {
        if self
            .points
            .back()
            .is_some_and(|(t, _)| time_ms - t < STEP_MS)
        {
            return;
        }
        self.points.push_back((time_ms, value as f32));
        while self
            .points
            .front()
            .is_some_and(|(t, _)| time_ms - t > WINDOW_MS)
        {
            self.points.pop_front();
        }
    }

    /// Whether the limit is being rushed at `now_ms`.
    pub fn check(&self, now_ms: i64, limit: Limit) -> Option<Rushing> {
        let (&(t0, v0), &(t1, v1)) = (self.points.front()?, self.points.back()?);
        // A series that stopped reporting is not trending.
        if self.points.len() < MIN_POINTS || t1 - t0 < MIN_SPAN_MS || now_ms - t1 > 3 * STEP_MS {
            return None;
        }
        let toward = if limit.rising { 1.0 } else { -1.0 };
        let (v0, v1) = (f64::from(v0), f64::from(v1));
        let headroom = (limit.value - v0) * toward;
        let moved = (v1 - v0) * toward;
        // The cheap test first: most series on most rows stop here.
        if headroom <= 0.0 || moved < MIN_CONSUMED * headroom {
            return None;
        }
        let n = self.points.len();
        let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
        let (mut concordant, mut discordant) = (0u32, 0u32);
        for (i, &(ti, vi)) in self.points.iter().enumerate() {
            for &(tj, vj) in self.points.iter().skip(i + 1) {
                let slope = (f64::from(vj) - f64::from(vi)) / (tj - ti) as f64;
                if slope * toward > 0.0 {
                    concordant += 1;
                } else if slope * toward < 0.0 {
                    discordant += 1;
                }
                slopes.push(slope);
            }
        }
        let tau = (f64::from(concordant) - f64::from(discordant)) / slopes.len() as f64;
        if tau < MIN_TAU {
            return None;
        }
        let mid = slopes.len() / 2;
        let (_, &mut slope, _) = slopes.select_nth_unstable_by(mid, f64::total_cmp);
        if slope * toward <= 0.0 {
            return None;
        }
        let left = (limit.value - v1) / slope;
        if !(0.0..=HORIZON_MS as f64).contains(&left) {
            return None;
        }
        let minutes = |ms: f64| ms / 60_000.0;
        Some(Rushing {
            at_ms: t1 + left as i64,
            rate_per_hour: slope * 3_600_000.0,
            note: format!(
                "fast trend: {:.0} % of the headroom gone in {:.1} min, steadily (τ {tau:.2}); \
                 at this rate the limit is reached in {:.1} min",
                100.0 * moved / headroom,
                minutes((t1 - t0) as f64),
                minutes(left)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: Limit = Limit {
        value: 0.0,
        rising: false,
    };

    fn feed(rush: &mut Rush, seconds: i64, value: impl Fn(i64) -> f64) {
        for s in 0..=seconds {
            rush.observe(s * 1000, value(s));
        }
    }

    #[test]
    fn a_steady_leak_is_seen_in_minutes_with_its_time_left() {
        // 20 GB available, losing 25 MB/s: 16.25 GB, about 11 minutes, left after 2.5 minutes.
        let mut rush = Rush::default();
        let gb = 1e9;
        feed(&mut rush, 150, |s| 20.0 * gb - 25e6 * s as f64);
        let r = rush.check(150_000, FREE).expect("a leak");
        let left_min = (r.at_ms - 150_000) as f64 / 60_000.0;
        assert!((10.0..11.5).contains(&left_min), "{left_min}: {}", r.note);
        assert!(r.rate_per_hour < 0.0);
    }

    #[test]
    fn too_little_history_says_nothing() {
        let mut rush = Rush::default();
        feed(&mut rush, 60, |s| 1e9 - 1e7 * s as f64);
        assert_eq!(rush.check(60_000, FREE), None);
    }

    #[test]
    fn a_burst_that_comes_back_is_not_a_trend() {
        // A compile job: 3 GB taken over a minute, given back over the next.
        let mut rush = Rush::default();
        feed(&mut rush, 180, |s| {
            let taken = if s < 60 { s } else { (120 - s).max(0) };
            20e9 - 5e7 * taken as f64
        });
        assert_eq!(rush.check(180_000, FREE), None);
    }

    #[test]
    fn noise_around_a_level_is_not_a_trend() {
        let mut rush = Rush::default();
        feed(&mut rush, 300, |s| {
            10e9 + if s % 2 == 0 { 2e9 } else { -2e9 }
        });
        assert_eq!(rush.check(300_000, FREE), None);
    }

    #[test]
    fn a_slow_fill_is_left_to_the_daily_forecaster() {
        // 1 % of a 100 GB disk a day.
        let mut rush = Rush::default();
        feed(&mut rush, 300, |s| 50e9 - 1e9 / 86_400.0 * s as f64);
        assert_eq!(rush.check(300_000, FREE), None);
    }

    #[test]
    fn a_series_that_stopped_reporting_is_not_rushing() {
        let mut rush = Rush::default();
        feed(&mut rush, 150, |s| 20e9 - 25e6 * s as f64);
        assert!(rush.check(150_000, FREE).is_some());
        assert_eq!(rush.check(150_000 + 60_000, FREE), None);
    }

    #[test]
    fn usage_rising_to_its_ceiling_is_seen_too() {
        let mut rush = Rush::default();
        let ceiling = Limit {
            value: 100.0,
            rising: true,
        };
        feed(&mut rush, 180, |s| 40.0 + 0.1 * s as f64);
        let r = rush.check(180_000, ceiling).expect("rising usage");
        assert!(r.rate_per_hour > 0.0);
    }
}
