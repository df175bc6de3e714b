//! Backtest (shadow mode): a recorded metrics dump replayed through the real detectors and
//! fusion, and every alert they would have raised handed to the built-in reasoner, to report
//! what ooda would have alerted and which runbook it would have proposed. Nothing acts: there is
//! no Gate and no actuator here, only reports.
//!
//! Inputs: a Prometheus range-query export (`{"status":"success","data":{"resultType":
//! "matrix","result":[…]}}`), or a CSV with a timestamp column and one numeric column per series
//! of one host (the `ooda detect` shape). Bad input is refused with what and where, never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ooda_core::{Alert, IncidentId, MetricClass};
use ooda_incident::evidence::{Evidence, ProbeQuery};
use ooda_incident::reasoner::{BuiltinReasoner, Case, Reasoner, Tools};
use ooda_incident::responder::alert_evidence;
use ooda_incident::{Catalogue, Incident};
use ooda_monitor::fusion::FusionEvent;
use ooda_monitor::{HostMonitor, MemoryDedup, MonitorConfig, Stage};
use serde::{Deserialize, Serialize};

use crate::Progress;

#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("{source_name}: not a Prometheus range-query export: {reason}")]
    Prometheus { source_name: String, reason: String },
    #[error("{source_name}: line {line}: {reason}")]
    Csv {
        source_name: String,
        line: usize,
        reason: String,
    },
    #[error("{0}: no samples to replay")]
    Empty(String),
    #[error("backtest: {0}")]
    Setup(String),
    /// The monitor stage failed a round (fusion's dedup claim).
    #[error("backtest monitor stage: {0}")]
    Monitor(#[from] ooda_monitor::MonitorError),
}

/// One host's recorded series, aligned on timestamps (`None`: no sample at that time).
#[derive(Debug, Clone, PartialEq)]
pub struct HostSeries {
    pub host: String,
    pub metrics: Vec<String>,
    pub times: Vec<i64>,
    pub rows: Vec<Vec<Option<f64>>>,
}

/// Feeds each monitor its host's warm-up rows, moved on the clock to end before the replay.
fn warm_up(monitors: &mut [HostMonitor], warmup: &[HostSeries], hosts: &[HostSeries]) {
    let replay_start = hosts.iter().filter_map(|h| h.times.first()).min().copied();
    let warmup_end = warmup.iter().filter_map(|h| h.times.last()).max().copied();
    let (Some(replay_start), Some(warmup_end)) = (replay_start, warmup_end) else {
        return;
    };
    // One step of the warm-up's own spacing between its last row and the first replayed one.
    let step = warmup
        .iter()
        .filter_map(|h| Some(h.times.get(1)? - h.times.first()?))
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(1);
    let shift = if warmup_end < replay_start {
        0
    } else {
        replay_start.saturating_sub(step).saturating_sub(warmup_end)
    };
    for (monitor, host) in monitors.iter_mut().zip(hosts) {
        let Some(history) = warmup.iter().find(|w| w.host == host.host) else {
            continue;
        };
        // The monitor's series order, from the warm-up's columns by name (absent: missing).
        let columns: Vec<Option<usize>> = host
            .metrics
            .iter()
            .map(|m| history.metrics.iter().position(|w| w == m))
            .collect();
        let mut row = vec![None; columns.len()];
        for (t, values) in history.times.iter().zip(&history.rows) {
            for (slot, column) in row.iter_mut().zip(&columns) {
                *slot = column.and_then(|c| values.get(c).copied().flatten());
            }
            monitor.observe_row(t.saturating_add(shift), &row);
        }
    }
}

