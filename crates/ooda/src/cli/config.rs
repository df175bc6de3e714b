//! `ooda config example|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a complete, commented example configuration.
    Example,
    /// Check a configuration file; `-` reads standard input. Lists every error with its path.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

pub fn run(command: ConfigCommand, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Example => {
            print!("{}", ooda_config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { file } => match ooda_config::check_file(&file) {
            Ok(config) => {
                println!(
                    "✔ {} is valid: {} source(s), {} host(s)",
                    file.display(),
                    config.sources.len(),
                    config.hosts.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                eprint!("✖ {errors}");
                Ok(ExitCode::from(1))
            }
        },
    }
}

/// Loads `--config` if given, else the embedded defaults. Errors are printed in full.
pub fn load(global: &GlobalArgs) -> anyhow::Result<ooda_config::Config> {
    match &global.config {
        None => Ok(ooda_config::Config::default()),
        Some(path) => ooda_config::check_file(path).map_err(|errors| anyhow::anyhow!("{errors}")),
    }
}
