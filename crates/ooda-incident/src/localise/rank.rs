//! The ranking. Four pieces of evidence, each from a line of the literature, measured on
//! simulated cases (see `examples/rca_eval.rs` and BENCHMARKS.md):
//!
//! 1. **How far each component left its normal behaviour** (BARO): per-series robust z-scores
//!    against the normal period, smoothed, peak per component, log-compressed so one enormous z
//!    on a quiet series cannot drown everything else.
//! 2. **Whether a callee explains it** (the counterfactual question of causal attribution: would
//!    this component still look broken if its callee were healthy?). A component whose
//!    anomaly moves with an anomalous callee's (correlated tracks, as MicroRCA weights edges),
//!    whose callee went wrong first or together, and whose callee is about as anomalous, is a
//!    victim; its score is discounted by how well the callee explains it.
//! 3. **Where the symptom can reach** (the call graph): a root cause of the symptom is the
//!    symptom's component or something it calls, directly or not. Components the symptom cannot
//!    reach keep a reduced score rather than none, because inventories miss edges.
//! 4. **When and with what it went wrong**: a root cause goes wrong before or with the symptom
//!    and its trouble moves with the symptom's (MicroRCA weights by correlation with the
//!    front-end anomaly; here as a factor: a personalised-PageRank walk was not built or
//!    measured). A benign shift that began long before, or a component that went wrong after
//!    the symptom, scores less.
//!
//! Components without any significant deviation rank after all that have one. Without a graph
//! (or for components without edges) pieces 2 and 3 do not apply: BARO's ranking, weighted by
//! timing and co-movement. Ties break on earlier onset, then name, so the output is deterministic.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::score::{score_series, SeriesScore, SIGNIFICANT_Z};
use super::{Case, Deviation, Ranking, Suspect};

/// How far before the alert the analysis window reaches, at least: causes precede symptoms.
const LOOKBACK_SECONDS: f64 = 1800.0;

/// A callee explains a caller fully when its own anomaly is at least this fraction of the
/// caller's (latency adds up along a call path, so the deepest part is often smaller).
const EXPLAIN_RATIO: f64 = 0.5;

/// The most of a component's score an explanation can take away: a victim still ranks above
/// healthy components.
const EXPLAIN_WEIGHT: f64 = 0.9;

/// An explanation by a callee whose trouble started clearly *after* the caller's counts this
/// much (propagation cannot run backwards in time, but onsets are noisy).
const LATE_CALLEE_WEIGHT: f64 = 0.3;

/// Score factor for a component the symptom's component cannot reach through calls.
const UNREACHABLE_WEIGHT: f64 = 0.6;

/// Score factor for a component whose trouble began clearly after the symptom's.
const LATE_WEIGHT: f64 = 0.5;

/// How much of a component's score rests on its track moving with the symptom's.
const SYMPTOM_WEIGHT: f64 = 0.5;

/// How deep reachability looks along calls.
const MAX_DEPTH: usize = 16;

/// One component's evidence before graph reasoning.
struct NodeState {
    name: String,
    series: Vec<SeriesScore>,
    /// log(1 + peak weighted |z|).
    anomaly: f64,
    /// The same over rising series only: what can explain a caller's trouble (a callee whose
    /// traffic fell is an effect of its caller, not a cause).
    rise: f64,
    onset: Option<f64>,
    /// Per analysis row: the largest weighted |z| of its series.
    track: Vec<f64>,
}

impl NodeState {
    fn significant(&self) -> bool {
        self.anomaly >= (1.0 + SIGNIFICANT_Z).ln()
    }
}

struct Assessment {
    nodes: Vec<NodeState>,
    step: f64,
    symptom_onset: Option<f64>,
    /// The symptom series' track (its component's when the series is missing); empty when
    /// the symptom's component has no metrics.
    symptom_track: Vec<f64>,
}