/// What ooda would have done with one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowAlert {
    pub opened: String,
    pub host: String,
    pub severity: String,
    pub summary: String,
    pub metrics: Vec<String>,
    pub root_cause: Option<String>,
    pub confidence: f64,
    pub runbook: Option<String>,
    /// `act` (above 0.85), `act_and_notify` (0.65–0.85) or `escalate`: what the shipped bands
    /// would decide; the Gate and policy would still decide each action.
    pub decision: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    pub hosts: usize,
    pub series: usize,
    pub samples: u64,
    pub raw_anomalies: u64,
    pub alerts: Vec<ShadowAlert>,
    /// Alerts per proposed runbook (`none` when the reasoner proposed nothing).
    pub by_runbook: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct PromExport {
    status: String,
    data: PromData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromData {
    result_type: String,
    result: Vec<PromSeries>,
}

#[derive(Deserialize)]
struct PromSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

/// Labels that name the host rather than the series.
const HOST_LABELS: [&str; 3] = ["host", "instance", "job"];

/// Reads a Prometheus range-query export into one [`HostSeries`] per host (`host` label, else
/// `instance` without its port, else `job`).
pub fn parse_prometheus(source_name: &str, text: &str) -> Result<Vec<HostSeries>, BacktestError> {
    let bad = |reason: String| BacktestError::Prometheus {
        source_name: source_name.to_owned(),
        reason,
    };
    let export: PromExport = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if export.status != "success" {
        return Err(bad(format!(
            "status: expected \"success\", found {:?}",
            export.status
        )));
    }
    if export.data.result_type != "matrix" {
        return Err(bad(format!(
            "data.resultType: expected \"matrix\" (a range query), found {:?}",
            export.data.result_type
        )));
    }
    // host → series name → time → value
    let mut hosts: BTreeMap<String, BTreeMap<String, BTreeMap<i64, f64>>> = BTreeMap::new();
    for (i, series) in export.data.result.iter().enumerate() {
        let name = series
            .metric
            .get("__name__")
            .cloned()
            .ok_or_else(|| bad(format!("data.result[{i}].metric: no __name__ label")))?;
        let host = HOST_LABELS
            .iter()
            .find_map(|l| series.metric.get(*l))
            .map_or_else(
                || "unknown".to_owned(),
                |h| h.rsplit_once(':').map_or(h.as_str(), |(a, _)| a).to_owned(),
            );
        let extra: Vec<String> = series
            .metric
            .iter()
            .filter(|(k, _)| *k != "__name__" && !HOST_LABELS.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let key = if extra.is_empty() {
            name
        } else {
            format!("{name}{{{}}}", extra.join(","))
        };
        let samples = hosts.entry(host).or_default().entry(key).or_default();
        for (j, (t, v)) in series.values.iter().enumerate() {
            if !t.is_finite() {
                return Err(bad(format!(
                    "data.result[{i}].values[{j}]: timestamp is not a number"
                )));
            }
            let value = match v.trim() {
                "NaN" | "+Inf" | "-Inf" => continue,
                text => text.parse::<f64>().map_err(|_| {
                    bad(format!(
                        "data.result[{i}].values[{j}]: expected a number in a string, found {v:?}"
                    ))
                })?,
            };
            samples.insert((t * 1000.0).round() as i64, value);
        }
    }
    let out: Vec<HostSeries> = hosts
        .into_iter()
        .map(|(host, series)| {
            let times: BTreeSet<i64> = series.values().flat_map(|s| s.keys().copied()).collect();
            let metrics: Vec<String> = series.keys().cloned().collect();
            let rows = times
                .iter()
                .map(|t| series.values().map(|s| s.get(t).copied()).collect())
                .collect();
            HostSeries {
                host,
                metrics,
                times: times.into_iter().collect(),
                rows,
            }
        })
        .collect();
    if out.iter().all(|h| h.times.is_empty()) {
        return Err(BacktestError::Empty(source_name.to_owned()));
    }
    Ok(out)
}

/// Reads a CSV (header; a timestamp column named `timestamp`/`time`/`ts`/`t`, else the first;
/// numeric columns) as one host. Timestamps that are row numbers (0, 1, 2 …, as in datasets
/// published without times) are spread `index_step` apart.
pub fn parse_csv(
    source_name: &str,
    host: &str,
    text: &str,
    index_step: Duration,
) -> Result<HostSeries, BacktestError> {
    let bad = |line: usize, reason: String| BacktestError::Csv {
        source_name: source_name.to_owned(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| BacktestError::Empty(source_name.to_owned()))?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let time_col = columns
        .iter()
        .position(|c| {
            ["timestamp", "time", "ts", "t", "date", "datetime"]
                .contains(&c.to_ascii_lowercase().as_str())
        })
        .unwrap_or(0);
    let metrics: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != time_col)
        .map(|(_, c)| (*c).to_owned())
        .collect();
    if metrics.is_empty() {
        return Err(bad(
            1,
            "expected a timestamp and at least one series column".into(),
        ));
    }
    let mut raw_times = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(bad(
                n + 1,
                format!("expected {} cells, found {}", columns.len(), cells.len()),
            ));
        }
        let t = ooda_monitor::detect::parse_timestamp(cells[time_col]).ok_or_else(|| {
            bad(
                n + 1,
                format!("expected a timestamp, found {:?}", cells[time_col]),
            )
        })?;
        let mut row = Vec::with_capacity(metrics.len());
        for (i, cell) in cells.iter().enumerate() {
            if i == time_col {
                continue;
            }
            row.push(match *cell {
                "" | "NaN" | "nan" => None,
                text => Some(text.parse::<f64>().map_err(|_| {
                    bad(
                        n + 1,
                        format!("{}: expected a number, found {text:?}", columns[i]),
                    )
                })?),
            });
        }
        raw_times.push(t);
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(BacktestError::Empty(source_name.to_owned()));
    }
    // Row numbers parse as seconds since 1970: 0 s, 1 s, 2 s … .
    let is_index = raw_times
        .iter()
        .enumerate()
        .all(|(i, t)| *t == i as i64 * 1000);
    let times = if is_index {
        let step = index_step.as_millis() as i64;
        // Monday 2026-01-05, so weekly seasonality has a week start.
        (0..rows.len() as i64)
            .map(|i| crate::run::EPOCH_MS + i * step)
            .collect()
    } else {
        raw_times
    };
    Ok(HostSeries {
        host: host.to_owned(),
        metrics,
        times,
        rows,
    })
}

