//! The contextual baseline of one series: what the series usually looks like at this hour of this
//! day of the week. It only learns and predicts; deciding what is an alert belongs to `score`.
//!
//! Layout, and why:
//! - 168 hour-of-week buckets (Monday 00:00 UTC = 0) catch weekly patterns; each shrinks toward
//!   the matching hour-of-day bucket, which shrinks toward the series' overall figures. A young
//!   bucket therefore borrows from the daily profile first (learned 7× faster) and from the
//!   overall variance last, so a quiet or unseen bucket does not page on noise.
//! - Each bucket is an exponentially forgetting Welford accumulator (mean, variance, weight)
//!   stored as f32, decayed by the time since its last update: half-life configurable.
//! - Means are stored relative to the first value seen (`origin`), so f32 keeps its precision on
//!   series with a large offset (byte counters, epoch-like gauges).
//! - Calendar events either get 24 hour-of-day buckets of their own (allocated only when used) or
//!   are scored against the ordinary profile and never learned.
//!
//! State is about 3.3 KiB per series ([`Baseline::state_bytes`]); the bound is 4 KiB.

use crate::config::BaselineConfig;

const HOURS_PER_WEEK: usize = 168;
const HOURS_PER_DAY: usize = 24;
const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_MINUTE: i64 = 60_000;
/// 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of its Monday-based week.
const EPOCH_HOUR_OF_WEEK: i64 = 3 * 24;

/// How the calendar classifies the day a sample falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Ordinary,
    /// An event day with its own profile.
    OwnProfile,
    /// An event day that is scored but never learned.
    Exclude,
}

/// What the baseline expects at one time: the value and its spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    pub mean: f64,
    pub sigma: f64,
}

impl Expectation {
    /// The z-score of `x`; `None` when the series has shown no spread at all (constant so far).
    pub fn z(&self, x: f64) -> Option<f64> {
        if self.sigma > 0.0 && self.sigma.is_finite() {
            let z = (x - self.mean) / self.sigma;
            z.is_finite().then_some(z)
        } else {
            None
        }
    }
}

/// The baseline's knobs, precomputed from [`BaselineConfig`] once per engine.
#[derive(Debug, Clone, Copy)]
pub struct BaselineParams {
    half_life_minutes: f32,
    overall_half_life_ms: f64,
    prior_weight: f32,
    week_prior_weight: f32,
    sigma_floor_fraction: f64,
    resolution_floor: f64,
    learn_clip_z: f64,
    level_half_life_ms: f64,
    adapt_after_ms: i64,
    /// Age before the level may move (the profile is learned first, or a level would chase
    /// every daily transition the young profile cannot explain yet).
    level_min_age_ms: i64,
}

impl BaselineParams {
    pub fn new(config: &BaselineConfig) -> Self {
        let half_life_ms = config.half_life.as_millis().max(1) as f64;
        Self {
            half_life_minutes: (half_life_ms / MS_PER_MINUTE as f64) as f32,
            overall_half_life_ms: half_life_ms,
            prior_weight: config.prior_weight,
            week_prior_weight: config.week_prior_weight,
            sigma_floor_fraction: config.sigma_floor_fraction,
            resolution_floor: config.resolution_floor,
            learn_clip_z: config.learn_clip_z,
            level_half_life_ms: config.level_half_life.as_millis().max(1) as f64,
            adapt_after_ms: match config.adapt_after.as_millis() {
                0 => i64::MAX,
                ms => i64::try_from(ms).unwrap_or(i64::MAX),
            },
            level_min_age_ms: 2 * 86_400_000,
        }
    }

    /// The age before the level may move (the engine passes its cold-start duration).
    pub fn with_level_min_age(mut self, age_ms: i64) -> Self {
        self.level_min_age_ms = age_ms;
        self
    }
}

/// One forgetting Welford accumulator. 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bucket {
    /// Relative to [`Baseline::origin`].
    mean: f32,
    var: f32,
    weight: f32,
    /// Minutes since the series' first sample at the last update.
    last_minute: u32,
}

impl Bucket {
    fn decay(&self, now_minute: u32, params: &BaselineParams) -> f32 {
        let elapsed = now_minute.saturating_sub(self.last_minute);
        if elapsed == 0 {
            return 1.0;
        }
        (-(elapsed as f32) / params.half_life_minutes).exp2()
    }

    fn learn(&mut self, x: f32, decay: f32, now_minute: u32) {
        let old_weight = self.weight * decay;
        let weight = old_weight + 1.0;
        let delta = x - self.mean;
        let mean = self.mean + delta / weight;
        self.var = ((old_weight * self.var + delta * (x - mean)) / weight).max(0.0);
        self.mean = mean;
        self.weight = weight;
        self.last_minute = now_minute;
    }

