//! Evidence, gathered concurrently from read-only probes, each with its own timeout, so one slow
//! source never holds up the rest.
//!
//! Every item is content-addressed (SHA-256 of its canonical JSON) so hypotheses can cite it and
//! a post-mortem can prove what ooda saw. A probe that times out, fails, panics or returns
//! garbage becomes a recorded [`Gap`]: it is never a panic, and never counts as evidence either
//! way.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ooda_core::{IncidentId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an evidence item is about. Closed: reasoners match on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Observation {
    /// Metric values around the alert, each with the band it should be in.
    Metrics { readings: Vec<MetricReading> },
    /// Error log templates with counts.
    Logs { templates: Vec<LogTemplate> },
    /// Health of the services this host depends on and that depend on it.
    Topology {
        upstream: Vec<ServiceHealth>,
        downstream: Vec<ServiceHealth>,
    },
    /// Deploys in the look-back window.
    Deploys { deploys: Vec<Deploy> },
    /// The host's CMDB record.
    Cmdb { record: CmdbRecord },
    /// Maintenance windows overlapping now.
    Maintenance { windows: Vec<Window> },
    /// Patches and change records in the look-back window.
    Changes { changes: Vec<Change> },
    /// What runs on the host and what ooda may touch there: its busiest processes and the
    /// operator's clean-up directories. Runbook targets are bound from these facts, never from
    /// alert labels (see [`crate::targets`]).
    Host { facts: HostFacts },
}