/// Replays `hosts` through the engine and the reasoner.
pub fn replay(
    hosts: &[HostSeries],
    config: &MonitorConfig,
    progress: Progress<'_>,
) -> Result<Backtest, BacktestError> {
    replay_warmed(&[], hosts, config, progress)
}

/// [`replay`] after each host's monitor has learned its `warmup` history first (the train part of
/// a dataset split, matched to the replayed hosts by host name and to their series by name).
/// Warm-up rows teach the baselines, relations and forecasters only: they raise no alert and
/// count in no figure. A warm-up that does not end before the replay starts (two CSVs that both
/// count rows from 0) is moved back on the clock to end one step before it, so the replayed
/// times, and the alert times reported, stay those of the file.
pub fn replay_warmed(
    warmup: &[HostSeries],
    hosts: &[HostSeries],
    config: &MonitorConfig,
    progress: Progress<'_>,
) -> Result<Backtest, BacktestError> {
    let mut config = config.clone();
    for h in warmup.iter().chain(hosts) {
        for name in &h.metrics {
            let class = if name.starts_with("load") {
                MetricClass::Load
            } else {
                ooda_monitor::score::guess_class(name)
            };
            config.classes.entry(name.clone()).or_insert(class);
        }
    }
    // All hosts on one clock: every distinct time, in order.
    let times: BTreeSet<i64> = hosts.iter().flat_map(|h| h.times.iter().copied()).collect();
    let mut monitors: Vec<HostMonitor> = hosts
        .iter()
        .map(|h| HostMonitor::new(h.host.clone(), h.metrics.clone(), &config))
        .collect();
    warm_up(&mut monitors, warmup, hosts);
    let mut cursors = vec![0usize; hosts.len()];
    let mut stage = Stage::new(&config, std::sync::Arc::new(MemoryDedup::new()));
    let mut opened: Vec<Alert> = Vec::new();
    let mut samples = 0u64;
    let total = times.len() as u64;
    for (step, &t) in times.iter().enumerate() {
        for (i, h) in hosts.iter().enumerate() {
            let c = cursors[i];
            if h.times.get(c) != Some(&t) {
                continue;
            }
            cursors[i] += 1;
            let row = &h.rows[c];
            samples += row.iter().filter(|v| v.is_some()).count() as u64;
            stage.observe(&mut monitors[i], t, row);
        }
        let events = stage.close(t)?;
        opened.extend(events.into_iter().filter_map(|e| match e {
            FusionEvent::Opened(a) => Some(a),
            _ => None,
        }));
        if step % 512 == 0 || step as u64 + 1 == total {
            progress(step as u64 + 1, total);
        }
    }
    let catalogue = Catalogue::embedded().map_err(|e| BacktestError::Setup(e.to_string()))?;
    let reasoner = BuiltinReasoner::new(catalogue);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| BacktestError::Setup(e.to_string()))?;
    let mut alerts = Vec::new();
    let mut by_runbook: BTreeMap<String, u64> = BTreeMap::new();
    for alert in &opened {
        let shadow = runtime.block_on(shadow(&reasoner, alert));
        *by_runbook
            .entry(shadow.runbook.clone().unwrap_or_else(|| "none".into()))
            .or_insert(0) += 1;
        alerts.push(shadow);
    }
    Ok(Backtest {
        hosts: hosts.len(),
        series: hosts.iter().map(|h| h.metrics.len()).sum(),
        samples,
        raw_anomalies: stage.anomalies_raised(),
        alerts,
        by_runbook,
    })
}

