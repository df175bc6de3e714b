//! Fusion: anomalies on one host (and on hosts linked by topology) close in time become one
//! compound alert with all its members, a combined severity and a probable cause. Opening an
//! alert claims its fingerprint in the [`Dedup`] port, so a repeat within the repeat interval,
//! or the same alert raised by another worker, is not announced twice.
//!
//! Never decides what is anomalous (that is `engine`) nor who gets told (that is `grouping`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ooda_core::{Alert, AlertId, AlertKind, AlertState, Anomaly, MetricClass, Severity};
use sha2::{Digest, Sha256};

use crate::config::MonitorConfig;
use crate::dedup::Dedup;
use crate::score::guess_class;
use crate::MonitorError;

/// What fusion did with a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum FusionEvent {
    /// A new alert, claimed in the dedup store: announce it.
    Opened(Alert),
    /// An open alert gained members or severity.
    Updated(Alert),
    /// An open alert saw no member for longer than the window.
    Resolved(Alert),
}

#[derive(Debug, Clone)]
struct OpenAlert {
    alert: Alert,
    last_ms: i64,
    announced: bool,
}

/// Open compound alerts, keyed by the host they are rooted at.
#[derive(Debug, Clone)]
pub struct Fusion {
    window_ms: i64,
    repeat: Duration,
    /// host → upstream hosts it depends on.
    topology: BTreeMap<String, Vec<String>>,
    classes: BTreeMap<String, MetricClass>,
    open: BTreeMap<String, OpenAlert>,
}

