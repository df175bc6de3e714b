//! What alerts while a series is too young for its baseline: static limits per class, and a
//! rolling median/MAD detector that catches level shifts from the first hour. Both are dropped
//! when the baseline takes over; the baseline learns all along.

use crate::config::{Direction, LevelShiftConfig, StaticThreshold};
use crate::score::Level;

/// Level and strength (in units of the class's warning z, so it ranks with baseline scores) of a
/// value against a static limit pair.
pub fn static_verdict(
    t: &StaticThreshold,
    x: f64,
    warning_z: f64,
    critical_z: f64,
) -> (Level, f64) {
    let (beyond_warning, beyond_critical, ratio) = match t.direction {
        Direction::Low => (
            x <= t.warning,
            x <= t.critical,
            if x > 0.0 {
                t.warning / x
            } else {
                f64::INFINITY
            },
        ),
        Direction::High | Direction::Both => (
            x >= t.warning,
            x >= t.critical,
            if t.warning > 0.0 { x / t.warning } else { 0.0 },
        ),
    };
    if beyond_critical {
        (Level::Critical, critical_z)
    } else if beyond_warning {
        (Level::Warning, warning_z)
    } else {
        // Below the limit: a strength that approaches the warning threshold as the value does.
        (
            Level::Ok,
            (ratio.clamp(0.0, 1.0) * warning_z * 0.9).max(0.0),
        )
    }
}

/// Rolling median and MAD over the last `window` samples.
#[derive(Debug, Clone)]
pub struct LevelShift {
    ring: Vec<f32>,
    next: usize,
    filled: bool,
    /// The ring's values in `total_cmp` order, kept as samples come and go (a shift of at most
    /// `window` floats per sample), so the median is an index and the MAD a short merge instead
    /// of two selections over a copy of the window on every sample of every young series.
    sorted: Vec<f32>,
}

impl LevelShift {
    pub fn new(window: usize) -> Self {
        Self {
            ring: Vec::with_capacity(window),
            next: 0,
            filled: false,
            sorted: Vec::with_capacity(window),
        }
    }

    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + 4 * (self.ring.capacity() + self.sorted.capacity())
    }

    /// The robust z of `x` against the window (before `x` joins it). `None` until the window is
    /// full, or when the window is constant and no floor is given. `floor` bounds the robust σ
    /// from below (the series' resolution and a fraction of its overall σ).
    pub fn observe(&mut self, x: f64, floor: f64, config: &LevelShiftConfig) -> Option<f64> {
        self.observe_with_median(x, floor, config).map(|(z, _)| z)
    }

    /// [`Self::observe`], with the window's median (what the series was expected to be).
    pub fn observe_with_median(
        &mut self,
        x: f64,
        floor: f64,
        config: &LevelShiftConfig,
    ) -> Option<(f64, f64)> {
        let window = config.window;
        let z = if self.filled {
            let median = f64::from(sorted_median(&self.sorted));
            let mad = f64::from(sorted_mad(&self.sorted, median));
            let sigma = (1.4826 * mad).max(floor);
            (sigma > 0.0).then(|| ((x - median) / sigma, median))
        } else {
            None
        };
        let value = x as f32;
        if self.ring.len() < window {
            self.ring.push(value);
        } else {
            let old = std::mem::replace(&mut self.ring[self.next], value);
            if let Ok(at) = self.sorted.binary_search_by(|v| v.total_cmp(&old)) {
                self.sorted.remove(at);
            }
        }
        let at = self
            .sorted
            .partition_point(|v| v.total_cmp(&value) == std::cmp::Ordering::Less);
        self.sorted.insert(at, value);
        self.next = (self.next + 1) % window;
        self.filled = self.ring.len() == window;
        z
    }
}

/// The median of values in `total_cmp` order; for an even count the mean of the two middle
/// values, so the result is symmetric under negation (scores must not change when a series is
/// flipped).
fn sorted_median(sorted: &[f32]) -> f32 {
    let mid = sorted.len() / 2;
    match (sorted.len() % 2 == 1, mid) {
        (_, 0) => sorted.first().copied().unwrap_or(f32::NAN),
        (true, _) => sorted[mid],
        (false, _) => ((f64::from(sorted[mid - 1]) + f64::from(sorted[mid])) / 2.0) as f32,
    }
}

