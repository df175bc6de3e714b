//! Capacity forecasting: when will a series that trends toward a limit (free space toward 0,
//! usage in percent toward 100, any configured capacity) reach it, and how sure is that.
//!
//! Method. Samples are averaged into buckets (15 min by default). Once a day of history is in,
//! a Theil–Sen line (the median of all pairwise slopes, unmoved by up to ~29 % outliers) is fitted
//! to the buckets; from two days on, the daily profile is first estimated from the detrended
//! buckets (median per hour of day) and removed, so a daily swing is neither taken for a trend
//! nor left in the band. The slope gets Sen's rank-based 90 % interval (counting one independent
//! observation per hour, since neighbouring buckets are correlated) and the residuals their 5–95 %
//! quantiles. The central forecast is the first time line + profile reaches the limit; the band
//! runs from the steep slope with high residuals to the shallow slope with low ones. Two buckets
//! in a row far off the fit are a level shift (a clean-up, a sudden fill): the fit restarts on
//! what came after, carrying the old slope over until `min_history_after_shift` is seen.
//!
//! It never forecasts, and says why, for a series without a limit, with too little history, whose
//! slope interval includes zero or points away from the limit, or further ahead than the history
//! the fit stands on. (Why not the baseline's own hour profile: its buckets learn the trend along
//! with the pattern, so subtracting them from a filling disk would subtract part of the fill.)

use std::collections::VecDeque;
use std::time::Duration;

use ooda_core::{Forecast, MetricClass, Saturation};

use crate::config::{Direction, ForecastConfig, ForecastHorizon};
use crate::score::Level;

mod rush;
use rush::{Rush, Rushing};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
/// z of a two-sided 90 % interval.
const Z90: f64 = 1.645;
const BAND_LOW: f64 = 0.05;
const BAND_HIGH: f64 = 0.95;
/// Pairwise slopes kept per Theil–Sen fit.
const MAX_PAIRS: usize = 16_384;
/// Time resolution of the forward scan for the crossing.
const SCAN_STEP_MS: i64 = 5 * 60_000;
/// A bucket this many robust σ off the fit departs from it (two in a row are a level shift).
const SHIFT_SIGMAS: f64 = 6.0;
/// While the last fit saw no saturation in sight, refit only every this many buckets (2 h with
/// the default 15 min buckets); the fit stands between refits, so level shifts are still caught
/// on the bucket they happen and a series whose outlook is not clear refits on every bucket.
/// Most series are flat: this is most of the forecaster's cost (the lab spent 90 % of its time
/// refitting them).
const REFIT_QUIET_BUCKETS: u32 = 8;
/// A firing forecast stays up until the predicted time is this much beyond the warning horizon.
const CLEAR_FACTOR: f64 = 1.25;

/// The value a series must not reach, and from which side it comes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    /// `true`: the series rises to the limit (usage); `false`: it falls to it (free space).
    pub rising: bool,
}

/// The limit of a series: configured, else inferred from its class and name (ooda's disk and
/// inode series are free space, falling to 0; usage in percent rises to 100). `Err` says why the
/// series has none.
pub fn limit_for(name: &str, class: MetricClass, config: &ForecastConfig) -> Result<Limit, String> {
    if let Some(c) = config.capacities.get(name) {
        return Ok(Limit {
            value: c.limit,
            rising: c.direction == Direction::High,
        });
    }
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    let free = has(&["free", "avail"]);
    let percent = has(&["pct", "percent", "util"]);
    let used = has(&["used", "usage", "util"]);
    let free_space = Limit {
        value: 0.0,
        rising: false,
    };
    match class {
        MetricClass::Disk
        | MetricClass::Inodes
        | MetricClass::Memory
        | MetricClass::Swap
        | MetricClass::FileDescriptors => {
            if free {
                Ok(free_space)
            } else if percent {
                Ok(Limit {
                    value: 100.0,
                    rising: true,
                })
            } else if matches!(class, MetricClass::Disk | MetricClass::Inodes) && !used {
                Ok(free_space)
            } else {
                Err(format!(
                    "{name}: {class} usage not in percent has no known capacity; \
                     set [monitor.forecast.capacities] to forecast it"
                ))
            }
        }
        _ => Err(format!(
            "{name}: {class} series have no capacity; set [monitor.forecast.capacities] to \
             forecast it"
        )),
    }
}

