//! `ooda incidents list|show|timeline|postmortem`: read the incident register in the store.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use ooda_core::SystemClock;
use ooda_incident::lifecycle::TimelineEntry;
use ooda_incident::postmortem::IncidentResult;
use ooda_incident::reasoner::Report;
use ooda_incident::register::Register;
use ooda_store::{DataDir, SqliteStore, Store};

use super::table::Table;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// One line per incident, newest last.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One incident: state, cause, confidence, hypotheses and actions.
    Show {
        /// Incident id or a unique prefix.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Every transition and note, in order.
    Timeline { id: String },
    /// The post-mortem in Markdown, or the machine-readable result with --json.
    Postmortem {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn register(global: &GlobalArgs) -> anyhow::Result<Register> {
    let data_dir = DataDir::open(&global.data_dir)?;
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&data_dir.database())
            .with_context(|| format!("opening the store in {}", global.data_dir.display()))?,
    );
    Ok(Register::new(store, Arc::new(SystemClock)))
}

pub fn run(command: IncidentsCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let register = register(global)?;
    match command {
        IncidentsCommand::List { json } => {
            let incidents = register.list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&incidents)?);
            } else if incidents.is_empty() {
                println!("no incidents");
            } else {
                let mut table = Table::new(&["id", "state", "severity", "host", "cause", "title"]);
                for i in incidents {
                    table.row(vec![
                        i.id.to_string(),
                        i.state.as_str().to_owned(),
                        i.severity.as_str().to_owned(),
                        i.host.as_deref().unwrap_or("-").to_owned(),
                        match (&i.cause, i.confidence) {
                            (Some(c), Some(p)) => format!("{c} ({p:.2})"),
                            (Some(c), None) => c.clone(),
                            _ => "-".into(),
                        },
                        i.title,
                    ]);
                }
                table.print()?;
            }
        }
        IncidentsCommand::Show { id, json } => {
            let incident = register.find(&id)?;
            let report: Option<Report> = register.doc(incident.id, "report")?;
            if json {
                let value = serde_json::json!({ "incident": incident, "report": report });
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("incident  {}", incident.id);
            println!("title     {}", incident.title);
            println!("host      {}", incident.host.as_deref().unwrap_or("-"));
            println!("state     {}", incident.state);
            println!("severity  {}", incident.severity);
            println!("alerts    {}", incident.alerts.len());
            println!("runbook   {}", incident.runbook.as_deref().unwrap_or("-"));
            if let Some(report) = report {
                println!(
                    "cause     {} ({:.3})",
                    report.root_cause.as_deref().unwrap_or("unknown"),
                    report.confidence
                );
                println!("hypotheses:");
                for h in &report.hypotheses {
                    println!("  {:<26} {:.3}", h.cause, h.confidence);
                    for c in &h.contributions {
                        println!(
                            "      {}{:<32} ×{:<8} {}",
                            if c.observed { " " } else { "¬" },
                            c.signal,
                            c.ratio,
                            c.evidence
                                .iter()
                                .map(|e| e.short())
                                .collect::<Vec<_>>()
                                .join(",")
                        );
                    }
                }
                for g in &report.gaps {
                    println!("gap       {}: {}", g.probe, g.error);
                }
            }
        }
        IncidentsCommand::Timeline { id } => {
            let incident = register.find(&id)?;
            for entry in &incident.timeline {
                match entry {
                    TimelineEntry::Transition(t) => {
                        println!("{}  {} → {}  {}", t.at.to_rfc3339(), t.from, t.to, t.reason)
                    }
                    TimelineEntry::Note(n) => println!("{}  {}", n.at.to_rfc3339(), n.what),
                }
            }
        }
        IncidentsCommand::Postmortem { id, json } => {
            let incident = register.find(&id)?;
            let Some(result) = register.doc::<IncidentResult>(incident.id, "result")? else {
                eprintln!(
                    "incident {} has no post-mortem yet (state {})",
                    incident.id, incident.state
                );
                return Ok(ExitCode::from(1));
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                print!("{}", result.post_mortem);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