/// The median absolute deviation from `median` (by the same even-count rule) of values in
/// `total_cmp` order. The deviations fall towards the median and rise after it, so the two
/// runs are merged from the median outwards until the middle rank.
fn sorted_mad(sorted: &[f32], median: f64) -> f32 {
    let n = sorted.len();
    if n == 0 || !median.is_finite() {
        // An infinite median makes some deviations NaN, which have no place in the merge.
        let mut deviations: Vec<f32> = sorted
            .iter()
            .map(|v| (f64::from(*v) - median).abs() as f32)
            .collect();
        deviations.sort_by(f32::total_cmp);
        return sorted_median(&deviations);
    }
    let deviation = |v: f32| (f64::from(v) - median).abs() as f32;
    let split = sorted.partition_point(|v| f64::from(*v) < median);
    // The next deviation on each side (a placeholder once a side is used up; the side checks
    // below decide then). Ties go left: equal deviations are the same number either way.
    let (mut left, mut right) = (split, split);
    let next_left = |left: usize| match left {
        0 => f32::INFINITY,
        l => deviation(sorted[l - 1]),
    };
    let next_right = |right: usize| sorted.get(right).map_or(f32::INFINITY, |v| deviation(*v));
    let (mut from_left, mut from_right) = (next_left(left), next_right(right));
    let mid = n / 2;
    let (mut previous, mut current) = (0.0f32, 0.0f32);
    for _ in 0..=mid {
        previous = current;
        if left > 0 && (from_left <= from_right || right == n) {
            current = from_left;
            left -= 1;
            from_left = next_left(left);
        } else {
            current = from_right;
            right += 1;
            from_right = next_right(right);
        }
    }
    if n % 2 == 1 {
        current
    } else {
        ((f64::from(previous) + f64::from(current)) / 2.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_limits_by_direction() {
        let high = StaticThreshold {
            warning: 90.0,
            critical: 98.0,
            direction: Direction::High,
        };
        assert_eq!(static_verdict(&high, 50.0, 2.8, 4.0).0, Level::Ok);
        assert_eq!(static_verdict(&high, 91.0, 2.8, 4.0).0, Level::Warning);
        assert_eq!(static_verdict(&high, 99.0, 2.8, 4.0).0, Level::Critical);
        let low = StaticThreshold {
            warning: 10.0,
            critical: 5.0,
            direction: Direction::Low,
        };
        assert_eq!(static_verdict(&low, 50.0, 2.8, 4.0).0, Level::Ok);
        assert_eq!(static_verdict(&low, 8.0, 2.8, 4.0).0, Level::Warning);
        assert_eq!(static_verdict(&low, 1.0, 2.8, 4.0).0, Level::Critical);
        assert!(static_verdict(&low, 0.0, 2.8, 4.0).1.is_finite());
    }

    #[test]
    fn level_shift_is_caught() {
        let config = LevelShiftConfig::default();
        let mut d = LevelShift::new(config.window);
        for i in 0..200 {
            let z = d.observe(10.0 + (i % 5) as f64 * 0.1, 0.0, &config);
            if let Some(z) = z {
                assert!(z.abs() < config.warning_z);
            }
        }
        let z = d.observe(20.0, 0.0, &config).expect("window is full");
        assert!(z > config.critical_z, "{z}");
    }

    /// The plain definition the rolling window must agree with, bit for bit: median and MAD by
    /// selection over a copy of the window.
    fn reference(window: &[f32], x: f64, floor: f64) -> Option<f64> {
        fn median_of(values: &mut [f32]) -> f32 {
            let mid = values.len() / 2;
            let odd = values.len() % 2 == 1;
            let (low, m, _) = values.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
            let upper = *m;
            if odd {
                return upper;
            }
            let lower = low.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            ((f64::from(lower) + f64::from(upper)) / 2.0) as f32
        }
        let mut scratch = window.to_vec();
        let median = f64::from(median_of(&mut scratch));
        for v in scratch.iter_mut() {
            *v = (f64::from(*v) - median).abs() as f32;
        }
        let mad = f64::from(median_of(&mut scratch));
        let sigma = (1.4826 * mad).max(floor);
        (sigma > 0.0).then(|| (x - median) / sigma)
    }

    /// Ties (the small integers), mixed signs and infinities are where a merge would go wrong.
    fn samples() -> impl proptest::strategy::Strategy<Value = Vec<f64>> {
        use proptest::strategy::Strategy;
        proptest::collection::vec(
            proptest::prop_oneof![
                8 => -1e3f64..1e3,
                8 => (-4i32..4).prop_map(f64::from),
                // Beyond f32: infinite in the window.
                1 => -1e40f64..1e40,
            ],
            1..300,
        )
    }

    proptest::proptest! {
        #[test]
        fn the_rolling_window_matches_selection_over_a_copy(
            values in samples(),
            window in 8usize..40,
        ) {
            let config = LevelShiftConfig { window, ..LevelShiftConfig::default() };
            let mut d = LevelShift::new(window);
            let mut recent: std::collections::VecDeque<f32> = std::collections::VecDeque::new();
            for &x in &values {
                let expected = (recent.len() == window)
                    .then(|| reference(recent.make_contiguous(), x, 0.0))
                    .flatten();
                let got = d.observe(x, 0.0, &config);
                proptest::prop_assert_eq!(got.map(f64::to_bits), expected.map(f64::to_bits));
                recent.push_back(x as f32);
                if recent.len() > window {
                    recent.pop_front();
                }
            }
        }
    }

    #[test]
    fn constant_window_without_floor_is_silent() {
        let config = LevelShiftConfig::default();
        let mut d = LevelShift::new(config.window);
        for _ in 0..100 {
            assert_eq!(d.observe(3.0, 0.0, &config), None);
        }
    }
}
