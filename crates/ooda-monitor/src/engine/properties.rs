//! The engine's behaviour on series no one tuned it to (issue 19's "must show"): periodic series
//! without an anomaly are quiet after their second day, a step alerts once and is then learned,
//! a 10× spike alerts at once. Default configuration throughout; steps from 10 s to 5 min.

use super::*;
use proptest::prelude::*;

const DAY_MS: i64 = 86_400_000;
/// 2026-01-05T00:00:00Z, a Monday.
const START: i64 = 1_767_571_200_000;

/// splitmix64 → a standard normal, so the tests are deterministic per case.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        let mut u = [0.0f64; 2];
        for slot in &mut u {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *slot = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
        }
        (-2.0 * u[0].max(1e-12).ln()).sqrt() * (std::f64::consts::TAU * u[1]).cos()
    }
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Sine,
    /// High from `at` hours to `at + 12` (at may be on a half hour).
    Square {
        at: f64,
    },
    /// Ramp up over the day, drop at midnight.
    Saw,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Sine),
        (0u32..48).prop_map(|h| Shape::Square {
            at: f64::from(h) / 2.0 % 12.0
        }),
        Just(Shape::Saw),
    ]
}

fn periodic(shape: Shape, t: i64) -> f64 {
    let day = t.rem_euclid(DAY_MS) as f64 / DAY_MS as f64;
    match shape {
        Shape::Sine => (std::f64::consts::TAU * day).sin(),
        Shape::Square { at } => {
            let hour = day * 24.0;
            if hour >= at && hour < at + 12.0 {
                1.0
            } else {
                -1.0
            }
        }
        Shape::Saw => 2.0 * day - 1.0,
    }
}

fn names(width: usize) -> Vec<String> {
    (0..width).map(|i| format!("m{i}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn a_periodic_series_without_anomaly_is_quiet_after_its_second_day(
        shape in shape(),
        step_s in prop_oneof![Just(60i64), Just(300)],
        amplitude in 1.0f64..100.0,
        offset in 0.0f64..1000.0,
        noise in prop_oneof![Just(0.0), 0.0f64..0.02],
        seed in any::<u64>(),
    ) {
        // One series: phase-shifted discontinuous series on one host break their linear
        // relations at every discontinuity, which the correlation detector does report.
        let width = 1;
        let config = MonitorConfig::default();
        let mut host = HostMonitor::new("h", names(width), &config);
        let mut rng = Noise(seed);
        let step = step_s * 1000;
        let mut row = vec![None; width];
        let mut t = START;
        while t < START + 7 * DAY_MS {
            for (i, slot) in row.iter_mut().enumerate() {
                let base = offset + amplitude * periodic(shape, t + i as i64 * 3_600_000);
                *slot = Some(base + noise * amplitude * rng.next());
            }
            let v = host.observe_row(t, &row);
            if t >= START + 2 * DAY_MS {
                prop_assert_eq!(v.level, Level::Ok, "day {:.2}: {:?}", (t - START) as f64 / DAY_MS as f64, v);
            }
            t += step;
        }
    }

    #[test]
    fn a_step_change_alerts_once_then_is_learned(
        step_s in prop_oneof![Just(60i64), Just(300)],
        amplitude in 1.0f64..100.0,
        offset in 0.0f64..1000.0,
        // In daily amplitudes. A step the size of the daily swing is not caught in the first
        // week yet: a young hour bucket's spread borrows from the series' overall spread, which
        // includes the swing (see BENCHMARKS.md, issue 19).
        size in 3.0f64..6.0,
        up in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let config = MonitorConfig::default();
        let mut host = HostMonitor::new("h", names(1), &config);
        let mut rng = Noise(seed);
        let step = step_s * 1000;
        let change = START + 5 * DAY_MS + 7 * 3_600_000;
        let shift = if up { size } else { -size } * amplitude;
        let (mut t, mut was_ok, mut opened, mut first_alert) = (START, true, 0, None);
        while t < START + 9 * DAY_MS {
            let mut x = offset + amplitude * periodic(Shape::Sine, t) + 0.01 * amplitude * rng.next();
            if t >= change {
                x += shift;
            }
            let v = host.observe_row(t, &[Some(x)]);
            if t >= START + 2 * DAY_MS && t < change {
                prop_assert_eq!(v.level, Level::Ok, "before the change: {:?}", v);
            }
            if t >= change {
                if was_ok && v.level > Level::Ok {
                    opened += 1;
                    first_alert.get_or_insert(t);
                }
                if t >= change + DAY_MS {
                    prop_assert_eq!(v.level, Level::Ok, "a day after the change: {:?}", v);
                }
            }
            was_ok = v.level == Level::Ok;
            t += step;
        }
        prop_assert_eq!(opened, 1);
        prop_assert_eq!(first_alert, Some(change));
    }

    #[test]
    fn a_tenfold_spike_alerts_at_once(
        step_s in prop_oneof![Just(10i64), Just(60), Just(300)],
        level in 1.0f64..1000.0,
        width in prop_oneof![Just(1usize), Just(5)],
        day in 1i64..5,
        seed in any::<u64>(),
    ) {
        // On a wider host during cold start (day 1) the young series' spike is measured by the
        // conservative median/MAD detector (σ floored at half the series' overall σ, which
        // includes its daily swing): about 8.5 warnings' worth, short of the 9 a series of
        // unknown meaning needs to alert alone. Alone it alerts from day 1.
        let day = if width > 1 { day.max(2) } else { day };
        let config = MonitorConfig::default();
        let mut host = HostMonitor::new("h", names(width), &config);
        let mut rng = Noise(seed);
        let step = step_s * 1000;
        let spike = START + day * DAY_MS + 13 * 3_600_000 + 17 * step;
        let mut row = vec![None; width];
        let mut t = START;
        while t <= spike {
            for (i, slot) in row.iter_mut().enumerate() {
                // Positive, with a daily swing of ±30 % and 3 % noise.
                let x = level * (1.0 + 0.3 * periodic(Shape::Sine, t + i as i64 * 7_200_000))
                    * (1.0 + 0.03 * rng.next());
                *slot = Some(if t == spike && i == 0 { 10.0 * x } else { x });
            }
            let v = host.observe_row(t, &row);
            if t == spike {
                prop_assert!(v.level > Level::Ok, "{:?}", v);
                prop_assert!(v.members.iter().any(|m| m.series == 0), "{:?}", v);
            }
            t += step;
        }
    }
}

#[test]
fn a_ten_second_periodic_series_is_quiet_after_its_second_day() {
    let config = MonitorConfig::default();
    let mut host = HostMonitor::new("h", names(2), &config);
    let mut rng = Noise(7);
    let mut t = START;
    let mut alerts_after_day_two = 0;
    while t < START + 4 * DAY_MS {
        let a = 50.0 + 30.0 * periodic(Shape::Sine, t) + 0.3 * rng.next();
        let b = 10.0 + 5.0 * periodic(Shape::Square { at: 8.5 }, t) + 0.05 * rng.next();
        let v = host.observe_row(t, &[Some(a), Some(b)]);
        if t >= START + 2 * DAY_MS && v.level > Level::Ok {
            alerts_after_day_two += 1;
        }
        t += 10_000;
    }
    assert_eq!(alerts_after_day_two, 0);
}
