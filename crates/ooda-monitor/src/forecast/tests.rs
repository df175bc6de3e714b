use super::*;

const MIN5: i64 = 300_000;
const HOUR: i64 = 3_600_000;

/// Deterministic noise in [-1, 1].
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn free_space() -> Limit {
    Limit {
        value: 0.0,
        rising: false,
    }
}

/// Free space in percent: `start` falling `rate` per hour, a daily swing of `swing` (busiest in
/// the afternoon) and ±`noise`.
fn filesystem(start: f64, rate: f64, swing: f64, noise: f64) -> impl FnMut(i64) -> f64 {
    let mut n = Noise(7);
    move |t| {
        let hours = t as f64 / HOUR as f64;
        let day = (hours / 24.0 * std::f64::consts::TAU).sin();
        start - rate * hours - swing * day + noise * n.next()
    }
}

#[test]
fn a_filling_filesystem_is_forecast_hours_ahead_with_a_band_holding_the_true_time() {
    let config = ForecastConfig::default();
    let horizon = config.default_horizon;
    let mut f = Forecaster::new(free_space(), &config);
    let mut series = filesystem(90.0, 1.25, 4.0, 1.0);
    let mut first_warning = None;
    let mut truth = None;
    let mut bands = Vec::new();
    let mut t = 0;
    while truth.is_none() {
        let v = series(t);
        if v <= 0.0 {
            truth = Some(t);
            break;
        }
        f.observe(t, v);
        if f.level(t, horizon) > Level::Ok {
            first_warning.get_or_insert((t, f.forecast()));
            if let Some(band) = f.saturation_ms() {
                bands.push((t, band));
            }
        }
        t += MIN5;
        assert!(t < 200 * HOUR, "never saturated");
    }
    let truth = truth.expect("saturates");
    let (fired, forecast) = first_warning.expect("a forecast alert before saturation");
    let lead_h = (truth - fired) as f64 / HOUR as f64;
    assert!(lead_h >= 3.0, "lead {lead_h:.1} h: {forecast:?}");
    let s = forecast.saturation.expect("a saturation time");
    let truth_ts = ooda_core::clock::from_millis(truth);
    assert!(
        s.earliest <= truth_ts && truth_ts <= s.latest,
        "band {} .. {} misses the true {truth_ts} ({})",
        s.earliest,
        s.latest,
        forecast.note
    );
    assert!(
        forecast.note.contains("daily pattern removed"),
        "{}",
        forecast.note
    );
    // The band holds the truth for most of the run-up, not just once.
    let held = bands
        .iter()
        .filter(|(_, (_, lo, hi))| *lo <= truth && truth <= *hi)
        .count();
    assert!(held * 10 >= bands.len() * 8, "{held} of {}", bands.len());
}

#[test]
fn a_flat_series_with_a_daily_swing_near_the_limit_never_forecasts() {
    let config = ForecastConfig::default();
    let mut f = Forecaster::new(free_space(), &config);
    let mut series = filesystem(6.0, 0.0, 3.0, 1.0);
    for step in 0..(10 * 24 * 12) {
        let t = step * MIN5;
        f.observe(t, series(t));
        assert_eq!(
            f.level(t, config.default_horizon),
            Level::Ok,
            "at {:.1} h: {:?}",
            t as f64 / HOUR as f64,
            f.forecast()
        );
    }
    assert!(
        f.forecast().note.contains("no significant trend"),
        "{}",
        f.forecast().note
    );
}

#[test]
fn too_little_history_says_so() {
    let config = ForecastConfig::default();
    let mut f = Forecaster::new(free_space(), &config);
    for step in 0..(6 * 12) {
        // Falling fast, but only six hours seen: no forecast, however steep.
        f.observe(step * MIN5, 50.0 - step as f64);
    }
    let forecast = f.forecast();
    assert!(forecast.saturation.is_none());
    assert!(
        forecast.note.starts_with("too little history"),
        "{}",
        forecast.note
    );
}

