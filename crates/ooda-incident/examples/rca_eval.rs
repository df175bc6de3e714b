//! Evaluation of the root-cause localiser on cases from a simulated microservice system.
//!
//! Each case: a layered call graph of 10–40 services (front door, mid-tier services, shared
//! databases and caches), per-minute metrics with a daily load pattern and noise, some metrics
//! missing per node, a few empty cells, occasional spikes and an unrelated benign shift
//! somewhere; one fault (latency, errors, CPU exhaustion, memory exhaustion) injected at one
//! component, propagated to callers with per-edge delays of 0–2 minutes and attenuation
//! (callers call a callee on only part of their requests; retries absorb some errors). The
//! symptom is the front door's latency (or error count for error faults).
//!
//! The cases are written as the CSV files `ooda rca` reads, read back through the same parsers,
//! and ranked by the localiser and by the deepest-anomalous-callee baseline in the same run.
//!
//!   cargo run --release -p ooda-incident --example rca_eval -- [CASES] [FIRST_SEED] [OUT_DIR]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ooda_incident::localise::{deepest_anomalous_callee, localise, CallGraph, Case, MetricFrame};

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
    fn gauss(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Latency,
    Errors,
    Cpu,
    Memory,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Latency => "latency",
            Fault::Errors => "errors",
            Fault::Cpu => "cpu",
            Fault::Memory => "memory",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Latency,
    Errors,
    Requests,
    Cpu,
    Memory,
}

struct Service {
    name: String,
    /// Own processing time (ms) at nominal load.
    own_ms: f64,
    /// Own error ratio.
    own_error: f64,
    /// CPU % at nominal load (scales with requests).
    cpu_at_nominal: f64,
    memory_mb: f64,
    memory_limit_mb: f64,
    /// Which metrics this service exports, with the column name used.
    metrics: Vec<(Kind, String)>,
}

struct Edge {
    caller: usize,
    callee: usize,
    /// Callee requests per caller request.
    calls: f64,
    /// Share of the callee's latency that lands on the caller's (parallel calls hide some).
    latency_share: f64,
    /// Share of callee errors that survive the caller's retries.
    error_pass: f64,
    /// Minutes before the caller's metrics show the callee's change.
    lag: usize,
}

struct System {
    services: Vec<Service>,
    edges: Vec<Edge>,
}

const SERVICE_NAMES: [&str; 24] = [
    "catalog",
    "cart",
    "checkout",
    "payments",
    "shipping",
    "orders",
    "users",
    "auth",
    "search",
    "recommend",
    "reviews",
    "inventory",
    "pricing",
    "notify",
    "email",
    "ads",
    "currency",
    "profile",
    "session",
    "media",
    "fraud",
    "ledger",
    "tax",
    "promo",
];
const STORE_NAMES: [&str; 8] = [
    "orders-db",
    "users-db",
    "cart-cache",
    "catalog-db",
    "payments-db",
    "session-cache",
    "ledger-db",
    "search-index",
];

fn metric_names(rng: &mut Rng, is_store: bool) -> Vec<(Kind, String)> {
    let choices: [(Kind, f64, &[&str]); 5] = [
        // Every service has a latency series (from its traces or the mesh); the rest vary.
        (
            Kind::Latency,
            1.0,
            &["latency", "latency_p90", "duration_ms"],
        ),
        (Kind::Errors, 0.8, &["errors", "error_count", "http_5xx"]),
        (Kind::Requests, 0.8, &["requests", "rps", "qps"]),
        (Kind::Cpu, 0.85, &["cpu", "cpu_usage"]),
        (
            Kind::Memory,
            0.85,
            if is_store {
                &["memory", "mem_used_mb"]
            } else {
                &["mem", "memory_rss"]
            },
        ),
    ];
    let mut metrics = Vec::new();
    for (kind, p, names) in choices {
        if rng.chance(p) {
            metrics.push((kind, names[rng.below(names.len())].to_string()));
        }
    }
    if metrics.is_empty() {
        metrics.push((Kind::Cpu, "cpu".into()));
    }
    metrics
}

