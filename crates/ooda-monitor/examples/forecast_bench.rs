//! Capacity forecasting measured: ooda's forecaster beside Prometheus' usual
//! `predict_linear(x[6h], 4*3600)` rule, on the same samples in the same run.
//!
//! Generated series (5-min samples, free space in percent falling to 0) with known saturation
//! times: linear, seasonal (daily swing), a step change in slope after two flat days, heavy
//! noise, plus flat controls near the limit that never saturate. Real data: the ASD test split
//! (12 servers × 19 metrics, min-max scaled, 5-min samples) taken as usage rising to 1.0.
//!
//! Per method: saturations caught (an alert within the 24 h before), median and worst lead time,
//! median |predicted − true| saturation time at the first alert, and false forecasts (alert
//! episodes not followed by saturation within 12 h) per series-day.
//!
//! `cargo run --release -p ooda-monitor --example forecast_bench [-- ASD_TEST_DIR]`; the ASD test
//! split (`omi-1.csv` … `omi-12.csv`) comes from the argument or `OODA_ASD_TEST_DIR`, and without
//! either only the generated series run.

use std::path::PathBuf;

use ooda_monitor::config::ForecastConfig;
use ooda_monitor::forecast::{Forecaster, Limit};
use ooda_monitor::Level;

const STEP: i64 = 300_000;
const HOUR: i64 = 3_600_000;
const CATCH_WINDOW: i64 = 24 * HOUR;
const FALSE_WINDOW: i64 = 12 * HOUR;

struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

struct Series {
    family: &'static str,
    values: Vec<f64>,
    limit: Limit,
}

impl Series {
    /// First index at or past the limit.
    fn truth(&self) -> Option<usize> {
        self.values.iter().position(|v| {
            if self.limit.rising {
                *v >= self.limit.value
            } else {
                *v <= self.limit.value
            }
        })
    }
}

fn generated() -> Vec<Series> {
    let free = Limit {
        value: 0.0,
        rising: false,
    };
    let mut out = Vec::new();
    let days = 10 * 288;
    for seed in 0..8u64 {
        let mut n = Noise(seed + 1);
        let rate = [0.4, 0.7, 1.0, 1.5][seed as usize % 4];
        let phase = seed as f64;
        let mut gen = |family, f: &mut dyn FnMut(f64, &mut Noise) -> f64| {
            let values: Vec<f64> = (0..days)
                .map(|i| f(i as f64 * STEP as f64 / HOUR as f64, &mut n))
                .collect();
            out.push(Series {
                family,
                values,
                limit: free,
            });
        };
        gen("linear", &mut |h, n| 90.0 - rate * h + 0.5 * n.next());
        gen("seasonal", &mut |h, n| {
            90.0 - rate * h - 5.0 * ((h / 24.0 + phase / 8.0) * std::f64::consts::TAU).sin()
                + 0.5 * n.next()
        });
        gen("step", &mut |h, n| {
            // Flat for two days, then a runaway writer fills it.
            let fill = (h - 48.0).max(0.0) * rate * 3.0;
            60.0 - fill + 0.5 * n.next()
        });
        gen("noisy", &mut |h, n| {
            90.0 - rate * h - 3.0 * ((h / 24.0) * std::f64::consts::TAU).sin() + 3.0 * n.next()
        });
        gen("flat", &mut |h, n| {
            8.0 - 4.0 * ((h / 24.0 + phase / 8.0) * std::f64::consts::TAU).sin() + 1.0 * n.next()
        });
    }
    out
}