    /// Shrinks this bucket toward a prior (mean, variance) in proportion to how little it has
    /// seen: with `prior_weight` samples of its own it counts half.
    fn shrink(&self, decay: f32, prior: (f64, f64), prior_weight: f32) -> (f64, f64) {
        let w = f64::from(self.weight * decay);
        let k = f64::from(prior_weight);
        if w + k <= 0.0 {
            return prior;
        }
        let mean = (w * f64::from(self.mean) + k * prior.0) / (w + k);
        let var = (w * f64::from(self.var) + k * prior.1) / (w + k);
        (mean, var)
    }
}

/// The contextual baseline of one series.
#[derive(Debug, Clone)]
pub struct Baseline {
    week: [Bucket; HOURS_PER_WEEK],
    day: [Bucket; HOURS_PER_DAY],
    /// Hour-of-day profile for calendar days with their own profile; allocated on first use.
    event_day: Option<Box<[Bucket; HOURS_PER_DAY]>>,
    origin: f64,
    first_ms: i64,
    last_ms: i64,
    overall_mean: f64,
    overall_var: f64,
    overall_weight: f64,
    /// The smallest positive change seen between consecutive values: the series' resolution.
    resolution: f64,
    last_value: f64,
    samples: u64,
    /// What the profile does not explain, slowly (added to every expectation).
    level: f64,
    /// The same, quickly (30 min half-life, unclipped): what a confirmed shift moves to.
    fast: f64,
    /// Since when `fast` has been beyond the band (`i64::MIN`: it is not).
    shifted_since: i64,
    /// Samples per 5 minutes, the series' own rate (1 before an hour of history).
    rate: f32,
}

impl Default for Baseline {
    fn default() -> Self {
        Self::new()
    }
}

impl Baseline {
    pub fn new() -> Self {
        Self {
            week: [Bucket::default(); HOURS_PER_WEEK],
            day: [Bucket::default(); HOURS_PER_DAY],
            event_day: None,
            origin: f64::NAN,
            first_ms: 0,
            last_ms: i64::MIN,
            overall_mean: 0.0,
            overall_var: 0.0,
            overall_weight: 0.0,
            resolution: f64::INFINITY,
            last_value: f64::NAN,
            samples: 0,
            level: 0.0,
            fast: 0.0,
            shifted_since: i64::MIN,
            rate: 1.0,
        }
    }