/// Stable fingerprint of host, kind and member set: the first 16 bytes of SHA-256, hex. Stable
/// across processes and versions (never `std`'s randomised hasher), so two workers agree.
pub fn fingerprint<'a>(
    host: &str,
    kind: AlertKind,
    members: impl IntoIterator<Item = &'a str>,
) -> String {
    let set: BTreeSet<&str> = members.into_iter().collect();
    let mut h = Sha256::new();
    h.update(host.as_bytes());
    h.update([0]);
    h.update(kind.as_str().as_bytes());
    for m in set {
        h.update([0]);
        h.update(m.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

impl Fusion {
    pub fn new(config: &MonitorConfig) -> Self {
        Self {
            window_ms: i64::try_from(config.fusion.window.as_millis()).unwrap_or(i64::MAX),
            repeat: config.grouping.repeat_interval,
            topology: config.fusion.topology.clone(),
            classes: config.classes.clone(),
            open: BTreeMap::new(),
        }
    }

    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.open.values().map(|o| &o.alert)
    }

    /// The key an anomaly on `host` fuses under: an upstream host with an open alert, else the
    /// host itself.
    fn root(&self, host: &str) -> String {
        if let Some(upstreams) = self.topology.get(host) {
            for up in upstreams {
                if self.open.contains_key(up) {
                    return up.clone();
                }
            }
        }
        host.to_string()
    }

    /// Takes the anomalies seen at `now_ms` (any hosts, any order).
    pub fn ingest(
        &mut self,
        now_ms: i64,
        anomalies: Vec<Anomaly>,
        dedup: &dyn Dedup,
    ) -> Result<Vec<FusionEvent>, MonitorError> {
        // A forecast is its own alert per series (never fused into a deviation's compound
        // alert: it is about the future, and a runbook acts on it alone).
        let mut by_root: BTreeMap<String, (String, Vec<Anomaly>)> = BTreeMap::new();
        for a in anomalies {
            let host = a.series.host().unwrap_or("").to_string();
            let (key, root) = if a.kind == AlertKind::Forecast {
                (forecast_key(&host, &a.series.metric), host)
            } else {
                let root = self.root(&host);
                (root.clone(), root)
            };
            by_root
                .entry(key)
                .or_insert_with(|| (root, Vec::new()))
                .1
                .push(a);
        }
        let mut events = Vec::new();
        for (key, (root, batch)) in by_root {
            match self.open.get_mut(&key) {
                Some(open) => {
                    let before = (open.alert.members.len(), open.alert.severity);
                    for a in batch {
                        if a.kind == AlertKind::Forecast {
                            // The newest forecast replaces the old one, stronger or not.
                            open.alert.members.retain(|m| m.series != a.series);
                            open.alert.members.push(a);
                        } else {
                            merge_member(&mut open.alert.members, a);
                        }
                    }
                    open.last_ms = now_ms;
                    let classes = &self.classes;
                    refresh(&mut open.alert, now_ms, classes);
                    if open.announced && (open.alert.members.len(), open.alert.severity) != before {
                        events.push(FusionEvent::Updated(open.alert.clone()));
                    }
                }
                None => {
                    let mut members = Vec::new();
                    for a in batch {
                        merge_member(&mut members, a);
                    }
                    let kind = alert_kind(&members);
                    let names: Vec<String> = members.iter().map(|m| m.series.to_string()).collect();
                    let fp = fingerprint(&root, kind, names.iter().map(String::as_str));
                    let mut alert = Alert {
                        id: AlertId::from_u128(u128::from_str_radix(&fp, 16).unwrap_or(0)),
                        fingerprint: fp.clone(),
                        host: Some(root.clone()),
                        kind,
                        severity: Severity::Info,
                        state: AlertState::Firing,
                        summary: String::new(),
                        probable_cause: None,
                        members,
                        labels: BTreeMap::from([
                            ("host".to_string(), root.clone()),
                            ("kind".to_string(), kind.as_str().to_string()),
                        ]),
                        opened_at: ooda_core::clock::from_millis(now_ms),
                        updated_at: ooda_core::clock::from_millis(now_ms),
                        enrichment: Vec::new(),
                    };
                    refresh(&mut alert, now_ms, &self.classes);
                    let announced = dedup.claim(&fp, self.repeat, now_ms)?;
                    if announced {
                        events.push(FusionEvent::Opened(alert.clone()));
                    }
                    self.open.insert(
                        key,
                        OpenAlert {
                            alert,
                            last_ms: now_ms,
                            announced,
                        },
                    );
                }
            }
        }
        Ok(events)
    }

    /// Resolves alerts that saw no member for longer than the window.
    pub fn tick(&mut self, now_ms: i64) -> Vec<FusionEvent> {
        let window = self.window_ms;
        let stale: Vec<String> = self
            .open
            .iter()
            .filter(|(_, o)| now_ms.saturating_sub(o.last_ms) > window)
            .map(|(k, _)| k.clone())
            .collect();
        let mut events = Vec::new();
        for key in stale {
            if let Some(mut o) = self.open.remove(&key) {
                o.alert.state = AlertState::Resolved;
                o.alert.updated_at = ooda_core::clock::from_millis(now_ms);
                if o.announced {
                    events.push(FusionEvent::Resolved(o.alert));
                }
            }
        }
        events
    }
}

/// The open-alert key of a series' forecast; never a host name, so topology never fuses into it.
fn forecast_key(host: &str, metric: &str) -> String {
    format!("{host}\u{1f}forecast\u{1f}{metric}")
}

/// Keeps one member per series: the strongest.
fn merge_member(members: &mut Vec<Anomaly>, a: Anomaly) {
    match members.iter_mut().find(|m| m.series == a.series) {
        Some(m) if m.score.abs() >= a.score.abs() => {}
        Some(m) => *m = a,
        None => members.push(a),
    }
}

fn alert_kind(members: &[Anomaly]) -> AlertKind {
    let kinds: BTreeSet<AlertKind> = members.iter().map(|m| m.kind).collect();
    if members.len() > 1 {
        AlertKind::Compound
    } else {
        kinds.into_iter().next().unwrap_or(AlertKind::Compound)
    }
}

/// Combined severity: the worst member's, raised to critical when three or more series on the
/// host deviate together (independent evidence of one problem).
fn combined_severity(members: &[Anomaly]) -> Severity {
    let worst = members
        .iter()
        .map(|m| m.severity)
        .max()
        .unwrap_or(Severity::Info);
    let deviating = members
        .iter()
        .filter(|m| m.severity >= Severity::Warning)
        .count();
    if deviating >= 3 {
        Severity::Critical
    } else {
        worst
    }
}

fn refresh(alert: &mut Alert, now_ms: i64, classes: &BTreeMap<String, MetricClass>) {
    // The headline is the most severe member, then the strongest, then the newest: a critical
    // disk fault that joins a host's open warning about memory leads the alert, whatever its σ,
    // and of two faults at a static limit the one that just arrived is the news.
    alert.members.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.score.abs().total_cmp(&a.score.abs()))
            .then(b.time.cmp(&a.time))
            .then(a.series.cmp(&b.series))
    });
    alert.severity = combined_severity(&alert.members);
    alert.updated_at = ooda_core::clock::from_millis(now_ms);
    alert.probable_cause = Some(probable_cause(&alert.members, classes));
    if alert.kind == AlertKind::Forecast {
        let saturation = alert.forecast().and_then(|f| f.saturation.clone());
        if let Some(s) = saturation {
            for (key, at) in [
                ("saturates_at", s.at),
                ("saturates_earliest", s.earliest),
                ("saturates_latest", s.latest),
            ] {
                alert.labels.insert(key.to_string(), at.to_rfc3339());
            }
        }
        if let Some(m) = alert.members.first() {
            alert
                .labels
                .insert("metric".to_string(), m.series.metric.clone());
        }
    }
    let lead = alert
        .members
        .first()
        .map(|m| m.explanation.clone())
        .unwrap_or_default();
    alert.summary = if alert.members.len() > 1 {
        format!(
            "{} series deviate on {}; strongest: {lead}",
            alert.members.len(),
            alert.host.as_deref().unwrap_or("?")
        )
    } else {
        lead
    };
}

