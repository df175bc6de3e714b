//! `lab backtest` on a dataset with a train/test split, without and with `--warmup` on the train
//! part, scored against the labelled anomaly segments: alerts, alerts inside a segment, segments
//! caught. Written for ASD (a directory holding `train/omi-N.csv`,
//! `test/omi-N.csv`, `interpretation_label/omi-N.txt` with lines `start-end:metrics` in test
//! rows, 5 min apart):
//! `cargo run --release -p ooda-lab --example backtest_warmup -- ASD_DIR` (or `OODA_ASD_DIR`).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ooda_lab::backtest::{self, HostSeries};
use ooda_monitor::MonitorConfig;

const STEP: Duration = Duration::from_secs(300);
/// Rows (5 min each) after a segment in which an alert still counts as catching it.
const GRACE: i64 = 6;

fn read(dir: &Path, part: &str, host: &str) -> Result<HostSeries, String> {
    let path = dir.join(part).join(format!("{host}.csv"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    backtest::parse_csv(&path.display().to_string(), host, &text, STEP).map_err(|e| e.to_string())
}

/// Labelled segments as inclusive test-row ranges.
fn segments(dir: &Path, host: &str) -> Result<Vec<(i64, i64)>, String> {
    let path = dir.join("interpretation_label").join(format!("{host}.txt"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let range = l.split(':').next().unwrap_or("");
            let (a, b) = range
                .split_once('-')
                .ok_or_else(|| format!("{}: expected start-end, found {l:?}", path.display()))?;
            let parse = |s: &str| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|e| format!("{}: {l:?}: {e}", path.display()))
            };
            Ok((parse(a)?, parse(b)?))
        })
        .collect()
}

/// (alerts, alerts opened inside a segment, segments with an alert opened inside them), with
/// [`GRACE`] rows after each segment.
fn score(result: &backtest::Backtest, segs: &[(i64, i64)]) -> (usize, usize, usize) {
    let rows: Vec<i64> = result
        .alerts
        .iter()
        .filter_map(|a| a.opened.parse::<ooda_core::clock::Timestamp>().ok())
        .map(|t| (t.timestamp_millis() - ooda_lab::run::EPOCH_MS) / STEP.as_millis() as i64)
        .collect();
    // An alert opened up to GRACE rows after a segment's last row still counts for it: fusion
    // opens an alert only after its grouping window.
    let inside = |r: i64| segs.iter().any(|(a, b)| (*a..=*b + GRACE).contains(&r));
    let hits = rows.iter().filter(|r| inside(**r)).count();
    let caught = segs
        .iter()
        .filter(|(a, b)| rows.iter().any(|r| (*a..=*b + GRACE).contains(r)))
        .count();
    (rows.len(), hits, caught)
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("OODA_ASD_DIR").ok())
    else {
        eprintln!("usage: backtest_warmup ASD_DIR (or OODA_ASD_DIR=ASD_DIR backtest_warmup)");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    let config = MonitorConfig::default();
    let mut total = [(0usize, 0usize, 0usize); 2];
    let mut all_segments = 0;
    println!("host     segments | alerts in-seg caught (cold) | alerts in-seg caught (warmed)");
    for n in 1..=12 {
        let host = format!("omi-{n}");
        let run = || -> Result<_, String> {
            let train = read(dir, "train", &host)?;
            let test = read(dir, "test", &host)?;
            let segs = segments(dir, &host)?;
            let cold = backtest::replay(std::slice::from_ref(&test), &config, &mut |_, _| {})
                .map_err(|e| e.to_string())?;
            let warmed = backtest::replay_warmed(&[train], &[test], &config, &mut |_, _| {})
                .map_err(|e| e.to_string())?;
            Ok((segs.len(), score(&cold, &segs), score(&warmed, &segs)))
        };
        match run() {
            Ok((segs, cold, warmed)) => {
                println!(
                    "{host:<8} {segs:>8} | {:>6} {:>6} {:>6}        | {:>6} {:>6} {:>6}",
                    cold.0, cold.1, cold.2, warmed.0, warmed.1, warmed.2
                );
                all_segments += segs;
                for (t, s) in total.iter_mut().zip([cold, warmed]) {
                    *t = (t.0 + s.0, t.1 + s.1, t.2 + s.2);
                }
            }
            Err(e) => {
                eprintln!("{host}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let [cold, warmed] = total;
    println!(
        "total    {all_segments:>8} | {:>6} {:>6} {:>6}        | {:>6} {:>6} {:>6}",
        cold.0, cold.1, cold.2, warmed.0, warmed.1, warmed.2
    );
    ExitCode::SUCCESS
}
