//! `ooda rca`: root-cause localisation over an offline case (metrics, normal period, call graph,
//! symptom). The method lives in `ooda_incident::localise`; this file only opens files, checks
//! flags and writes the ranking.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ooda_incident::localise::{localise, CallGraph, Case, MetricFrame, Symptom};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct RcaArgs {
    /// Wide CSV over the incident: `timestamp` (unix seconds) and one `<node>:<metric>` column
    /// per series (split at the last `:`; empty cells allowed).
    #[arg(long)]
    pub metrics: PathBuf,
    /// The same layout over a period without the issue.
    #[arg(long)]
    pub normal: PathBuf,
    /// `source,target` call edges, caller → callee (may be empty).
    #[arg(long)]
    pub graph: PathBuf,
    /// When the symptom was alerted (unix seconds).
    #[arg(long, allow_negative_numbers = true)]
    pub anomaly_start: f64,
    /// End of the alerted window (unix seconds).
    #[arg(long, allow_negative_numbers = true)]
    pub anomaly_end: f64,
    /// The alerted series, `NODE:METRIC` (split at the last `:`).
    #[arg(long)]
    pub symptom: String,
    /// Where to write the JSON array of node names, most likely root cause first.
    #[arg(long)]
    pub output: PathBuf,
    /// Also write the full ranking with evidence (scores, deviations, onsets, paths) here.
    #[arg(long)]
    pub explain: Option<PathBuf>,
}

fn open(path: &Path) -> anyhow::Result<BufReader<File>> {
    Ok(BufReader::with_capacity(
        1 << 20,
        File::open(path).with_context(|| format!("opening {}", path.display()))?,
    ))
}

pub fn run(args: RcaArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let symptom: Symptom = args.symptom.parse()?;
    let metrics = MetricFrame::from_csv(open(&args.metrics)?, &args.metrics.display().to_string())?;
    let normal = MetricFrame::from_csv(open(&args.normal)?, &args.normal.display().to_string())?;
    let graph = CallGraph::from_csv(open(&args.graph)?, &args.graph.display().to_string())?;
    if !metrics.nodes().contains(&symptom.node) {
        tracing::warn!(
            symptom = %args.symptom,
            "the symptom's component has no column in the metrics; ranking on the other evidence"
        );
    }
    let case = Case::new(
        metrics,
        normal,
        graph,
        symptom,
        args.anomaly_start,
        args.anomaly_end,
    )?;
    let ranking = localise(&case);
    let names = serde_json::to_string_pretty(&ranking.nodes())?;
    let mut file = File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    writeln!(file, "{names}").with_context(|| format!("writing {}", args.output.display()))?;
    if let Some(path) = &args.explain {
        let text = serde_json::to_string_pretty(&ranking)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(headline) = ranking.headline() {
        eprintln!("{headline}");
    }
    Ok(ExitCode::SUCCESS)
}