impl Observation {
    pub fn kind(&self) -> &'static str {
        match self {
            Observation::Metrics { .. } => "metrics",
            Observation::Logs { .. } => "logs",
            Observation::Topology { .. } => "topology",
            Observation::Deploys { .. } => "deploys",
            Observation::Cmdb { .. } => "cmdb",
            Observation::Maintenance { .. } => "maintenance",
            Observation::Changes { .. } => "changes",
            Observation::Host { .. } => "host",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricReading {
    pub metric: String,
    pub value: f64,
    /// The band the value should be in.
    pub low: f64,
    pub high: f64,
}

impl MetricReading {
    /// A reading in the catalogue's vocabulary. The monitoring engine watches headroom
    /// (`filesystem_free_percent`: an alert when it runs *low*); the catalogue's signals speak of
    /// usage (`filesystem_used`: a signal when it runs *high*). A `*_free_percent` series is
    /// turned into its `*_used_percent` mirror, band mirrored too; everything else is unchanged.
    pub fn in_catalogue_terms(self) -> Self {
        let (base, labels) = match self.metric.find('{') {
            Some(i) => self.metric.split_at(i),
            None => (self.metric.as_str(), ""),
        };
        match base.strip_suffix("_free_percent") {
            Some(stem) => MetricReading {
                metric: format!("{stem}_used_percent{labels}"),
                value: 100.0 - self.value,
                low: mirror(self.high),
                high: mirror(self.low),
            },
            None => self,
        }
    }
}

/// `filesystem_free_percent{mountpoint="/"}` → `filesystem_fill_rate_per_hour{mountpoint="/"}`:
/// the series' stem without its unit and used/free words, so the catalogue can name fill rates
/// apart from levels.
pub fn fill_rate_name(metric: &str) -> String {
    let (base, labels) = match metric.find('{') {
        Some(i) => metric.split_at(i),
        None => (metric, ""),
    };
    let mut stem = base;
    while let Some(shorter) = [
        "_percent",
        "_pct",
        "_ratio",
        "_bytes",
        "_free",
        "_avail",
        "_available",
        "_used",
        "_usage",
    ]
    .iter()
    .find_map(|suffix| stem.strip_suffix(suffix))
    {
        stem = shorter;
    }
    format!("{stem}_fill_rate_per_hour{labels}")
}

/// Hours to full under which a capacity series' fill rate reads as out of band: a series that
/// would reach 100 % within this long at its current rate is filling, not wandering.
pub const FILL_HORIZON_HOURS: f64 = 12.0;

/// The fill rate of a `*_used_percent` series from its recent samples `(unix ms, used %)`, oldest
/// first: the least-squares slope in points per hour, out of band when it would fill the
/// remaining headroom within [`FILL_HORIZON_HOURS`] (never below a quarter point an hour, so
/// noise on a nearly full series is not a trend). `None` for other series, or with fewer than
/// five samples or less than a quarter of an hour of them: no trend can be told then. What a
/// probe backed by Prometheus would ask as `deriv(x[1h])`.
pub fn fill_rate_reading(metric: &str, samples: &[(i64, f64)]) -> Option<MetricReading> {
    let base = metric.split('{').next().unwrap_or(metric);
    if !base.ends_with("_used_percent") || samples.len() < 5 {
        return None;
    }
    let (first, last) = (samples.first()?, samples.last()?);
    if last.0 - first.0 < 15 * 60_000 {
        return None;
    }
    let n = samples.len() as f64;
    let hours = |t: i64| (t - first.0) as f64 / 3_600_000.0;
    let mean_t = samples.iter().map(|(t, _)| hours(*t)).sum::<f64>() / n;
    let mean_v = samples.iter().map(|(_, v)| v).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (t, v) in samples {
        let dt = hours(*t) - mean_t;
        num += dt * (v - mean_v);
        den += dt * dt;
    }
    let slope = num / den;
    (slope.is_finite() && last.1.is_finite()).then(|| MetricReading {
        metric: fill_rate_name(metric),
        value: slope,
        low: f64::MIN,
        high: ((100.0 - last.1) / FILL_HORIZON_HOURS).max(0.25),
    })
}

/// `100 - x`, keeping the open ends of a band open.
fn mirror(x: f64) -> f64 {
    if x == f64::MAX {
        f64::MIN
    } else if x == f64::MIN {
        f64::MAX
    } else {
        100.0 - x
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogTemplate {
    pub template: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHealth {
    pub service: String,
    pub healthy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub previous_version: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmdbRecord {
    pub host: String,
    /// `web`, `database`, `cache` …
    pub class: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `patch` or `config`.
    pub kind: String,
    pub summary: String,
    pub at: Timestamp,
}

/// The host as its own operating system reports it when the incident is investigated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    /// The busiest processes by CPU and by memory (each at most once), busiest CPU first.
    #[serde(default)]
    pub processes: Vec<ProcessFact>,
    /// The operator's allowlisted clean-up directories that exist on this host.
    #[serde(default)]
    pub cleanable: Vec<PathFact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessFact {
    pub pid: u32,
    /// The command name (`comm`).
    pub name: String,
    /// Share of one core over the sampling interval (200 = two cores busy).
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    /// Resident memory growth over the probe's history of this process, when it has one.
    #[serde(default)]
    pub rss_growth_bytes_per_hour: Option<f64>,
    /// The service that owns the process (its systemd unit, ooda's supervisor entry, or the
    /// inventory's service of that name), when one is known.
    #[serde(default)]
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathFact {
    pub path: String,
    /// The mount point of the filesystem the directory lives on.
    pub mount: String,
    /// Bytes under the directory now.
    pub bytes: u64,
}

/// What a probe is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeQuery {
    pub incident: IncidentId,
    pub host: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The alert's time: probes look around it.
    pub at: Timestamp,
    /// How far back deploys, patches and changes count (4 h by default).
    pub look_back: Duration,
}

impl ProbeQuery {
    /// The alert's host, or "not applicable" for probes that read one host.
    pub fn host(&self) -> Result<&str, ProbeError> {
        self.host
            .as_deref()
            .ok_or_else(|| ProbeError::NotApplicable("the alert names no host".into()))
    }
}

/// Why a probe gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "gap", content = "detail", rename_all = "snake_case")]
pub enum ProbeError {
    #[error("timed out after {0} ms")]
    Timeout(u64),
    #[error("source failed: {0}")]
    Failed(String),
    #[error("source answered something that is not evidence: {0}")]
    Garbage(String),
    #[error("not applicable: {0}")]
    NotApplicable(String),
}

pub type ProbeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Observation, ProbeError>> + Send + 'a>>;

/// A read-only source of evidence. The same probes are the tools an LLM reasoner may call, so
/// they must never change anything.
pub trait Probe: Send + Sync {
    /// A short stable name (`metrics`, `logs`, `deploys/file` …).
    fn name(&self) -> &str;
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a>;
}

/// The SHA-256 of an item's canonical JSON: how hypotheses and post-mortems cite evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EvidenceRef(pub String);

impl std::fmt::Display for EvidenceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl EvidenceRef {
    /// The first 12 hex digits, for people.
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub id: EvidenceRef,
    pub probe: String,
    pub observation: Observation,
}

impl EvidenceItem {
    /// Builds an item, addressing it by content. The id covers probe and observation, not the
    /// time it was gathered, so the same finding gathered twice is the same item.
    pub fn new(probe: impl Into<String>, observation: Observation) -> Self {
        let probe = probe.into();
        let canonical = serde_json::to_vec(&(&probe, &observation)).unwrap_or_default();
        let id = EvidenceRef(hex::encode(Sha256::digest(&canonical)));
        Self {
            id,
            probe,
            observation,
        }
    }
}

/// A probe that produced nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub probe: String,
    pub error: ProbeError,
}

/// Everything gathered for one incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub items: Vec<EvidenceItem>,
    pub gaps: Vec<Gap>,
}

impl Evidence {
    pub fn get(&self, id: &EvidenceRef) -> Option<&EvidenceItem> {
        self.items.iter().find(|item| &item.id == id)
    }

    pub fn push(&mut self, item: EvidenceItem) {
        if self.get(&item.id).is_none() {
            self.items.push(item);
        }
    }
}

/// Runs every probe concurrently, each under `timeout`. Returns when the slowest probe has
/// answered or timed out: the whole takes about the slowest probe's time, not the sum.
pub async fn gather(probes: &[Arc<dyn Probe>], query: &ProbeQuery, timeout: Duration) -> Evidence {
    let mut set = tokio::task::JoinSet::new();
    for (index, probe) in probes.iter().enumerate() {
        let probe = Arc::clone(probe);
        let query = query.clone();
        set.spawn(async move {
            let outcome = match tokio::time::timeout(timeout, probe.probe(&query)).await {
                Ok(result) => result,
                Err(_) => Err(ProbeError::Timeout(timeout.as_millis() as u64)),
            };
            (index, probe.name().to_owned(), outcome)
        });
    }
    let mut answers: Vec<(usize, String, Result<Observation, ProbeError>)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(answer) => answers.push(answer),
            // A probe that panicked: its task is gone, so we only know it failed. Which probe it
            // was is recovered below from the indices that did answer.
            Err(error) => tracing::warn!(%error, "evidence probe panicked"),
        }
    }
    answers.sort_by_key(|(index, _, _)| *index);
    let mut evidence = Evidence::default();
    for (index, probe) in probes.iter().enumerate() {
        match answers.iter().find(|(i, _, _)| *i == index) {
            Some((_, name, Ok(observation))) => {
                evidence.push(EvidenceItem::new(name.clone(), observation.clone()))
            }
            Some((_, name, Err(error))) => evidence.gaps.push(Gap {
                probe: name.clone(),
                error: error.clone(),
            }),
            None => evidence.gaps.push(Gap {
                probe: probe.name().to_owned(),
                error: ProbeError::Failed("the probe panicked".into()),
            }),
        }
    }
    evidence
}

/// A probe with a fixed answer after an optional delay: CMDB and topology fixtures, tests and
/// the latency benchmark.
#[derive(Debug, Clone)]
pub struct StaticProbe {
    pub name: String,
    pub answer: Result<Observation, ProbeError>,
    pub delay: Duration,
}

impl StaticProbe {
    pub fn new(name: impl Into<String>, observation: Observation) -> Self {
        Self {
            name: name.into(),
            answer: Ok(observation),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

impl Probe for StaticProbe {
    fn name(&self) -> &str {
        &self.name
    }
    fn probe<'a>(&'a self, _: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            self.answer.clone()
        })
    }
}

/// Deploys from a JSON-lines file (one [`Deploy`] per line) written by CI or a webhook
/// receiver. Only deploys within the query's look-back window before the alert count. A line that
/// does not decode makes the whole answer garbage: half a deploy history would read as "no
/// recent deploy", which is evidence against a failed deploy that we do not have.
#[derive(Debug, Clone)]
pub struct DeployFileProbe {
    pub path: std::path::PathBuf,
}

impl Probe for DeployFileProbe {
    fn name(&self) -> &str {
        "deploys"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let text = tokio::fs::read_to_string(&self.path)
                .await
                .map_err(|e| ProbeError::Failed(format!("{}: {e}", self.path.display())))?;
            let look_back = chrono::Duration::from_std(query.look_back)
                .map_err(|e| ProbeError::Failed(e.to_string()))?;
            let since = query.at - look_back;
            let mut deploys = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let deploy: Deploy = serde_json::from_str(line).map_err(|e| {
                    ProbeError::Garbage(format!("{} line {}: {e}", self.path.display(), n + 1))
                })?;
                let same_host = match (&query.host, query.labels.get("service")) {
                    (_, Some(service)) => &deploy.service == service,
                    _ => true,
                };
                if same_host && deploy.at >= since && deploy.at <= query.at {
                    deploys.push(deploy);
                }
            }
            Ok(Observation::Deploys { deploys })
        })
    }
}

