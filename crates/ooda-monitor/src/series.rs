//! One series' detector: baseline after cold start, static limits and the level-shift detector
//! before, direction and minimum duration always. It turns samples into verdicts; fusing
//! verdicts into alerts belongs to `fusion`.

use ooda_core::{AlertKind, MetricClass};

use crate::baseline::{Baseline, BaselineParams};
use crate::calendar::{Calendar, DayCache};
use crate::coldstart::{static_verdict, LevelShift};
use crate::config::{ClassPolicy, MonitorConfig, StaticThreshold};
use crate::score::Level;

/// The cold-start level-shift detector's σ floor, as a fraction of the series' overall σ.
const COLD_SHIFT_FLOOR: f64 = 0.5;

/// Everything a series detector reads but does not own; shared by all series of one class.
#[derive(Debug, Clone)]
pub struct SeriesContext {
    pub params: BaselineParams,
    pub policy: ClassPolicy,
    pub cold_start_ms: i64,
    pub static_limit: Option<StaticThreshold>,
    pub level_shift: crate::config::LevelShiftConfig,
    pub sigma_floor_fraction: f64,
    pub resolution_floor: f64,
    pub tail_quantile: f64,
    pub tail_step: f64,
    pub ewma_alpha: f64,
    /// sqrt((2 − α) / α): makes the EWMA of unit-variance z-scores unit-variance again.
    pub ewma_norm: f64,
    pub freeze_while_abnormal: bool,
    /// The metric's domain (a percentage: 0–100); expectations are clamped into it.
    pub domain: (f64, f64),
    /// σ never drops below this, in the series' units: a bounded metric's scale (a share of its
    /// domain), so a 0.02-point move of a percentage is never tens of σ however quiet the
    /// percentage has been. 0 for unbounded series (their floors come from their own history).
    pub scale_floor: f64,
}

/// The share of a bounded metric's domain that is always within noise (0.05 points of a
/// percentage): below what any dashboard shows or any person would act on.
const DOMAIN_FLOOR_FRACTION: f64 = 5e-4;

/// What a series' name says about its unit, for limits written in one unit.
fn percent_named(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("percent") || n.contains("pct") || n.ends_with("_util") || n.contains("_util_")
}

/// A ratio in 0–1 by the Prometheus naming convention (`node_memory_used_ratio`).
fn ratio_named(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("_ratio") || n.contains("_ratio{")
}

/// The factor from a latency series' unit to seconds, if its name says its unit.
fn seconds_per_unit(name: &str) -> Option<f64> {
    let n = name.to_ascii_lowercase();
    if n.ends_with("_seconds") || n.ends_with("_s") || n.ends_with("_sec") {
        Some(1.0)
    } else if n.ends_with("_ms") || n.ends_with("_milliseconds") {
        Some(0.001)
    } else {
        None
    }
}

impl SeriesContext {
    pub fn new(config: &MonitorConfig, class: MetricClass) -> Self {
        Self {
            params: BaselineParams::new(&config.baseline).with_level_min_age(
                i64::try_from(config.cold_start.duration.as_millis()).unwrap_or(i64::MAX),
            ),
            policy: config.policy(class),
            cold_start_ms: i64::try_from(config.cold_start.duration.as_millis())
                .unwrap_or(i64::MAX),
            static_limit: config.cold_start.thresholds.get(&class).cloned(),
            level_shift: config.cold_start.level_shift.clone(),
            sigma_floor_fraction: config.baseline.sigma_floor_fraction,
            resolution_floor: config.baseline.resolution_floor,
            tail_quantile: config.scoring.tail_quantile,
            tail_step: config.scoring.tail_step,
            ewma_alpha: config.scoring.ewma_alpha,
            ewma_norm: if config.scoring.ewma_alpha > 0.0 {
                ((2.0 - config.scoring.ewma_alpha) / config.scoring.ewma_alpha).sqrt()
            } else {
                0.0
            },
            freeze_while_abnormal: config.baseline.freeze_while_abnormal,
            domain: (f64::NEG_INFINITY, f64::INFINITY),
            scale_floor: 0.0,
        }
    }

