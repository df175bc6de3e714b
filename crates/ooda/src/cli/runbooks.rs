//! `ooda runbooks list|show|check`: the runbook library shipped in the binary, and a checker for
//! runbook directories (every problem with its file and field).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ooda_incident::runbook::{self, library, Rollback};
use ooda_incident::Catalogue;

use super::table::Table;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum RunbooksCommand {
    /// The shipped runbooks: id, cause, steps and title.
    List {
        /// One JSON object per runbook instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One shipped runbook, step by step.
    Show { id: String },
    /// Validate every *.toml in a directory: unknown actions, cycles, missing fields, unknown
    /// causes and signals.
    Check { dir: PathBuf },
}

pub fn run(command: RunbooksCommand, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::embedded().map_err(|e| anyhow::anyhow!("{e}"))?;
    match command {
        RunbooksCommand::List { json } => {
            let runbooks = library::shipped()
                .map_err(|p| anyhow::anyhow!("shipped runbooks are invalid: {p:?}"))?;
            if json {
                let rows: Vec<serde_json::Value> = runbooks
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id,
                            "cause": r.cause,
                            "steps": r.steps.len(),
                            "title": r.title,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = Table::new(&["id", "cause", "steps", "title"]).right(2);
            for r in runbooks {
                table.row(vec![r.id, r.cause, r.steps.len().to_string(), r.title]);
            }
            table.print()?;
            Ok(ExitCode::SUCCESS)
        }
        RunbooksCommand::Show { id } => {
            let runbooks = library::shipped()
                .map_err(|p| anyhow::anyhow!("shipped runbooks are invalid: {p:?}"))?;
            let Some(r) = runbooks.iter().find(|r| r.id == id) else {
                eprintln!("✖ no shipped runbook {id:?}; `ooda runbooks list` shows them");
                return Ok(ExitCode::from(1));
            };
            println!(
                "{} — {}\ncause: {}\n{}\n",
                r.id, r.title, r.cause, r.description
            );
            for (n, i) in r.order().into_iter().enumerate() {
                let s = &r.steps[i];
                println!(
                    "{}. {}  {}",
                    n + 1,
                    s.id,
                    toml::to_string(&s.action.table)
                        .unwrap_or_default()
                        .replace('\n', " ")
                );
                println!(
                    "   preconditions: {}",
                    if s.preconditions.is_empty() {
                        "none".into()
                    } else {
                        s.preconditions.join(", ")
                    }
                );
                println!(
                    "   timeout: {} s; verify: {} {}",
                    s.timeout_secs,
                    s.verify.signal,
                    if s.verify.cleared {
                        "cleared"
                    } else {
                        "watched"
                    }
                );
                if let Some(text) = &s.expect.output_contains {
                    println!("   expect output: {text:?}");
                }
                match &s.rollback {
                    Rollback::Action(a) => println!(
                        "   rollback: {}",
                        toml::to_string(&a.table)
                            .unwrap_or_default()
                            .replace('\n', " ")
                    ),
                    Rollback::None { reason } => println!("   rollback: none ({reason})"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RunbooksCommand::Check { dir } => {
            let causes: BTreeSet<String> =
                catalogue.causes().iter().map(|c| c.id.clone()).collect();
            let (runbooks, mut problems) = runbook::check_dir(&dir, Some(&causes))?;
            for r in &runbooks {
                problems.extend(library::check_against(
                    r,
                    &format!("{}/{}.toml", dir.display(), r.id),
                    &catalogue,
                ));
            }
            if problems.is_empty() {
                println!(
                    "✔ {} runbook(s) in {} are valid",
                    runbooks.len(),
                    dir.display()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    eprintln!("✖ {p}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}
