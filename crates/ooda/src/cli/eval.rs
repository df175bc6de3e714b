//! `ooda eval reasoners`: the same scenario set through the built-in reasoner and every model
//! configured in a reasoner file; prints accuracy, calibration, turns, tokens and cost. The
//! scenarios and the loop live in `ooda-reason`; this file only reads flags and prints.
//!
//! It never acts: reasoners only propose, and nothing here holds a Gate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use ooda_reason::config::ReasonerConfig;
use ooda_reason::eval;
use ooda_reason::{LlmReasoner, Redactor};

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Run the scenario set against the built-in reasoner and any configured model.
    Reasoners(ReasonersArgs),
}

#[derive(Debug, Args)]
pub struct ReasonersArgs {
    /// Reasoner file (TOML: `[models.NAME]`, `[routing]`, `[limits]`, `[redact]`). Without one,
    /// only the built-in reasoner runs.
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Scenarios per catalogue cause (clean, one signal missing, with noise, …).
    #[arg(long, default_value_t = 3)]
    pub variants: usize,
    /// Seed of the scenario variants.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Run at most this many scenarios (a quick look at a slow local model).
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(command: EvalCommand, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Reasoners(args) => reasoners(args),
    }
}

fn reasoners(args: ReasonersArgs) -> anyhow::Result<ExitCode> {
    let (catalogue, runbooks) = eval::library()?;
    let mut scenarios = eval::scenarios(&catalogue, args.variants.max(1), args.seed);
    if let Some(limit) = args.limit {
        scenarios.truncate(limit);
    }
    let mut summaries = vec![eval::builtin(&catalogue, &scenarios)];
    if let Some(path) = &args.models {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config = ReasonerConfig::parse(&text).with_context(|| format!("{}", path.display()))?;
        let redactor = Redactor::new(&config.redact).with_literals(config.known_secrets());
        let reasoner = LlmReasoner::new(config.routing()?, catalogue.clone(), runbooks, redactor)
            .with_limits(config.limits());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        eprintln!(
            "running {} scenarios against {} (one at a time)…",
            scenarios.len(),
            reasoner.routing().root_cause.label()
        );
        let summary = runtime.block_on(eval::llm(&reasoner, &scenarios));
        let platt = eval::fitted_calibration(&summary);
        eprintln!(
            "calibration fitted on this run for the model's raw confidence: a = {:.2}, b = {:.2}",
            platt.a, platt.b
        );
        summaries.push(summary);
    }
    match args.format {
        Format::Table => print!("{}", eval::table(&summaries)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&summaries)?),
    }
    Ok(ExitCode::SUCCESS)
}