    /// The context of one named series: a static limit applies only where the name says the
    /// unit the limit is written in (a percentage for usage classes, seconds or milliseconds for
    /// latency): "errors ≥ 1" or "latency ≥ 1" means nothing for a count or for milliseconds.
    /// A percentage's expectations stay in 0–100.
    pub fn for_series(config: &MonitorConfig, class: MetricClass, name: &str) -> Self {
        let mut context = Self::new(config, class);
        let percent = percent_named(name);
        context.static_limit = match (class, context.static_limit.take()) {
            (_, None) => None,
            (MetricClass::Latency, Some(limit)) => {
                seconds_per_unit(name).map(|per| StaticThreshold {
                    warning: limit.warning / per,
                    critical: limit.critical / per,
                    direction: limit.direction,
                })
            }
            (_, Some(limit)) => percent.then_some(limit),
        };
        if percent {
            context.domain = (0.0, 100.0);
        } else if ratio_named(name) {
            context.domain = (0.0, 1.0);
        }
        let width = context.domain.1 - context.domain.0;
        if width.is_finite() {
            context.scale_floor = DOMAIN_FLOOR_FRACTION * width;
        }
        context
    }
}

/// One series' finding for one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesVerdict {
    pub kind: AlertKind,
    /// Signed z (or robust z, or the static strength) as measured.
    pub z: f64,
    /// Direction applied, in the same units; never negative.
    pub strength: f64,
    /// Level after the minimum duration.
    pub level: Level,
    pub expected: f64,
}

/// The state of one series.
#[derive(Debug, Clone)]
pub struct SeriesDetector {
    baseline: Baseline,
    level_shift: Option<Box<LevelShift>>,
    day: DayCache,
    last_ms: Option<i64>,
    excursion_since: Option<i64>,
    /// Tracked `tail_quantile` of this series' own |z| (never below the warning z).
    tail: f32,
    /// No value below zero seen yet: expectations stay at or above zero (counts, rates).
    nonneg: bool,
    /// Exponentially weighted mean of the signed z (an EWMA control chart: catches sustained
    /// small shifts that no single sample shows).
    ewma: f32,
}

impl SeriesDetector {
    pub fn new(context: &SeriesContext) -> Self {
        Self {
            baseline: Baseline::new(),
            level_shift: context
                .level_shift
                .enabled
                .then(|| Box::new(LevelShift::new(context.level_shift.window))),
            day: DayCache::default(),
            last_ms: None,
            excursion_since: None,
            tail: context.policy.warning_z as f32,
            nonneg: true,
            ewma: 0.0,
        }
    }