fn build_system(rng: &mut Rng) -> System {
    let size = 10 + rng.below(31);
    let stores = (size / 5).clamp(2, STORE_NAMES.len());
    let mid = size - 1 - stores;
    let mut services = Vec::new();
    let mut push = |rng: &mut Rng, name: String, is_store: bool| {
        let memory_mb = rng.range(200.0, 2000.0);
        services.push(Service {
            name,
            own_ms: if is_store {
                rng.range(1.0, 10.0)
            } else {
                rng.range(5.0, 40.0)
            },
            own_error: rng.range(0.0005, 0.003),
            cpu_at_nominal: rng.range(10.0, 45.0),
            memory_mb,
            memory_limit_mb: memory_mb * rng.range(1.5, 2.5),
            metrics: metric_names(rng, is_store),
        });
    };
    push(rng, "frontend".into(), false);
    for i in 0..mid {
        let base = SERVICE_NAMES[i % SERVICE_NAMES.len()];
        let name = if i < SERVICE_NAMES.len() {
            base.to_string()
        } else {
            format!("{base}-{}", i / SERVICE_NAMES.len() + 1)
        };
        push(rng, name, false);
    }
    for name in STORE_NAMES.iter().take(stores) {
        push(rng, (*name).to_string(), true);
    }
    // Layers: frontend (0), mid-tier services in 2–4 layers, stores last.
    let layers = 2 + rng.below(3);
    let mut layer_of = vec![0usize; services.len()];
    for (i, layer) in layer_of.iter_mut().enumerate().skip(1).take(mid) {
        *layer = 1 + (i - 1) * layers / mid.max(1);
    }
    for layer in layer_of.iter_mut().skip(1 + mid) {
        *layer = layers + 1;
    }
    let mut edges = Vec::new();
    let edge = |rng: &mut Rng, caller: usize, callee: usize| Edge {
        caller,
        callee,
        calls: if rng.chance(0.7) {
            1.0
        } else {
            rng.range(0.3, 2.0)
        },
        latency_share: rng.range(0.5, 1.0),
        error_pass: rng.range(0.3, 0.9),
        lag: [0, 0, 1, 1, 2][rng.below(5)],
    };
    // Every non-front service has one or two callers in earlier layers.
    for callee in 1..services.len() {
        let candidates: Vec<usize> = (0..services.len())
            .filter(|&c| {
                layer_of[c] < layer_of[callee]
                    && layer_of[c] + 2 >= layer_of[callee].min(layers + 1)
            })
            .filter(|&c| layer_of[c] <= layers)
            .collect();
        let candidates = if candidates.is_empty() {
            vec![0]
        } else {
            candidates
        };
        let first = candidates[rng.below(candidates.len())];
        edges.push(edge(rng, first, callee));
        if rng.chance(0.35) {
            let second = candidates[rng.below(candidates.len())];
            if second != first {
                edges.push(edge(rng, second, callee));
            }
        }
    }
    System { services, edges }
}

/// Per-minute true state of one service.
#[derive(Clone, Copy, Default)]
struct State {
    requests: f64,
    latency: f64,
    error_ratio: f64,
    cpu: f64,
    memory: f64,
}

struct Injection {
    root: usize,
    fault: Fault,
    /// Minute index (in the incident frame) the fault starts.
    start: usize,
    magnitude: f64,
}

