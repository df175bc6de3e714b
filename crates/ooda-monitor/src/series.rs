//! One series' detector: baseline after cold start, static limits and the level-shift detector
//! before, direction and minimum duration always. It turns samples into verdicts; fusing
//! verdicts into alerts belongs to `fusion`.

use ooda_core::{AlertKind, MetricClass};

use crate::baseline::{Baseline, BaselineParams};
use crate::calendar::{Calendar, DayCache};
use crate::coldstart::{static_verdict, LevelShift};
use crate::config::{ClassPolicy, MonitorConfig, StaticThreshold};
use crate::score::Level;

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
}

impl SeriesContext {
    pub fn new(config: &MonitorConfig, class: MetricClass) -> Self {
        Self {
            params: BaselineParams::new(&config.baseline),
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
        }
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

        let expected = self.baseline.expect(time_ms, day, params);
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
            if host_normal && context.tail_quantile > 0.0 {
                let q = context.tail_quantile;
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
                let floor = (context.sigma_floor_fraction * sigma).max(
                    self.baseline
                        .resolution_floor_steps(context.resolution_floor),
                );
                if let Some(z) = shift.observe(x, floor, &context.level_shift) {
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
                            expected: x - z,
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
}