/// The reasoner's report on the alert's own evidence (no probes: nothing else was recorded).
async fn shadow(reasoner: &BuiltinReasoner, alert: &Alert) -> ShadowAlert {
    let incident = Incident::open(
        IncidentId::new(),
        alert.host.clone(),
        alert.summary.clone(),
        alert.severity,
        alert.opened_at,
    );
    let mut evidence = Evidence::default();
    for item in alert_evidence(alert) {
        evidence.push(item);
    }
    let query = ProbeQuery {
        incident: incident.id,
        host: alert.host.clone(),
        labels: alert.labels.clone(),
        at: alert.opened_at,
        look_back: Duration::from_secs(4 * 3600),
    };
    let tools = Tools::new(Vec::new(), query, Duration::from_secs(1));
    let case = Case {
        incident: &incident,
        evidence: &evidence,
        similar: &[],
    };
    let (root_cause, confidence, runbook) = match reasoner.investigate(case, &tools).await {
        Ok(r) => (
            r.root_cause,
            r.confidence,
            r.proposed_actions.first().map(|p| p.runbook.clone()),
        ),
        Err(_) => (None, 0.0, None),
    };
    let decision = if runbook.is_none() || confidence < 0.65 {
        "escalate"
    } else if confidence > 0.85 {
        "act"
    } else {
        "act_and_notify"
    };
    ShadowAlert {
        opened: alert.opened_at.to_rfc3339(),
        host: alert.host.clone().unwrap_or_default(),
        severity: format!("{:?}", alert.severity).to_lowercase(),
        summary: alert.summary.clone(),
        metrics: alert
            .members
            .iter()
            .map(|m| m.series.metric.clone())
            .collect(),
        root_cause,
        confidence,
        runbook,
        decision,
    }
}