/// Simulates `minutes` minutes from `t0` (unix seconds). Services are ordered so callers come
/// before callees (indices grow with layers), so latencies are computed callees first.
fn simulate(
    system: &System,
    rng: &mut Rng,
    t0: f64,
    minutes: usize,
    injection: Option<&Injection>,
    drift: Option<(usize, usize, f64)>,
) -> Vec<Vec<State>> {
    let n = system.services.len();
    let mut states = vec![vec![State::default(); n]; minutes];
    let nominal_rps = 600.0;
    for minute in 0..minutes {
        let t = t0 + 60.0 * minute as f64;
        let daily = 1.0 + 0.35 * (2.0 * std::f64::consts::PI * (t / 86_400.0 - 0.3)).sin();
        let load = daily * (1.0 + 0.03 * rng.gauss());
        let fault_level = |i: usize| -> f64 {
            match injection {
                Some(inj) if inj.root == i && minute >= inj.start => {
                    let since = (minute - inj.start) as f64;
                    match inj.fault {
                        Fault::Memory => (since / 12.0).min(1.0),
                        _ => (since / 1.5 + 0.34).min(1.0),
                    }
                }
                _ => 0.0,
            }
        };
        // Requests flow top-down.
        let mut requests = vec![0.0; n];
        requests[0] = nominal_rps * load;
        for e in &system.edges {
            requests[e.callee] += requests[e.caller] * e.calls;
        }
        // Latency and errors flow bottom-up, with per-edge lag.
        for i in (0..n).rev() {
            let s = &system.services[i];
            let nominal_requests = (nominal_rps
                * system
                    .edges
                    .iter()
                    .filter(|e| e.callee == i)
                    .map(|e| e.calls)
                    .sum::<f64>()
                    .max(1.0))
            .max(1.0);
            let utilisation_load = requests[i]
                / if i == 0 {
                    nominal_rps
                } else {
                    nominal_requests
                };
            let mut cpu = s.cpu_at_nominal * utilisation_load.max(0.1);
            let mut own_ms = s.own_ms;
            let mut own_error = s.own_error;
            let mut memory = s.memory_mb * (1.0 + 0.02 * (minute as f64 / 60.0));
            let level = fault_level(i);
            if level > 0.0 {
                if let Some(inj) = injection {
                    match inj.fault {
                        Fault::Latency => own_ms += level * inj.magnitude * 100.0,
                        Fault::Errors => {
                            own_error += level * inj.magnitude * 0.15;
                            // Failing calls time out and are retried.
                            own_ms *= 1.0 + level * inj.magnitude * 0.5;
                        }
                        Fault::Cpu => {
                            cpu = cpu + level * (97.0 - cpu);
                            own_ms *= 1.0 + level * inj.magnitude * 4.0;
                        }
                        Fault::Memory => {
                            memory += level * (s.memory_limit_mb - s.memory_mb) * 0.97;
                            // GC pressure, then OOM-kills near the limit.
                            own_ms *= 1.0 + level.powi(3) * inj.magnitude * 6.0;
                            own_error += if level > 0.8 {
                                0.05 * inj.magnitude
                            } else {
                                0.0
                            };
                        }
                    }
                }
            }
            // Saturation: latency climbs as CPU nears 100 %.
            let utilisation = (cpu / 100.0).min(0.97);
            own_ms *= 1.0 + 0.5 * utilisation.powi(4) / (1.0 - utilisation);
            let mut latency = own_ms;
            let mut error_ratio = own_error;
            for e in system.edges.iter().filter(|e| e.caller == i) {
                let seen = states[minute.saturating_sub(e.lag)][e.callee];
                let seen = if minute >= e.lag {
                    seen
                } else {
                    states[minute][e.callee]
                };
                latency += e.calls.min(1.0) * e.latency_share * seen.latency;
                error_ratio += e.calls.min(1.0) * e.error_pass * seen.error_ratio;
            }
            if let Some((node, from, size)) = drift {
                if node == i && minute >= from {
                    memory *= 1.0 + size;
                    cpu *= 1.0 + size / 2.0;
                }
            }
            states[minute][i] = State {
                requests: requests[i] * (1.0 - error_ratio.min(0.9) * 0.3),
                latency,
                error_ratio: error_ratio.min(1.0),
                cpu: cpu.min(100.0),
                memory,
            };
        }
    }
    states
}

