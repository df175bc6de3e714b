//! A labelled corpus of generated server hosts: each host is one CSV (`timestamp` in Unix
//! seconds, then its series) with a history part (never labelled, never scored: the train part,
//! as in ASD) and a test part with injected faults labelled row by row.
//!
//! What varies between hosts, all drawn from the seed: the sampling step (10 s, 1 min, 5 min),
//! the width (1, 5, 19 or 50 series), history length (2–14 days), daily and weekly cycles, trends,
//! noise regimes (Gaussian, heavy-tailed, bursty, quantised, sparse counts), counters with
//! resets, gaps, harmless level changes that become the new normal (only their first half hour
//! is labelled), and faults: spikes, level shifts, slow leaks, flat lines, drops, correlated
//! multi-metric load faults and broken relations. About a quarter of the hosts have no fault.

use std::fmt::Write as _;

/// splitmix64: small, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// A percentage driven by the host's load (CPU-like).
    LoadPercent,
    /// A percentage with a slow trend and little noise (memory-like).
    SlowPercent,
    /// Heavy-tailed, load-driven (latency-like, seconds).
    Latency,
    /// A monotone counter driven by load (requests_total); resets now and then.
    Counter,
    /// Sparse small counts (errors per interval).
    Sparse,
    /// Free space that fills slowly and is cleaned up (disk_free_percent).
    FreeSpace,
    /// Bursty, load-driven throughput (bytes/s).
    Bursty,
    /// Quantised integer level (process count).
    Quantised,
}

struct Series {
    name: String,
    shape: Shape,
    scale: f64,
    offset: f64,
    noise: f64,
    phase: f64,
    /// Level added from a harmless change onwards (the new normal).
    shift_at: Option<usize>,
    shift: f64,
    counter: f64,
    trend: f64,
}