/// A fitted trend. Times are hours relative to `origin_ms` (the newest bucket's middle), so
/// `level` is the deseasonalised value now.
#[derive(Debug, Clone, PartialEq)]
struct Fit {
    origin_ms: i64,
    slope: f64,
    /// Sen's 90 % interval on the slope, each with the level that goes with it (the line pivots
    /// around the data, not around now).
    slope_low: (f64, f64),
    slope_high: (f64, f64),
    level: f64,
    resid_low: f64,
    resid_high: f64,
    /// Robust σ of the residuals (1.4826 × MAD).
    sigma: f64,
    profile: Option<[f64; 24]>,
    /// History the fit stands on.
    span_ms: i64,
    /// `Some(t)`: the fit starts at a level shift at `t`.
    shift_at: Option<i64>,
    /// The slope was carried over from before the shift (too little seen since).
    carried: bool,
}

impl Fit {
    fn season(&self, t_ms: i64) -> f64 {
        self.profile.as_ref().map_or(0.0, |p| p[hour_of_day(t_ms)])
    }

    fn central(&self, t_ms: i64) -> f64 {
        self.level + self.slope * self.hours(t_ms) + self.season(t_ms)
    }

    fn hours(&self, t_ms: i64) -> f64 {
        (t_ms - self.origin_ms) as f64 / MS_PER_HOUR as f64
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Outlook {
    /// No forecast could be made (no history, no limit): why.
    Unavailable(String),
    /// A forecast was made and saturation is not in sight: why.
    Clear(String),
    Saturates {
        at_ms: i64,
        earliest_ms: i64,
        latest_ms: i64,
        rate_per_hour: f64,
        note: String,
    },
}

/// The forecaster of one series with a limit. About 1.6 KiB with the default window.
#[derive(Debug, Clone)]
pub struct Forecaster {
    limit: Limit,
    bucket_ms: i64,
    max_buckets: usize,
    min_history_ms: i64,
    min_after_shift_ms: i64,
    max_lookahead_ms: i64,
    /// Bucket means of the current segment, oldest first; NaN where a bucket saw no sample.
    means: VecDeque<f32>,
    /// Bucket index of `means[0]`.
    first: i64,
    /// The bucket being filled: (index, sum, count).
    open: Option<(i64, f64, u32)>,
    last_ms: i64,
    fit: Option<Fit>,
    /// The first bucket that departed from the fit, waiting for a second to confirm a shift.
    departed: Option<i64>,
    shift_at: Option<i64>,
    /// The fit from before the last level shift.
    before_shift: Option<Fit>,
    outlook: Outlook,
    /// Buckets closed since the last fit.
    since_fit: u32,
    firing: bool,
    /// The last minutes, for a limit reached in minutes (a leak the daily fit would see a day
    /// too late), and what they said at the last [`Self::level`].
    rush: Rush,
    rushing: Option<Rushing>,
}

impl Forecaster {
    pub fn new(limit: Limit, config: &ForecastConfig) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let bucket_ms = ms(config.bucket).max(60_000);
        Self {
            limit,
            bucket_ms,
            max_buckets: usize::try_from(ms(config.window) / bucket_ms)
                .unwrap_or(4)
                .clamp(4, 2048),
            min_history_ms: ms(config.min_history),
            min_after_shift_ms: ms(config.min_history_after_shift),
            max_lookahead_ms: ms(config.max_lookahead),
            means: VecDeque::new(),
            first: 0,
            open: None,
            last_ms: i64::MIN,
            fit: None,
            departed: None,
            shift_at: None,
            before_shift: None,
            outlook: Outlook::Unavailable("no samples yet".into()),
            since_fit: 0,
            firing: false,
            rush: Rush::default(),
            rushing: None,
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.means.capacity() * std::mem::size_of::<f32>()
            + self.rush.state_bytes()
    }

    /// Learns one sample. Samples not after the previous one, or not finite, are ignored.
    pub fn observe(&mut self, time_ms: i64, value: f64) {
        if time_ms <= self.last_ms || !value.is_finite() {
            return;
        }
        self.last_ms = time_ms;
        self.rush.observe(time_ms, value);
        let index = time_ms.div_euclid(self.bucket_ms);
        match self.open {
            Some((i, sum, count)) if i == index => self.open = Some((i, sum + value, count + 1)),
            Some((i, sum, count)) => {
                self.close(i, sum / f64::from(count));
                self.open = Some((index, value, 1));
            }
            None => self.open = Some((index, value, 1)),
        }
    }

    fn mid(&self, index: i64) -> i64 {
        index * self.bucket_ms + self.bucket_ms / 2
    }

    fn close(&mut self, index: i64, mean: f64) {
        if let Some(fit) = &self.fit {
            let off = (mean - fit.central(self.mid(index))).abs();
            let floor = 1e-3 * mean.abs().max(self.limit.value.abs()).max(1e-9);
            let threshold = (SHIFT_SIGMAS * fit.sigma)
                .max(2.0 * (fit.resid_high - fit.resid_low))
                .max(floor);
            if off > threshold {
                match self.departed {
                    None => self.departed = Some(index),
                    Some(start) => {
                        self.departed = None;
                        self.before_shift = self.fit.take().filter(|f| !f.carried);
                        self.shift_at = Some(start * self.bucket_ms);
                        let keep_from = start.max(self.first);
                        let drop = usize::try_from(keep_from - self.first).unwrap_or(0);
                        self.means.drain(..drop.min(self.means.len()));
                        self.first = keep_from;
                    }
                }
            } else {
                self.departed = None;
            }
        }
        if self.means.is_empty() {
            self.first = index;
        } else {
            let next = self.first + self.means.len() as i64;
            let gap = index - next;
            if gap >= self.max_buckets as i64 {
                self.means.clear();
                self.first = index;
            } else {
                for _ in 0..gap.max(0) {
                    self.means.push_back(f32::NAN);
                }
            }
        }
        self.means.push_back(mean as f32);
        while self.means.len() > self.max_buckets || self.means.front().is_some_and(|m| m.is_nan())
        {
            self.means.pop_front();
            self.first += 1;
        }
        let now_ms = (index + 1) * self.bucket_ms;
        self.since_fit = self.since_fit.saturating_add(1);
        let quiet = self.fit.is_some() && matches!(self.outlook, Outlook::Clear(_));
        if quiet && self.since_fit < REFIT_QUIET_BUCKETS {
            // The fit stands and the outlook is Clear: it already says what evaluating the fit
            // again would say when that does not depend on the time (no trend toward the limit,
            // or the limit out of the line's reach over the whole lookahead).
            let same = self
                .fit
                .as_ref()
                .is_none_or(|fit| !self.toward(fit) || self.out_of_reach(fit, now_ms));
            if !same {
                self.outlook = self.evaluate(now_ms);
            }
            return;
        }
        self.since_fit = 0;
        self.fit = match self.fit_segment() {
            Ok(fit) => Some(fit),
            Err(reason) => {
                self.outlook = Outlook::Unavailable(reason);
                self.fit = None;
                return;
            }
        };
        self.outlook = self.evaluate(now_ms);
    }

    fn points(&self) -> (Vec<i64>, Vec<f64>) {
        self.means
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_nan())
            .map(|(k, m)| (self.mid(self.first + k as i64), f64::from(*m)))
            .unzip()
    }

    fn fit_segment(&self) -> Result<Fit, String> {
        let (times, values) = self.points();
        let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
            return Err("no complete bucket yet".into());
        };
        let span_ms = last - first + self.bucket_ms;
        let need = if self.shift_at.is_some() {
            self.min_after_shift_ms
        } else {
            self.min_history_ms
        };
        if span_ms < need || times.len() < 4 {
            if let (Some(prior), true) = (&self.before_shift, times.len() >= 2) {
                return Ok(carry_over(prior, &times, &values, self.shift_at));
            }
            let since = if self.shift_at.is_some() {
                " since a level shift"
            } else {
                ""
            };
            return Err(format!(
                "too little history: {} of the {} a forecast needs{since}",
                hours_text(span_ms),
                hours_text(need)
            ));
        }
        let hours: Vec<f64> = times
            .iter()
            .map(|t| (t - last) as f64 / MS_PER_HOUR as f64)
            .collect();
        let n_eff = (span_ms as f64 / MS_PER_HOUR as f64).clamp(3.0, times.len() as f64);
        let mut slopes = Vec::new();
        let profile = (span_ms >= 2 * MS_PER_DAY).then(|| {
            let slope = theil_sen_slope(&hours, &values, &mut slopes);
            daily_profile(&times, &hours, &values, slope)
        });
        let adjusted: Vec<f64> = times
            .iter()
            .zip(&values)
            .map(|(t, v)| v - profile.as_ref().map_or(0.0, |p| p[hour_of_day(*t)]))
            .collect();
        let (slope, low, high) = theil_sen(&hours, &adjusted, n_eff, &mut slopes);
        let level = intercept(&hours, &adjusted, slope);
        let mut residuals: Vec<f64> = hours
            .iter()
            .zip(&adjusted)
            .map(|(h, y)| y - level - slope * h)
            .collect();
        let sigma = 1.4826 * median_abs(&residuals);
        let resid_low = quantile(&mut residuals, BAND_LOW);
        let resid_high = quantile(&mut residuals, BAND_HIGH);
        Ok(Fit {
            origin_ms: last,
            slope,
            slope_low: (low, intercept(&hours, &adjusted, low)),
            slope_high: (high, intercept(&hours, &adjusted, high)),
            level,
            resid_low,
            resid_high,
            sigma,
            profile,
            span_ms,
            shift_at: self.shift_at,
            carried: false,
        })
    }