/// A rule-of-thumb cause from the classes that deviate together. Rules are checked in order;
/// the first whose classes are all present wins. Deliberately simple: incident response weighs
/// evidence properly, this only names the likeliest place to look first.
pub fn probable_cause(members: &[Anomaly], classes: &BTreeMap<String, MetricClass>) -> String {
    let present: BTreeSet<MetricClass> = members
        .iter()
        .map(|m| {
            classes
                .get(&m.series.metric)
                .copied()
                .unwrap_or_else(|| guess_class(&m.series.metric))
        })
        .collect();
    let has = |cs: &[MetricClass]| cs.iter().all(|c| present.contains(c));
    use MetricClass as C;
    let rules: [(&[MetricClass], &str); 9] = [
        (
            &[C::DiskIo, C::PacketLoss],
            "storage controller or storage network path (disk I/O and packet loss together)",
        ),
        (
            &[C::DiskIo, C::Latency],
            "storage saturation (disk I/O with rising latency)",
        ),
        (&[C::Memory, C::Swap], "memory pressure (swapping)"),
        (&[C::Disk], "filesystem filling up"),
        (&[C::Inodes], "inode exhaustion (many small files)"),
        (&[C::PacketLoss], "network path (packet loss)"),
        (
            &[C::Errors, C::Latency],
            "application failing under load (errors with latency)",
        ),
        (&[C::Cpu, C::Load], "CPU saturation"),
        (&[C::FileDescriptors], "file descriptor leak"),
    ];
    for (needed, cause) in rules {
        if has(needed) {
            return cause.to_string();
        }
    }
    if !members.is_empty() && members.iter().all(|m| m.kind == AlertKind::Correlation) {
        let names: Vec<&str> = members.iter().map(|m| m.series.metric.as_str()).collect();
        return format!(
            "broken relation between metrics that are each in band: {}",
            names.join(", ")
        );
    }
    match members.first() {
        Some(m) => format!("deviation led by {}", m.series.metric),
        None => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::MemoryDedup;
    use ooda_core::{Labels, SeriesKey};

    fn anomaly(host: &str, metric: &str, severity: Severity, kind: AlertKind) -> Anomaly {
        Anomaly {
            series: SeriesKey::new(metric, Labels::new().with("host", host)),
            time: ooda_core::clock::from_millis(0),
            value: 1.0,
            expected: 0.0,
            score: 5.0,
            severity,
            kind,
            explanation: format!("{metric} deviates"),
            forecast: None,
        }
    }

    #[test]
    fn a_more_severe_newcomer_takes_the_headline_whatever_its_sigma() {
        let config = MonitorConfig::default();
        let mut fusion = Fusion::new(&config);
        let dedup = MemoryDedup::new();
        let mut memory = anomaly(
            "web-1",
            "memory_used_pct",
            Severity::Warning,
            AlertKind::Baseline,
        );
        memory.score = 9.0;
        memory.explanation = "memory 8 %".into();
        fusion.ingest(0, vec![memory], &dedup).unwrap();
        let mut disk = anomaly(
            "web-1",
            "disk_free_pct",
            Severity::Critical,
            AlertKind::Baseline,
        );
        disk.score = -4.5;
        disk.explanation = "disk 97 % full".into();
        let events = fusion.ingest(30_000, vec![disk], &dedup).unwrap();
        let [FusionEvent::Updated(alert)] = events.as_slice() else {
            panic!("expected one update, got {events:?}");
        };
        assert_eq!(alert.members[0].series.metric, "disk_free_pct");
        assert!(
            alert.summary.contains("disk 97 % full"),
            "{}",
            alert.summary
        );
        assert_eq!(alert.severity, Severity::Critical);
    }

    #[test]
    fn the_seed_example_fuses_into_one_compound_alert() {
        let config = MonitorConfig::default();
        let mut fusion = Fusion::new(&config);
        let dedup = MemoryDedup::new();
        let e1 = fusion
            .ingest(
                0,
                vec![anomaly(
                    "db-1",
                    "cpu_util",
                    Severity::Warning,
                    AlertKind::Baseline,
                )],
                &dedup,
            )
            .expect("ingest");
        assert!(matches!(e1.as_slice(), [FusionEvent::Opened(_)]));
        let e2 = fusion
            .ingest(
                60_000,
                vec![
                    anomaly(
                        "db-1",
                        "disk_io_util",
                        Severity::Warning,
                        AlertKind::Correlation,
                    ),
                    anomaly(
                        "db-1",
                        "packet_loss",
                        Severity::Warning,
                        AlertKind::Baseline,
                    ),
                ],
                &dedup,
            )
            .expect("ingest");
        let [FusionEvent::Updated(alert)] = e2.as_slice() else {
            panic!("expected one update, got {e2:?}");
        };
        assert_eq!(alert.members.len(), 3);
        assert_eq!(alert.severity, Severity::Critical, "three series together");
        assert!(alert
            .probable_cause
            .as_deref()
            .unwrap_or("")
            .contains("storage controller"));
        // Nothing for longer than the window: resolved.
        assert!(fusion.tick(60_000 + 120_000).is_empty());
        let resolved = fusion.tick(60_000 + 120_001);
        assert!(matches!(resolved.as_slice(), [FusionEvent::Resolved(_)]));
    }

    #[test]
    fn repeats_within_the_repeat_interval_are_not_announced() {
        let config = MonitorConfig::default();
        let mut fusion = Fusion::new(&config);
        let dedup = MemoryDedup::new();
        let a = || vec![anomaly("h", "m", Severity::Warning, AlertKind::Baseline)];
        assert_eq!(fusion.ingest(0, a(), &dedup).expect("ingest").len(), 1);
        fusion.tick(10 * 60_000);
        assert!(fusion
            .ingest(20 * 60_000, a(), &dedup)
            .expect("ingest")
            .is_empty());
        fusion.tick(30 * 60_000);
        let later = 5 * 3600 * 1000;
        assert_eq!(fusion.ingest(later, a(), &dedup).expect("ingest").len(), 1);
    }

    #[test]
    fn dependants_fuse_into_their_upstream() {
        let mut config = MonitorConfig::default();
        config
            .fusion
            .topology
            .insert("app-1".into(), vec!["db-1".into()]);
        let mut fusion = Fusion::new(&config);
        let dedup = MemoryDedup::new();
        fusion
            .ingest(
                0,
                vec![anomaly(
                    "db-1",
                    "disk_free",
                    Severity::Critical,
                    AlertKind::Baseline,
                )],
                &dedup,
            )
            .expect("ingest");
        let e = fusion
            .ingest(
                30_000,
                vec![anomaly(
                    "app-1",
                    "latency",
                    Severity::Warning,
                    AlertKind::Baseline,
                )],
                &dedup,
            )
            .expect("ingest");
        assert_eq!(fusion.open_alerts().count(), 1);
        assert!(matches!(e.as_slice(), [FusionEvent::Updated(a)] if a.members.len() == 2));
    }

    #[test]
    fn fingerprints_are_stable_and_order_free() {
        let a = fingerprint("h", AlertKind::Compound, ["x", "y"]);
        let b = fingerprint("h", AlertKind::Compound, ["y", "x"]);
        assert_eq!(a, b);
        assert_ne!(a, fingerprint("h2", AlertKind::Compound, ["x", "y"]));
        assert_eq!(a.len(), 32);
    }
}