/// Observed metrics with noise, spikes and gaps, as a wide CSV.
fn observe(system: &System, states: &[Vec<State>], rng: &mut Rng, t0: f64) -> String {
    let mut header = String::from("timestamp");
    for s in &system.services {
        for (_, name) in &s.metrics {
            let _ = write!(header, ",{}:{}", s.name, name);
        }
    }
    let mut text = header + "\n";
    let noise: Vec<Vec<f64>> = system
        .services
        .iter()
        .map(|s| {
            s.metrics
                .iter()
                .map(|(kind, _)| match kind {
                    Kind::Latency => rng.range(0.04, 0.12),
                    Kind::Errors => 0.0,
                    Kind::Requests => rng.range(0.02, 0.04),
                    Kind::Cpu => rng.range(0.03, 0.08),
                    Kind::Memory => rng.range(0.005, 0.02),
                })
                .collect()
        })
        .collect();
    for (minute, row) in states.iter().enumerate() {
        let _ = write!(text, "{}", (t0 + 60.0 * minute as f64) as i64);
        for (i, s) in system.services.iter().enumerate() {
            let state = row[i];
            for (m, (kind, _)) in s.metrics.iter().enumerate() {
                text.push(',');
                if rng.chance(0.02) {
                    continue; // a missing scrape
                }
                let spike = if rng.chance(0.01) {
                    rng.range(1.5, 4.0)
                } else {
                    1.0
                };
                let sigma = noise[i][m];
                let value = match kind {
                    Kind::Latency => state.latency * (1.0 + sigma * rng.gauss()) * spike,
                    Kind::Errors => {
                        let mean = state.requests * 60.0 * state.error_ratio / 60.0;
                        (mean + mean.sqrt() * rng.gauss()).max(0.0).round() * spike.round()
                    }
                    Kind::Requests => state.requests * (1.0 + sigma * rng.gauss()),
                    Kind::Cpu => {
                        (state.cpu * (1.0 + sigma * rng.gauss()) * spike.min(1.5)).clamp(0.0, 100.0)
                    }
                    Kind::Memory => state.memory * (1.0 + sigma * rng.gauss()),
                };
                let _ = write!(text, "{value:.3}");
            }
        }
        text.push('\n');
    }
    text
}

struct Generated {
    dir: PathBuf,
    root: String,
    fault: Fault,
    symptom: String,
    anomaly_start: f64,
    anomaly_end: f64,
}

