//! `ooda autonomy show|set`: the autonomy level per action type and server class (L1 observe,
//! L2 notify, L3 assisted, L4 autonomous). A change is stored (every ooda process on the data
//! directory sees it at its next decision) and audited.

use std::process::ExitCode;

use clap::Subcommand;
use ooda_core::ActionKind;
use ooda_govern::autonomy::{low_risk, Level, Setting};

use super::table::Table;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum AutonomyCommand {
    /// The effective level of every action type (for one server class).
    Show {
        /// Server class to resolve for (settings for other classes do not apply).
        #[arg(long, default_value = "")]
        class: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a level: for everything, one action type, one server class, or both.
    Set {
        /// L1 (observe), L2 (notify), L3 (assisted) or L4 (autonomous).
        level: String,
        /// Action type (restart_service, clean_path …); all when omitted.
        #[arg(long)]
        action: Option<String>,
        /// Server class (web, database …); all when omitted.
        #[arg(long)]
        class: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
        /// Who changes it (defaults to $USER).
        #[arg(long = "as", env = "USER")]
        by: String,
    },
}

pub fn run(command: AutonomyCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        AutonomyCommand::Show { class, json } => {
            let (_, home) = crate::cli::data_dir::load(global)?;
            let levels = home.autonomy();
            // Unreadable settings are an error here (the gate would treat them as L1).
            levels.stored()?;
            let table = levels.table(&class);
            if json {
                let rows: Vec<serde_json::Value> = table
                    .iter()
                    .map(|(kind, r)| {
                        serde_json::json!({
                            "action": kind.as_str(),
                            "low_risk": low_risk(*kind),
                            "level": r.level.code(),
                            "name": r.level.name(),
                            "from": r.from,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "class": class,
                        "levels": rows,
                    }))?
                );
            } else {
                let class_text = if class.is_empty() { "any" } else { &class };
                println!("autonomy for server class {class_text}:");
                let mut rows = Table::new(&["action", "low-risk", "level", "from"]);
                for (kind, r) in table {
                    rows.row(vec![
                        kind.as_str().to_owned(),
                        if low_risk(kind) { "yes" } else { "no" }.to_owned(),
                        r.level.to_string(),
                        r.from.to_string(),
                    ]);
                }
                rows.print()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AutonomyCommand::Set {
            level,
            action,
            class,
            reason,
            by,
        } => {
            // Bad input is refused before anything is opened, with the valid choices.
            let level = match level.parse::<Level>() {
                Ok(level) => level,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::from(2));
                }
            };
            let action = match action.as_deref().map(str::parse::<ActionKind>).transpose() {
                Ok(action) => action,
                Err(message) => {
                    eprintln!("error: unknown action type: {message}");
                    return Ok(ExitCode::from(2));
                }
            };
            if class.as_deref().is_some_and(|c| c.trim().is_empty()) {
                eprintln!("error: --class: expected a server class name, found an empty string");
                return Ok(ExitCode::from(2));
            }
            let (_, home) = crate::cli::data_dir::load(global)?;
            let setting = Setting {
                action,
                class,
                level,
            };
            let previous = home.autonomy().set(setting.clone(), &by, &reason)?;
            println!(
                "autonomy for action {} on class {}: {} → {} ({}); audited",
                setting.action.map_or("*", ActionKind::as_str),
                setting.class.as_deref().unwrap_or("*"),
                previous.code(),
                level.code(),
                level.describe()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
