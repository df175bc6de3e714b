//! `ooda detect`: the monitoring engine over a CSV, offline. One verdict per input row; strictly
//! causal and deterministic. The engine lives in `ooda-monitor`; this file only opens files and
//! reads the `[monitor]` config.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ooda_monitor::{DetectOptions, MonitorConfig, OutputFormat};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// CSV with a header: one timestamp column and one numeric column per series of one host.
    #[arg(long)]
    pub input: PathBuf,
    /// The timestamp column (default: `timestamp`, `time`, `ts`, `date`, `datetime` or `t`,
    /// else the first column).
    #[arg(long)]
    pub timestamp_column: Option<String>,
    /// Where to write `timestamp,score,level,alert,metrics` (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Skip malformed rows (counted on stderr) instead of stopping at the first one.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Host name for labels and fingerprints (default: the input file's stem).
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

/// Reads the monitor config: a TOML file holding the `[monitor]` section's keys at top level, or a
/// full ooda config with a `[monitor]` table (only that table is read).
fn load_config(path: &Path) -> anyhow::Result<MonitorConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    let document: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
    let section = match document.get("monitor") {
        Some(toml::Value::Table(monitor)) => toml::to_string(monitor)?,
        _ => text,
    };
    MonitorConfig::from_toml(&section).with_context(|| format!("config {}", path.display()))
}

pub fn run(args: DetectArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = match &global.config {
        Some(path) => load_config(path)?,
        None => MonitorConfig::default(),
    };
    let input: Box<dyn Read> = Box::new(BufReader::with_capacity(
        1 << 20,
        File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?,
    ));
    let output: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let host = args.host.clone().unwrap_or_else(|| {
        args.input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "detect".into())
    });
    let options = DetectOptions {
        timestamp_column: args.timestamp_column,
        format: match args.format {
            Format::Csv => OutputFormat::Csv,
            Format::Jsonl => OutputFormat::Jsonl,
        },
        skip_bad_rows: args.skip_bad_rows,
        host,
    };
    let summary = ooda_monitor::detect(input, output, &config, &options)
        .with_context(|| format!("detect on {}", args.input.display()))?;
    eprintln!(
        "ooda detect: {} rows, {} alerts, {} warning and {} critical rows; skipped {} bad rows, \
         {} out-of-order or duplicate rows, {} missing and {} infinite cells, {} counter columns",
        summary.rows,
        summary.alerts,
        summary.warning_rows,
        summary.critical_rows,
        summary.skipped_bad_rows,
        summary.out_of_order_rows,
        summary.missing_cells,
        summary.infinite_cells,
        summary.counter_columns
    );
    Ok(ExitCode::SUCCESS)
}