/// Error lines of a log file, reduced to templates (numbers and hex become `<n>`) and counted.
#[derive(Debug, Clone)]
pub struct LogFileProbe {
    pub path: std::path::PathBuf,
    /// Keep at most this many templates (the most frequent).
    pub max_templates: usize,
}

/// The template of a log line: runs of digits and hex-looking words become `<n>`, so lines that
/// differ only in numbers, pids and addresses group together.
pub fn log_template(line: &str) -> String {
    line.split_whitespace()
        .map(|word| {
            if word.chars().any(|c| c.is_ascii_digit())
                && word
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || ".:-/x[]=%".contains(c))
            {
                "<n>".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Probe for LogFileProbe {
    fn name(&self) -> &str {
        "logs"
    }
    fn probe<'a>(&'a self, _: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let bytes = tokio::fs::read(&self.path)
                .await
                .map_err(|e| ProbeError::Failed(format!("{}: {e}", self.path.display())))?;
            let text = String::from_utf8_lossy(&bytes);
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for line in text.lines() {
                let lower = line.to_ascii_lowercase();
                if [
                    "error", "fail", "fatal", "panic", "no space", "killed", "denied",
                ]
                .iter()
                .any(|w| lower.contains(w))
                {
                    *counts.entry(log_template(line)).or_default() += 1;
                }
            }
            let mut templates: Vec<LogTemplate> = counts
                .into_iter()
                .map(|(template, count)| LogTemplate { template, count })
                .collect();
            templates.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
            templates.truncate(self.max_templates);
            Ok(Observation::Logs { templates })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{fill_rate_reading, FILL_HORIZON_HOURS};

    fn minutes(values: &[f64]) -> Vec<(i64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 60_000, *v))
            .collect()
    }

    #[test]
    fn a_series_filling_its_headroom_within_the_horizon_reads_out_of_band() {
        // 60 % used, climbing 4 points an hour: full in 10 h.
        let filling: Vec<f64> = (0..60).map(|m| 56.0 + 4.0 * m as f64 / 60.0).collect();
        let r = fill_rate_reading("memory_used_percent", &minutes(&filling)).unwrap();
        assert_eq!(r.metric, "memory_fill_rate_per_hour");
        assert!((r.value - 4.0).abs() < 1e-9, "{}", r.value);
        assert!(r.value > r.high);
        // Climbing one point an hour at 60 %: 40 h to full, a wander, not a fill.
        let slow: Vec<f64> = (0..60).map(|m| 59.0 + m as f64 / 60.0).collect();
        let r = fill_rate_reading("memory_used_percent", &minutes(&slow)).unwrap();
        assert!(r.value < r.high && (r.high - 40.0 / FILL_HORIZON_HOURS).abs() < 0.1);
        // Draining reads in band.
        let draining: Vec<f64> = (0..60).map(|m| 90.0 - m as f64).collect();
        let r = fill_rate_reading("filesystem_used_percent", &minutes(&draining)).unwrap();
        assert!(r.value < 0.0 && r.value < r.high);
    }

    #[test]
    fn no_trend_from_too_little_or_from_series_without_a_capacity() {
        assert!(fill_rate_reading("memory_used_percent", &minutes(&[50.0; 4])).is_none());
        // Ten samples ten seconds apart: under a quarter of an hour.
        let close: Vec<(i64, f64)> = (0..10).map(|i| (i * 10_000, 50.0 + i as f64)).collect();
        assert!(fill_rate_reading("memory_used_percent", &close).is_none());
        assert!(fill_rate_reading("latency_ms", &minutes(&[1.0; 30])).is_none());
        // Constant samples: slope 0, in band, no NaN.
        let flat = fill_rate_reading("memory_used_percent", &minutes(&[50.0; 30])).unwrap();
        assert_eq!(flat.value, 0.0);
    }

    use super::*;
    use ooda_core::clock::from_millis;

    fn query() -> ProbeQuery {
        ProbeQuery {
            incident: IncidentId::from_u128(1),
            host: Some("web-1".into()),
            labels: BTreeMap::new(),
            at: from_millis(10 * 3_600_000),
            look_back: Duration::from_secs(4 * 3600),
        }
    }

    #[test]
    fn free_headroom_reads_as_usage_for_the_catalogue() {
        let low_headroom = MetricReading {
            metric: "filesystem_free_percent{mountpoint=\"/data\"}".into(),
            value: 3.0,
            low: 20.0,
            high: f64::MAX,
        }
        .in_catalogue_terms();
        assert_eq!(
            low_headroom.metric,
            "filesystem_used_percent{mountpoint=\"/data\"}"
        );
        assert_eq!(low_headroom.value, 97.0);
        assert_eq!((low_headroom.low, low_headroom.high), (f64::MIN, 80.0));
        let catalogue = crate::Catalogue::embedded().unwrap();
        assert!(catalogue
            .metric_signals(
                &low_headroom.metric,
                low_headroom.value,
                low_headroom.low,
                low_headroom.high
            )
            .contains(&"metric.disk_used.high"));
        let cpu = MetricReading {
            metric: "cpu_busy_percent".into(),
            value: 99.0,
            low: f64::MIN,
            high: 60.0,
        };
        assert_eq!(
            cpu.clone().in_catalogue_terms(),
            cpu,
            "usage series unchanged"
        );
    }

    struct Panicking;
    impl Probe for Panicking {
        fn name(&self) -> &str {
            "panics"
        }
        fn probe<'a>(&'a self, _: &'a ProbeQuery) -> ProbeFuture<'a> {
            Box::pin(async { panic!("probe bug") })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slow_failing_and_panicking_probes_become_gaps() {
        let cmdb = Observation::Cmdb {
            record: CmdbRecord {
                host: "web-1".into(),
                class: "web".into(),
                environment: "prod".into(),
                services: vec![],
                owner: "team".into(),
            },
        };
        let probes: Vec<Arc<dyn Probe>> = vec![
            Arc::new(StaticProbe::new("cmdb", cmdb.clone())),
            Arc::new(
                StaticProbe::new("slow", Observation::Logs { templates: vec![] })
                    .delayed(Duration::from_secs(60)),
            ),
            Arc::new(StaticProbe {
                name: "broken".into(),
                answer: Err(ProbeError::Garbage("<html>".into())),
                delay: Duration::ZERO,
            }),
            Arc::new(Panicking),
        ];
        let evidence = gather(&probes, &query(), Duration::from_secs(5)).await;
        assert_eq!(evidence.items.len(), 1);
        assert_eq!(evidence.items[0].observation, cmdb);
        let gaps: Vec<_> = evidence
            .gaps
            .iter()
            .map(|g| (g.probe.as_str(), &g.error))
            .collect();
        assert_eq!(gaps[0], ("slow", &ProbeError::Timeout(5000)));
        assert!(matches!(gaps[1], ("broken", ProbeError::Garbage(_))));
        assert!(matches!(gaps[2], ("panics", ProbeError::Failed(_))));
    }

    #[test]
    fn items_are_content_addressed() {
        let a = EvidenceItem::new("logs", Observation::Logs { templates: vec![] });
        let b = EvidenceItem::new("logs", Observation::Logs { templates: vec![] });
        let c = EvidenceItem::new("logs2", Observation::Logs { templates: vec![] });
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(a.id.0.len(), 64);
    }

    #[tokio::test]
    async fn deploy_file_keeps_the_last_four_hours_and_refuses_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deploys.jsonl");
        let at = |h: i64| from_millis(h * 3_600_000).to_rfc3339();
        std::fs::write(
            &path,
            format!(
                "{{\"service\":\"api\",\"version\":\"2\",\"at\":\"{}\"}}\n{{\"service\":\"api\",\"version\":\"3\",\"previous_version\":\"2\",\"at\":\"{}\"}}\n",
                at(1),
                at(8)
            ),
        )
        .unwrap();
        let probe = DeployFileProbe { path: path.clone() };
        let Observation::Deploys { deploys } = probe.probe(&query()).await.unwrap() else {
            panic!("not deploys")
        };
        assert_eq!(deploys.len(), 1);
        assert_eq!(deploys[0].version, "3");
        std::fs::write(&path, "{\"service\": 3}\n").unwrap();
        assert!(matches!(
            probe.probe(&query()).await,
            Err(ProbeError::Garbage(_))
        ));
        let missing = DeployFileProbe {
            path: dir.path().join("nope"),
        };
        assert!(matches!(
            missing.probe(&query()).await,
            Err(ProbeError::Failed(_))
        ));
    }

    #[tokio::test]
    async fn log_file_errors_are_templated_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(
            &path,
            "ok line\nERROR write 4096 bytes: No space left on device\nERROR write 512 bytes: No space left on device\n\u{0}\u{ff}garbage error\n",
        )
        .unwrap();
        let probe = LogFileProbe {
            path,
            max_templates: 10,
        };
        let Observation::Logs { templates } = probe.probe(&query()).await.unwrap() else {
            panic!("not logs")
        };
        assert_eq!(
            templates[0].template,
            "ERROR write <n> bytes: No space left on device"
        );
        assert_eq!(templates[0].count, 2);
    }
}
