use std::process::ExitCode;
use clap::Args;
use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct UpArgs {}

pub fn run(_args: UpArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
