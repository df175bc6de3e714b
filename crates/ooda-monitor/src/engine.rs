//! One host's monitor: its series detectors and the relations between them, combined into one
//! verdict per row of simultaneous samples. The live pipeline, `ooda detect` and the lab all
//! drive this; it never reads a clock of its own (rows carry their time) and never does I/O.

use ooda_core::{AlertKind, Anomaly, Forecast, Labels, MetricClass, SeriesKey};

use crate::calendar::Calendar;
use crate::config::{ForecastHorizon, MonitorConfig};
use crate::correlation::Relations;
use crate::forecast::{limit_for, Forecaster};
use crate::score::{guess_class, unit_score, Level};
use crate::series::{SeriesContext, SeriesDetector};

/// One implicated series in a row verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub series: usize,
    pub kind: AlertKind,
    pub level: Level,
    /// Signed z as measured by the detector that implicated this series.
    pub z: f64,
    /// Evidence in units of this series' warning threshold (1.0 = at the threshold).
    pub ratio: f64,
    pub value: f64,
    pub expected: f64,
    /// For correlation breaks: the peers (index, value) the expectation came from.
    pub peers: Vec<(usize, f64)>,
}

/// A host's verdict for one row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowVerdict {
    /// In [0, 1), rising with the evidence; 0.5 at the warning threshold.
    pub score: f64,
    pub level: Level,
    /// Implicated series, strongest first.
    pub members: Vec<Member>,
    /// Series predicted to saturate within their class's horizon. Kept apart from `members`:
    /// a forecast is not a deviation and does not make the host abnormal.
    pub forecasts: Vec<ForecastMember>,
}

/// A series whose forecast alert fires in this row.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastMember {
    pub series: usize,
    pub level: Level,
    pub value: f64,
    pub forecast: Forecast,
    /// Hours until the central estimate.
    pub hours_left: f64,
    /// The class's warning horizon in hours.
    pub horizon_hours: f64,
}

/// The monitor of one host with a fixed set of series.
#[derive(Debug, Clone)]
pub struct HostMonitor {
    host: String,
    names: Vec<String>,
    classes: Vec<MetricClass>,
    contexts: Vec<SeriesContext>,
    series: Vec<SeriesDetector>,
    relations: Option<Relations>,
    calendar: Calendar,
    config: MonitorConfig,
    abnormal: bool,
    /// Series that deviated in the current episode; only they can hold it open.
    episode: Vec<usize>,
    abnormal_since: i64,
    row_values: Vec<f64>,
    floors: Vec<f64>,
    learning_pause_ms: i64,
    /// Each series' latest z (0 when missing): the input of a `PrecursorWatch`.
    last_z: Vec<f64>,
    keep_firing_ms: i64,
    last_deviating_ms: i64,
    /// Per series: its forecaster, or why it has none.
    forecasters: Vec<Result<Forecaster, String>>,
    horizons: Vec<ForecastHorizon>,
    /// Scratch for the relations' breaks of one row (reused: no allocation per row).
    breaks: Vec<crate::correlation::Break>,
    /// Per series: how often it made the host abnormal on its own (decayed), and when last.
    solo: Vec<(f64, i64)>,
    solo_half_life_ms: f64,
}

