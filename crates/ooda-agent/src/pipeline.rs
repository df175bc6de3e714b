//! The live monitoring stage of `ooda up`: sample batches from the bus → per-host monitors →
//! fusion (with dedup) → `alert.opened|updated|resolved` events on the bus, where incident
//! response picks them up and the store keeps them for `ooda alerts`.
//!
//! Which series are watched, and as what, is the [`WATCH`] table: the host source reports
//! ratios, the engine's static cold-start limits are in percent of what must not run out, so each
//! watched series is mapped once here.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use ooda_core::query::{Band, MetricQuery, MonitorQuery, QueryError, SeriesAnswer};
use ooda_core::{Alert, AlertId, AlertState, MetricClass, Sample};
use ooda_monitor::fusion::FusionEvent;
use ooda_monitor::{Dedup, HostMonitor, MonitorConfig, Stage};

/// How a source metric is fed to the engine.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    /// Source metric name.
    pub metric: &'static str,
    /// Name the engine sees (labels other than `host` are appended as `{k="v"}`).
    pub name: &'static str,
    pub class: MetricClass,
    /// value → engine value.
    pub transform: Transform,
}

#[derive(Debug, Clone, Copy)]
pub enum Transform {
    Identity,
    /// ratio → percent.
    Percent,
    /// used ratio → free percent.
    FreePercent,
}

impl Transform {
    fn apply(self, v: f64) -> f64 {
        match self {
            Transform::Identity => v,
            Transform::Percent => v * 100.0,
            Transform::FreePercent => (1.0 - v) * 100.0,
        }
    }
}

/// The default watch list for the host source (node-exporter-like names).
pub const WATCH: &[Watched] = &[
    Watched {
        metric: "node_cpu_busy_ratio",
        name: "cpu_busy_percent",
        class: MetricClass::Cpu,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_load1",
        name: "load1",
        class: MetricClass::Load,
        transform: Transform::Identity,
    },
    Watched {
        metric: "node_memory_used_ratio",
        name: "memory_used_percent",
        class: MetricClass::Memory,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_swap_used_ratio",
        name: "swap_used_percent",
        class: MetricClass::Swap,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_filesystem_used_ratio",
        name: "filesystem_free_percent",
        class: MetricClass::Disk,
        transform: Transform::FreePercent,
    },
    Watched {
        metric: "node_filesystem_inodes_used_ratio",
        name: "inodes_free_percent",
        class: MetricClass::Inodes,
        transform: Transform::FreePercent,
    },
    Watched {
        metric: "node_disk_io_utilisation_ratio",
        name: "disk_io_busy_percent",
        class: MetricClass::DiskIo,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_network_loss_ratio",
        name: "packet_loss_percent",
        class: MetricClass::PacketLoss,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_network_errors_per_second",
        name: "network_errors_per_second",
        class: MetricClass::Errors,
        transform: Transform::Identity,
    },
    Watched {
        metric: "node_filefd_used_ratio",
        name: "fd_used_percent",
        class: MetricClass::FileDescriptors,
        transform: Transform::Percent,
    },
    Watched {
        metric: "node_vmstat_oom_kill_per_second",
        name: "oom_kills_per_second",
        class: MetricClass::Errors,
        transform: Transform::Identity,
    },
];

/// A watched metric as the stage uses it (shipped or configured).
#[derive(Debug, Clone)]
struct WatchEntry {
    name: String,
    class: MetricClass,
    transform: Transform,
}

/// One host's detector with the stable series order it was built with.
struct HostState {
    index: HashMap<String, usize>,
    monitor: HostMonitor,
}

impl HostState {
    /// A row in this host's series order; series missing from the round are `None`.
    fn values(&self, row: &BTreeMap<String, (i64, f64)>) -> Vec<Option<f64>> {
        let mut values = vec![None; self.index.len()];
        for (name, (_, value)) in row {
            if let Some(&i) = self.index.get(name) {
                values[i] = Some(*value);
            }
        }
        values
    }
}

/// Engine series name → (time, value), for one host.
pub type Row = BTreeMap<String, (i64, f64)>;
/// Host → its row.
pub type Rows = BTreeMap<String, Row>;

