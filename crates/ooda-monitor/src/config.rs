//! The engine's configuration: one `[monitor]` section, closed (`deny_unknown_fields`), every
//! default in this file and nowhere else. The config crate embeds [`MonitorConfig`] as it is;
//! `ooda detect --config FILE` reads a TOML file holding just this struct (see the crate README).
//!
//! Durations are written as humantime strings (`"30s"`, `"2m"`, `"14days"`, `"4weeks"`).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use ooda_core::MetricClass;
use serde::{Deserialize, Serialize};

use crate::MonitorError;

/// The whole `[monitor]` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    pub baseline: BaselineConfig,
    pub scoring: ScoringConfig,
    pub cold_start: ColdStartConfig,
    pub correlation: CorrelationConfig,
    pub precursor: PrecursorConfig,
    pub fusion: FusionConfig,
    pub grouping: GroupingConfig,
    /// Capacity forecasting: time to saturation for series that have a limit.
    pub forecast: ForecastConfig,
    /// Days that do not look like ordinary days (month-end, holidays, launches).
    pub calendar: Vec<CalendarEvent>,
    /// Metric name → class, overriding the class guessed from the name.
    pub classes: BTreeMap<String, MetricClass>,
}

impl MonitorConfig {
    /// Parses a TOML document holding just this section's keys.
    pub fn from_toml(text: &str) -> Result<Self, MonitorError> {
        let config: MonitorConfig = toml::from_str(text).map_err(|e| MonitorError::Config {
            path: "monitor".into(),
            reason: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks the relations serde cannot express (warning below critical, positive windows).
    pub fn check(&self) -> Result<(), MonitorError> {
        let bad = |path: &str, reason: String| {
            Err(MonitorError::Config {
                path: path.to_string(),
                reason,
            })
        };
        let mut policies: Vec<(String, &ClassPolicy)> =
            vec![("scoring.default".into(), &self.scoring.default)];
        for (class, policy) in &self.scoring.classes {
            policies.push((format!("scoring.classes.{class}"), policy));
        }
        for (path, p) in policies {
            if !(p.warning_z.is_finite() && p.warning_z > 0.0) {
                return bad(
                    &format!("{path}.warning_z"),
                    format!("expected a positive number, found {}", p.warning_z),
                );
            }
            if !(p.critical_z.is_finite() && p.critical_z >= p.warning_z) {
                return bad(
                    &format!("{path}.critical_z"),
                    format!(
                        "expected a number >= warning_z ({}), found {}",
                        p.warning_z, p.critical_z
                    ),
                );
            }
        }
        if !(0.0..1.0).contains(&self.scoring.tail_quantile) {
            return bad(
                "scoring.tail_quantile",
                format!(
                    "expected 0 (off) or a quantile below 1, found {}",
                    self.scoring.tail_quantile
                ),
            );
        }
        if !(0.0..1.0).contains(&self.scoring.ewma_alpha) {
            return bad(
                "scoring.ewma_alpha",
                format!(
                    "expected 0 (off) or a weight below 1, found {}",
                    self.scoring.ewma_alpha
                ),
            );
        }
        if self.baseline.half_life.is_zero() {
            return bad("baseline.half_life", "expected a positive duration".into());
        }
        if !(self.baseline.prior_weight.is_finite() && self.baseline.prior_weight >= 0.0) {
            return bad(
                "baseline.prior_weight",
                format!(
                    "expected a non-negative number, found {}",
                    self.baseline.prior_weight
                ),
            );
        }
        if self.cold_start.level_shift.window < 8 || self.cold_start.level_shift.window > 512 {
            return bad(
                "cold_start.level_shift.window",
                format!(
                    "expected 8..=512 samples, found {}",
                    self.cold_start.level_shift.window
                ),
            );
        }
        if self.correlation.peers == 0 || self.correlation.peers > 4 {
            return bad(
                "correlation.peers",
                format!("expected 1..=4, found {}", self.correlation.peers),
            );
        }
        self.forecast.check()?;
        for (i, event) in self.calendar.iter().enumerate() {
            if let Some(days) = event.month_end_days {
                if !(1..=7).contains(&days) {
                    return bad(
                        &format!("calendar[{i}].month_end_days"),
                        format!("expected 1..=7, found {days}"),
                    );
                }
            }
            for day in &event.yearly {
                let valid = day.len() == 5
                    && NaiveDate::parse_from_str(&format!("2000-{day}"), "%Y-%m-%d").is_ok();
                if !valid {
                    return bad(
                        &format!("calendar[{i}].yearly"),
                        format!("expected month-day like \"12-25\", found {day:?}"),
                    );
                }
            }
            if event.dates.is_empty() && event.month_end_days.is_none() && event.yearly.is_empty() {
                return bad(
                    &format!("calendar[{i}]"),
                    "expected at least one of dates, month_end_days, yearly".into(),
                );
            }
        }
        Ok(())
    }

    /// The scoring policy of a class: its override, else the shipped per-class default.
    pub fn policy(&self, class: MetricClass) -> ClassPolicy {
        self.scoring
            .classes
            .get(&class)
            .cloned()
            .unwrap_or_else(|| ClassPolicy {
                direction: Direction::default_for(class),
                ..self.scoring.default.clone()
            })
    }
}

/// How the contextual baseline learns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineConfig {
    /// Old samples count half as much after this long, so the baseline follows slow drift.
    #[serde(with = "duration_text")]
    pub half_life: Duration,
    /// How many samples' worth of the series' overall mean and variance a bucket starts with:
    /// a bucket with fewer own samples than this leans on the overall figures (shrinkage).
    pub prior_weight: f32,
    /// The same for an hour-of-week bucket shrinking toward its hour-of-day bucket. Larger,
    /// because an hour-of-week bucket sees one hour a week: its samples come from few distinct
    /// days and are far less independent than their count suggests.
    pub week_prior_weight: f32,
    /// σ never drops below this fraction of the series' overall σ: a quiet hour does not page on
    /// noise.
    pub sigma_floor_fraction: f64,
    /// σ never drops below this many steps of the series' resolution (the smallest change seen;
    /// 0.01 for data rounded to two decimals), so quantised series do not page on one step.
    pub resolution_floor: f64,
    /// Values further than this many σ from the expectation are clipped before they are learned,
    /// so an incident does not teach the baseline that the incident is normal.
    pub learn_clip_z: f64,
    /// While the host is abnormal its series stop calibrating their tails (and, with
    /// `freeze_while_abnormal`, stop learning), for at most this long: then what persists is
    /// taken as the new normal, so a host can never stay abnormal for good.
    #[serde(with = "duration_text")]
    pub learning_pause: Duration,
    /// Whether the baseline itself also stops learning while the host is abnormal.
    pub freeze_while_abnormal: bool,
    /// Half-life of the series' level: a slow average of what the profile does not explain,
    /// added to every expectation, so trends and drifts are followed between profile updates.
    #[serde(with = "duration_text")]
    pub level_half_life: Duration,
    /// A shift that has held beyond `learn_clip_z` σ for this long is the new normal: the level
    /// jumps to it (one alert, then quiet, instead of alerting for days). 0 = never.
    #[serde(with = "duration_text")]
    pub adapt_after: Duration,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            half_life: Duration::from_secs(4 * 7 * 86_400),
            prior_weight: 24.0,
            week_prior_weight: 24.0,
            sigma_floor_fraction: 0.1,
            resolution_floor: 1.0,
            learn_clip_z: 3.0,
            learning_pause: Duration::ZERO,
            freeze_while_abnormal: false,
            level_half_life: Duration::from_secs(86_400),
            adapt_after: Duration::from_secs(4 * 3600),
        }
    }
}