impl HostMonitor {
    /// A monitor for `names` on `host`. Classes come from `config.classes`, else from the name.
    pub fn new(host: impl Into<String>, names: Vec<String>, config: &MonitorConfig) -> Self {
        let classes: Vec<MetricClass> = names
            .iter()
            .map(|n| {
                config
                    .classes
                    .get(n)
                    .copied()
                    .unwrap_or_else(|| guess_class(n))
            })
            .collect();
        let contexts: Vec<SeriesContext> = classes
            .iter()
            .zip(&names)
            .map(|(&c, name)| SeriesContext::for_series(config, c, name))
            .collect();
        let series = contexts.iter().map(SeriesDetector::new).collect();
        let n = names.len();
        let forecasters = names
            .iter()
            .zip(&classes)
            .map(|(name, &class)| {
                if !config.forecast.enabled {
                    return Err(
                        "forecasting is disabled ([monitor.forecast] enabled = false)".into(),
                    );
                }
                limit_for(name, class, &config.forecast)
                    .map(|limit| Forecaster::new(limit, &config.forecast))
            })
            .collect();
        let horizons = classes
            .iter()
            .map(|&c| config.forecast.horizon(c))
            .collect();
        Self {
            forecasters,
            horizons,
            breaks: Vec::new(),
            solo: vec![(0.0, 0); n],
            solo_half_life_ms: config.scoring.solo_half_life.as_millis().max(1) as f64,
            host: host.into(),
            relations: (config.correlation.enabled && n >= 2).then(|| Relations::new(n)),
            names,
            classes,
            contexts,
            series,
            calendar: Calendar::new(&config.calendar),
            config: config.clone(),
            abnormal: false,
            episode: Vec::new(),
            abnormal_since: 0,
            row_values: vec![0.0; n],
            floors: vec![0.0; n],
            keep_firing_ms: i64::try_from(config.scoring.keep_firing_for.as_millis())
                .unwrap_or(i64::MAX),
            last_deviating_ms: 0,
            last_z: vec![0.0; n],
            learning_pause_ms: i64::try_from(config.baseline.learning_pause.as_millis())
                .unwrap_or(i64::MAX),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn class(&self, series: usize) -> MetricClass {
        self.classes[series]
    }

    /// Bytes of state per series (detector; the host's relations are shared by its series and
    /// counted separately by [`Self::relations_bytes`]).
    pub fn series_bytes(&self) -> Vec<usize> {
        self.series
            .iter()
            .map(SeriesDetector::state_bytes)
            .collect()
    }

    /// Each series' z in the last row (0 where missing or not scorable), aligned with
    /// [`Self::names`]: what a [`crate::precursor::PrecursorWatch`] is fed.
    pub fn last_z(&self) -> &[f64] {
        &self.last_z
    }

    pub fn relations_bytes(&self) -> usize {
        self.relations.as_ref().map_or(0, Relations::state_bytes)
    }

    /// Scores one row (`values[i]` for series i; `None` or non-finite = missing), then learns it.
    /// Rows must come in time order; a row not after the previous one is neither scored nor
    /// learned by any series (each series checks its own order).
    pub fn observe_row(&mut self, time_ms: i64, values: &[Option<f64>]) -> RowVerdict {
        let n = self.series.len();
        let host_normal =
            !self.abnormal || time_ms.saturating_sub(self.abnormal_since) >= self.learning_pause_ms;
        let mut members: Vec<Member> = Vec::new();
        let mut complete = values.len() == n;
        for i in 0..n {
            self.last_z[i] = 0.0;
            let value = values.get(i).copied().flatten().filter(|v| v.is_finite());
            let Some(x) = value else {
                complete = false;
                continue;
            };
            self.row_values[i] = x;
            if let Ok(f) = &mut self.forecasters[i] {
                f.observe(time_ms, x);
            }
            let context = &self.contexts[i];
            if let Some(v) =
                self.series[i].observe(time_ms, x, &self.calendar, context, host_normal)
            {
                self.last_z[i] = v.z;
                let ratio = v.strength / context.policy.warning_z;
                if ratio > 0.0 {
                    members.push(Member {
                        series: i,
                        kind: v.kind,
                        level: v.level,
                        z: v.z,
                        ratio,
                        value: x,
                        expected: v.expected,
                        peers: Vec::new(),
                    });
                }
            }
        }

        if let (Some(relations), true) = (self.relations.as_mut(), complete) {
            for (i, s) in self.series.iter().enumerate() {
                self.floors[i] = s
                    .baseline()
                    .resolution_floor(&self.config.baseline)
                    .max(self.contexts[i].scale_floor);
            }
            let corr = &self.config.correlation;
            let contexts = &self.contexts;
            let ratio_of = |target: usize, z: f64| {
                contexts[target].policy.direction.effective(z) / corr.warning_z
            };
            self.breaks.clear();
            relations.observe_into(
                time_ms,
                &self.row_values,
                &self.floors,
                corr,
                host_normal,
                // Exactly the breaks the `ratio <= 0` test below would not skip (NaN included).
                |target, z| {
                    let ratio = ratio_of(target, z);
                    ratio > 0.0 || ratio.is_nan()
                },
                &mut self.breaks,
            );
            for b in self.breaks.drain(..) {
                let strength = contexts[b.target].policy.direction.effective(b.z);
                let ratio = strength / corr.warning_z;
                let level = Level::of(strength, corr.warning_z, corr.critical_z);
                let member = Member {
                    series: b.target,
                    kind: AlertKind::Correlation,
                    level,
                    z: b.z,
                    ratio,
                    value: b.actual,
                    expected: b.predicted,
                    peers: b.peers,
                };
                match members.iter_mut().find(|m| m.series == b.target) {
                    Some(existing) if existing.ratio >= ratio => {}
                    Some(existing) => *existing = member,
                    None => members.push(member),
                }
            }
        }

        members.sort_by(|a, b| b.ratio.total_cmp(&a.ratio).then(a.series.cmp(&b.series)));
        let was_abnormal = self.abnormal;
        let mut verdict = self.combine(time_ms, members);
        if verdict.level > Level::Ok {
            self.last_deviating_ms = time_ms;
        } else if was_abnormal
            && time_ms.saturating_sub(self.last_deviating_ms) < self.keep_firing_ms
        {
            verdict.level = Level::Warning;
            self.abnormal = true;
        }
        if verdict.level > Level::Ok && !was_abnormal {
            self.abnormal_since = time_ms;
        }
        for (i, f) in self.forecasters.iter_mut().enumerate() {
            let Ok(f) = f else { continue };
            let horizon = self.horizons[i];
            let level = f.level(time_ms, horizon);
            if let (true, Some((at_ms, _, _))) = (level > Level::Ok, f.saturation_ms()) {
                verdict.forecasts.push(ForecastMember {
                    series: i,
                    level,
                    value: self.row_values[i],
                    forecast: f.forecast(),
                    hours_left: (at_ms.saturating_sub(time_ms)) as f64 / 3_600_000.0,
                    horizon_hours: horizon.warning.as_secs_f64() / 3600.0,
                });
            }
        }
        verdict
    }

    /// Learns one row of history without scoring it (backfill before going live: Prometheus
    /// history, a CSV's leading rows). Same contract as [`Self::observe_row`]; the host's
    /// episode state is left as it was, so history never opens or holds an episode.
    pub fn learn_row(&mut self, time_ms: i64, values: &[Option<f64>]) {
        let (abnormal, since, last) = (self.abnormal, self.abnormal_since, self.last_deviating_ms);
        let episode = std::mem::take(&mut self.episode);
        let _ = self.observe_row(time_ms, values);
        self.abnormal = abnormal;
        self.abnormal_since = since;
        self.last_deviating_ms = last;
        self.episode = episode;
    }

    /// Adds a series (a new mount, a new interface) without touching the others' baselines.
    /// Its index is the previous [`Self::names`] length; rows passed to [`Self::observe_row`]
    /// must then carry one more value. The host's relations start over (they are a matrix over
    /// all series) and warm up again; the series' own baselines are kept. Returns the index;
    /// a name already present returns its index and changes nothing.
    pub fn add_series(&mut self, name: impl Into<String>) -> usize {
        let name = name.into();
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            return i;
        }
        let config = &self.config;
        let class = config
            .classes
            .get(&name)
            .copied()
            .unwrap_or_else(|| guess_class(&name));
        let context = SeriesContext::for_series(config, class, &name);
        self.series.push(SeriesDetector::new(&context));
        self.forecasters.push(if config.forecast.enabled {
            limit_for(&name, class, &config.forecast)
                .map(|limit| Forecaster::new(limit, &config.forecast))
        } else {
            Err("forecasting is disabled ([monitor.forecast] enabled = false)".into())
        });
        self.horizons.push(config.forecast.horizon(class));
        self.contexts.push(context);
        self.classes.push(class);
        self.names.push(name);
        self.row_values.push(0.0);
        self.floors.push(0.0);
        self.last_z.push(0.0);
        self.solo.push((0.0, 0));
        let n = self.names.len();
        self.relations = (config.correlation.enabled && n >= 2).then(|| Relations::new(n));
        n - 1
    }

    /// Whether series `i` has an hour-of-day profile at `time_ms`: past its cold start (before,
    /// the profile is not used to alert) and with two hours of history at this hour of day.
    fn has_hour_profile(&self, i: usize, time_ms: i64) -> bool {
        let baseline = self.series[i].baseline();
        let context = &self.contexts[i];
        let old_enough = baseline
            .first_ms()
            .is_some_and(|first| time_ms.saturating_sub(first) >= context.cold_start_ms);
        old_enough && baseline.hour_of_day_hours(time_ms, &context.params) >= 2.0
    }

    /// The capacity forecast of one series now: its predicted saturation, or why there is none.
    pub fn forecast(&self, series: usize) -> Forecast {
        match self.forecasters.get(series) {
            Some(Ok(f)) => f.forecast(),
            Some(Err(reason)) => Forecast {
                limit: None,
                saturation: None,
                note: reason.clone(),
            },
            None => Forecast {
                limit: None,
                saturation: None,
                note: format!("no series {series}"),
            },
        }
    }

    /// Bytes of forecaster state per series (0 for series without a limit).
    pub fn forecast_bytes(&self) -> Vec<usize> {
        self.forecasters
            .iter()
            .map(|f| f.as_ref().map_or(0, Forecaster::state_bytes))
            .collect()
    }

    /// Host rule: abnormal when the deviating series add up to `min_series` (a static-limit
    /// breach counts alone, a broken relation as `correlation_counts_as`). An abnormal host
    /// stays so while the series that made it abnormal (the episode's members) keep enough
    /// evidence above `hold_fraction` of their warning thresholds; other series brushing that
    /// fraction do not extend an episode, or a host with many noisy series would never recover.
    fn combine(&mut self, time_ms: i64, mut members: Vec<Member>) -> RowVerdict {
        let scoring = &self.config.scoring;
        let needed = needed_series(scoring, self.series.len());
        let classes = &self.classes;
        let (solo, solo_half_life) = (&self.solo, self.solo_half_life_ms);
        // A series that has alerted alone too often lately has lost the right to.
        let trusted_alone = |series: usize| {
            let (count, last) = solo[series];
            let age = time_ms.saturating_sub(last).max(0) as f64;
            scoring.solo_budget <= 0.0
                || count * (-age / solo_half_life).exp2() < scoring.solo_budget
        };
        let votes = |m: &Member| match m.kind {
            AlertKind::Threshold => needed,
            AlertKind::Correlation if !trusted_alone(m.series) => 1,
            AlertKind::Correlation => scoring.correlation_counts_as,
            _ if !trusted_alone(m.series) => 1,
            // A series of unknown meaning needs twice the evidence to count alone (on ASD
            // lone moderate spikes are mostly unlabelled noise), but a 10× spike still does.
            _ if m.ratio
                >= scoring.alone_ratio
                    * if classes[m.series] == MetricClass::Other {
                        3.0
                    } else {
                        1.0
                    } =>
            {
                needed
            }
            _ => 1,
        };
        // The weakest ratio among the strongest members that together reach the needed votes
        // (the k-th strongest series when every member counts once); 0 if they never do.
        let evidence_of = |ms: &mut dyn Iterator<Item = &Member>| {
            let mut acc = 0;
            for m in ms {
                acc += votes(m);
                if acc >= needed {
                    return m.ratio;
                }
            }
            0.0
        };
        let deviating_votes: usize = members
            .iter()
            .filter(|m| m.level > Level::Ok)
            .map(votes)
            .sum();
        let evidence = evidence_of(&mut members.iter());
        let mut level = if deviating_votes >= needed {
            members.iter().map(|m| m.level).max().unwrap_or(Level::Ok)
        } else {
            Level::Ok
        };
        // A new episode that one series opened on its own (the others deviating would not have
        // been enough) is that series' lone alert: counted against its budget.
        let deviating = members.iter().filter(|m| m.level > Level::Ok).count();
        let opener = (level > Level::Ok
            && !self.abnormal
            && deviating < needed
            && scoring.solo_budget > 0.0)
            .then(|| {
                members
                    .iter()
                    .find(|m| m.level > Level::Ok && votes(m) > 1)
                    .map(|m| m.series)
            })
            .flatten();
        let mut held = false;
        if level == Level::Ok && self.abnormal {
            let episode = &self.episode;
            let hold = evidence_of(&mut members.iter().filter(|m| episode.contains(&m.series)));
            if hold >= scoring.hold_fraction {
                level = Level::Warning;
                held = true;
            }
        }
        if level == Level::Ok {
            self.episode.clear();
            members.clear();
        } else if held {
            let episode = &self.episode;
            members.retain(|m| episode.contains(&m.series) && m.ratio >= scoring.hold_fraction);
        } else {
            if !self.abnormal {
                self.episode.clear();
            }
            members.retain(|m| m.level > Level::Ok || m.ratio >= scoring.hold_fraction);
            for m in members.iter().filter(|m| m.level > Level::Ok) {
                if !self.episode.contains(&m.series) {
                    self.episode.push(m.series);
                }
            }
        }
        if let Some(series) = opener {
            let (count, last) = self.solo[series];
            let age = time_ms.saturating_sub(last).max(0) as f64;
            self.solo[series] = (count * (-age / solo_half_life).exp2() + 1.0, time_ms);
        }
        self.abnormal = level > Level::Ok;
        RowVerdict {
            score: unit_score(evidence, 1.0),
            level,
            members,
            forecasts: Vec::new(),
        }
    }

    /// The members of a verdict as core [`Anomaly`] values, with one readable line each.
    pub fn anomalies(&self, time_ms: i64, verdict: &RowVerdict) -> Vec<Anomaly> {
        let mut anomalies: Vec<Anomaly> = verdict
            .members
            .iter()
            .map(|m| {
                let name = &self.names[m.series];
                let explanation = match m.kind {
                    AlertKind::Correlation => {
                        let peers: Vec<String> = m
                            .peers
                            .iter()
                            .map(|(p, v)| format!("{} = {}", self.names[*p], short(*v)))
                            .collect();
                        format!(
                            "{name} = {} but {} predicted from {}: residual {:+.1}σ",
                            short(m.value),
                            short(m.expected),
                            peers.join(", "),
                            m.z
                        )
                    }
                    AlertKind::Threshold => format!(
                        "{name} = {} beyond the static {} limit {} (cold start)",
                        short(m.value),
                        self.classes[m.series],
                        short(m.expected)
                    ),
                    _ => format!(
                        "{name} = {} against {} expected {}: {:+.1}σ{}",
                        short(m.value),
                        short(m.expected),
                        // Only a series with an hour-of-day profile knows what an hour is like:
                        // past its cold start, and with hours of history at this hour of day.
                        if self.has_hour_profile(m.series, time_ms) {
                            "at this hour"
                        } else {
                            "from its recent level"
                        },
                        m.z,
                        if m.expected != 0.0 && m.value / m.expected > 1.5 {
                            format!(" ({:.1}× expected)", m.value / m.expected)
                        } else {
                            String::new()
                        }
                    ),
                };
                Anomaly {
                    series: SeriesKey::new(
                        name.clone(),
                        Labels::new().with("host", self.host.clone()),
                    ),
                    time: ooda_core::clock::from_millis(time_ms),
                    value: m.value,
                    expected: m.expected,
                    score: m.z,
                    severity: m.level.severity().unwrap_or(ooda_core::Severity::Info),
                    kind: m.kind,
                    explanation,
                    forecast: Some(self.forecast(m.series)),
                }
            })
            .collect();
        for f in &verdict.forecasts {
            let name = &self.names[f.series];
            anomalies.push(Anomaly {
                series: SeriesKey::new(name.clone(), Labels::new().with("host", self.host.clone())),
                time: ooda_core::clock::from_millis(time_ms),
                value: f.value,
                expected: f.forecast.limit.unwrap_or(f64::NAN),
                // Horizon over time left: 1 at the warning horizon, rising as saturation nears.
                score: f.horizon_hours / f.hours_left.max(1.0 / 60.0),
                severity: f.level.severity().unwrap_or(ooda_core::Severity::Warning),
                kind: AlertKind::Forecast,
                explanation: format!(
                    "{name} = {} is forecast to reach its limit in {:.1} h: {}",
                    short(f.value),
                    f.hours_left,
                    f.forecast.note
                ),
                forecast: Some(f.forecast.clone()),
            });
        }
        anomalies
    }
}

/// How many deviating series make a host abnormal: `min_series` when set, else the fewest
/// whose chance coincidence among `n` independent series, each past its calibrated tail
/// (`p = 1 − tail_quantile` of the time), is at most `p / 5`: C(n, k)·p^k ≤ p/5.
pub fn needed_series(scoring: &crate::config::ScoringConfig, n: usize) -> usize {
    let n = n.max(1);
    if scoring.min_series > 0 {
        return scoring.min_series.min(n);
    }
    let p = if scoring.tail_quantile > 0.0 {
        1.0 - scoring.tail_quantile
    } else {
        0.005
    };
    let mut choose = 1.0f64; // C(n, k)
    for k in 1..=n {
        choose *= (n + 1 - k) as f64 / k as f64;
        if choose * p.powi(k as i32) <= p / 5.0 {
            return k;
        }
    }
    n
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::Alert;

    const FIVE_MIN: i64 = 300_000;

    fn quiet_config() -> MonitorConfig {
        let mut c = MonitorConfig::default();
        c.cold_start.duration = std::time::Duration::from_secs(86_400);
        c.correlation.warm_up = 500;
        c
    }

    #[test]
    fn a_spike_on_one_series_names_it() {
        let config = quiet_config();
        let mut host = HostMonitor::new("web-1", vec!["cpu".into(), "latency".into()], &config);
        for i in 0..3000 {
            let noise = ((i * 31) % 9) as f64;
            let v = host.observe_row(
                i * FIVE_MIN,
                &[Some(40.0 + noise), Some(0.1 + noise / 100.0)],
            );
            assert_eq!(v.level, Level::Ok, "row {i}: {v:?}");
        }
        let v = host.observe_row(3000 * FIVE_MIN, &[Some(44.0), Some(0.9)]);
        assert_eq!(v.level, Level::Critical);
        assert_eq!(v.members[0].series, 1);
        let anomalies = host.anomalies(3000 * FIVE_MIN, &v);
        assert!(
            anomalies[0].explanation.starts_with("latency = 0.900"),
            "{}",
            anomalies[0].explanation
        );
        assert_eq!(anomalies[0].series.host(), Some("web-1"));
    }

    #[test]
    fn a_broken_relation_is_explained() {
        let config = quiet_config();
        let names = vec!["cpu".into(), "disk_io_util".into()];
        let mut host = HostMonitor::new("db-1", names, &config);
        for i in 0..3000i64 {
            let load = 20.0 + ((i * 37) % 50) as f64;
            let noise = ((i * 13) % 5) as f64 * 0.2;
            host.observe_row(i * FIVE_MIN, &[Some(load), Some(load * 0.5 + noise)]);
        }
        // Both inside their own ranges, but disk I/O is 3× what the CPU predicts.
        let v = host.observe_row(3000 * FIVE_MIN, &[Some(22.0), Some(33.0)]);
        assert_ne!(v.level, Level::Ok, "{v:?}");
        let corr = v
            .members
            .iter()
            .find(|m| m.kind == AlertKind::Correlation)
            .expect("a correlation member");
        assert_eq!(corr.series, 1);
        let text = &host
            .anomalies(0, &v)
            .into_iter()
            .find(|a| a.kind == AlertKind::Correlation)
            .expect("explained")
            .explanation;
        assert!(text.contains("predicted from cpu = 22"), "{text}");
    }

    #[test]
    fn a_filling_filesystem_raises_one_forecast_alert_that_clears_after_the_clean_up() {
        use crate::dedup::MemoryDedup;
        use crate::fusion::{Fusion, FusionEvent};
        let config = MonitorConfig::default();
        let names = vec!["filesystem_free_percent".into(), "cpu_busy_percent".into()];
        let mut host = HostMonitor::new("db-1", names, &config);
        let mut fusion = Fusion::new(&config);
        let dedup = MemoryDedup::new();
        let mut events = Vec::new();
        let mut t = 0;
        let mut free = 70.0;
        // 1 %/h with a daily swing: zero after ~70 h; the clean-up comes at 3 % free.
        while free > 3.0 {
            let hour = t as f64 / 3_600_000.0;
            let swing = 2.0 * (hour / 24.0 * std::f64::consts::TAU).sin();
            let cpu = 30.0 + ((t / FIVE_MIN) % 7) as f64;
            let v = host.observe_row(t, &[Some(free + swing), Some(cpu)]);
            let anomalies = host.anomalies(t, &v);
            events.extend(fusion.ingest(t, anomalies, &dedup).expect("ingest"));
            events.extend(fusion.tick(t));
            free -= 1.0 / 12.0;
            t += FIVE_MIN;
        }
        let opened: Vec<&Alert> = events
            .iter()
            .filter_map(|e| match e {
                FusionEvent::Opened(a) if a.kind == AlertKind::Forecast => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(opened.len(), 1, "{events:?}");
        let forecast = opened[0].forecast().expect("carries the forecast");
        let saturation = forecast.saturation.as_ref().expect("a predicted time");
        assert!(saturation.earliest <= saturation.at && saturation.at <= saturation.latest);
        assert!(opened[0].labels.contains_key("saturates_at"));
        assert_eq!(host.forecast(1).limit, None, "cpu has no capacity");
        assert!(host.forecast(1).note.contains("no capacity"));
        // Clean-up back to 60 % free: the forecast recedes and fusion resolves the alert.
        let mut resolved = false;
        for _ in 0..24 {
            let v = host.observe_row(t, &[Some(60.0), Some(31.0)]);
            let anomalies = host.anomalies(t, &v);
            fusion.ingest(t, anomalies, &dedup).expect("ingest");
            resolved |= fusion
                .tick(t)
                .iter()
                .any(|e| matches!(e, FusionEvent::Resolved(a) if a.kind == AlertKind::Forecast));
            t += FIVE_MIN;
        }
        assert!(resolved);
    }

    #[test]
    fn a_new_series_joins_without_resetting_the_others() {
        let config = MonitorConfig::default();
        let mut host = HostMonitor::new("h", vec!["cpu_busy_percent".into()], &config);
        for i in 0..3000 {
            host.learn_row(i * FIVE_MIN, &[Some(40.0 + ((i * 31) % 9) as f64)]);
        }
        let before = host.series[0].baseline().samples();
        let i = host.add_series("filesystem_free_percent");
        assert_eq!((i, host.names().len()), (1, 2));
        assert_eq!(host.add_series("filesystem_free_percent"), 1);
        assert_eq!(host.series[0].baseline().samples(), before);
        // The old series is still warm: a spike on it alerts at once.
        let v = host.observe_row(3000 * FIVE_MIN, &[Some(99.5), Some(60.0)]);
        assert!(v.level > Level::Ok, "{v:?}");
        assert_eq!(v.members[0].series, 0);
    }

    #[test]
    fn learning_history_never_leaves_the_host_abnormal() {
        let config = MonitorConfig::default();
        let mut host = HostMonitor::new("h", vec!["m".into()], &config);
        for i in 0..2000 {
            let x = if i == 1500 {
                1e6
            } else {
                ((i * 31) % 9) as f64
            };
            host.learn_row(i * FIVE_MIN, &[Some(x)]);
        }
        assert!(!host.abnormal);
        let v = host.observe_row(2000 * FIVE_MIN, &[Some(4.0)]);
        assert_eq!(v.level, Level::Ok);
    }

    #[test]
    fn state_per_series_is_bounded() {
        let config = MonitorConfig::default();
        let host = HostMonitor::new("h", vec!["a".into()], &config);
        for bytes in host.series_bytes() {
            assert!(bytes <= 4096, "{bytes}");
        }
    }

    /// "Expected at this hour" only from a series that has an hour-of-day profile: after
    /// minutes of data the expectation is the recent level, and says so.
    #[test]
    fn no_hour_of_day_expectation_before_a_profile_exists() {
        let config = MonitorConfig::default();
        let step = 10_000;
        let explain = |history: i64| {
            let mut host = HostMonitor::new("h", vec!["queue_length".into()], &config);
            for i in 0..history {
                host.observe_row(i * step, &[Some(10.0 + ((i * 7) % 5) as f64)]);
            }
            let t = history * step;
            let v = host.observe_row(t, &[Some(500.0)]);
            assert!(v.level > Level::Ok, "history {history}: {v:?}");
            host.anomalies(t, &v)[0].explanation.clone()
        };
        // Twenty minutes of data (the cold-start level-shift window is full).
        let young = explain(120);
        assert!(young.contains("from its recent level"), "{young}");
        assert!(!young.contains("at this hour"), "{young}");
        // Three days of data: the hour has a profile of its own.
        let old = explain(3 * 8640);
        assert!(old.contains("at this hour"), "{old}");
    }

    /// A series that keeps alerting alone loses its lone vote: its first bursts page, the
    /// tenth of the day needs company; a day without one gives it back.
    #[test]
    fn a_series_that_cries_wolf_alone_needs_company() {
        let config = quiet_config();
        let names: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
        let mut host = HostMonitor::new("h", names, &config);
        let noise = |i: i64, j: i64| ((i * 31 + j * 17) % 9) as f64;
        let mut t = 0;
        let mut row = |host: &mut HostMonitor, burst: bool| {
            let i = t / FIVE_MIN;
            let values: Vec<Option<f64>> = (0..6)
                .map(|j| Some(50.0 + noise(i, j) + if burst && j == 0 { 900.0 } else { 0.0 }))
                .collect();
            let v = host.observe_row(t, &values);
            t += FIVE_MIN;
            v.level > Level::Ok
        };
        for _ in 0..3000 {
            row(&mut host, false);
        }
        // A burst on m0 every two hours, nothing else moving.
        let mut paged = Vec::new();
        for _ in 0..10 {
            paged.push(row(&mut host, true));
            for _ in 0..23 {
                row(&mut host, false);
            }
        }
        assert!(paged[0] && paged[1], "{paged:?}");
        assert!(paged[4..].iter().all(|p| !p), "{paged:?}");
        // Four quiet days later it is believed alone again.
        for _ in 0..(4 * 288) {
            row(&mut host, false);
        }
        assert!(row(&mut host, true));
    }
}
