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
    scratch: Vec<f32>,
}

impl LevelShift {
    pub fn new(window: usize) -> Self {
        Self {
            ring: Vec::with_capacity(window),
            next: 0,
            filled: false,
            scratch: Vec::with_capacity(window),
        }
    }

    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + 4 * (self.ring.capacity() + self.scratch.capacity())
    }

    /// The robust z of `x` against the window (before `x` joins it). `None` until the window is
    /// full, or when the window is constant and no floor is given. `floor` bounds the robust σ
    /// from below (the series' resolution and a fraction of its overall σ).
    pub fn observe(&mut self, x: f64, floor: f64, config: &LevelShiftConfig) -> Option<f64> {
        let window = config.window;
        let z = if self.filled {
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.ring);
            let median = f64::from(median_of(&mut self.scratch));
            for v in self.scratch.iter_mut() {
                *v = (f64::from(*v) - median).abs() as f32;
            }
            let mad = f64::from(median_of(&mut self.scratch));
            let sigma = (1.4826 * mad).max(floor);
            (sigma > 0.0).then(|| (x - median) / sigma)
        } else {
            None
        };
        if self.ring.len() < window {
            self.ring.push(x as f32);
        } else {
            self.ring[self.next] = x as f32;
        }
        self.next = (self.next + 1) % window;
        self.filled = self.ring.len() == window;
        z
    }
}

/// The median; for an even count the mean of the two middle values, so the result is symmetric
/// under negation (scores must not change when a series is flipped).
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

    #[test]
    fn constant_window_without_floor_is_silent() {
        let config = LevelShiftConfig::default();
        let mut d = LevelShift::new(config.window);
        for _ in 0..100 {
            assert_eq!(d.observe(3.0, 0.0, &config), None);
        }
    }
}