/// Which side of the expectation is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only values above the expectation alarm (latency, errors, CPU).
    High,
    /// Only values below the expectation alarm (free disk, free inodes).
    Low,
    Both,
}

impl Direction {
    /// Shipped defaults: usage and error-like classes alarm high; disk and inodes are taken as
    /// *free* space (node_filesystem_avail_bytes) and alarm low; the rest alarm both ways.
    pub fn default_for(class: MetricClass) -> Direction {
        match class {
            MetricClass::Cpu
            | MetricClass::Load
            | MetricClass::Memory
            | MetricClass::Swap
            | MetricClass::PacketLoss
            | MetricClass::Errors
            | MetricClass::Latency
            | MetricClass::FileDescriptors => Direction::High,
            MetricClass::Disk | MetricClass::Inodes => Direction::Low,
            MetricClass::DiskIo
            | MetricClass::Network
            | MetricClass::Processes
            | MetricClass::Other => Direction::Both,
        }
    }

    /// The z-score as seen from this direction: deviations on the harmless side count as 0.
    pub fn effective(self, z: f64) -> f64 {
        match self {
            Direction::High => z.max(0.0),
            Direction::Low => (-z).max(0.0),
            Direction::Both => z.abs(),
        }
    }
}

/// Thresholds and direction for one metric class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassPolicy {
    pub warning_z: f64,
    pub critical_z: f64,
    pub direction: Direction,
    /// A deviation must last this long before it counts (0 = at once).
    #[serde(with = "duration_text")]
    pub min_duration: Duration,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        Self {
            warning_z: 2.8,
            critical_z: 4.0,
            direction: Direction::Both,
            min_duration: Duration::ZERO,
        }
    }
}

