//! Precursor fingerprints: what a host's series looked like 15–90 minutes before past incidents,
//! learned from its z-scores, and matched against the live window to warn before it happens
//! again. A fingerprint keeps, per metric, the mean signed z over the look-back window (which
//! deviated, and which way) and the order in which metrics first deviated.
//!
//! Matching is cosine similarity between the live window's signature and each fingerprint's, over
//! the union of their metrics. Never raises an alert on its own say-so: it yields an anomaly of
//! kind `precursor` that fusion and grouping treat like any other.

use std::collections::VecDeque;
use std::time::Duration;

use ooda_core::{AlertKind, Anomaly, Labels, SeriesKey, Severity};
use serde::{Deserialize, Serialize};

use crate::config::PrecursorConfig;

/// |z| at which a metric counts as having started to deviate (for the onset order).
const ONSET_Z: f64 = 2.0;
/// z values are clipped to this before averaging, so one wild sample does not own a signature.
const CLIP_Z: f64 = 10.0;

/// A past incident to learn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastIncident {
    pub host: String,
    pub time_ms: i64,
    pub incident_type: String,
}

/// What the look-back window before one incident looked like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub incident_type: String,
    /// Metric names, aligned with `signature`.
    pub metrics: Vec<String>,
    /// Mean signed z per metric over the window.
    pub signature: Vec<f32>,
    /// Metrics in the order they first reached |z| ≥ 2 within the window.
    pub onset_order: Vec<String>,
    /// From the first onset to the incident (the look-back end when nothing had an onset).
    pub lead_ms: i64,
}

/// A live window that looks like a fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecursorMatch {
    pub incident_type: String,
    pub similarity: f64,
    pub expected_lead: Duration,
    pub onset_order: Vec<String>,
}

/// A window's signature (mean signed z per metric) and onsets (metric index, first time).
type Signature = (Vec<f64>, Vec<(usize, i64)>);

/// The recent z-scores of one host, oldest first.
#[derive(Debug, Clone)]
struct ZWindow {
    rows: VecDeque<(i64, Vec<f32>)>,
}

impl ZWindow {
    fn signature(&self, from_ms: i64, to_ms: i64, n: usize) -> Option<Signature> {
        let mut sum = vec![0.0; n];
        let mut count = 0usize;
        let mut onsets: Vec<(usize, i64)> = Vec::new();
        for (t, zs) in self
            .rows
            .iter()
            .filter(|(t, _)| *t >= from_ms && *t <= to_ms)
        {
            count += 1;
            for (i, &z) in zs.iter().enumerate().take(n) {
                let z = f64::from(z).clamp(-CLIP_Z, CLIP_Z);
                sum[i] += z;
                if z.abs() >= ONSET_Z && !onsets.iter().any(|(m, _)| *m == i) {
                    onsets.push((i, *t));
                }
            }
        }
        if count == 0 {
            return None;
        }
        Some((sum.into_iter().map(|s| s / count as f64).collect(), onsets))
    }
}

