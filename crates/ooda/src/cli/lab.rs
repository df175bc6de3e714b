//! `ooda lab`: run a simulated fleet through the real monitoring engine, incident response and
//! governance on virtual time and print the scorecard of ooda's claims.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ooda_lab::Scenario;

use super::GlobalArgs;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: Option<LabCommand>,
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

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Shadow mode: replay a recorded metrics dump (a Prometheus range-query JSON export, or a
    /// CSV with a timestamp column and one column per series of one host) through the detectors
    /// and report what ooda would have alerted and which runbook it would have proposed.
    Backtest(BacktestArgs),
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The dump: `.json` is read as a Prometheus export, anything else as CSV.
    pub file: PathBuf,
    /// Host name for a CSV (default: the file's stem).
    #[arg(long)]
    pub host: Option<String>,
    /// Seconds between rows when a CSV's timestamps are row numbers (0, 1, 2 …).
    #[arg(long, default_value_t = 60)]
    pub index_step_secs: u64,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// History to learn before the replay, read like FILE (the train part of a train/test
    /// split): it warms the baselines and raises no alert.
    #[arg(long, value_name = "FILE")]
    pub warmup: Option<PathBuf>,
}

fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(1)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} steps [{{bar:40}}] {{percent}}% eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Reads a dump for `lab backtest`: `.json` as a Prometheus export, anything else as a CSV of one
/// host (named by `--host`, else by the replayed file's stem, so a warm-up file matches it).
fn read_dump(
    path: &std::path::Path,
    args: &BacktestArgs,
) -> anyhow::Result<Result<Vec<ooda_lab::backtest::HostSeries>, ooda_lab::backtest::BacktestError>>
{
    use ooda_lab::backtest;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    Ok(if is_json {
        backtest::parse_prometheus(&name, &text)
    } else {
        let host = args.host.clone().unwrap_or_else(|| {
            args.file
                .file_stem()
                .map_or("host".to_owned(), |s| s.to_string_lossy().into_owned())
        });
        backtest::parse_csv(
            &name,
            &host,
            &text,
            std::time::Duration::from_secs(args.index_step_secs.max(1)),
        )
        .map(|h| vec![h])
    })
}

fn backtest(args: BacktestArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    use ooda_lab::backtest;
    let mut dumps = Vec::new();
    for path in std::iter::once(&args.file).chain(&args.warmup) {
        match read_dump(path, &args)? {
            Ok(h) => dumps.push(h),
            Err(e) => {
                eprintln!("✖ {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let warmup = dumps.split_off(1).into_iter().flatten().collect::<Vec<_>>();
    let hosts = dumps.into_iter().flatten().collect::<Vec<_>>();
    let config = super::config::load(global)?.monitor;
    let bar = progress_bar("replaying");
    let result = backtest::replay_warmed(&warmup, &hosts, &config, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print!("{}", result.table());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: LabArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    if let Some(LabCommand::Backtest(b)) = args.command {
        return backtest(b, global);
    }
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

    let bar = progress_bar("simulating");
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
