//! `ooda alerts list|show`: the alert projection, rebuilt from the store's event log
//! (`alert.opened|updated|resolved`), so it works whether or not an agent is running.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Subcommand;
use ooda_core::{Alert, AlertState, EventKind};
use ooda_store::Store;

use super::table::Table;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first: firing ones, or every one with --all.
    List {
        /// Include resolved alerts.
        #[arg(long)]
        all: bool,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One alert in full: members, explanations, probable cause, enrichment.
    Show {
        /// Alert id or fingerprint (a unique prefix is enough).
        id: String,
    },
}

pub fn run(command: AlertsCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (_, home) = crate::cli::data_dir::load(global)?;
    let alerts = project(home.store.as_ref())?;
    match command {
        AlertsCommand::List { all, json } => {
            let mut shown: Vec<&Alert> = alerts
                .values()
                .filter(|a| all || a.state == AlertState::Firing)
                .collect();
            shown.sort_by_key(|a| std::cmp::Reverse(a.updated_at));
            if json {
                for alert in shown {
                    println!("{}", serde_json::to_string(alert)?);
                }
                return Ok(ExitCode::SUCCESS);
            }
            if shown.is_empty() {
                println!("no {}alerts", if all { "" } else { "firing " });
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = Table::new(&[
                "FINGERPRINT",
                "STATE",
                "SEVERITY",
                "KIND",
                "HOST",
                "SUMMARY",
            ]);
            for a in shown {
                table.row(vec![
                    a.fingerprint.clone(),
                    match a.state {
                        AlertState::Firing => "firing",
                        AlertState::Resolved => "resolved",
                    }
                    .to_owned(),
                    a.severity.to_string(),
                    a.kind.as_str().to_owned(),
                    a.host.as_deref().unwrap_or("-").to_owned(),
                    a.summary.clone(),
                ]);
            }
            table.print()?;
            Ok(ExitCode::SUCCESS)
        }
        AlertsCommand::Show { id } => {
            let matches: Vec<&Alert> = alerts
                .values()
                .filter(|a| a.fingerprint.starts_with(&id) || a.id.to_string().starts_with(&id))
                .collect();
            match matches.as_slice() {
                [] => {
                    eprintln!("no alert matches {id:?}");
                    Ok(ExitCode::from(1))
                }
                [alert] => {
                    print_alert(alert);
                    Ok(ExitCode::SUCCESS)
                }
                many => {
                    eprintln!(
                        "{} alerts match {id:?}; give more of the fingerprint",
                        many.len()
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

/// Latest state of every alert, keyed by fingerprint.
fn project(store: &dyn Store) -> anyhow::Result<BTreeMap<String, Alert>> {
    let mut alerts = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.events_named("alert.", after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page {
            match stored.event.kind {
                EventKind::AlertOpened(a)
                | EventKind::AlertUpdated(a)
                | EventKind::AlertResolved(a) => {
                    alerts.insert(a.fingerprint.clone(), *a);
                }
                _ => {}
            }
        }
    }
    Ok(alerts)
}

/// Each member's capacity forecast: the predicted saturation and its band, or why the series
/// has none (no capacity, too little history, no trend toward its limit).
fn print_forecasts(a: &Alert) {
    let forecasts: Vec<_> = a
        .members
        .iter()
        .filter_map(|m| m.forecast.as_ref().map(|f| (m, f)))
        .collect();
    if forecasts.is_empty() {
        return;
    }
    println!("forecast:");
    for (m, f) in forecasts {
        match &f.saturation {
            Some(s) => println!(
                "  {}: saturates at {} (band {} .. {}), {:+.3}/h — {}",
                m.series.metric,
                s.at.to_rfc3339(),
                s.earliest.to_rfc3339(),
                s.latest.to_rfc3339(),
                s.rate_per_hour,
                f.note
            ),
            None => println!("  {}: no forecast — {}", m.series.metric, f.note),
        }
    }
}

fn print_alert(a: &Alert) {
    println!("alert        {}", a.fingerprint);
    println!("id           {}", a.id);
    println!("host         {}", a.host.as_deref().unwrap_or("-"));
    println!("kind         {}", a.kind.as_str());
    println!("severity     {}", a.severity);
    println!("state        {:?}", a.state);
    println!("opened       {}", a.opened_at.to_rfc3339());
    println!("updated      {}", a.updated_at.to_rfc3339());
    println!("summary      {}", a.summary);
    if let Some(cause) = &a.probable_cause {
        println!("cause        {cause}");
    }
    println!("members:");
    for m in &a.members {
        println!("  [{}] {} — {}", m.severity, m.series, m.explanation);
    }
    print_forecasts(a);
    if !a.enrichment.is_empty() {
        println!("log context:");
        for line in &a.enrichment {
            println!(
                "  {:>6}× {} (e.g. {})",
                line.count, line.template, line.example
            );
        }
    }
}