    /// Bytes this baseline holds, heap included.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .event_day
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<[Bucket; HOURS_PER_DAY]>())
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Time of the first sample learned, if any.
    pub fn first_ms(&self) -> Option<i64> {
        (self.samples > 0).then_some(self.first_ms)
    }

    /// The series' overall (forgetting) mean and standard deviation.
    pub fn overall(&self) -> Option<(f64, f64)> {
        (self.samples > 0).then(|| (self.overall_mean, self.overall_var.max(0.0).sqrt()))
    }

    /// Smallest positive step between consecutive values so far (`None` before the first change).
    pub fn resolution(&self) -> Option<f64> {
        self.resolution.is_finite().then_some(self.resolution)
    }

    /// `steps` × the resolution, capped at half the overall σ. The resolution is estimated as
    /// the smallest step between consecutive values, which is the quantum for smooth quantised
    /// series but can be large for a series that jumps at every sample; the cap keeps such an
    /// over-estimate from blinding the detector.
    fn capped_resolution(&self, steps: f64, overall_sigma: f64) -> f64 {
        if self.resolution.is_finite() {
            (steps * self.resolution).min(0.5 * overall_sigma)
        } else {
            0.0
        }
    }

    /// The resolution floor for σ's derived from this series (correlation residuals).
    pub fn resolution_floor(&self, config: &BaselineConfig) -> f64 {
        self.resolution_floor_steps(config.resolution_floor)
    }

    /// `steps` × the resolution, capped as in [`Self::expect`].
    pub fn resolution_floor_steps(&self, steps: f64) -> f64 {
        self.capped_resolution(steps, self.overall_var.max(0.0).sqrt())
    }

    /// Samples this series gets per 5 minutes (its own rate; 1 before an hour of history).
    pub fn samples_per_five_minutes(&self) -> f32 {
        self.rate
    }

    /// Re-estimates [`Self::rate`]: every sample for the first 256, then every 64th (a
    /// division per sample is a measurable share of an update, and the rate barely moves).
    fn update_rate(&mut self) {
        if self.samples > 256 && !self.samples.is_multiple_of(64) {
            return;
        }
        let span = self.last_ms.saturating_sub(self.first_ms);
        self.rate = if span < MS_PER_HOUR || self.samples < 2 {
            1.0
        } else {
            let rate = (self.samples - 1) as f64 * 300_000.0 / span as f64;
            rate.clamp(1.0 / 64.0, 4096.0) as f32
        };
    }

    /// How many hours of history the hour-of-day bucket of `time_ms` has (its own samples over
    /// the series' rate): 0 before any sample at that hour of day, and never more than the
    /// series' age (the rate is taken as one sample per 5 minutes for the first hour, so a
    /// 10 s series would otherwise count 20 minutes of samples as 10 hours).
    pub fn hour_of_day_hours(&self, time_ms: i64, params: &BaselineParams) -> f64 {
        let (_, day_slot) = Self::slots(time_ms);
        let b = &self.day[day_slot];
        let w = f64::from(b.weight * b.decay(self.minute(time_ms), params));
        let age_hours = time_ms.saturating_sub(self.first_ms).max(0) as f64 / MS_PER_HOUR as f64;
        (w / (12.0 * f64::from(self.samples_per_five_minutes()))).min(age_hours)
    }

    fn slots(time_ms: i64) -> (usize, usize) {
        let hour = time_ms.div_euclid(MS_PER_HOUR);
        let week = (hour + EPOCH_HOUR_OF_WEEK).rem_euclid(HOURS_PER_WEEK as i64) as usize;
        (week, week % HOURS_PER_DAY)
    }

    fn minute(&self, time_ms: i64) -> u32 {
        let minutes = time_ms.saturating_sub(self.first_ms).max(0) / MS_PER_MINUTE;
        u32::try_from(minutes).unwrap_or(u32::MAX)
    }

    /// What the baseline expects at `time_ms`; `None` before the first sample.
    pub fn expect(
        &self,
        time_ms: i64,
        day: DayKind,
        params: &BaselineParams,
    ) -> Option<Expectation> {
        if self.samples == 0 {
            return None;
        }
        let (week_slot, day_slot) = Self::slots(time_ms);
        let now = self.minute(time_ms);
        // Bucket means are relative to `origin`; so must their prior be.
        let overall = (self.overall_mean - self.origin, self.overall_var.max(0.0));
        let overall_sigma = overall.1.sqrt();
        // Priors are samples' worth at 5-minute steps: scaled to this series' own rate, so a
        // bucket needs the same *time* of history at 10 s as at 5 min before it is believed.
        let rate = self.samples_per_five_minutes();
        let prior = params.prior_weight * rate;
        let week_prior = params.week_prior_weight * rate;
        let day_bucket = &self.day[day_slot];
        let daily = day_bucket.shrink(day_bucket.decay(now, params), overall, prior);
        let (mean, var) = match (day, &self.event_day) {
            (DayKind::OwnProfile, Some(event)) => {
                let b = &event[day_slot];
                b.shrink(b.decay(now, params), daily, prior)
            }
            (DayKind::OwnProfile, None) => daily,
            _ => {
                let b = &self.week[week_slot];
                b.shrink(b.decay(now, params), daily, week_prior)
            }
        };
        let floor = (params.sigma_floor_fraction * overall_sigma)
            .max(self.capped_resolution(params.resolution_floor, overall_sigma));
        let sigma = var.max(0.0).sqrt().max(floor);
        Some(Expectation {
            mean: mean + self.origin + self.level,
            sigma,
        })
    }

    /// Learns one sample. `expected` is what [`Self::expect`] said for it (if anything): values
    /// beyond `learn_clip_z` σ are clipped to that bound before they are learned.
    pub fn learn(
        &mut self,
        time_ms: i64,
        x: f64,
        day: DayKind,
        expected: Option<Expectation>,
        params: &BaselineParams,
    ) {
        if !x.is_finite() || day == DayKind::Exclude {
            return;
        }
        if self.samples == 0 {
            self.origin = x;
            self.first_ms = time_ms;
            self.last_ms = time_ms;
        }
        if self.last_value.is_finite() {
            let step = (x - self.last_value).abs();
            if step > 0.0 && step < self.resolution {
                self.resolution = step;
            }
        }
        self.last_value = x;

        // A young profile does not know the series' daily shape yet: clipping to it would teach
        // every bucket the first hours' level (a morning ramp clipped to the night's values).
        let young = time_ms.saturating_sub(self.first_ms) < params.level_min_age_ms;
        let learned = match expected {
            Some(e) if e.sigma > 0.0 && !young => {
                let bound = params.learn_clip_z * e.sigma;
                let clipped = clip(x, e.mean - bound, e.mean + bound);
                self.follow_level(time_ms, x - e.mean, clipped - e.mean, e.sigma, params);
                clipped
            }
            _ => x,
        };
        // The profile and the overall figures learn what the level does not explain.
        let learned = learned - self.level;

        // Overall figures: forgetting by elapsed time, like the buckets.
        let elapsed = (time_ms - self.last_ms).max(0) as f64;
        let decay = (-elapsed / params.overall_half_life_ms).exp2();
        let old_weight = self.overall_weight * decay;
        let weight = old_weight + 1.0;
        let delta = learned - self.overall_mean;
        let mean = if self.samples == 0 {
            learned
        } else {
            self.overall_mean + delta / weight
        };
        self.overall_var =
            ((old_weight * self.overall_var + delta * (learned - mean)) / weight).max(0.0);
        if self.samples == 0 {
            self.overall_var = 0.0;
        }
        self.overall_mean = mean;
        self.overall_weight = weight;
        self.last_ms = self.last_ms.max(time_ms);
        self.samples += 1;
        self.update_rate();

        let (week_slot, day_slot) = Self::slots(time_ms);
        let now = self.minute(time_ms);
        let relative = (learned - self.origin) as f32;
        let d = self.day[day_slot].decay(now, params);
        if day == DayKind::OwnProfile {
            let event = self
                .event_day
                .get_or_insert_with(|| Box::new([Bucket::default(); HOURS_PER_DAY]));
            let b = &mut event[day_slot];
            let decay = b.decay(now, params);
            b.learn(relative, decay, now);
            return;
        }
        self.day[day_slot].learn(relative, d, now);
        let w = &mut self.week[week_slot];
        let decay = w.decay(now, params);
        w.learn(relative, decay, now);
    }

    /// Moves the level: slowly toward the clipped residual always, at once to the recent
    /// residual when a shift has held past the band for `adapt_after`.
    fn follow_level(
        &mut self,
        time_ms: i64,
        residual: f64,
        clipped: f64,
        sigma: f64,
        params: &BaselineParams,
    ) {
        if time_ms.saturating_sub(self.first_ms) < params.level_min_age_ms || !residual.is_finite()
        {
            return;
        }
        let dt = (time_ms - self.last_ms).max(0) as f64;
        let slow = forgotten(dt / params.level_half_life_ms);
        let fast = forgotten(dt / 1_800_000.0);
        self.level += slow * clipped;
        self.fast += fast * (residual - self.fast);
        // The band is one σ of the half-hour average, not of a sample: the shifted values are
        // also learned (clipped) by the hour's buckets, which pull the residual back inside
        // the clip bound long before the shift is over.
        if params.adapt_after_ms == i64::MAX || self.fast.abs() <= sigma {
            self.shifted_since = i64::MIN;
            return;
        }
        if self.shifted_since == i64::MIN {
            self.shifted_since = time_ms;
        } else if time_ms.saturating_sub(self.shifted_since) >= params.adapt_after_ms {
            self.level += self.fast;
            self.fast = 0.0;
            self.shifted_since = i64::MIN;
        }
    }

    /// Expect, then learn: the z-score of `x` against what was known before it.
    pub fn observe(
        &mut self,
        time_ms: i64,
        x: f64,
        day: DayKind,
        params: &BaselineParams,
    ) -> Option<f64> {
        let expected = self.expect(time_ms, day, params);
        self.learn(time_ms, x, day, expected, params);
        expected.and_then(|e| e.z(x))
    }
}

