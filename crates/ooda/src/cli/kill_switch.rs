//! `ooda kill-switch on|off|status`: stops every autonomous action of every ooda process on this
//! data directory at their next decision. Audited.

use std::process::ExitCode;

use clap::Subcommand;

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum KillSwitchCommand {
    /// Stop all autonomous action.
    On {
        #[arg(long, default_value = "")]
        reason: String,
        /// Who flips it (defaults to $USER).
        #[arg(long = "as", env = "USER")]
        by: String,
    },
    /// Allow autonomous action again.
    Off {
        #[arg(long, default_value = "")]
        reason: String,
        #[arg(long = "as", env = "USER")]
        by: String,
    },
    /// Show the switch.
    Status,
}

pub fn run(command: KillSwitchCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (_, home) = crate::cli::data_dir::load(global)?;
    let switch = home.kill_switch();
    let state = match command {
        KillSwitchCommand::On { reason, by } => switch.set(true, &by, &reason)?,
        KillSwitchCommand::Off { reason, by } => switch.set(false, &by, &reason)?,
        KillSwitchCommand::Status => switch.state()?,
    };
    if state.on {
        let since = state.since.map(|t| t.to_rfc3339()).unwrap_or_default();
        println!(
            "kill switch: ON (by {} since {since}: {})",
            state.by, state.reason
        );
    } else {
        println!("kill switch: off");
    }
    Ok(ExitCode::SUCCESS)
}