    /// Whether the fit's whole slope interval points at the limit.
    fn toward(&self, fit: &Fit) -> bool {
        if self.limit.rising {
            fit.slope_low.0 > 0.0
        } else {
            fit.slope_high.0 < 0.0
        }
    }

    /// Whether the central line stays short of the limit at every time the scan from `now_ms`
    /// would look at. Exact, not a heuristic: `central` is `(level + slope·h) + season`, the
    /// product is monotone in h and rounding is monotone in each operand, so the line's extreme
    /// over the scan is bounded by the same sum at the scan's ends with the profile's extreme.
    fn out_of_reach(&self, fit: &Fit, now_ms: i64) -> bool {
        let lookahead = self.max_lookahead_ms.min(fit.span_ms);
        let first = fit.slope * fit.hours(now_ms);
        let last = fit.slope * fit.hours(now_ms + lookahead);
        let (season_min, season_max) = fit.profile.as_ref().map_or((0.0, 0.0), |p| {
            p.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(*v), hi.max(*v))
                })
        });
        // NaN anywhere fails both comparisons: the scan then runs as before.
        if self.limit.rising {
            fit.level + first.max(last) + season_max < self.limit.value
        } else {
            fit.level + first.min(last) + season_min > self.limit.value
        }
    }

    fn evaluate(&self, now_ms: i64) -> Outlook {
        let Some(fit) = &self.fit else {
            return Outlook::Unavailable("no fit".into());
        };
        let rising = self.limit.rising;
        let limit = self.limit.value;
        let toward = self.toward(fit);
        let trend = format!(
            "trend {:+.3}/h (90 % band {:+.3}..{:+.3}) over {}{}{}",
            fit.slope,
            fit.slope_low.0,
            fit.slope_high.0,
            hours_text(fit.span_ms),
            if fit.profile.is_some() {
                ", daily pattern removed"
            } else {
                ""
            },
            match (fit.shift_at, fit.carried) {
                (Some(_), true) => ", slope carried over a level shift",
                (Some(_), false) => ", since a level shift",
                _ => "",
            }
        );
        if !toward {
            return Outlook::Clear(format!("no significant trend toward {limit}: {trend}"));
        }
        let lookahead = self.max_lookahead_ms.min(fit.span_ms);
        let reached = |v: f64| if rising { v >= limit } else { v <= limit };
        // Steep slope with the residuals on the limit's side first; shallow with the other side.
        let (early, late) = if rising {
            (
                (fit.slope_high, fit.resid_high),
                (fit.slope_low, fit.resid_low),
            )
        } else {
            (
                (fit.slope_low, fit.resid_low),
                (fit.slope_high, fit.resid_high),
            )
        };
        let curve = |(slope, level): (f64, f64), resid: f64, t: i64| {
            level + slope * fit.hours(t) + fit.season(t) + resid
        };
        let (mut at, mut earliest, mut latest) = (None, None, None);
        let mut t = now_ms;
        // Out of reach there is nothing to find: with no central crossing the outlook is Clear
        // whatever the band does.
        let reachable = !self.out_of_reach(fit, now_ms);
        while reachable && t <= now_ms + lookahead {
            if at.is_none() && reached(fit.central(t)) {
                at = Some(t);
            }
            if earliest.is_none() && reached(curve(early.0, early.1, t)) {
                earliest = Some(t);
            }
            if latest.is_none() && reached(curve(late.0, late.1, t)) {
                latest = Some(t);
                break;
            }
            t += SCAN_STEP_MS;
        }
        let Some(at_ms) = at else {
            return Outlook::Clear(format!(
                "{limit} not reached within {} (no forecast further ahead than the history \
                 behind it): {trend}",
                hours_text(lookahead)
            ));
        };
        let earliest_ms = earliest.unwrap_or(at_ms).min(at_ms);
        // Past the scan the shallow line's crossing is solved without the daily profile.
        let latest_ms = latest.unwrap_or_else(|| {
            let ((slope, level), resid) = late;
            let hours = (limit - level - resid) / slope;
            let ms = fit.origin_ms as f64 + hours * MS_PER_HOUR as f64;
            if ms.is_finite() && ms < i64::MAX as f64 {
                (ms as i64).max(now_ms + lookahead)
            } else {
                i64::MAX
            }
        });
        Outlook::Saturates {
            at_ms,
            earliest_ms,
            latest_ms: latest_ms.max(at_ms),
            rate_per_hour: fit.slope,
            note: trend,
        }
    }

    /// The current forecast as reported with alerts.
    pub fn forecast(&self) -> Forecast {
        let limit = Some(self.limit.value);
        if let Some(r) = &self.rushing {
            let at = ooda_core::clock::from_millis(r.at_ms);
            return Forecast {
                limit,
                saturation: Some(Saturation {
                    at,
                    earliest: at,
                    latest: at,
                    rate_per_hour: r.rate_per_hour,
                }),
                note: format!(
                    "reaches {} at {}; {}",
                    self.limit.value,
                    at.format("%Y-%m-%d %H:%M:%S UTC"),
                    r.note
                ),
            };
        }
        match &self.outlook {
            Outlook::Unavailable(reason) | Outlook::Clear(reason) => Forecast {
                limit,
                saturation: None,
                note: reason.clone(),
            },
            Outlook::Saturates {
                at_ms,
                earliest_ms,
                latest_ms,
                rate_per_hour,
                note,
            } => {
                let ts = |ms: i64| ooda_core::clock::from_millis(ms);
                Forecast {
                    limit,
                    saturation: Some(Saturation {
                        at: ts(*at_ms),
                        earliest: ts(*earliest_ms),
                        latest: ts(*latest_ms),
                        rate_per_hour: *rate_per_hour,
                    }),
                    note: format!(
                        "reaches {} at {} (90 % band {} to {}); {note}",
                        self.limit.value,
                        ts(*at_ms).format("%Y-%m-%d %H:%M UTC"),
                        ts(*earliest_ms).format("%Y-%m-%d %H:%M"),
                        ts(*latest_ms).format("%Y-%m-%d %H:%M")
                    ),
                }
            }
        }
    }

    /// The predicted saturation time, if any.
    pub fn saturation_ms(&self) -> Option<(i64, i64, i64)> {
        if let Some(r) = &self.rushing {
            return Some((r.at_ms, r.at_ms, r.at_ms));
        }
        match self.outlook {
            Outlook::Saturates {
                at_ms,
                earliest_ms,
                latest_ms,
                ..
            } => Some((at_ms, earliest_ms, latest_ms)),
            _ => None,
        }
    }

    /// Whether the forecast alert fires at `now_ms`, and how loud: critical within the critical
    /// horizon, warning within the warning one; once firing it holds until the predicted time
    /// recedes past 1.25 × the warning horizon (or no saturation is predicted).
    ///
    /// A limit rushed at within half an hour (the fast path, `forecast/rush.rs`) fires first,
    /// whatever the daily fit says: critical within 10 minutes, else warning.
    pub fn level(&mut self, now_ms: i64, horizon: ForecastHorizon) -> Level {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.rushing = self.rush.check(now_ms, self.limit);
        if let Some(r) = &self.rushing {
            self.firing = true;
            return if r.at_ms.saturating_sub(now_ms) <= rush::CRITICAL_MS {
                Level::Critical
            } else {
                Level::Warning
            };
        }
        let Some((at_ms, _, _)) = self.saturation_ms() else {
            self.firing = false;
            return Level::Ok;
        };
        let remaining = at_ms.saturating_sub(now_ms);
        let warning = ms(horizon.warning);
        let clear = (warning as f64 * CLEAR_FACTOR) as i64;
        let level = if remaining <= ms(horizon.critical) {
            Level::Critical
        } else if remaining <= warning || (self.firing && remaining <= clear) {
            Level::Warning
        } else {
            Level::Ok
        };
        self.firing = level > Level::Ok;
        level
    }
}

