//! `ooda lab`: run a simulated fleet through the real monitoring engine, incident response and
//! governance on virtual time and print the scorecard of ooda's claims.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ooda_lab::Scenario;

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct LabArgs {
    /// Scenario file (TOML); without one, a 20-host default. Flags below override it.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    #[arg(long)]
    pub hosts: Option<usize>,
    /// Days scored (after the warm-up history).
    #[arg(long)]
    pub days: Option<u32>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the scorecard as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report (SVG plots, each beside the claim it tests).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub fn run(args: LabArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let mut scenario = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            match Scenario::from_toml(&text) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("✖ {}:", path.display());
                    for line in &e.0 {
                        eprintln!("  {line}");
                    }
                    return Ok(ExitCode::from(2));
                }
            }
        }
        None => Scenario::default(),
    };
    if let Some(h) = args.hosts {
        scenario.hosts = h;
    }
    if let Some(d) = args.days {
        scenario.days = d;
    }
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    if let Err(e) = scenario.check() {
        for line in &e.0 {
            eprintln!("✖ {line}");
        }
        return Ok(ExitCode::from(2));
    }
    let config = super::config::load(global)?.monitor;

    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(1)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} simulating {pos}/{len} steps [{bar:40}] {percent}% eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let card = ooda_lab::run(&scenario, &config, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if let Some(path) = &args.html {
        std::fs::write(path, ooda_lab::report::html(&card))
            .with_context(|| format!("writing the HTML report to {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&card)?);
    } else {
        print!("{}", card.table());
        println!("\n(simulated in {:.1} s)", started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}