/// A fault injected into the test part.
#[derive(Clone)]
struct Fault {
    kind: FaultKind,
    start: usize,
    len: usize,
    series: Vec<usize>,
    size: f64,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum FaultKind {
    Spike,
    LevelShift,
    Leak,
    FlatLine,
    Drop,
    /// The host's load jumps for every load-driven series at once.
    Load,
    /// One load-driven series moves against the load.
    Relation,
}

pub struct Host {
    pub csv: String,
    pub train_rows: usize,
    /// Labels of the test rows.
    pub labels: Vec<bool>,
    pub step_s: i64,
    pub width: usize,
    pub faults: usize,
}

pub fn host(seed: u64) -> Host {
    let mut rng = Rng::new(seed);
    let step_s = [10i64, 60, 60, 300, 300][rng.below(5)];
    let width = [1usize, 5, 5, 19, 50][rng.below(5)];
    let per_day = (86_400 / step_s) as usize;
    // 10 s data is ten thousand rows a day: fewer days of it.
    let (history_days, test_days) = if step_s == 10 {
        (2 + rng.below(2), 2)
    } else {
        (2 + rng.below(13), 4 + rng.below(4))
    };
    let train_rows = history_days * per_day;
    let test_rows = test_days * per_day;
    let rows = train_rows + test_rows;
    let weekly = rng.chance(0.5);
    let daily_amp = rng.range(0.0, 0.8);
    let shapes = [
        Shape::LoadPercent,
        Shape::SlowPercent,
        Shape::Latency,
        Shape::Counter,
        Shape::Sparse,
        Shape::FreeSpace,
        Shape::Bursty,
        Shape::Quantised,
    ];
    let mut series: Vec<Series> = (0..width)
        .map(|i| {
            let shape = if width == 1 {
                [Shape::LoadPercent, Shape::Latency, Shape::Bursty][rng.below(3)]
            } else {
                shapes[rng.below(shapes.len())]
            };
            let base = match shape {
                Shape::LoadPercent => "cpu_busy_percent",
                Shape::SlowPercent => "mem_used_percent",
                Shape::Latency => "http_latency_seconds",
                Shape::Counter => "http_requests_total",
                Shape::Sparse => "http_errors",
                Shape::FreeSpace => "filesystem_free_percent",
                Shape::Bursty => "net_rx_bytes",
                Shape::Quantised => "processes",
            };
            let shift_at = rng
                .chance(0.08)
                .then(|| train_rows + rng.below(test_rows.saturating_sub(per_day).max(1)));
            Series {
                name: format!("{base}_{i}"),
                shape,
                scale: match shape {
                    Shape::LoadPercent => rng.range(10.0, 50.0),
                    Shape::SlowPercent => rng.range(20.0, 70.0),
                    Shape::Latency => rng.range(0.01, 0.5),
                    Shape::Counter => rng.range(10.0, 1000.0),
                    Shape::Sparse => rng.range(0.05, 2.0),
                    Shape::FreeSpace => rng.range(30.0, 90.0),
                    Shape::Bursty => rng.range(1e4, 1e8),
                    Shape::Quantised => rng.range(50.0, 400.0).round(),
                },
                offset: rng.range(0.0, 10.0),
                noise: rng.range(0.01, 0.15),
                phase: rng.range(-0.3, 0.3),
                shift_at,
                shift: rng.range(0.15, 0.4) * if rng.chance(0.5) { 1.0 } else { -1.0 },
                counter: rng.range(0.0, 1e6).round(),
                trend: rng.range(-0.02, 0.02),
            }
        })
        .collect();

    // Faults in the test part (a quarter of the hosts have none).
    let mut faults: Vec<Fault> = Vec::new();
    if !rng.chance(0.25) {
        for _ in 0..(1 + rng.below(3)) {
            let kind = [
                FaultKind::Spike,
                FaultKind::LevelShift,
                FaultKind::Leak,
                FaultKind::FlatLine,
                FaultKind::Drop,
                FaultKind::Load,
                FaultKind::Relation,
            ][rng.below(7)];
            let minutes = match kind {
                FaultKind::Spike => (step_s as f64 / 60.0).max(1.0) * (1 + rng.below(3)) as f64,
                FaultKind::Leak => rng.range(120.0, 480.0),
                _ => rng.range(20.0, 240.0),
            };
            let len = ((minutes * 60.0) / step_s as f64).round().max(1.0) as usize;
            let start = train_rows + rng.below(test_rows.saturating_sub(len + 1).max(1));
            let driven: Vec<usize> = (0..width)
                .filter(|&i| {
                    matches!(
                        series[i].shape,
                        Shape::LoadPercent | Shape::Latency | Shape::Counter | Shape::Bursty
                    )
                })
                .collect();
            let chosen = match kind {
                FaultKind::Load if !driven.is_empty() => driven.clone(),
                FaultKind::Relation if driven.len() >= 2 => vec![driven[rng.below(driven.len())]],
                FaultKind::Load | FaultKind::Relation => continue,
                _ => {
                    let n = 1 + rng.below(width.min(3));
                    (0..n).map(|_| rng.below(width)).collect()
                }
            };
            faults.push(Fault {
                kind,
                start,
                len,
                series: chosen,
                size: rng.range(4.0, 10.0),
            });
        }
    }

    let start_s: i64 = 1_767_225_600 + 86_400 * rng.below(7) as i64; // a day of the first week of 2026
    let mut labels = vec![false; test_rows];
    for f in &faults {
        for r in f.start..(f.start + f.len).min(rows) {
            labels[r - train_rows] = true;
        }
    }
    for s in &series {
        if let Some(at) = s.shift_at {
            // The change itself is worth knowing about; what follows is the new normal.
            let first = (1800 / step_s).max(1) as usize;
            for r in at..(at + first).min(rows) {
                labels[r - train_rows] = true;
            }
        }
    }

    let mut csv = String::with_capacity(rows * (width * 10 + 12));
    csv.push_str("timestamp");
    for s in &series {
        csv.push(',');
        csv.push_str(&s.name);
    }
    csv.push('\n');
    let mut flat: Vec<f64> = vec![0.0; width];
    let mut burst = vec![0.0f64; width];
    let gap_at = rng
        .chance(0.3)
        .then(|| rng.below(rows.saturating_sub(per_day / 4).max(1)));
    let gap_len = per_day / 24 * (1 + rng.below(4));
    for r in 0..rows {
        if let Some(g) = gap_at {
            // A collector outage: rows missing altogether (unlabelled unless a fault is there).
            if r >= g && r < g + gap_len && r < train_rows {
                continue;
            }
        }
        let t = start_s + r as i64 * step_s;
        let day = (t.rem_euclid(86_400)) as f64 / 86_400.0;
        let weekday = (t.div_euclid(86_400) + 3).rem_euclid(7); // 0 = Monday
        let week_factor = if weekly && weekday >= 5 { 0.6 } else { 1.0 };
        let days_in = r as f64 / per_day as f64;
        let mut load = 1.0
            + daily_amp * (std::f64::consts::TAU * (day - 0.25)).sin().max(-0.9) * week_factor
            - if weekly && weekday >= 5 { 0.2 } else { 0.0 };
        for f in &faults {
            if f.kind == FaultKind::Load && r >= f.start && r < f.start + f.len {
                load *= 1.0 + f.size / 5.0;
            }
        }
        let _ = write!(csv, "{t}");
        for (i, s) in series.iter_mut().enumerate() {
            let local_load =
                load * (1.0 + 0.3 * (std::f64::consts::TAU * (day + s.phase)).sin() * daily_amp);
            let e = rng.normal();
            let mut v = match s.shape {
                Shape::LoadPercent => s.scale * local_load * (1.0 + s.noise * e) + s.offset,
                Shape::SlowPercent => {
                    s.scale
                        + s.trend * days_in * 10.0
                        + s.noise * 3.0 * e
                        + 2.0 * (day * std::f64::consts::TAU).sin()
                }
                Shape::Latency => {
                    // Lognormal noise: heavy right tail.
                    s.scale * (0.7 + 0.3 * local_load) * (s.noise * 3.0 * e).exp()
                }
                Shape::Counter => s.scale * local_load * (1.0 + s.noise * e).max(0.0),
                Shape::Sparse => {
                    // Poisson-ish: a count of rare events in the interval.
                    let mean = s.scale * local_load;
                    let mut k = 0.0;
                    let mut p = (-mean).exp();
                    let mut acc = p;
                    let u = rng.uniform();
                    while u > acc && k < 50.0 {
                        k += 1.0;
                        p *= mean / k;
                        acc += p;
                    }
                    k
                }
                Shape::FreeSpace => {
                    // Fills by a few points a day, cleaned up at 20 % free.
                    let level =
                        s.scale - (days_in * 3.0 * s.noise).rem_euclid((s.scale - 20.0).max(5.0));
                    level + 0.05 * e
                }
                Shape::Bursty => {
                    burst[i] = if rng.chance(0.02) {
                        rng.range(1.0, 3.0)
                    } else {
                        burst[i] * 0.7
                    };
                    s.scale * local_load * (1.0 + burst[i] + s.noise * e)
                }
                Shape::Quantised => (s.scale * (0.9 + 0.1 * local_load) + 2.0 * e).round(),
            };
            if let Some(at) = s.shift_at {
                if r >= at {
                    v *= 1.0 + s.shift;
                }
            }
            for f in &faults {
                if !f.series.contains(&i) || r < f.start || r >= f.start + f.len {
                    continue;
                }
                let typical = match s.shape {
                    Shape::Latency | Shape::Bursty | Shape::Counter | Shape::Sparse => {
                        v.abs().max(s.scale) * 0.5
                    }
                    _ => (s.scale * (s.noise + 0.05)).max(1.0),
                };
                v = match f.kind {
                    FaultKind::Spike => v + f.size * typical * 2.0,
                    FaultKind::LevelShift => v + f.size * typical,
                    FaultKind::Leak => {
                        v + f.size * typical * 1.5 * (r - f.start) as f64 / f.len as f64
                    }
                    FaultKind::FlatLine => {
                        if r == f.start {
                            flat[i] = v;
                        }
                        flat[i]
                    }
                    FaultKind::Drop => v * 0.05,
                    FaultKind::Relation => v * (1.0 + f.size / 4.0),
                    FaultKind::Load => v,
                };
            }
            if s.shape == Shape::Counter {
                s.counter += v.max(0.0) * step_s as f64;
                // Resets: a restart now and then (outside faults; unlabelled).
                if rng.chance(0.0005) {
                    s.counter = 0.0;
                }
                v = s.counter.round();
            }
            if matches!(
                s.shape,
                Shape::LoadPercent | Shape::SlowPercent | Shape::FreeSpace
            ) {
                v = v.clamp(0.0, 100.0);
            }
            if matches!(s.shape, Shape::Latency | Shape::Bursty | Shape::Sparse) {
                v = v.max(0.0);
            }
            let _ = write!(csv, ",{}", round_sig(v));
        }
        csv.push('\n');
    }
    Host {
        csv,
        train_rows,
        labels,
        step_s,
        width,
        faults: faults.len(),
    }
}

/// Four significant decimals past the point, as exporters print (and a resolution to learn).
fn round_sig(v: f64) -> String {
    let text = format!("{v:.4}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".into()
    } else {
        trimmed.to_string()
    }
}