/// What the monitor last saw, answering incident response through the query port
/// ([`MonitorQuery`]): its metrics probe asks for the latest values, bands and capacity history,
/// its verification whether an incident's alerts still fire. The in-process implementation; a
/// worker in another process asks the same questions over the bus or the store.
#[derive(Debug, Default)]
pub struct LiveView {
    latest: RwLock<HashMap<String, Row>>,
    alerts: RwLock<HashMap<AlertId, Alert>>,
    /// The last hour of each capacity series (`*_free_percent`, `*_used_percent`) per host, one
    /// sample per half minute at most: what the metrics probe's fill rates are computed from.
    capacity: RwLock<HashMap<String, CapacityHistory>>,
}

/// Engine series name → its recent `(time, value)` samples, for one host.
type CapacityHistory = HashMap<String, VecDeque<(i64, f64)>>;

/// How far back capacity history is kept (the fill rates look an hour back), and the thinnest
/// spacing kept.
pub const FILL_WINDOW_MS: i64 = 3_600_000;
const FILL_SPACING_MS: i64 = 30_000;

/// Whether an engine series is a share of a capacity (its fill rate means something).
fn is_capacity(series: &str) -> bool {
    let base = series.split('{').next().unwrap_or(series);
    base.ends_with("_free_percent") || base.ends_with("_used_percent")
}

/// Resolved alerts kept for lookups before the oldest are forgotten.
const LIVE_RESOLVED_KEPT: usize = 10_000;

impl LiveView {
    /// The alert as last routed (open or resolved), if it is still remembered.
    pub fn alert(&self, id: AlertId) -> Option<Alert> {
        self.alerts.read().ok().and_then(|a| a.get(&id).cloned())
    }