fn assess(case: &Case) -> Assessment {
    let metrics = &case.metrics;
    let step = metrics.step();
    let lookback = LOOKBACK_SECONDS.max(case.anomaly_end - case.anomaly_start);
    let from = case.anomaly_start - lookback;
    let mut rows: Vec<usize> = (0..metrics.timestamps.len())
        .filter(|&i| metrics.timestamps[i] >= from && metrics.timestamps[i] <= case.anomaly_end)
        .collect();
    if rows.is_empty() {
        rows = (0..metrics.timestamps.len()).collect();
    }
    let first_analysed = rows
        .first()
        .and_then(|&i| metrics.timestamps.get(i))
        .copied()
        .unwrap_or(f64::NEG_INFINITY);

    let mut normal: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for column in &case.normal.columns {
        normal
            .entry((column.node.as_str(), column.metric.as_str()))
            .or_default()
            .extend(column.values.iter().flatten());
    }

    let mut by_node: BTreeMap<String, Vec<SeriesScore>> = BTreeMap::new();
    for node in case.normal.nodes() {
        by_node.entry(node).or_default();
    }
    for column in &metrics.columns {
        let key = (column.node.as_str(), column.metric.as_str());
        let mut reference = normal.get(&key).cloned().unwrap_or_default();
        if reference.len() < 3 {
            // No usable normal period for this series: what came before the analysis window,
            // else before the alert.
            for cutoff in [first_analysed, case.anomaly_start - step] {
                reference = metrics
                    .timestamps
                    .iter()
                    .zip(&column.values)
                    .filter(|(t, _)| **t < cutoff)
                    .filter_map(|(_, v)| *v)
                    .collect();
                if reference.len() >= 3 {
                    break;
                }
            }
        }
        let score = score_series(column, &rows, &metrics.timestamps, &reference);
        by_node.entry(column.node.clone()).or_default().push(score);
    }

    let mut symptom_onset = None;
    let mut symptom_track = Vec::new();
    let nodes = by_node
        .into_iter()
        .map(|(name, series)| {
            let peak = series.iter().map(|s| s.peak).fold(0.0_f64, f64::max);
            let rise = series
                .iter()
                .filter(|s| s.rising)
                .map(|s| s.peak)
                .fold(0.0_f64, f64::max);
            let onset = series
                .iter()
                .filter(|s| s.peak >= SIGNIFICANT_Z)
                .filter_map(|s| s.onset)
                .reduce(f64::min);
            let mut track: Vec<f64> = vec![0.0; rows.len()];
            for s in &series {
                for (t, z) in track.iter_mut().zip(&s.track) {
                    *t = t.max(*z);
                }
            }
            if name == case.symptom.node {
                let own = series.iter().find(|s| s.metric == case.symptom.metric);
                symptom_onset = own.and_then(|s| s.onset).or(onset);
                symptom_track = own
                    .map(|s| s.track.clone())
                    .unwrap_or_else(|| track.clone());
            }
            NodeState {
                name,
                anomaly: peak.ln_1p(),
                rise: rise.ln_1p(),
                series,
                onset,
                track,
            }
        })
        .collect();
    Assessment {
        nodes,
        step,
        symptom_onset,
        symptom_track,
    }
}

/// Shortest call distances from `start` along caller → callee edges (including `start` at 0).
fn reachable(case: &Case, start: &str) -> BTreeMap<String, usize> {
    let mut distance = BTreeMap::from([(start.to_string(), 0)]);
    let mut queue = VecDeque::from([start.to_string()]);
    while let Some(node) = queue.pop_front() {
        let depth = distance.get(&node).copied().unwrap_or_default();
        if depth >= MAX_DEPTH {
            continue;
        }
        for callee in case.graph.callees_of(&node) {
            if !distance.contains_key(callee) {
                distance.insert(callee.to_string(), depth + 1);
                queue.push_back(callee.to_string());
            }
        }
    }
    distance
}

/// The shortest call path `from → … → to`, empty when there is none.
fn call_path(case: &Case, from: &str, to: &str) -> Vec<String> {
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([from.to_string()]);
    let mut seen = BTreeSet::from([from.to_string()]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![node.clone()];
            let mut at = node;
            while let Some(previous) = parent.get(&at) {
                path.push(previous.clone());
                at = previous.clone();
            }
            path.reverse();
            return path;
        }
        for callee in case.graph.callees_of(&node) {
            if seen.insert(callee.to_string()) {
                parent.insert(callee.to_string(), node.clone());
                queue.push_back(callee.to_string());
            }
        }
    }
    Vec::new()
}

/// Pearson correlation; 0 when either side is flat.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let mean_a = a[..n].iter().sum::<f64>() / n as f64;
    let mean_b = b[..n].iter().sum::<f64>() / n as f64;
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (da, db) = (a[i] - mean_a, b[i] - mean_b);
        cov += da * db;
        var_a += da * da;
        var_b += db * db;
    }
    if var_a <= f64::EPSILON || var_b <= f64::EPSILON {
        return 0.0;
    }
    cov / (var_a * var_b).sqrt()
}

