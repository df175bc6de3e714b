//! Baseline update + score throughput (the issue asks ≥ 10 M samples/s on one core) and the
//! state size per series. Numbers go to BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ooda_core::MetricClass;
use ooda_monitor::baseline::{Baseline, BaselineParams, DayKind};
use ooda_monitor::calendar::Calendar;
use ooda_monitor::config::MonitorConfig;
use ooda_monitor::series::{SeriesContext, SeriesDetector};

const STEP_MS: i64 = 15_000;

/// Deterministic noisy daily wave, precomputed so the benchmark measures the baseline only.
fn values(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0;
            let hour = (i as f64 * STEP_MS as f64 / 3.6e6) % 24.0;
            50.0 + 20.0 * (hour / 24.0 * std::f64::consts::TAU).sin() + 5.0 * noise
        })
        .collect()
}

fn bench_baseline(c: &mut Criterion) {
    let config = MonitorConfig::default();
    let params = BaselineParams::new(&config.baseline);
    let series = 100;
    let per_series = 1_000;
    let data = values(per_series);
    eprintln!(
        "bytes per series: baseline {} B, series detector after cold start {} B",
        Baseline::new().state_bytes(),
        {
            let mut c2 = config.clone();
            c2.cold_start.level_shift.enabled = false;
            SeriesDetector::new(&SeriesContext::new(&c2, MetricClass::Other)).state_bytes()
        }
    );

    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Elements((series * per_series) as u64));
    group.bench_function(
        BenchmarkId::new("update_and_score", "100 series × 1000"),
        |b| {
            let mut baselines: Vec<Baseline> = (0..series).map(|_| Baseline::new()).collect();
            // Warm: a week of history so buckets are populated.
            for (s, base) in baselines.iter_mut().enumerate() {
                for (i, &v) in data.iter().enumerate().take(500) {
                    base.observe(i as i64 * STEP_MS, v + s as f64, DayKind::Ordinary, &params);
                }
            }
            let mut t = 40_000i64 * STEP_MS;
            b.iter(|| {
                let mut acc = 0.0;
                for (i, &v) in data.iter().enumerate() {
                    let time = t + i as i64 * STEP_MS;
                    for base in baselines.iter_mut() {
                        if let Some(z) = base.observe(time, v, DayKind::Ordinary, &params) {
                            acc += z;
                        }
                    }
                }
                t += per_series as i64 * STEP_MS;
                black_box(acc)
            });
        },
    );

    // Reference in the same run: a plain running mean/variance and z per series (Welford, f64),
    // the least any detector does per sample. On a loaded machine the ratio to it says more
    // than the absolute rate.
    group.bench_function(
        BenchmarkId::new("reference_welford", "100 series × 1000"),
        |b| {
            let mut stats: Vec<(f64, f64, f64)> = vec![(0.0, 0.0, 0.0); series];
            b.iter(|| {
                let mut acc = 0.0;
                for &v in data.iter() {
                    for (n, mean, m2) in stats.iter_mut() {
                        if *n > 1.0 {
                            let sd = (*m2 / (*n - 1.0)).sqrt();
                            if sd > 0.0 {
                                acc += (v - *mean) / sd;
                            }
                        }
                        *n += 1.0;
                        let d = v - *mean;
                        *mean += d / *n;
                        *m2 += d * (v - *mean);
                    }
                }
                black_box(acc)
            });
        },
    );

    // The whole per-series detector (baseline, direction, thresholds, calendar check).
    let mut warm_config = config.clone();
    warm_config.cold_start.duration = std::time::Duration::ZERO;
    let context = SeriesContext::new(&warm_config, MetricClass::Latency);
    let calendar = Calendar::default();
    group.bench_function(
        BenchmarkId::new("series_detector", "100 series × 1000"),
        |b| {
            let mut detectors: Vec<SeriesDetector> =
                (0..series).map(|_| SeriesDetector::new(&context)).collect();
            let mut t = 0i64;
            b.iter(|| {
                let mut acc = 0.0;
                for (i, &v) in data.iter().enumerate() {
                    let time = t + i as i64 * STEP_MS;
                    for d in detectors.iter_mut() {
                        if let Some(verdict) = d.observe(time, v, &calendar, &context, true) {
                            acc += verdict.strength;
                        }
                    }
                }
                t += per_series as i64 * STEP_MS;
                black_box(acc)
            });
        },
    );
    group.finish();
}

criterion_group!(benches, bench_baseline);
criterion_main!(benches);