/// The previous fit's slope, profile and band, re-levelled on the buckets seen since a shift.
fn carry_over(prior: &Fit, times: &[i64], values: &[f64], shift: Option<i64>) -> Fit {
    let last = times.last().copied().unwrap_or(prior.origin_ms);
    let hours: Vec<f64> = times
        .iter()
        .map(|t| (t - last) as f64 / MS_PER_HOUR as f64)
        .collect();
    let adjusted: Vec<f64> = times
        .iter()
        .zip(values)
        .map(|(t, v)| v - prior.season(*t))
        .collect();
    Fit {
        origin_ms: last,
        slope: prior.slope,
        slope_low: (
            prior.slope_low.0,
            intercept(&hours, &adjusted, prior.slope_low.0),
        ),
        slope_high: (
            prior.slope_high.0,
            intercept(&hours, &adjusted, prior.slope_high.0),
        ),
        level: intercept(&hours, &adjusted, prior.slope),
        resid_low: prior.resid_low,
        resid_high: prior.resid_high,
        sigma: prior.sigma,
        profile: prior.profile,
        // The lookahead stays bounded by what the carried slope was fitted on.
        span_ms: prior.span_ms,
        shift_at: shift,
        carried: true,
    }
}

fn hour_of_day(t_ms: i64) -> usize {
    (t_ms.div_euclid(MS_PER_HOUR).rem_euclid(24)) as usize
}