/// Ranks every component with metrics, most likely root cause first.
pub fn localise(case: &Case) -> Ranking {
    let assessment = assess(case);
    let index: BTreeMap<&str, usize> = assessment
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let from_symptom = reachable(case, &case.symptom.node);
    let graph_nodes = case.graph.nodes();
    let symptom_in_graph = graph_nodes.contains(&case.symptom.node);

    let mut suspects: Vec<Suspect> = assessment
        .nodes
        .iter()
        .map(|node| {
            // Which anomalous callee (direct or through components without metrics) explains
            // this one best?
            let mut explained = 0.0_f64;
            let mut explained_by = None;
            if node.anomaly > 0.0 {
                for (callee, depth) in reachable(case, &node.name) {
                    if depth == 0 {
                        continue;
                    }
                    let Some(other) = index.get(callee.as_str()).map(|&i| &assessment.nodes[i])
                    else {
                        continue;
                    };
                    if !other.significant() {
                        continue;
                    }
                    let strength = (other.rise / (EXPLAIN_RATIO * node.anomaly)).min(1.0);
                    let timing = match (other.onset, node.onset) {
                        (Some(callee_at), Some(own_at)) if callee_at > own_at + assessment.step => {
                            LATE_CALLEE_WEIGHT
                        }
                        _ => 1.0,
                    };
                    let together = correlation(&other.track, &node.track).max(0.0);
                    let explanation = strength * timing * together;
                    if explanation > explained {
                        explained = explanation;
                        explained_by = Some(callee);
                    }
                }
            }
            let reach = if !symptom_in_graph
                || from_symptom.contains_key(&node.name)
                || !graph_nodes.contains(&node.name)
            {
                1.0
            } else {
                UNREACHABLE_WEIGHT
            };
            // A root cause goes wrong before (or with) the symptom, and its trouble moves with
            // the symptom's (MicroRCA's correlation with the front-end anomaly): a benign shift
            // elsewhere that began long before, or a victim that went wrong after, moves less.
            let late = match (node.onset, assessment.symptom_onset) {
                (Some(own), Some(symptom_at)) if own > symptom_at + 2.0 * assessment.step => {
                    LATE_WEIGHT
                }
                _ => 1.0,
            };
            let with_symptom = if assessment.symptom_track.is_empty() {
                1.0
            } else {
                let together = correlation(&node.track, &assessment.symptom_track).max(0.0);
                1.0 - SYMPTOM_WEIGHT + SYMPTOM_WEIGHT * together
            };
            let score =
                node.anomaly * (1.0 - EXPLAIN_WEIGHT * explained) * reach * late * with_symptom;
            let mut deviations: Vec<Deviation> = node
                .series
                .iter()
                .filter(|s| s.peak >= SIGNIFICANT_Z)
                .map(|s| Deviation {
                    metric: s.metric.clone(),
                    z: if s.rising { s.peak } else { -s.peak },
                    rising: s.rising,
                    onset: s.onset,
                    normal_median: s.normal_median,
                    observed: s.observed,
                })
                .collect();
            deviations.sort_by(|a, b| {
                b.z.abs()
                    .total_cmp(&a.z.abs())
                    .then_with(|| a.metric.cmp(&b.metric))
            });
            Suspect {
                node: node.name.clone(),
                score,
                confidence: 0.0,
                anomaly: node.anomaly,
                explained,
                explained_by,
                onset: node.onset,
                deviations,
                path: call_path(case, &case.symptom.node, &node.name),
            }
        })
        .collect();
    // Components with a significant deviation first: one that never left its band is an
    // unlikely root cause however the graph discounts the others.
    suspects.sort_by(|a, b| {
        let significant = |s: &Suspect| !s.deviations.is_empty();
        significant(b)
            .cmp(&significant(a))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| onset_order(a.onset, b.onset))
            .then_with(|| a.node.cmp(&b.node))
    });
    let total: f64 = suspects.iter().map(|s| s.score.max(0.0)).sum();
    if total > 0.0 {
        for suspect in &mut suspects {
            suspect.confidence = suspect.score.max(0.0) / total;
        }
    }
    Ranking {
        symptom: case.symptom.clone(),
        symptom_onset: assessment.symptom_onset,
        suspects,
    }
}

/// Earlier onsets first; no onset last.
fn onset_order(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// The baseline the localiser must beat: walk from the symptom's component down anomalous
/// callees and blame the deepest anomalous one (ties: larger anomaly). The rest follow by
/// anomaly. Same anomaly scores as [`localise`], so the comparison isolates the reasoning.
pub fn deepest_anomalous_callee(case: &Case) -> Vec<String> {
    let assessment = assess(case);
    let anomalous: BTreeMap<&str, &NodeState> = assessment
        .nodes
        .iter()
        .filter(|n| n.significant())
        .map(|n| (n.name.as_str(), n))
        .collect();
    let has_metrics: BTreeSet<&str> = assessment.nodes.iter().map(|n| n.name.as_str()).collect();
    // Descend only through anomalous components (or ones without metrics, which cannot say).
    let mut depth: BTreeMap<String, usize> = BTreeMap::from([(case.symptom.node.clone(), 0)]);
    let mut queue = VecDeque::from([case.symptom.node.clone()]);
    while let Some(node) = queue.pop_front() {
        let d = depth.get(&node).copied().unwrap_or_default();
        if d >= MAX_DEPTH {
            continue;
        }
        for callee in case.graph.callees_of(&node) {
            let passable = anomalous.contains_key(callee) || !has_metrics.contains(callee);
            if passable && !depth.contains_key(callee) {
                depth.insert(callee.to_string(), d + 1);
                queue.push_back(callee.to_string());
            }
        }
    }
    let mut order: Vec<&NodeState> = assessment.nodes.iter().collect();
    order.sort_by(|a, b| {
        let key = |n: &NodeState| {
            if n.significant() {
                depth.get(&n.name).copied()
            } else {
                None
            }
        };
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then_with(|| b.anomaly.total_cmp(&a.anomaly))
        .then_with(|| a.name.cmp(&b.name))
    });
    order.into_iter().map(|n| n.name.clone()).collect()
}