/// Scoring thresholds: one default policy, overrides per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Applies to every class without an override; its `direction` is replaced by the class's
    /// shipped direction (see [`Direction::default_for`]).
    pub default: ClassPolicy,
    pub classes: BTreeMap<MetricClass, ClassPolicy>,
    /// A host is abnormal when this many of its series deviate together (capped at the number
    /// of series the host has). Real incidents move several series; one series alone is mostly
    /// noise. A static-limit breach always counts alone, a broken relation counts as
    /// `correlation_counts_as` series (it already involves a series and its peers).
    /// 0 (the default) = from the host's width: the fewest series whose chance coincidence
    /// (each series past its calibrated tail `1 − tail_quantile` of the time, independently) is
    /// at most a fifth of one series' own rate: 1 for 1 series, 2 for 2–9, 3 for 10–35, 4 for
    /// 36–110; a single-column host alerts on its column.
    pub min_series: usize,
    pub correlation_counts_as: usize,
    /// A single series of a known class (not `other`) this many times past its warning
    /// threshold counts alone: a latency far above its usual is worth a page even when nothing
    /// else moves. Series of unknown meaning always need company (measured on ASD: lone spikes
    /// there are mostly unlabelled noise).
    pub alone_ratio: f64,
    /// Once a host is abnormal it stays so while its evidence is above this fraction of the
    /// warning threshold (hysteresis), so one alert covers one episode.
    pub hold_fraction: f64,
    /// Like Prometheus' `keep_firing_for`: a host stays abnormal (warning) for this long after
    /// its last deviating row, so a flapping incident is one episode. 0 = off.
    #[serde(with = "duration_text")]
    pub keep_firing_for: Duration,
    /// Self-calibrating thresholds: each series tracks this quantile of its own |z| in normal
    /// operation; a heavy-tailed series whose quantile exceeds the warning z has its thresholds
    /// raised by that factor. 0.995 is where a Gaussian's |z| quantile is 2.8, the default
    /// warning z, so well-behaved series keep the configured thresholds. 0 disables.
    pub tail_quantile: f64,
    /// Step of the quantile tracker, in z units per exceedance.
    pub tail_step: f64,
    /// A series may make its host abnormal on its own (a broken relation, or a spike past
    /// `alone_ratio`) only while it has done so fewer than this many times, decayed with
    /// `solo_half_life`: a series that keeps crying wolf alone (a sparse counter whose every
    /// burst is hundreds of σ, a relation that breaks daily) then needs company like any other.
    /// 0 = no limit.
    pub solo_budget: f64,
    /// How fast a series' lone alerts are forgotten.
    #[serde(with = "duration_text")]
    pub solo_half_life: Duration,
    /// Weight of the newest sample in each series' EWMA of z (an EWMA control chart, scaled
    /// to unit variance): catches sustained small shifts that no single sample shows. 0 = off.
    pub ewma_alpha: f64,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            default: ClassPolicy::default(),
            classes: BTreeMap::new(),
            min_series: 0,
            correlation_counts_as: 3,
            alone_ratio: 3.0,
            hold_fraction: 0.5,
            keep_firing_for: Duration::from_secs(600),
            tail_quantile: 0.995,
            tail_step: 0.05,
            solo_budget: 2.0,
            solo_half_life: Duration::from_secs(2 * 86_400),
            ewma_alpha: 0.0,
        }
    }
}