fn asd(dir: &std::path::Path) -> Vec<Series> {
    let mut out = Vec::new();
    for m in 1..=12 {
        let path = dir.join(format!("omi-{m}.csv"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping {}: unreadable", path.display());
            continue;
        };
        let rows: Vec<Vec<f64>> = text
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .skip(1)
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .collect();
        let width = rows.first().map_or(0, Vec::len);
        for c in 0..width {
            out.push(Series {
                family: "asd",
                values: rows
                    .iter()
                    .map(|r| r.get(c).copied().unwrap_or(f64::NAN))
                    .collect(),
                limit: Limit {
                    value: 1.0,
                    rising: true,
                },
            });
        }
    }
    out
}

/// Alert state per sample for one method: firing, and the predicted saturation time when it
/// fires.
trait Method {
    fn step(&mut self, t: i64, v: f64) -> Option<i64>;
}

struct Ooda(Forecaster, ForecastConfig);

impl Method for Ooda {
    fn step(&mut self, t: i64, v: f64) -> Option<i64> {
        self.0.observe(t, v);
        (self.0.level(t, self.1.default_horizon) > Level::Ok)
            .then(|| self.0.saturation_ms().map_or(t, |s| s.0))
    }
}

/// `predict_linear(x[6h], 4*3600)` past the limit, evaluated every sample: least squares over the
/// last 6 h, as Prometheus computes it.
struct PredictLinear {
    window: std::collections::VecDeque<(i64, f64)>,
    limit: Limit,
}

impl Method for PredictLinear {
    fn step(&mut self, t: i64, v: f64) -> Option<i64> {
        self.window.push_back((t, v));
        while self.window.front().is_some_and(|(s, _)| *s <= t - 6 * HOUR) {
            self.window.pop_front();
        }
        if self.window.len() < 2 {
            return None;
        }
        let n = self.window.len() as f64;
        let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
        for (s, y) in &self.window {
            let x = (*s - t) as f64 / 1000.0;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        let intercept = sy / n - slope * sx / n;
        if !slope.is_finite() {
            return None;
        }
        let predicted = intercept + slope * 4.0 * 3600.0;
        let past = if self.limit.rising {
            predicted >= self.limit.value
        } else {
            predicted <= self.limit.value
        };
        let secs = (self.limit.value - intercept) / slope;
        past.then(|| t + (secs.max(0.0) * 1000.0) as i64)
    }
}

#[derive(Default)]
struct Score {
    series: usize,
    saturating: usize,
    caught: usize,
    leads_h: Vec<f64>,
    errors_h: Vec<f64>,
    false_episodes: usize,
    days: f64,
}

fn score(series: &Series, method: &mut dyn Method, s: &mut Score) {
    let truth = series.truth().map(|i| i as i64 * STEP);
    let end = truth.unwrap_or(series.values.len() as i64 * STEP);
    s.series += 1;
    s.days += end as f64 / (24 * HOUR) as f64;
    if truth.is_some() {
        s.saturating += 1;
    }
    let mut firing = false;
    let mut first_caught: Option<(i64, i64)> = None;
    for (i, v) in series.values.iter().enumerate() {
        let t = i as i64 * STEP;
        if truth.is_some_and(|tr| t >= tr) {
            break;
        }
        if !v.is_finite() {
            continue;
        }
        let fired = method.step(t, *v);
        if let Some(predicted) = fired {
            if !firing {
                let real = truth.is_some_and(|tr| tr - t <= FALSE_WINDOW);
                if !real {
                    s.false_episodes += 1;
                }
            }
            if let Some(tr) = truth {
                if tr - t <= CATCH_WINDOW && first_caught.is_none() {
                    first_caught = Some((t, predicted));
                }
            }
        }
        firing = fired.is_some();
    }
    if let (Some(tr), Some((t, predicted))) = (truth, first_caught) {
        s.caught += 1;
        s.leads_h.push((tr - t) as f64 / HOUR as f64);
        s.errors_h.push((predicted - tr).abs() as f64 / HOUR as f64);
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("OODA_ASD_TEST_DIR").map(PathBuf::from));
    let config = ForecastConfig::default();
    let mut all = generated();
    match &dir {
        Some(dir) => all.extend(asd(dir)),
        None => eprintln!(
            "no ASD test directory (argument or OODA_ASD_TEST_DIR): generated series only"
        ),
    }
    let families = ["linear", "seasonal", "step", "noisy", "flat", "asd"];
    println!(
        "| data | method | series | saturating | caught ≤24 h ahead | median lead (h) | min lead (h) | median |error| at first alert (h) | false forecasts / series-day |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let started = std::time::Instant::now();
    for family in families {
        let members: Vec<&Series> = all.iter().filter(|s| s.family == family).collect();
        for method_name in ["ooda forecast", "predict_linear(x[6h], 4h)"] {
            let mut s = Score::default();
            for series in &members {
                let mut method: Box<dyn Method> = if method_name.starts_with("ooda") {
                    Box::new(Ooda(Forecaster::new(series.limit, &config), config.clone()))
                } else {
                    Box::new(PredictLinear {
                        window: Default::default(),
                        limit: series.limit,
                    })
                };
                score(series, method.as_mut(), &mut s);
            }
            let min_lead = s.leads_h.iter().copied().fold(f64::NAN, f64::min);
            println!(
                "| {family} | {method_name} | {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.3} |",
                s.series,
                s.saturating,
                s.caught,
                median(&mut s.leads_h),
                min_lead,
                median(&mut s.errors_h),
                s.false_episodes as f64 / s.days.max(1e-9)
            );
        }
    }
    eprintln!("ran in {:.1} s", started.elapsed().as_secs_f64());
}