#[test]
fn series_without_a_capacity_say_why() {
    let config = ForecastConfig::default();
    let err = limit_for("cpu_busy_percent", MetricClass::Cpu, &config).unwrap_err();
    assert!(err.contains("no capacity"), "{err}");
    let err = limit_for("swap_used_bytes", MetricClass::Swap, &config).unwrap_err();
    assert!(err.contains("no known capacity"), "{err}");
    assert_eq!(
        limit_for("filesystem_free_percent", MetricClass::Disk, &config),
        Ok(free_space())
    );
    assert_eq!(
        limit_for("memory_used_percent", MetricClass::Memory, &config),
        Ok(Limit {
            value: 100.0,
            rising: true
        })
    );
}

#[test]
fn a_clean_up_clears_the_forecast_and_a_later_fill_is_caught_again() {
    let config = ForecastConfig::default();
    let horizon = config.default_horizon;
    let mut f = Forecaster::new(free_space(), &config);
    let mut n = Noise(3);
    let mut t = 0;
    let mut value = 80.0;
    // Three days filling at 1 %/h: fires once within six hours of 0.
    let mut fired = false;
    while value > 4.0 {
        f.observe(t, value + 0.3 * n.next());
        fired |= f.level(t, horizon) > Level::Ok;
        value -= 1.0 / 12.0;
        t += MIN5;
    }
    assert!(fired, "{:?}", f.forecast());
    // Clean-up: back to 70 % and flat. Within two buckets the shift is seen and it clears.
    for _ in 0..12 {
        f.observe(t, 70.0 + 0.3 * n.next());
        t += MIN5;
    }
    assert_eq!(f.level(t, horizon), Level::Ok, "{:?}", f.forecast());
    // A flat day after the clean-up: still nothing.
    for _ in 0..(24 * 12) {
        f.observe(t, 70.0 + 0.3 * n.next());
        assert_eq!(f.level(t, horizon), Level::Ok, "{:?}", f.forecast());
        t += MIN5;
    }
}

#[test]
fn forecasts_never_reach_further_ahead_than_the_history_behind_them() {
    let config = ForecastConfig::default();
    let mut f = Forecaster::new(free_space(), &config);
    // 30 h of a slow fall: zero is ~300 h away, far more than the history.
    for step in 0..(30 * 12) {
        f.observe(step * MIN5, 60.0 - 0.2 * step as f64 / 12.0);
    }
    let forecast = f.forecast();
    assert!(forecast.saturation.is_none(), "{forecast:?}");
    assert!(
        forecast.note.contains("not reached within"),
        "{}",
        forecast.note
    );
}

proptest::proptest! {
    /// Whatever the input, the forecaster neither panics nor predicts a time before now or a band
    /// that does not hold its central estimate.
    #[test]
    fn forecasts_are_ordered(values in proptest::collection::vec(-1e6f64..1e6, 1..600), step in 1i64..3_600_000) {
        let config = ForecastConfig {
            min_history: Duration::from_secs(3600),
            ..ForecastConfig::default()
        };
        let mut f = Forecaster::new(free_space(), &config);
        for (i, v) in values.iter().enumerate() {
            let t = i as i64 * step;
            f.observe(t, *v);
            f.level(t, config.default_horizon);
            if let Some((at, lo, hi)) = f.saturation_ms() {
                proptest::prop_assert!(lo <= at && at <= hi);
            }
        }
    }
}