fn generate(seed: u64, out: &Path) -> std::io::Result<Generated> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA5A5);
    let system = build_system(&mut rng);
    let n = system.services.len();
    let fault = [Fault::Latency, Fault::Errors, Fault::Cpu, Fault::Memory][rng.below(4)];
    let root = rng.below(n);
    let minutes = 60;
    let start = 25 + rng.below(16);
    let magnitude = rng.range(1.0, 3.0);
    let injection = Injection {
        root,
        fault,
        start,
        magnitude,
    };
    let day = 86_400.0;
    let t0 = 1_767_225_600.0 + day * rng.below(300) as f64 + 60.0 * rng.below(1440) as f64;
    // The normal period: the hour before the incident hour, or the same hour a day earlier.
    let normal_t0 = if rng.chance(0.5) {
        t0 - 3600.0
    } else {
        t0 - day
    };
    // A benign shift somewhere else (a deploy, a cache warm-up) in a third of the cases.
    let drift = if rng.chance(0.35) {
        let node = rng.below(n);
        (node != root).then(|| (node, rng.below(minutes), rng.range(0.1, 0.4)))
    } else {
        None
    };
    let normal_states = simulate(&system, &mut rng, normal_t0, minutes, None, None);
    // Only incidents that hurt are alerted: grow the fault until the front door's latency (or
    // error ratio) moved clearly, as seen without measurement noise. A few attempts only, so
    // some faint cases stay.
    let mut injection = injection;
    let mut incident_states = simulate(&system, &mut rng, t0, minutes, Some(&injection), drift);
    for _ in 0..4 {
        let mean = |from: usize, to: usize, f: &dyn Fn(&State) -> f64| {
            incident_states[from..to]
                .iter()
                .map(|row| f(&row[0]))
                .sum::<f64>()
                / (to - from).max(1) as f64
        };
        let hurts = if fault == Fault::Errors {
            mean(start + 3, minutes, &|s| s.error_ratio) - mean(0, start, &|s| s.error_ratio) > 0.01
        } else {
            mean(start + 3, minutes, &|s| s.latency) > 1.3 * mean(0, start, &|s| s.latency)
        };
        if hurts {
            break;
        }
        injection.magnitude *= 2.0;
        incident_states = simulate(&system, &mut rng, t0, minutes, Some(&injection), drift);
    }
    let dir = out.join(format!("case-{seed:05}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("normal.csv"),
        observe(&system, &normal_states, &mut rng, normal_t0),
    )?;
    std::fs::write(
        dir.join("metrics.csv"),
        observe(&system, &incident_states, &mut rng, t0),
    )?;
    let mut graph = String::from("source,target\n");
    for e in &system.edges {
        let _ = writeln!(
            graph,
            "{},{}",
            system.services[e.caller].name, system.services[e.callee].name
        );
    }
    std::fs::write(dir.join("graph.csv"), graph)?;
    // The symptom: the front door's latency (its error count for error faults, when exported).
    let front = &system.services[0];
    let wanted = if fault == Fault::Errors {
        Kind::Errors
    } else {
        Kind::Latency
    };
    let metric = front
        .metrics
        .iter()
        .find(|(k, _)| *k == wanted)
        .or_else(|| front.metrics.iter().find(|(k, _)| *k == Kind::Latency))
        .or(front.metrics.first())
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| "latency".into());
    // The alert fires once the effect has reached the front door: the sum of lags on the
    // fault's shortest path to it, plus a minute or two for the alert rule.
    let alert_minute = (start + 1 + rng.below(3)).min(minutes - 1);
    Ok(Generated {
        dir,
        root: system.services[root].name.clone(),
        fault,
        symptom: format!("{}:{metric}", front.name),
        anomaly_start: t0 + 60.0 * alert_minute as f64,
        anomaly_end: t0 + 60.0 * (minutes - 1) as f64,
    })
}

