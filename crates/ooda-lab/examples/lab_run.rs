//! One lab run from a scenario file with the default engine config (what `ooda lab --scenario
//! FILE --json` runs without a config file), for profiling and timing the lab without building
//! the whole agent: `cargo run --release -p ooda-lab --example lab_run -- SCENARIO.toml`.
//! Prints the scorecard JSON on stdout and the wall time on stderr.

use std::process::ExitCode;
use std::time::Instant;

use ooda_lab::Scenario;
use ooda_monitor::MonitorConfig;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: lab_run SCENARIO.toml");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reading {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::from_toml(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {}", e.0.join("; "));
            return ExitCode::from(2);
        }
    };
    if let Err(e) = scenario.check() {
        eprintln!("{path}: {}", e.0.join("; "));
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let card = match ooda_lab::run(&scenario, &MonitorConfig::default(), &mut |_, _| {}) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lab run: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    match serde_json::to_string(&card) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("scorecard JSON: {e}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!("wall {wall:.2} s");
    ExitCode::SUCCESS
}