/// A static limit in the series' own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticThreshold {
    pub warning: f64,
    pub critical: f64,
    /// `high`: alarm above the limits; `low`: alarm below them.
    pub direction: Direction,
}

/// What raises alerts while a series is too young for its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColdStartConfig {
    /// How much history a series needs before its baseline takes over.
    #[serde(with = "duration_text")]
    pub duration: Duration,
    /// Static limits per class, in the units ooda's sources emit (percent for utilisation and
    /// free space, percent for packet loss, errors per second, seconds for latency).
    pub thresholds: BTreeMap<MetricClass, StaticThreshold>,
    pub level_shift: LevelShiftConfig,
}

impl Default for ColdStartConfig {
    fn default() -> Self {
        let t = |warning, critical, direction| StaticThreshold {
            warning,
            critical,
            direction,
        };
        let thresholds = BTreeMap::from([
            (MetricClass::Cpu, t(90.0, 98.0, Direction::High)),
            (MetricClass::Memory, t(90.0, 97.0, Direction::High)),
            (MetricClass::Swap, t(50.0, 80.0, Direction::High)),
            (MetricClass::Disk, t(10.0, 5.0, Direction::Low)),
            (MetricClass::Inodes, t(10.0, 5.0, Direction::Low)),
            (MetricClass::PacketLoss, t(1.0, 5.0, Direction::High)),
            (MetricClass::Errors, t(1.0, 10.0, Direction::High)),
            (MetricClass::Latency, t(1.0, 5.0, Direction::High)),
            (MetricClass::FileDescriptors, t(80.0, 95.0, Direction::High)),
        ]);
        Self {
            duration: Duration::from_secs(2 * 86_400),
            thresholds,
            level_shift: LevelShiftConfig::default(),
        }
    }
}

/// The rolling median/MAD detector that catches level shifts during cold start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelShiftConfig {
    pub enabled: bool,
    /// Samples in the rolling window (8..=512).
    pub window: usize,
    /// Robust z (|x − median| / (1.4826·MAD)) at which a sample counts as a warning.
    pub warning_z: f64,
    pub critical_z: f64,
}

impl Default for LevelShiftConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: 64,
            warning_z: 5.0,
            critical_z: 8.0,
        }
    }
}

/// Correlation breaks: each series predicted from its strongest peers on the same host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationConfig {
    pub enabled: bool,
    /// Peers per prediction (1..=4).
    pub peers: usize,
    /// A peer must correlate at least this strongly (|r|) to be used.
    pub min_abs_corr: f64,
    /// Rows between refits of the peer models.
    pub refit_every: u32,
    /// Rows of history before a host's relations are trusted.
    pub warm_up: u32,
    /// Forgetting of the covariance and residual statistics.
    #[serde(with = "duration_text")]
    pub half_life: Duration,
    /// Residual σ floor as a fraction of the target series' overall σ.
    pub sigma_floor_fraction: f64,
    /// Residual z at which a relation counts as broken (warning) and badly broken (critical).
    pub warning_z: f64,
    pub critical_z: f64,
    /// EWMA control chart on the residual z, as `scoring.ewma_alpha` for series. 0 = off.
    pub ewma_alpha: f64,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            peers: 2,
            min_abs_corr: 0.8,
            refit_every: 288,
            warm_up: 2016,
            half_life: Duration::from_secs(14 * 86_400),
            sigma_floor_fraction: 0.25,
            warning_z: 4.0,
            critical_z: 6.0,
            ewma_alpha: 0.0,
        }
    }
}

/// Precursor fingerprints learned from past incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrecursorConfig {
    pub enabled: bool,
    /// The look-back window before an incident that forms its fingerprint starts this long
    /// before the incident …
    #[serde(with = "duration_text")]
    pub lookback_start: Duration,
    /// … and ends this long before it.
    #[serde(with = "duration_text")]
    pub lookback_end: Duration,
    /// Cosine similarity at which a live window matches a fingerprint.
    pub min_similarity: f64,
    /// A fingerprint needs at least this much deviation energy (mean |z| over its metrics);
    /// quiet windows before an incident carry no signal and are not stored.
    pub min_energy: f64,
}