fn read_case(g: &Generated) -> Case {
    let open = |name: &str| std::fs::File::open(g.dir.join(name)).expect("generated file");
    let metrics = MetricFrame::from_csv(open("metrics.csv"), "metrics.csv").expect("metrics");
    let normal = MetricFrame::from_csv(open("normal.csv"), "normal.csv").expect("normal");
    let graph = CallGraph::from_csv(open("graph.csv"), "graph.csv").expect("graph");
    Case::new(
        metrics,
        normal,
        graph,
        g.symptom.parse().expect("symptom"),
        g.anomaly_start,
        g.anomaly_end,
    )
    .expect("case")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cases: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let first: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let out = args
        .get(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ooda-rca-eval"));
    // (top-1, top-3, cases) per fault kind, for the localiser and the baseline.
    let mut tally: BTreeMap<Fault, [usize; 5]> = BTreeMap::new();
    let mut slowest = 0.0_f64;
    for seed in first..first + cases {
        let g = generate(seed, &out).expect("write case");
        let case = read_case(&g);
        let started = std::time::Instant::now();
        let ranking = localise(&case);
        let ranked = ranking.nodes();
        slowest = slowest.max(started.elapsed().as_secs_f64());
        let baseline = deepest_anomalous_callee(&case);
        let rank_of =
            |list: &[String]| list.iter().position(|n| *n == g.root).unwrap_or(usize::MAX);
        let (ours, theirs) = (rank_of(&ranked), rank_of(&baseline));
        if std::env::var_os("RCA_EVAL_VERBOSE").is_some() && ours != 0 {
            eprintln!(
                "seed {seed}: {} at {} ({}), got {:?}",
                g.root,
                ours,
                g.fault.name(),
                &ranked[..3.min(ranked.len())]
            );
            for suspect in ranking
                .suspects
                .iter()
                .filter(|s| s.node == g.root || s.node == ranked[0])
            {
                eprintln!(
                    "    {} score {:.2} anomaly {:.2} explained {:.2} by {:?} onset {:?} devs {:?}",
                    suspect.node,
                    suspect.score,
                    suspect.anomaly,
                    suspect.explained,
                    suspect.explained_by,
                    suspect.onset.map(|o| (o - case.anomaly_start) / 60.0),
                    suspect
                        .deviations
                        .iter()
                        .map(|d| (
                            d.metric.as_str(),
                            d.z.round(),
                            d.onset.map(|o| (o - case.anomaly_start) / 60.0)
                        ))
                        .collect::<Vec<_>>()
                );
            }
        }
        let t = tally.entry(g.fault).or_default();
        t[0] += (ours == 0) as usize;
        t[1] += (ours < 3) as usize;
        t[2] += (theirs == 0) as usize;
        t[3] += (theirs < 3) as usize;
        t[4] += 1;
    }
    println!(
        "| fault | cases | localiser top-1 | localiser top-3 | baseline top-1 | baseline top-3 |"
    );
    println!("|---|---|---|---|---|---|");
    let mut all = [0usize; 5];
    for (fault, t) in &tally {
        for k in 0..5 {
            all[k] += t[k];
        }
        let f = |x: usize| x as f64 / t[4] as f64;
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            fault.name(),
            t[4],
            f(t[0]),
            f(t[1]),
            f(t[2]),
            f(t[3])
        );
    }
    let f = |x: usize| x as f64 / all[4] as f64;
    println!(
        "| **all** | {} | **{:.3}** | **{:.3}** | {:.3} | {:.3} |",
        all[4],
        f(all[0]),
        f(all[1]),
        f(all[2]),
        f(all[3])
    );
    println!(
        "slowest localisation: {:.1} ms; cases in {}",
        slowest * 1000.0,
        out.display()
    );
    speed();
}

/// The size bound: 100 components × 20 metrics × 1 hour at 1 minute, a random tree of
/// calls. Best of five, beside the baseline on the same case.
fn speed() {
    let mut rng = Rng(7);
    let frame = |rng: &mut Rng, t0: f64, bump: bool| MetricFrame {
        timestamps: (0..60).map(|i| t0 + 60.0 * i as f64).collect(),
        columns: (0..100)
            .flat_map(|n| (0..20).map(move |m| (n, m)))
            .map(|(n, m)| ooda_incident::localise::Column {
                node: format!("svc-{n}"),
                metric: format!("metric_{m}"),
                values: (0..60)
                    .map(|i| {
                        let shift = if bump && n == 42 && i >= 30 {
                            50.0
                        } else {
                            0.0
                        };
                        Some(100.0 + rng.gauss() * 5.0 + shift)
                    })
                    .collect(),
            })
            .collect(),
    };
    let normal = frame(&mut rng, 0.0, false);
    let metrics = frame(&mut rng, 10_000.0, true);
    let mut graph = CallGraph::new();
    for n in 1..100 {
        graph.add_call(&format!("svc-{}", rng.below(n)), &format!("svc-{n}"));
    }
    let case = Case::new(
        metrics,
        normal,
        graph,
        "svc-0:metric_0".parse().expect("symptom"),
        10_000.0 + 1860.0,
        10_000.0 + 3540.0,
    )
    .expect("case");
    let best = |f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let started = std::time::Instant::now();
                std::hint::black_box(f());
                started.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::MAX, f64::min)
    };
    let ours = best(&|| localise(&case).suspects.len());
    let theirs = best(&|| deepest_anomalous_callee(&case).len());
    let top = localise(&case).nodes()[0].clone();
    println!(
        "100 components × 20 metrics × 60 minutes: localiser {ours:.1} ms (top: {top}), baseline {theirs:.1} ms, best of 5"
    );
}
