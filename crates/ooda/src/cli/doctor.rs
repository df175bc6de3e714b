use std::process::ExitCode;
use clap::Args;
use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct DoctorArgs {}

pub fn run(_args: DoctorArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