    /// The factor this series' thresholds are raised by (1 for well-behaved series).
    pub fn tail_scale(&self, context: &SeriesContext) -> f64 {
        if context.tail_quantile > 0.0 {
            (f64::from(self.tail) / context.policy.warning_z).max(1.0)
        } else {
            1.0
        }
    }

    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Bytes of state, heap included.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() - std::mem::size_of::<Baseline>()
            + self.baseline.state_bytes()
            + self.level_shift.as_ref().map_or(0, |l| l.state_bytes())
    }

    /// Scores `x` at `time_ms` against what was known before, then learns it. Returns `None` for
    /// a sample that cannot be scored (not finite, not after the previous sample, or a series
    /// with no spread yet); such a sample is not learned either, except the first ones, which
    /// are how a series gets its spread. `host_normal` is false while the host is abnormal: then
    /// the series does not widen its tail (nor, with `freeze_while_abnormal`, learn), so an
    /// incident does not teach the series that the incident is normal. The host bounds how long
    /// it says so (`learning_pause`).
    pub fn observe(
        &mut self,
        time_ms: i64,
        x: f64,
        calendar: &Calendar,
        context: &SeriesContext,
        host_normal: bool,
    ) -> Option<SeriesVerdict> {
        if !x.is_finite() {
            return None;
        }
        if self.last_ms.is_some_and(|last| time_ms <= last) {
            return None;
        }
        self.last_ms = Some(time_ms);
        let day = self.day.kind(calendar, time_ms);
        let params = &context.params;
        let policy = &context.policy;
        let age = self
            .baseline
            .first_ms()
            .map_or(0, |first| time_ms.saturating_sub(first));
        let cold = age < context.cold_start_ms;

        let nonneg = self.nonneg;
        let domain = context.domain;
        let expected = self.baseline.expect(time_ms, day, params).map(|mut e| {
            // An expectation outside the metric's domain is a model artefact (a profile and a
            // level added up past zero, say): nothing outside it can be expected.
            let lo = if nonneg { domain.0.max(0.0) } else { domain.0 };
            e.mean = e.mean.clamp(lo, domain.1.max(lo));
            e.sigma = e.sigma.max(context.scale_floor);
            if cold {
                // A young series' σ is a few steps spread over many equal samples: one more
                // step of its resolution would be tens of σ. Its z is shown, never alerted on,
                // while cold; it must not read as −100σ either.
                let resolution = self.baseline.resolution().unwrap_or(0.0);
                e.sigma = e.sigma.max(context.resolution_floor * resolution);
            }
            e
        });
        self.nonneg &= x >= 0.0;
        let scale = self.tail_scale(context);
        let mut verdict = expected.and_then(|e| {
            let z = e.z(x)?;
            let raw = policy.direction.effective(z);
            let mut raw = raw;
            if context.ewma_alpha > 0.0 {
                let a = context.ewma_alpha;
                let ewma = a * z.clamp(-50.0, 50.0) + (1.0 - a) * f64::from(self.ewma);
                self.ewma = ewma as f32;
                raw = raw.max(policy.direction.effective(ewma) * context.ewma_norm);
            }
            // A young profile's z-scores say how young it is, not how rough the series is:
            // the tail learns only once the baseline is trusted.
            if host_normal && !cold && context.tail_quantile > 0.0 {
                // The quantile is per 5 minutes of data: a series sampled 30× as often must be
                // past its tail 30× more rarely per sample, or it pages 30× as often per day.
                let rate = f64::from(self.baseline.samples_per_five_minutes());
                let q = 1.0 - (1.0 - context.tail_quantile) / rate.max(1.0);
                let step = context.tail_step;
                let tail = f64::from(self.tail);
                let moved = if raw > tail {
                    tail + step * q
                } else {
                    tail - step * (1.0 - q)
                };
                self.tail = moved.max(policy.warning_z) as f32;
            }
            let strength = raw / scale;
            Some(SeriesVerdict {
                kind: AlertKind::Baseline,
                z,
                strength,
                level: Level::of(strength, policy.warning_z, policy.critical_z),
                expected: e.mean,
            })
        });

        if cold {
            // The baseline is too young to be believed: its verdict ranks but never alerts.
            if let Some(v) = verdict.as_mut() {
                v.level = Level::Ok;
                v.strength = v.strength.min(policy.warning_z * 0.5);
            }
            if let Some(limit) = &context.static_limit {
                let (level, strength) =
                    static_verdict(limit, x, policy.warning_z, policy.critical_z);
                if verdict.is_none_or(|v| strength >= v.strength) {
                    verdict = Some(SeriesVerdict {
                        kind: AlertKind::Threshold,
                        z: strength,
                        strength,
                        level,
                        expected: limit.warning,
                    });
                }
            }
            if let Some(shift) = self.level_shift.as_mut() {
                let sigma = self.baseline.overall().map_or(0.0, |(_, sigma)| sigma);
                // Half the series' overall spread: while the daily profile is unknown, only a
                // jump well beyond the series' usual swing is worth an alert, not the morning
                // ramp of every day. And never below its resolution, uncapped: in a young
                // series that has barely moved, the overall σ is a few steps spread over many
                // equal samples, and one more step would be tens of σ.
                let floor = (COLD_SHIFT_FLOOR * sigma)
                    .max(context.resolution_floor * self.baseline.resolution().unwrap_or(0.0))
                    .max(context.scale_floor);
                if let Some((z, median)) = shift.observe_with_median(x, floor, &context.level_shift)
                {
                    let strength = policy.direction.effective(z);
                    let level = Level::of(
                        strength,
                        context.level_shift.warning_z,
                        context.level_shift.critical_z,
                    );
                    // Rescaled to the class's units, so it ranks beside the other detectors.
                    let scaled = strength * policy.warning_z / context.level_shift.warning_z;
                    if verdict.is_none_or(|v| scaled > v.strength) {
                        verdict = Some(SeriesVerdict {
                            kind: AlertKind::Baseline,
                            z,
                            strength: scaled,
                            level,
                            expected: median,
                        });
                    }
                }
            }
        } else if self.level_shift.is_some() {
            // Handed over to the baseline: the cold-start window is no longer needed.
            self.level_shift = None;
        }

        if host_normal || !context.freeze_while_abnormal {
            self.baseline.learn(time_ms, x, day, expected, params);
        }

        let mut verdict = verdict?;
        if verdict.level == Level::Ok {
            self.excursion_since = None;
        } else {
            let since = *self.excursion_since.get_or_insert(time_ms);
            let lasted = time_ms.saturating_sub(since);
            if (lasted as u128) < policy.min_duration.as_millis() {
                verdict.level = Level::Ok;
            }
        }
        Some(verdict)
    }
}