/// Theil–Sen as first written: visit every pair, keep every `stride`-th, select each quantile
/// over the whole set with `total_cmp`. The fast path must give the same bits.
fn theil_sen_reference(x: &[f64], y: &[f64], n_eff: f64) -> (f64, f64, f64) {
    let n = x.len();
    let pairs_total = n * n.saturating_sub(1) / 2;
    let stride = pairs_total.div_ceil(MAX_PAIRS).max(1);
    let mut slopes = Vec::new();
    let mut k = 0usize;
    for i in 0..n {
        for j in i + 1..n {
            k += 1;
            if !k.is_multiple_of(stride) {
                continue;
            }
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push((y[j] - y[i]) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let pairs = n_eff * (n_eff - 1.0) / 2.0;
    let var = n_eff * (n_eff - 1.0) * (2.0 * n_eff + 5.0) / 18.0;
    let fraction = (Z90 * var.sqrt() / pairs).min(1.0);
    let low_q = ((1.0 - fraction) / 2.0).clamp(0.0, 1.0);
    let high_q = ((1.0 + fraction) / 2.0).clamp(0.0, 1.0);
    let mid = quantile(&mut slopes, 0.5);
    let low = quantile(&mut slopes, low_q);
    let high = quantile(&mut slopes, high_q);
    (mid, low, high)
}

#[test]
fn order_keys_sort_like_total_cmp() {
    let values = [
        f64::NEG_INFINITY,
        -1e300,
        -1.0,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        1.0,
        f64::INFINITY,
        f64::NAN,
    ];
    for a in values {
        assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
        for b in values {
            assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} {b}");
        }
    }
}

proptest::proptest! {
    /// Up to 400 points (past MAX_PAIRS, so the stride applies), with repeated x and y values.
    #[test]
    fn theil_sen_matches_the_plain_definition(
        points in proptest::collection::vec((0u8..200, -50i32..50, -1e3f64..1e3), 0..400),
        n_eff in 3.0f64..400.0,
    ) {
        let x: Vec<f64> = points.iter().map(|(x, _, _)| f64::from(*x) / 4.0).collect();
        let y: Vec<f64> = points
            .iter()
            .map(|(_, tie, v)| if tie % 3 == 0 { f64::from(*tie) } else { *v })
            .collect();
        let mut scratch = vec![7];
        let fast = theil_sen(&x, &y, n_eff, &mut scratch);
        let plain = theil_sen_reference(&x, &y, n_eff);
        proptest::prop_assert_eq!(
            (fast.0.to_bits(), fast.1.to_bits(), fast.2.to_bits()),
            (plain.0.to_bits(), plain.1.to_bits(), plain.2.to_bits())
        );
        let slope = theil_sen_slope(&x, &y, &mut scratch);
        proptest::prop_assert_eq!(slope.to_bits(), plain.0.to_bits());
    }
}

proptest::proptest! {
    /// When `out_of_reach` lets the scan be skipped, no time the scan would have looked at
    /// reaches the limit.
    #[test]
    fn out_of_reach_never_hides_a_crossing(
        level in -200.0f64..200.0,
        slope in -5.0f64..5.0,
        swing in 0.0f64..50.0,
        span_hours in 1i64..200,
        rising in proptest::bool::ANY,
        limit in -100.0f64..100.0,
    ) {
        let config = ForecastConfig::default();
        let mut f = Forecaster::new(Limit { value: limit, rising }, &config);
        let origin_ms = 1_767_571_200_000;
        let mut profile = [0.0; 24];
        for (h, p) in profile.iter_mut().enumerate() {
            *p = swing * (h as f64 / 24.0 * std::f64::consts::TAU).sin();
        }
        let fit = Fit {
            origin_ms,
            slope,
            slope_low: (slope, level),
            slope_high: (slope, level),
            level,
            resid_low: 0.0,
            resid_high: 0.0,
            sigma: 1.0,
            profile: Some(profile),
            span_ms: span_hours * HOUR,
            shift_at: None,
            carried: false,
        };
        let now_ms = origin_ms + HOUR;
        if f.out_of_reach(&fit, now_ms) {
            let lookahead = f.max_lookahead_ms.min(fit.span_ms);
            let mut t = now_ms;
            while t <= now_ms + lookahead {
                let v = fit.central(t);
                proptest::prop_assert!(if rising { v < limit } else { v > limit }, "{t} {v}");
                t += SCAN_STEP_MS;
            }
        }
        f.fit = Some(fit);
        let _ = f.evaluate(now_ms);
    }
}