/// Median per hour of day of the detrended values, centred on its own median (hours never seen
/// get 0).
fn daily_profile(times: &[i64], hours: &[f64], values: &[f64], slope: f64) -> [f64; 24] {
    let per_hour = times.len() / 24 + 1;
    let mut by_hour: [Vec<f64>; 24] = std::array::from_fn(|_| Vec::with_capacity(per_hour));
    for ((t, h), v) in times.iter().zip(hours).zip(values) {
        by_hour[hour_of_day(*t)].push(v - slope * h);
    }
    let mut profile = [0.0; 24];
    let mut seen = Vec::new();
    for (p, mut vs) in profile.iter_mut().zip(by_hour) {
        if !vs.is_empty() {
            *p = quantile(&mut vs, 0.5);
            seen.push(*p);
        }
    }
    if !seen.is_empty() {
        let centre = quantile(&mut seen, 0.5);
        for p in &mut profile {
            if *p != 0.0 {
                *p -= centre;
            }
        }
    }
    profile
}

/// The pairwise slopes a Theil–Sen fit takes its median from, as [`order_key`]s. Past
/// [`MAX_PAIRS`] every `stride`-th pair (counting pairs (i, j), i < j, row by row) is kept: a fixed
/// stride, so reruns agree, and the median of 16k slopes is as good as of 70k at a quarter of the
/// selection work. The kept pairs are stepped to directly; visiting the skipped ones (and taking
/// a remainder for each) cost more than the divisions for the kept ones.
fn pairwise_slopes(x: &[f64], y: &[f64], slopes: &mut Vec<i64>) {
    let n = x.len();
    let pairs_total = n * n.saturating_sub(1) / 2;
    let stride = pairs_total.div_ceil(MAX_PAIRS).max(1);
    slopes.clear();
    slopes.reserve(pairs_total.div_ceil(stride));
    // Pairs before row i, modulo the stride: the next kept pair is `stride - done` further on.
    let mut done = 0usize;
    for i in 0..n {
        let row = n - i - 1;
        let mut j = i + (stride - done);
        while j < n {
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push(order_key((y[j] - y[i]) / dx));
            }
            j += stride;
        }
        done = (done + row) % stride;
    }
}

