use std::process::ExitCode;
use clap::Subcommand;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a complete, commented example configuration.
    Example,
}

pub fn run(_command: ConfigCommand, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