/// Learning-only access for the engine's warm-up of a day kind (used by tests).
#[cfg(test)]
impl SeriesDetector {
    fn day_kind(&mut self, calendar: &Calendar, time_ms: i64) -> crate::baseline::DayKind {
        self.day.kind(calendar, time_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const FIVE_MIN: i64 = 300_000;

    fn context(class: MetricClass) -> SeriesContext {
        SeriesContext::new(&MonitorConfig::default(), class)
    }

    #[test]
    fn cold_start_uses_static_limits() {
        let ctx = context(MetricClass::Cpu);
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        assert_eq!(d.day_kind(&calendar, 0), crate::DayKind::Ordinary);
        let v = d
            .observe(0, 99.0, &calendar, &ctx, true)
            .expect("static limit applies");
        assert_eq!((v.kind, v.level), (AlertKind::Threshold, Level::Critical));
    }

    #[test]
    fn baseline_takes_over_after_cold_start() {
        let ctx = context(MetricClass::Latency);
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        let days = 15;
        for i in 0..(days * 288) {
            let x = 0.2 + ((i * 37) % 11) as f64 * 0.01;
            d.observe(i * FIVE_MIN, x, &calendar, &ctx, true);
        }
        // 0.6 s is well under the static 1 s limit, but far outside this series' band.
        let v = d
            .observe(days * 288 * FIVE_MIN, 0.6, &calendar, &ctx, true)
            .expect("scored");
        assert_eq!((v.kind, v.level), (AlertKind::Baseline, Level::Critical));
        // Latency only alarms high.
        let v = d
            .observe((days * 288 + 1) * FIVE_MIN, 0.0, &calendar, &ctx, true)
            .expect("scored");
        assert_eq!(v.level, Level::Ok);
    }

    #[test]
    fn min_duration_delays_the_level() {
        let mut config = MonitorConfig::default();
        config.scoring.default.min_duration = Duration::from_secs(600);
        config.cold_start.duration = Duration::ZERO;
        let ctx = SeriesContext::new(&config, MetricClass::Other);
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        for i in 0..2000 {
            d.observe(i * FIVE_MIN, ((i * 37) % 11) as f64, &calendar, &ctx, true);
        }
        let levels: Vec<Level> = (2000..2004)
            .map(|i| {
                d.observe(i * FIVE_MIN, 100.0, &calendar, &ctx, true)
                    .expect("scored")
                    .level
            })
            .collect();
        assert_eq!(levels[0], Level::Ok);
        assert_eq!(levels[1], Level::Ok);
        assert_ne!(levels[2], Level::Ok, "{levels:?}");
    }

    #[test]
    fn out_of_order_and_non_finite_are_ignored() {
        let ctx = context(MetricClass::Other);
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        d.observe(FIVE_MIN, 1.0, &calendar, &ctx, true);
        assert_eq!(d.observe(FIVE_MIN, 5.0, &calendar, &ctx, true), None);
        assert_eq!(d.observe(0, 5.0, &calendar, &ctx, true), None);
        assert_eq!(
            d.observe(2 * FIVE_MIN, f64::NAN, &calendar, &ctx, true),
            None
        );
        assert_eq!(
            d.observe(2 * FIVE_MIN, f64::INFINITY, &calendar, &ctx, true),
            None
        );
        assert_eq!(d.baseline().samples(), 1);
    }

    /// Issue 19, first minutes on a real host: free inodes at 95.00 % for a few minutes, then
    /// 0.02 and 0.001 points less. The old spread floor made these −101σ and −14.9σ.
    #[test]
    fn a_hundredth_of_a_point_in_a_young_percentage_is_not_many_sigma() {
        let config = MonitorConfig::default();
        let name = "inodes_free_percent{mountpoint=\"/\"}";
        let ctx = SeriesContext::for_series(&config, MetricClass::Inodes, name);
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        let step = 15_000;
        let mut worst: f64 = 0.0;
        for i in 0..300i64 {
            let x = match i {
                0..100 => 95.0,
                100..200 => 94.98,
                _ => 94.979,
            };
            if let Some(v) = d.observe(i * step, x, &calendar, &ctx, true) {
                assert_eq!(v.level, Level::Ok, "sample {i}: {v:?}");
                worst = worst.max(v.z.abs());
            }
        }
        assert!(worst < 1.0, "worst |z| {worst}");
        // A real move is still seen: 5 points of free inodes gone at once.
        let v = d
            .observe(300 * step, 89.98, &calendar, &ctx, true)
            .expect("scored");
        assert!(v.z < -5.0, "{v:?}");
    }

    /// The same on an unbounded series: one step of its own resolution after a quiet start is
    /// one step, not tens of σ of the few samples' spread.
    #[test]
    fn one_resolution_step_of_a_young_series_is_not_a_level_shift() {
        let config = MonitorConfig::default();
        let ctx = SeriesContext::for_series(&config, MetricClass::Other, "queue_length");
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        for i in 0..400i64 {
            let x = if i < 150 { 20.0 } else { 21.0 };
            if let Some(v) = d.observe(i * 15_000, x, &calendar, &ctx, true) {
                assert_eq!(v.level, Level::Ok, "sample {i}: {v:?}");
                assert!(v.z.abs() <= 1.0, "sample {i}: {v:?}");
            }
        }
    }

    /// Expectations stay inside the metric's domain: a busy percentage whose day-time load has
    /// gone (the level falls by the day's swing) is never expected below 0 at night.
    #[test]
    fn expectations_stay_in_the_metrics_domain() {
        let config = MonitorConfig::default();
        let ctx = SeriesContext::for_series(&config, MetricClass::Cpu, "cpu_busy_percent");
        assert_eq!(ctx.domain, (0.0, 100.0));
        let calendar = Calendar::default();
        let mut d = SeriesDetector::new(&ctx);
        let mut lowest = f64::INFINITY;
        for i in 0..(8 * 288i64) {
            let hour = (i / 12) % 24;
            let day = i / 288;
            let busy = if day < 4 && (8..20).contains(&hour) {
                85.0
            } else {
                3.0
            };
            let x = busy + ((i * 37) % 5) as f64 * 0.2;
            if let Some(v) = d.observe(i * FIVE_MIN, x, &calendar, &ctx, true) {
                lowest = lowest.min(v.expected);
                assert!((0.0..=100.0).contains(&v.expected), "sample {i}: {v:?}");
            }
        }
        assert!(lowest < 5.0, "the night was expected near 3 %: {lowest}");
        let ratio =
            SeriesContext::for_series(&config, MetricClass::Memory, "node_memory_used_ratio");
        assert_eq!(ratio.domain, (0.0, 1.0));
        let count = SeriesContext::for_series(&config, MetricClass::Other, "requests");
        assert_eq!(
            (count.domain.0, count.scale_floor),
            (f64::NEG_INFINITY, 0.0)
        );
    }
}