    /// Alerts still firing on `host`.
    fn open_on(&self, host: &str) -> Vec<Alert> {
        self.alerts
            .read()
            .map(|a| {
                a.values()
                    .filter(|a| a.state != AlertState::Resolved && a.host.as_deref() == Some(host))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Takes the round's rows (they are not needed after scoring, so nothing is copied).
    fn record_rows(&self, rows: Rows) {
        if let Ok(mut capacity) = self.capacity.write() {
            for (host, row) in &rows {
                for (series, (t, v)) in row.iter().filter(|(s, _)| is_capacity(s)) {
                    let samples = capacity
                        .entry(host.clone())
                        .or_default()
                        .entry(series.clone())
                        .or_default();
                    if samples
                        .back()
                        .is_some_and(|(last, _)| t - last < FILL_SPACING_MS)
                    {
                        continue;
                    }
                    while samples
                        .front()
                        .is_some_and(|(first, _)| t - first > FILL_WINDOW_MS)
                    {
                        samples.pop_front();
                    }
                    samples.push_back((*t, *v));
                }
            }
        }
        if let Ok(mut latest) = self.latest.write() {
            for (host, row) in rows {
                latest.entry(host).or_default().extend(row);
            }
        }
    }

    pub fn record_alert(&self, alert: &Alert) {
        if let Ok(mut alerts) = self.alerts.write() {
            alerts.insert(alert.id, alert.clone());
            if alerts.len() > LIVE_RESOLVED_KEPT {
                let mut resolved: Vec<(i64, AlertId)> = alerts
                    .values()
                    .filter(|a| a.state == AlertState::Resolved)
                    .map(|a| (a.updated_at.timestamp_millis(), a.id))
                    .collect();
                resolved.sort();
                let excess = alerts.len() - LIVE_RESOLVED_KEPT;
                for (_, id) in resolved.into_iter().take(excess) {
                    alerts.remove(&id);
                }
            }
        }
    }
}

impl MonitorQuery for LiveView {
    fn metrics(&self, query: &MetricQuery) -> Result<Vec<SeriesAnswer>, QueryError> {
        let poisoned = || QueryError("the live view's lock is poisoned".to_owned());
        // Series of alerts still firing carry the band the detector expected: the side the
        // value left is the bound.
        let firing: BTreeMap<String, Band> = self
            .open_on(&query.host)
            .iter()
            .flat_map(|a| a.members.iter())
            .map(|m| {
                let band = if m.value > m.expected {
                    Band {
                        low: f64::MIN,
                        high: m.expected,
                    }
                } else {
                    Band {
                        low: m.expected,
                        high: f64::MAX,
                    }
                };
                (m.series.metric.clone(), band)
            })
            .collect();
        let latest = self.latest.read().map_err(|_| poisoned())?;
        let Some(row) = latest.get(&query.host) else {
            return Ok(Vec::new());
        };
        let capacity = self.capacity.read().map_err(|_| poisoned())?;
        let kept = capacity.get(&query.host);
        Ok(row
            .iter()
            .filter(|(series, _)| query.series.is_empty() || query.series.contains(series))
            .map(|(series, &(time_ms, value))| SeriesAnswer {
                series: series.clone(),
                latest: (time_ms, value),
                band: firing.get(series).copied(),
                history: match (query.window_ms, kept.and_then(|k| k.get(series))) {
                    (window, Some(samples)) if window > 0 => samples
                        .iter()
                        .filter(|(t, _)| time_ms - t <= window)
                        .copied()
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect())
    }

    fn alert(&self, id: AlertId) -> Result<Option<Alert>, QueryError> {
        Ok(LiveView::alert(self, id))
    }
}

/// Samples in, alert events out. Pure apart from the dedup port; time comes with the samples.
pub struct MonitorStage {
    config: MonitorConfig,
    hosts: BTreeMap<String, HostState>,
    /// Per-host monitors' anomalies → fusion: the monitor stage the lab, backtest and `ooda detect`
    /// step through too.
    stage: Stage,
    /// Source metric → how it is watched.
    watch: HashMap<String, WatchEntry>,
    live: Option<Arc<LiveView>>,
}

impl MonitorStage {
    pub fn new(config: MonitorConfig, dedup: Arc<dyn Dedup>) -> Self {
        Self {
            stage: Stage::new(&config, dedup),
            config,
            hosts: BTreeMap::new(),
            watch: WATCH
                .iter()
                .map(|w| {
                    (
                        w.metric.to_owned(),
                        WatchEntry {
                            name: w.name.to_owned(),
                            class: w.class,
                            transform: w.transform,
                        },
                    )
                })
                .collect(),
            live: None,
        }
    }

    /// Adds the configured `[[watch]]` entries (one with a shipped entry's metric replaces it).
    pub fn with_watch(mut self, extra: &[ooda_config::WatchConfig]) -> Self {
        for w in extra {
            self.watch.insert(
                w.metric.clone(),
                WatchEntry {
                    name: w.name.clone().unwrap_or_else(|| w.metric.clone()),
                    class: w.class,
                    transform: match w.transform {
                        ooda_config::WatchTransform::Identity => Transform::Identity,
                        ooda_config::WatchTransform::Percent => Transform::Percent,
                        ooda_config::WatchTransform::FreePercent => Transform::FreePercent,
                    },
                },
            );
        }
        self
    }

    /// Publishes every round's latest values into `live`.
    pub fn with_live(mut self, live: Arc<LiveView>) -> Self {
        self.live = Some(live);
        self
    }

    /// Series currently watched, over all hosts.
    pub fn watched_series(&self) -> usize {
        self.hosts.values().map(|h| h.index.len()).sum()
    }

    /// Learns one round of history without scoring it (backfill): history raises no alerts.
    pub fn learn(&mut self, samples: &[Sample]) {
        for (host, row) in self.rows(samples) {
            let time_ms = row.values().map(|(t, _)| *t).max().unwrap_or(0);
            let state = self.host_state(&host, &row);
            let values = state.values(&row);
            let _ = state.monitor.observe_row(time_ms, &values);
        }
    }

    /// Feeds one collection round (one time, any hosts). Series not in the watch list are
    /// ignored; a host whose watched set grows gets a fresh monitor (logged: its baselines
    /// restart, which only happens when a filesystem or device appears).
    pub fn ingest(
        &mut self,
        samples: &[Sample],
    ) -> Result<Vec<FusionEvent>, ooda_monitor::MonitorError> {
        let mut latest = i64::MIN;
        let rows = self.rows(samples);
        for (host, row) in &rows {
            let time_ms = row.values().map(|(t, _)| *t).max().unwrap_or(0);
            latest = latest.max(time_ms);
            // Makes sure the host has a monitor for every series of the row, then borrows the
            // host and the stage apart.
            self.host_state(host, row);
            let Some(state) = self.hosts.get_mut(host) else {
                continue;
            };
            let values = state.values(row);
            self.stage.observe(&mut state.monitor, time_ms, &values);
        }
        if let Some(live) = &self.live {
            live.record_rows(rows);
        }
        if latest == i64::MIN {
            return Ok(Vec::new());
        }
        self.stage.close(latest)
    }

    /// Watched samples as rows: host → engine name → (time, value).
    fn rows(&self, samples: &[Sample]) -> Rows {
        let mut rows = Rows::new();
        for sample in samples {
            let Some(watched) = self.watch.get(sample.series.metric.as_str()) else {
                continue;
            };
            let Some(host) = sample.series.host() else {
                continue;
            };
            // Identity labels of the collection path (instance, job) are not part of the
            // engine's name: the same disk seen through Prometheus or a scrape is one series.
            let extra: Vec<String> = sample
                .series
                .labels
                .iter()
                .filter(|(k, _)| !matches!(*k, "host" | "fstype" | "instance" | "job"))
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            let name = if extra.is_empty() {
                watched.name.clone()
            } else {
                format!("{}{{{}}}", watched.name, extra.join(","))
            };
            rows.entry(host.to_owned()).or_default().insert(
                name,
                (sample.time_ms, watched.transform.apply(sample.value)),
            );
        }
        rows
    }

    fn host_state(&mut self, host: &str, row: &BTreeMap<String, (i64, f64)>) -> &mut HostState {
        let grows = match self.hosts.get(host) {
            None => true,
            Some(state) => row.keys().any(|name| !state.index.contains_key(name)),
        };
        if grows {
            let mut names: Vec<String> = self
                .hosts
                .get(host)
                .map(|s| {
                    let mut v: Vec<(usize, String)> =
                        s.index.iter().map(|(n, i)| (*i, n.clone())).collect();
                    v.sort();
                    v.into_iter().map(|(_, n)| n).collect()
                })
                .unwrap_or_default();
            for name in row.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            let mut config = self.config.clone();
            for name in &names {
                let metric_name = name.split('{').next().unwrap_or(name);
                if let Some(w) = self.watch.values().find(|w| w.name == metric_name) {
                    config.classes.entry(name.clone()).or_insert(w.class);
                }
            }
            if self.hosts.contains_key(host) {
                tracing::info!(
                    host,
                    series = names.len(),
                    "watched series changed; host baselines restart"
                );
            }
            let index = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
            let monitor = HostMonitor::new(host, names, &config);
            self.hosts
                .insert(host.to_owned(), HostState { index, monitor });
        }
        self.hosts
            .get_mut(host)
            .expect("inserted above when missing")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_live_view_answers_an_hour_of_capacity_history_and_the_latest_values() {
        let live = LiveView::default();
        let fs = "filesystem_free_percent{mountpoint=\"/\"}";
        // Ten-second rounds for 70 minutes, free space falling 6 points an hour from 50 %.
        for i in 0..420i64 {
            let t = i * 10_000;
            let free = 50.0 - 6.0 * t as f64 / 3_600_000.0;
            let row: Row = [
                (fs.to_owned(), (t, free)),
                ("cpu_busy_percent".to_owned(), (t, 30.0)),
            ]
            .into();
            live.record_rows([("web-1".to_owned(), row)].into());
        }
        let query = |host: &str, series: Vec<String>, window_ms| {
            live.metrics(&MetricQuery {
                host: host.to_owned(),
                series,
                window_ms,
            })
            .unwrap()
        };
        let all = query("web-1", Vec::new(), FILL_WINDOW_MS);
        assert_eq!(all.len(), 2, "{all:?}");
        let cpu = all.iter().find(|a| a.series == "cpu_busy_percent").unwrap();
        assert_eq!(cpu.latest, (4_190_000, 30.0));
        assert!(
            cpu.history.is_empty(),
            "history is kept for capacity series only"
        );
        assert_eq!(
            cpu.band, None,
            "no alert fires: the monitor saw nothing wrong"
        );
        let disk = all.iter().find(|a| a.series == fs).unwrap();
        assert!(
            (120..=122).contains(&disk.history.len()),
            "one sample per half minute, one hour: {}",
            disk.history.len()
        );
        let short = query("web-1", vec![fs.to_owned()], 600_000);
        assert_eq!(short.len(), 1);
        assert!(
            (20..=22).contains(&short[0].history.len()),
            "{}",
            short[0].history.len()
        );
        assert!(query("web-1", vec![fs.to_owned()], 0)[0].history.is_empty());
        assert!(query("web-2", Vec::new(), FILL_WINDOW_MS).is_empty());
    }

    use super::*;
    use ooda_core::{AlertState, Labels, SeriesKey};
    use ooda_monitor::MemoryDedup;

    fn sample(metric: &str, labels: &[(&str, &str)], t: i64, v: f64) -> Sample {
        let mut l = Labels::new().with("host", "h1");
        for (k, val) in labels {
            l.insert(*k, *val);
        }
        Sample {
            series: SeriesKey::new(metric, l),
            time_ms: t,
            value: v,
        }
    }

    #[test]
    fn a_filling_disk_opens_one_alert_and_resolves_when_freed() {
        let mut stage = MonitorStage::new(MonitorConfig::default(), Arc::new(MemoryDedup::new()));
        let fs = [
            ("mountpoint", "/data"),
            ("device", "/dev/sdb1"),
            ("fstype", "ext4"),
        ];
        let step = 10_000;
        let mut opened = Vec::new();
        let mut resolved = Vec::new();
        for i in 0..400i64 {
            let t = 1_700_000_000_000 + i * step;
            // Healthy for a while, then the disk fills to 98 % used, then it is cleaned.
            let used = if (200..300).contains(&i) { 0.98 } else { 0.40 };
            let batch = vec![
                sample("node_filesystem_used_ratio", &fs, t, used),
                sample("node_cpu_busy_ratio", &[], t, 0.2),
                sample("node_unwatched_metric", &[], t, 1.0),
            ];
            for event in stage.ingest(&batch).unwrap() {
                match event {
                    FusionEvent::Opened(a) => opened.push(a),
                    FusionEvent::Resolved(a) => resolved.push(a),
                    FusionEvent::Updated(_) => {}
                }
            }
        }
        assert_eq!(stage.watched_series(), 2, "unwatched metrics are ignored");
        assert_eq!(opened.len(), 1, "{opened:#?}");
        let alert = &opened[0];
        assert_eq!(alert.host.as_deref(), Some("h1"));
        assert!(alert
            .members
            .iter()
            .any(|m| m.series.metric.starts_with("filesystem_free_percent")));
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].state, AlertState::Resolved);
    }

    #[test]
    fn a_configured_watch_entry_is_scored_under_its_name() {
        let watch: Vec<ooda_config::WatchConfig> = vec![toml::from_str(
            "metric = \"app_request_seconds_p99\"\nname = \"p99_latency\"\nclass = \"latency\"",
        )
        .unwrap()];
        let mut stage = MonitorStage::new(MonitorConfig::default(), Arc::new(MemoryDedup::new()))
            .with_watch(&watch);
        let mut opened = Vec::new();
        for i in 0..400i64 {
            let t = 1_700_000_000_000 + i * 10_000;
            let p99 = if (300..340).contains(&i) {
                9.0
            } else {
                0.2 + 0.01 * (i % 7) as f64
            };
            for event in stage
                .ingest(&[sample("app_request_seconds_p99", &[], t, p99)])
                .unwrap()
            {
                if let FusionEvent::Opened(a) = event {
                    opened.push(a);
                }
            }
        }
        assert_eq!(stage.watched_series(), 1);
        assert_eq!(opened.len(), 1, "{opened:#?}");
        assert_eq!(opened[0].members[0].series.metric, "p99_latency");
    }
}