/// The Theil–Sen slope alone (the median pairwise slope), for detrending before the profile.
/// `slopes` is scratch space, reused by the fit that follows (up to [`MAX_PAIRS`] slopes).
fn theil_sen_slope(x: &[f64], y: &[f64], slopes: &mut Vec<i64>) -> f64 {
    pairwise_slopes(x, y, slopes);
    if slopes.is_empty() {
        return 0.0;
    }
    let rank = quantile_rank(slopes.len(), 0.5);
    from_order_key(*slopes.select_nth_unstable(rank).1)
}

/// Theil–Sen slope with Sen's rank interval at 90 %, counting `n_eff` independent points.
fn theil_sen(x: &[f64], y: &[f64], n_eff: f64, slopes: &mut Vec<i64>) -> (f64, f64, f64) {
    pairwise_slopes(x, y, slopes);
    if slopes.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let pairs = n_eff * (n_eff - 1.0) / 2.0;
    let var = n_eff * (n_eff - 1.0) * (2.0 * n_eff + 5.0) / 18.0;
    let fraction = (Z90 * var.sqrt() / pairs).min(1.0);
    let low_q = ((1.0 - fraction) / 2.0).clamp(0.0, 1.0);
    let high_q = ((1.0 + fraction) / 2.0).clamp(0.0, 1.0);
    let len = slopes.len();
    let mid_rank = quantile_rank(len, 0.5);
    let (below, mid, above) = slopes.select_nth_unstable(mid_rank);
    let mid = *mid;
    // The selection left the `mid_rank` smallest slopes before the median and the rest after
    // it, so each bound is selected on its own side only (same order statistic, half the work).
    let low = match quantile_rank(len, low_q) {
        r if r < mid_rank => *below.select_nth_unstable(r).1,
        _ => mid,
    };
    let high = match quantile_rank(len, high_q) {
        r if r > mid_rank => *above.select_nth_unstable(r - mid_rank - 1).1,
        _ => mid,
    };
    (
        from_order_key(mid),
        from_order_key(low),
        from_order_key(high),
    )
}

/// An integer whose order is `f64::total_cmp`'s (the same bit trick): selecting on plain
/// integers is about twice as fast as through a float comparator, with the same result.
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The inverse of [`order_key`] (the transform is its own inverse).
fn from_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

fn intercept(x: &[f64], y: &[f64], slope: f64) -> f64 {
    let mut r: Vec<f64> = x.iter().zip(y).map(|(x, y)| y - slope * x).collect();
    quantile(&mut r, 0.5)
}

fn median_abs(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|r| r.abs()).collect();
    quantile(&mut v, 0.5)
}

/// The `q` quantile by selection (nearest rank); 0 for no values. Reorders `values`.
pub(crate) fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = quantile_rank(values.len(), q);
    let (_, v, _) = values.select_nth_unstable_by(rank, f64::total_cmp);
    *v
}

/// The nearest rank of the `q` quantile among `len > 0` values.
fn quantile_rank(len: usize, q: f64) -> usize {
    ((len - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize
}

fn hours_text(ms: i64) -> String {
    let hours = ms as f64 / MS_PER_HOUR as f64;
    if hours >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} h")
    }
}

#[cfg(test)]
mod tests;