impl Default for PrecursorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lookback_start: Duration::from_secs(90 * 60),
            lookback_end: Duration::from_secs(15 * 60),
            min_similarity: 0.85,
            min_energy: 1.0,
        }
    }
}

/// Fusion of anomalies into compound alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FusionConfig {
    /// Anomalies on one host (and its linked hosts) this close in time fuse into one alert.
    #[serde(with = "duration_text")]
    pub window: Duration,
    /// host → hosts it depends on (upstream); used to fuse across hosts and to inhibit.
    pub topology: BTreeMap<String, Vec<String>>,
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(120),
            topology: BTreeMap::new(),
        }
    }
}

/// Capacity forecasting (see the `forecast` module for the method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastConfig {
    pub enabled: bool,
    /// Samples are averaged over buckets this long before the trend is fitted.
    #[serde(with = "duration_text")]
    pub bucket: Duration,
    /// How much history the trend is fitted on (older buckets are forgotten).
    #[serde(with = "duration_text")]
    pub window: Duration,
    /// A series needs this much history before its first forecast: less than a day cannot tell
    /// a daily swing from a trend.
    #[serde(with = "duration_text")]
    pub min_history: Duration,
    /// After a level shift (a clean-up, a sudden fill) the trend is refitted on what came after
    /// it once this much has been seen; before that, the previous slope is carried over.
    #[serde(with = "duration_text")]
    pub min_history_after_shift: Duration,
    /// Never predict further ahead than this, nor further than the history behind the forecast.
    #[serde(with = "duration_text")]
    pub max_lookahead: Duration,
    /// Horizons for classes without their own.
    pub default_horizon: ForecastHorizon,
    /// Horizons per metric class.
    pub horizons: BTreeMap<MetricClass, ForecastHorizon>,
    /// Limits of series the engine cannot infer one for (metric name → limit). Usage in percent
    /// saturates at 100 and free space at 0 without being listed here.
    pub capacities: BTreeMap<String, Capacity>,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bucket: Duration::from_secs(15 * 60),
            window: Duration::from_secs(4 * 86_400),
            min_history: Duration::from_secs(86_400),
            min_history_after_shift: Duration::from_secs(2 * 3600),
            max_lookahead: Duration::from_secs(7 * 86_400),
            default_horizon: ForecastHorizon::default(),
            horizons: BTreeMap::new(),
            capacities: BTreeMap::new(),
        }
    }
}

impl ForecastConfig {
    /// The horizons of a class: its own, else the default.
    pub fn horizon(&self, class: MetricClass) -> ForecastHorizon {
        self.horizons
            .get(&class)
            .copied()
            .unwrap_or(self.default_horizon)
    }

    fn check(&self) -> Result<(), MonitorError> {
        let bad = |path: String, reason: String| Err(MonitorError::Config { path, reason });
        if self.bucket < Duration::from_secs(60) {
            return bad(
                "forecast.bucket".into(),
                format!("expected at least 1m, found {:?}", self.bucket),
            );
        }
        if self.window < self.min_history || self.window < 4 * self.bucket {
            return bad(
                "forecast.window".into(),
                "expected at least min_history and at least 4 buckets".into(),
            );
        }
        if self.window.as_secs() / self.bucket.as_secs().max(1) > 2048 {
            return bad(
                "forecast.window".into(),
                "expected at most 2048 buckets per window (make the bucket longer)".into(),
            );
        }
        if self.min_history_after_shift < 2 * self.bucket {
            return bad(
                "forecast.min_history_after_shift".into(),
                "expected at least two buckets".into(),
            );
        }
        let mut horizons = vec![("forecast.default_horizon".to_string(), self.default_horizon)];
        for (class, h) in &self.horizons {
            horizons.push((format!("forecast.horizons.{class}"), *h));
        }
        for (path, h) in horizons {
            if h.critical > h.warning || h.warning.is_zero() {
                return bad(
                    path,
                    format!(
                        "expected 0 < critical <= warning, found warning {:?}, critical {:?}",
                        h.warning, h.critical
                    ),
                );
            }
        }
        for (name, c) in &self.capacities {
            if !c.limit.is_finite() || c.direction == Direction::Both {
                return bad(
                    format!("forecast.capacities.{name}"),
                    "expected a finite limit and direction high (rising to it) or low (falling to it)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// How far ahead a predicted saturation raises a warning and a critical forecast alert.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastHorizon {
    #[serde(with = "duration_text")]
    pub warning: Duration,
    #[serde(with = "duration_text")]
    pub critical: Duration,
}

impl Default for ForecastHorizon {
    fn default() -> Self {
        Self {
            warning: Duration::from_secs(6 * 3600),
            critical: Duration::from_secs(3600),
        }
    }
}

/// A configured limit: the value, and whether the series rises (`high`) or falls (`low`) to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub limit: f64,
    pub direction: Direction,
}

/// Alertmanager's grouping timers, with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    #[serde(with = "duration_text")]
    pub group_wait: Duration,
    #[serde(with = "duration_text")]
    pub group_interval: Duration,
    #[serde(with = "duration_text")]
    pub repeat_interval: Duration,
    /// Labels an alert group is keyed by.
    pub group_by: Vec<String>,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            group_by: vec!["host".into(), "kind".into()],
        }
    }
}