impl Backtest {
    /// The terminal summary.
    pub fn table(&self) -> String {
        let mut out = format!(
            "backtest: {} hosts, {} series, {} samples → {} raw anomalies → {} alerts\n\n",
            self.hosts,
            self.series,
            self.samples,
            self.raw_anomalies,
            self.alerts.len()
        );
        for a in &self.alerts {
            out.push_str(&format!(
                "{}  {:<10} {:<8} {} → {} ({:.2}) {}\n",
                a.opened,
                a.host,
                a.severity,
                truncate(&a.summary, 70),
                a.runbook.as_deref().unwrap_or("no runbook"),
                a.confidence,
                a.decision
            ));
        }
        out.push_str("\nproposed runbooks:\n");
        for (runbook, n) in &self.by_runbook {
            out.push_str(&format!("  {runbook:<28} {n}\n"));
        }
        out
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/prometheus-range.json");

    #[test]
    fn prometheus_export_groups_by_host_and_aligns_times() {
        let hosts = parse_prometheus("fixture", FIXTURE).unwrap();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].host, "db-1");
        assert!(hosts[0].metrics.contains(&"node_load1".to_owned()));
        assert!(hosts.iter().all(|h| h.rows.len() == h.times.len()));
    }

    #[test]
    fn bad_prometheus_input_is_named() {
        let e = parse_prometheus(
            "x.json",
            r#"{"status":"error","data":{"resultType":"matrix","result":[]}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("status"), "{e}");
        let e = parse_prometheus(
            "x.json",
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("matrix"), "{e}");
        let e = parse_prometheus(
            "x.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"a"},"values":[[1,"x"]]}]}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("values[0]"), "{e}");
        assert!(parse_prometheus("x.json", "not json").is_err());
    }

    #[test]
    fn csv_row_numbers_become_times_and_errors_name_the_line() {
        let h = parse_csv(
            "a.csv",
            "a",
            "t,m0,m1\n0,1,2\n1,,3\n",
            Duration::from_secs(300),
        )
        .unwrap();
        assert_eq!(h.times[1] - h.times[0], 300_000);
        assert_eq!(h.rows[1], vec![None, Some(3.0)]);
        let e =
            parse_csv("a.csv", "a", "t,m0\n0,1\n1,oops\n", Duration::from_secs(60)).unwrap_err();
        assert!(
            e.to_string().contains("line 3") && e.to_string().contains("m0"),
            "{e}"
        );
    }

    /// A steady CSV of `rows` rows counted from 0, with `spike` at row `at`.
    fn steady(rows: usize, at: usize, spike: f64) -> HostSeries {
        let mut text = String::from("t,m0\n");
        for i in 0..rows {
            let v = if i == at {
                spike
            } else {
                10.0 + (i % 7) as f64 * 0.1
            };
            text.push_str(&format!("{i},{v}\n"));
        }
        parse_csv("s.csv", "s", &text, Duration::from_secs(300)).unwrap()
    }

    #[test]
    fn warm_up_rows_teach_the_monitor_but_raise_and_count_nothing() {
        let config = MonitorConfig::default();
        // The warm-up has a wild spike; both files count rows from 0.
        let warmup = steady(2_000, 1_000, 10_000.0);
        let replayed = steady(500, usize::MAX, 0.0);
        let result = replay_warmed(&[warmup], &[replayed], &config, &mut |_, _| {}).unwrap();
        assert_eq!(result.samples, 500);
        assert!(result.alerts.is_empty(), "{:?}", result.alerts);
        assert_eq!(result.raw_anomalies, 0);
    }

    #[test]
    fn replay_finds_the_spike_in_the_fixture_and_proposes_nothing_it_cannot_name() {
        let hosts = parse_prometheus("fixture", FIXTURE).unwrap();
        let result = replay(&hosts, &MonitorConfig::default(), &mut |_, _| {}).unwrap();
        assert!(result.samples > 0);
        for a in &result.alerts {
            assert!(a.runbook.is_some() || a.decision == "escalate");
        }
    }

    proptest::proptest! {
        #[test]
        fn csv_parser_never_panics(text in "[0-9a-z,.\n-]{0,200}") {
            let _ = parse_csv("p.csv", "p", &text, Duration::from_secs(60));
        }

        #[test]
        fn prometheus_parser_never_panics(text in ".{0,200}") {
            let _ = parse_prometheus("p.json", &text);
        }
    }
}