fn energy(signature: &[f64]) -> f64 {
    if signature.is_empty() {
        return 0.0;
    }
    signature.iter().map(|v| v.abs()).sum::<f64>() / signature.len() as f64
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Learns fingerprints from one host's z history (`history` rows of per-metric z, time-ordered,
/// aligned with `names`) and the incidents that happened on it. Incidents without enough
/// deviation in their look-back window (quiet precursors) yield nothing.
pub fn learn(
    names: &[String],
    history: &[(i64, Vec<f64>)],
    incidents: &[PastIncident],
    config: &PrecursorConfig,
) -> Vec<Fingerprint> {
    let window = ZWindow {
        rows: history
            .iter()
            .map(|(t, zs)| (*t, zs.iter().map(|&z| z as f32).collect()))
            .collect(),
    };
    let mut out = Vec::new();
    for incident in incidents {
        let from = incident.time_ms - ms(config.lookback_start);
        let to = incident.time_ms - ms(config.lookback_end);
        let Some((signature, onsets)) = window.signature(from, to, names.len()) else {
            continue;
        };
        if energy(&signature) < config.min_energy {
            continue;
        }
        let lead_ms = onsets
            .first()
            .map_or(ms(config.lookback_end), |(_, t)| incident.time_ms - t);
        out.push(Fingerprint {
            incident_type: incident.incident_type.clone(),
            metrics: names.to_vec(),
            signature: signature.iter().map(|&v| v as f32).collect(),
            onset_order: onsets.iter().map(|(i, _)| names[*i].clone()).collect(),
            lead_ms,
        });
    }
    out
}

/// Cosine similarity of two signatures over the union of their metrics (a metric missing on one
/// side counts as 0 there).
pub fn similarity(a_names: &[String], a: &[f64], b_names: &[String], b: &[f32]) -> f64 {
    let mut dot = 0.0;
    let mut na = 0.0;
    let mut nb = 0.0;
    for (i, name) in a_names.iter().enumerate() {
        let x = a.get(i).copied().unwrap_or(0.0);
        na += x * x;
        if let Some(j) = b_names.iter().position(|n| n == name) {
            dot += x * f64::from(b.get(j).copied().unwrap_or(0.0));
        }
    }
    for v in b {
        nb += f64::from(*v) * f64::from(*v);
    }
    if na <= 0.0 || nb <= 0.0 {
        return 0.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

/// Matches one host's live window against the fingerprints.
#[derive(Debug, Clone)]
pub struct PrecursorWatch {
    host: String,
    names: Vec<String>,
    fingerprints: Vec<Fingerprint>,
    window: ZWindow,
    config: PrecursorConfig,
}

impl PrecursorWatch {
    pub fn new(
        host: impl Into<String>,
        names: Vec<String>,
        fingerprints: Vec<Fingerprint>,
        config: &PrecursorConfig,
    ) -> Self {
        Self {
            host: host.into(),
            names,
            fingerprints,
            window: ZWindow {
                rows: VecDeque::new(),
            },
            config: config.clone(),
        }
    }

    /// Feeds one row of per-metric z (aligned with the names) and returns the best match, if
    /// any fingerprint is similar enough.
    pub fn observe(&mut self, time_ms: i64, zs: &[f64]) -> Option<PrecursorMatch> {
        if !self.config.enabled || self.fingerprints.is_empty() {
            return None;
        }
        let span = ms(self.config.lookback_start) - ms(self.config.lookback_end);
        self.window.rows.push_back((
            time_ms,
            zs.iter()
                .map(|&z| if z.is_finite() { z as f32 } else { 0.0 })
                .collect(),
        ));
        while self
            .window
            .rows
            .front()
            .is_some_and(|(t, _)| *t < time_ms - span)
        {
            self.window.rows.pop_front();
        }
        let (signature, onsets) =
            self.window
                .signature(time_ms - span, time_ms, self.names.len())?;
        if energy(&signature) < self.config.min_energy {
            return None;
        }
        let mut best: Option<(f64, &Fingerprint)> = None;
        for fp in &self.fingerprints {
            let s = similarity(&self.names, &signature, &fp.metrics, &fp.signature);
            if s >= self.config.min_similarity && best.is_none_or(|(b, _)| s > b) {
                best = Some((s, fp));
            }
        }
        let (similarity, fp) = best?;
        let since_onset = onsets.first().map_or(0, |(_, t)| time_ms - t);
        let lead = (fp.lead_ms - since_onset).max(ms(self.config.lookback_end));
        Some(PrecursorMatch {
            incident_type: fp.incident_type.clone(),
            similarity,
            expected_lead: Duration::from_millis(u64::try_from(lead).unwrap_or(0)),
            onset_order: fp.onset_order.clone(),
        })
    }

    /// The match as an anomaly for fusion.
    pub fn anomaly(&self, time_ms: i64, m: &PrecursorMatch) -> Anomaly {
        let lead_min = m.expected_lead.as_secs() / 60;
        Anomaly {
            series: SeriesKey::new("precursor", Labels::new().with("host", self.host.clone())),
            time: ooda_core::clock::from_millis(time_ms),
            value: m.similarity,
            expected: 0.0,
            score: m.similarity,
            severity: Severity::Warning,
            kind: AlertKind::Precursor,
            explanation: format!(
                "the last {} min look like the run-up to a past {} (similarity {:.2}; deviations in order: {}): expect it in about {lead_min} min",
                (ms(self.config.lookback_start) - ms(self.config.lookback_end)) / 60_000,
                m.incident_type,
                m.similarity,
                m.onset_order.join(" → ")
            ),
            forecast: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn names() -> Vec<String> {
        vec!["disk_io".into(), "latency".into(), "cpu".into()]
    }

    /// z rows every minute; a run-up (disk_io rises, then latency) from `start` for 60 minutes.
    fn history(len_min: i64, runups: &[i64]) -> Vec<(i64, Vec<f64>)> {
        (0..len_min)
            .map(|m| {
                let t = m * MIN;
                let mut z = vec![0.1 * ((m % 7) as f64 - 3.0) / 3.0, 0.0, 0.05];
                for &start in runups {
                    if (start..start + 60).contains(&m) {
                        z[0] = 3.0 + (m - start) as f64 * 0.05;
                        if m - start > 20 {
                            z[1] = 2.5;
                        }
                    }
                }
                (t, z)
            })
            .collect()
    }

    #[test]
    fn learns_and_matches_a_run_up() {
        let config = PrecursorConfig::default();
        // The incident at minute 1080 was preceded by a run-up starting at minute 1000.
        let past = history(1200, &[1000]);
        let incidents = vec![PastIncident {
            host: "db-1".into(),
            time_ms: 1080 * MIN,
            incident_type: "disk_saturation".into(),
        }];
        let fps = learn(&names(), &past, &incidents, &config);
        assert_eq!(fps.len(), 1);
        assert_eq!(
            fps[0].onset_order,
            vec!["disk_io".to_string(), "latency".to_string()]
        );

        let mut watch = PrecursorWatch::new("db-1", names(), fps, &config);
        let live = history(400, &[300]);
        let mut first = None;
        for (t, z) in &live {
            if let Some(m) = watch.observe(*t, z) {
                first.get_or_insert((*t, m));
            }
        }
        let (t, m) = first.expect("the run-up matches");
        assert_eq!(m.incident_type, "disk_saturation");
        assert!(m.similarity >= config.min_similarity);
        assert!(t < 360 * MIN, "matched during the run-up");
        assert!(m.expected_lead >= Duration::from_secs(15 * 60));
        let a = watch.anomaly(t, &m);
        assert_eq!(a.kind, AlertKind::Precursor);
        assert!(
            a.explanation.contains("disk_saturation"),
            "{}",
            a.explanation
        );
    }

    #[test]
    fn quiet_windows_and_other_shapes_do_not_match() {
        let config = PrecursorConfig::default();
        let incidents = vec![PastIncident {
            host: "h".into(),
            time_ms: 500 * MIN,
            incident_type: "quiet".into(),
        }];
        assert!(learn(&names(), &history(600, &[]), &incidents, &config).is_empty());

        let fp = Fingerprint {
            incident_type: "disk".into(),
            metrics: names(),
            signature: vec![4.0, 2.0, 0.0],
            onset_order: vec![],
            lead_ms: 30 * MIN,
        };
        let mut watch = PrecursorWatch::new("h", names(), vec![fp], &config);
        // CPU alone deviates: orthogonal to the fingerprint.
        for m in 0..200 {
            assert!(watch.observe(m * MIN, &[0.0, 0.0, 5.0]).is_none());
        }
    }

    #[test]
    fn similarity_aligns_by_name() {
        let a = vec!["x".to_string(), "y".to_string()];
        let b = vec!["y".to_string(), "x".to_string()];
        let s = similarity(&a, &[1.0, 2.0], &b, &[2.0, 1.0]);
        assert!((s - 1.0).abs() < 1e-9);
        assert_eq!(similarity(&a, &[0.0, 0.0], &b, &[1.0, 1.0]), 0.0);
    }
}