/// 1 − 2^(−x): the share of an average's weight that `x` half-lives move. Below x = 1/64 (every
/// sample of a series sampled more often than every half-hour, against a 1-day half-life) two
/// terms of the series are within 1e-5 of it and save an `exp2` per sample.
fn forgotten(x: f64) -> f64 {
    let y = x * std::f64::consts::LN_2;
    if x < 1.0 / 64.0 {
        y * (1.0 - 0.5 * y)
    } else {
        1.0 - (-x).exp2()
    }
}

/// `x` clamped to [lo, hi]; `x` itself when the bounds are not a finite, ordered pair (values
/// near f64::MAX overflow the bounds, and `f64::clamp` would panic on NaN).
pub(crate) fn clip(x: f64, lo: f64, hi: f64) -> f64 {
    if lo.is_finite() && hi.is_finite() && lo <= hi {
        x.clamp(lo, hi)
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BaselineParams {
        BaselineParams::new(&BaselineConfig::default())
    }

    const FIVE_MIN: i64 = 300_000;

    #[test]
    fn forgotten_matches_its_definition() {
        for x in [
            0.0,
            1e-6,
            1e-3,
            0.01,
            1.0 / 64.0 - 1e-9,
            1.0 / 64.0,
            0.5,
            3.0,
        ] {
            let exact = 1.0 - f64::exp2(-x);
            assert!((forgotten(x) - exact).abs() < 1e-5, "{x}");
        }
    }

    #[test]
    fn monday_midnight_is_slot_zero() {
        // 2021-01-04T00:00:00Z was a Monday.
        let monday = 1_609_718_400_000;
        assert_eq!(Baseline::slots(monday), (0, 0));
        assert_eq!(Baseline::slots(monday + 25 * MS_PER_HOUR), (25, 1));
        assert_eq!(Baseline::slots(monday - MS_PER_HOUR), (167, 23));
    }

    #[test]
    fn state_fits_in_four_kib() {
        let b = Baseline::new();
        assert!(b.state_bytes() <= 4096, "{} bytes", b.state_bytes());
    }

    #[test]
    fn learns_a_daily_pattern() {
        let p = params();
        let mut b = Baseline::new();
        // Three weeks of a square wave: 10 by day (08–20 h), 2 by night, small noise.
        let start = 1_609_718_400_000;
        for i in 0..(21 * 288) {
            let t = start + i * FIVE_MIN;
            let hour = (i / 12) % 24;
            let base = if (8..20).contains(&hour) { 10.0 } else { 2.0 };
            let noise = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
            b.observe(t, base + noise, DayKind::Ordinary, &p);
        }
        let t = start + 21 * 288 * FIVE_MIN + 12 * MS_PER_HOUR; // noon
        let e = b.expect(t, DayKind::Ordinary, &p).expect("has learned");
        assert!((e.mean - 10.0).abs() < 0.5, "noon mean {}", e.mean);
        let night = b
            .expect(t + 12 * MS_PER_HOUR, DayKind::Ordinary, &p)
            .expect("has learned");
        assert!(
            (night.mean - 2.0).abs() < 0.5,
            "midnight mean {}",
            night.mean
        );
        // A night value of 10 is far out; a noon value of 10 is not.
        assert!(night.z(10.0).expect("scorable") > 4.0);
        assert!(e.z(10.0).expect("scorable").abs() < 2.0);
    }

    #[test]
    fn constant_series_is_never_scorable() {
        let p = params();
        let mut b = Baseline::new();
        for i in 0..5000 {
            assert_eq!(b.observe(i * FIVE_MIN, 0.5, DayKind::Ordinary, &p), None);
        }
    }

    #[test]
    fn excluded_days_are_not_learned() {
        let p = params();
        let mut b = Baseline::new();
        b.learn(0, 1.0, DayKind::Ordinary, None, &p);
        b.learn(FIVE_MIN, 100.0, DayKind::Exclude, None, &p);
        assert_eq!(b.samples(), 1);
    }

    #[test]
    fn own_profile_days_learn_apart() {
        let p = params();
        let mut b = Baseline::new();
        for i in 0..2000 {
            let noise = (i % 3) as f64 * 0.1;
            b.learn(i * FIVE_MIN, 1.0 + noise, DayKind::Ordinary, None, &p);
            b.learn(
                i * FIVE_MIN + 1,
                50.0 + noise,
                DayKind::OwnProfile,
                None,
                &p,
            );
        }
        let t = 2000 * FIVE_MIN;
        let ordinary = b.expect(t, DayKind::Ordinary, &p).expect("learned");
        let event = b.expect(t, DayKind::OwnProfile, &p).expect("learned");
        assert!(
            ordinary.mean < 20.0 && event.mean > 30.0,
            "{ordinary:?} {event:?}"
        );
        assert!(b.state_bytes() <= 4096);
    }

    #[test]
    fn forgets_with_the_half_life() {
        let config = BaselineConfig {
            half_life: std::time::Duration::from_secs(86_400),
            ..BaselineConfig::default()
        };
        let p = BaselineParams::new(&config);
        let mut b = Baseline::new();
        for i in 0..(288 * 7) {
            b.observe(
                i * FIVE_MIN,
                1.0 + (i % 2) as f64 * 0.01,
                DayKind::Ordinary,
                &p,
            );
        }
        // A new level, learned for two weeks: the old one is forgotten.
        for i in (288 * 7)..(288 * 28) {
            b.observe(
                i * FIVE_MIN,
                5.0 + (i % 2) as f64 * 0.01,
                DayKind::Ordinary,
                &p,
            );
        }
        let e = b
            .expect(288 * 28 * FIVE_MIN, DayKind::Ordinary, &p)
            .expect("learned");
        assert!((e.mean - 5.0).abs() < 0.1, "{e:?}");
    }
}
