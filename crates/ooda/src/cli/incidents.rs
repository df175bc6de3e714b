//! `ooda incidents list|show|timeline|postmortem|ack|close|reopen`: read the incident register in
//! the store; a person's ack, close and reopen are written to the incident and the audit log.

use std::process::ExitCode;

use clap::Subcommand;
use ooda_incident::lifecycle::TimelineEntry;
use ooda_incident::postmortem::IncidentResult;
use ooda_incident::reasoner::Report;
use ooda_incident::register::{HumanVerb, Register};

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
    /// Say you are on it (a timeline note and an audit record).
    Ack {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Close an incident by hand (an escalated one, or take over and close one ooda holds).
    Close {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Reopen a closed incident: it becomes escalated, yours.
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

/// Who runs this command: the operating-system account (the CLI acts as the local admin of
/// this data directory; a name is never taken from a flag).
fn local_principal() -> String {
    let uid = rustix::process::getuid().as_raw();
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?.parse::<u32>().ok()?;
                (id == uid).then(|| name.to_owned())
            })
        });
    format!("local:{}", name.unwrap_or_else(|| format!("uid{uid}")))
}

fn human(
    home: &ooda_govern::Home,
    register: &Register,
    id: &str,
    verb: HumanVerb,
    reason: &str,
) -> anyhow::Result<ExitCode> {
    if reason.trim().is_empty() {
        anyhow::bail!("--reason must say why");
    }
    let incident = register.find(id)?;
    let by = local_principal();
    let state = register.human(incident.id, verb, &by, reason)?;
    let verb_name = match verb {
        HumanVerb::Ack => "ack",
        HumanVerb::Close => "close",
        HumanVerb::Reopen => "reopen",
    };
    home.audit
        .append(ooda_govern::audit::AuditEntry::IncidentHuman {
            incident: incident.id.to_string(),
            verb: verb_name.to_owned(),
            by: by.clone(),
            reason: reason.to_owned(),
        })?;
    println!(
        "{} {verb_name} by {by}: now {}",
        incident.id,
        state.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// The register and the governance home of the agent's one state (see `data_dir`).
fn register(global: &GlobalArgs) -> anyhow::Result<(Register, ooda_govern::Home)> {
    let (_, home) = crate::cli::data_dir::load(global)?;
    Ok((Register::new(home.store.clone(), home.clock.clone()), home))
}

pub fn run(command: IncidentsCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (register, home) = register(global)?;
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
        IncidentsCommand::Ack { id, reason } => {
            return human(&home, &register, &id, HumanVerb::Ack, &reason)
        }
        IncidentsCommand::Close { id, reason } => {
            return human(&home, &register, &id, HumanVerb::Close, &reason)
        }
        IncidentsCommand::Reopen { id, reason } => {
            return human(&home, &register, &id, HumanVerb::Reopen, &reason)
        }
    }
    Ok(ExitCode::SUCCESS)
}