/// A day (or days) that does not look like an ordinary one. An event matches a UTC day when any
/// of its rules does: listed `dates` (holidays, launches), the last `month_end_days` days of every
/// month (batch and billing runs), or `yearly` month-days (`"12-25"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarEvent {
    pub name: String,
    pub mode: CalendarMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month_end_days: Option<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub yearly: Vec<String>,
}

/// What the baseline does on an event day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarMode {
    /// Event days learn and are scored against their own hour-of-day profile.
    OwnProfile,
    /// Event days are scored against the ordinary profile but never learned.
    Exclude,
}

/// Serde for `Duration` as humantime text (`"2m"`, `"14days"`).
pub(crate) mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "expected a duration like \"30s\", \"2m\" or \"14days\", found {text:?} ({e})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let config = MonitorConfig::default();
        let text = toml::to_string(&config).expect("defaults serialise");
        let back = MonitorConfig::from_toml(&text).expect("defaults parse back");
        assert_eq!(back, config);
    }

    #[test]
    fn the_readme_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").expect("a toml block") + 8;
        let len = readme[start..].find("```").expect("closed");
        let config =
            MonitorConfig::from_toml(&readme[start..start + len]).expect("README config parses");
        assert_eq!(
            config.scoring.min_series,
            MonitorConfig::default().scoring.min_series
        );
        assert_eq!(config.calendar.len(), 1);
    }

    #[test]
    fn empty_document_is_the_defaults() {
        assert_eq!(
            MonitorConfig::from_toml("").expect("empty parses"),
            MonitorConfig::default()
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = MonitorConfig::from_toml("[baseline]\nhalf_lfe = \"1d\"\n").unwrap_err();
        assert!(err.to_string().contains("half_lfe"), "{err}");
    }

    #[test]
    fn warning_above_critical_is_rejected() {
        let err =
            MonitorConfig::from_toml("[scoring.default]\nwarning_z = 5.0\ncritical_z = 4.0\n")
                .unwrap_err();
        assert!(
            err.to_string().contains("scoring.default.critical_z"),
            "{err}"
        );
    }

    #[test]
    fn calendar_and_classes_parse() {
        let text = r#"
            [classes]
            free_disk = "disk"
            [[calendar]]
            name = "month end"
            month_end_days = 2
            mode = "own_profile"
            [[calendar]]
            name = "launch"
            dates = ["2026-12-01"]
            mode = "exclude"
            [scoring.classes.latency]
            warning_z = 3.0
            critical_z = 5.0
            direction = "high"
            min_duration = "5m"
        "#;
        let config = MonitorConfig::from_toml(text).expect("parses");
        assert_eq!(config.calendar.len(), 2);
        assert_eq!(config.classes["free_disk"], MetricClass::Disk);
        let latency = config.policy(MetricClass::Latency);
        assert_eq!(latency.min_duration, Duration::from_secs(300));
        assert_eq!(config.policy(MetricClass::Disk).direction, Direction::Low);
    }
}
