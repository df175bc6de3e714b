//! `ooda changes list|show`: the change records the Gate opened, one per action it let through,
//! in whichever system holds them. The audit log says which record belongs to which action and
//! how the action ended (it is written for every system); the embedded system's own record adds
//! its status history.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use ooda_core::{ChangeRef, Timestamp};
use ooda_govern::{AuditEntry, EmbeddedChangeRecords};
use serde::Serialize;

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// Every change record, oldest first.
    List {
        /// JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One record: the action, its outcome and (embedded system) its status history.
    Show {
        /// The change number (`OODA-CHG-000001`, `CHG0030001`, `OPS-24`).
        number: String,
        #[arg(long)]
        json: bool,
    },
}

/// A change record as the audit log knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub number: String,
    pub system: String,
    pub opened: Timestamp,
    pub action: String,
    pub kind: String,
    pub host: String,
    pub reason: String,
    /// `alone`, `notify` or `approved`.
    pub autonomy: String,
    /// The action's outcome (`succeeded`, `failed` …); none while it runs.
    pub outcome: Option<String>,
    pub detail: Option<String>,
    /// The embedded system's record (status and notes), when it holds this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<ooda_govern::change::EmbeddedChange>,
}

/// Every change record referenced by the audit log, oldest first.
pub fn rows(home: &ooda_govern::Home) -> anyhow::Result<Vec<ChangeRow>> {
    let mut rows: Vec<(String, ChangeRow)> = Vec::new();
    for record in home.audit.read_all()? {
        match record.entry {
            AuditEntry::Intent {
                key,
                request,
                autonomy,
                change: Some(ChangeRef { number, system, .. }),
                ..
            } => rows.push((
                key,
                ChangeRow {
                    number,
                    system,
                    opened: record.time,
                    action: request.id.to_string(),
                    kind: request.kind().as_str().to_owned(),
                    host: request.host.name.clone(),
                    reason: request.reason.clone(),
                    autonomy,
                    outcome: None,
                    detail: None,
                    record: None,
                },
            )),
            AuditEntry::Outcome {
                key,
                status,
                detail,
                ..
            } => {
                if let Some((_, row)) = rows.iter_mut().rev().find(|(k, _)| *k == key) {
                    row.outcome = Some(status.as_str().to_owned());
                    row.detail = Some(detail);
                }
            }
            _ => {}
        }
    }
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

pub fn run(command: ChangesCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (_, home) = super::data_dir::load(global)?;
    let embedded = EmbeddedChangeRecords::new(home.store.clone(), home.clock.clone());
    match command {
        ChangesCommand::List { json } => {
            let rows = rows(&home)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no change records");
            } else {
                for r in &rows {
                    println!(
                        "{:<16} {:<10} {} {:<18} host={} outcome={} autonomy={}",
                        r.number,
                        r.system,
                        r.opened.to_rfc3339(),
                        r.kind,
                        r.host,
                        r.outcome.as_deref().unwrap_or("running"),
                        r.autonomy
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ChangesCommand::Show { number, json } => {
            let Some(mut row) = rows(&home)?.into_iter().find(|r| r.number == number) else {
                bail!("no change record {number:?} in this data directory's audit log (`ooda changes list` shows them)");
            };
            if row.system == "embedded" {
                row.record = embedded.get(&row.number)?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&row)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("change   {} ({})", row.number, row.system);
            println!("opened   {}", row.opened.to_rfc3339());
            println!("action   {} {} on {}", row.action, row.kind, row.host);
            println!("reason   {}", row.reason);
            println!("autonomy {}", row.autonomy);
            println!(
                "outcome  {}{}",
                row.outcome.as_deref().unwrap_or("running"),
                row.detail.map(|d| format!(": {d}")).unwrap_or_default()
            );
            if let Some(record) = &row.record {
                println!("status   {:?}", record.status);
                for (at, note) in &record.notes {
                    println!("  {} {note}", at.to_rfc3339());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
