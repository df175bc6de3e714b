//! The `ooda` binary: command-line parsing and wiring. Each noun lives in its own file under
//! `cli/`; this file only dispatches.

mod cli;
#[cfg(test)]
mod stage_tests;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Autonomous IT operations: observe, orient, decide, act — inside guardrails.
#[derive(Debug, Parser)]
#[command(name = "ooda", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: cli::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Governance policies: validate a directory, explain a decision.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
    /// Actions parked for human approval.
    #[command(subcommand)]
    Approvals(cli::approvals::ApprovalsCommand),
    /// Stop (or allow again) every autonomous action.
    #[command(subcommand, name = "kill-switch")]
    KillSwitch(cli::kill_switch::KillSwitchCommand),
    /// Autonomy levels (L1 observe … L4 autonomous) per action type and server class.
    #[command(subcommand)]
    Autonomy(cli::autonomy::AutonomyCommand),
    /// Which autonomy level the stored operation history supports, per action type.
    Maturity(cli::maturity::MaturityArgs),
    /// The hash-chained audit log: verify, export, public key.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// Run the agent: sources, pipeline and HTTP API.
    Up(cli::up::UpArgs),
    /// Print or check a configuration file.
    #[command(subcommand)]
    Config(cli::config::ConfigCommand),
    /// Pre-flight check of the data directory and every configured integration.
    Doctor(cli::doctor::DoctorArgs),
    /// Simulate a fleet with injected faults through the real engine; print the scorecard.
    Lab(cli::lab::LabArgs),
    /// Alerts the monitoring engine raised (read from the store).
    #[command(subcommand)]
    Alerts(cli::alerts::AlertsCommand),
    /// Run the monitoring engine over a CSV: one verdict per row (offline, causal).
    Detect(cli::detect::DetectArgs),
    /// Root-cause localisation over an offline case: rank components by how likely they broke.
    Rca(cli::rca::RcaArgs),
    /// Patch intelligence: feeds, version comparison, scan, plan and report.
    #[command(subcommand)]
    Patch(cli::patch::PatchCommand),
    /// Evaluations: reasoners (built-in and LLM) on one scenario set.
    #[command(subcommand)]
    Eval(cli::eval::EvalCommand),
    /// Incidents: list, show (hypotheses and evidence), timeline, post-mortem.
    #[command(subcommand)]
    Incidents(cli::incidents::IncidentsCommand),
    /// The runbook library: list, show, check a directory.
    #[command(subcommand)]
    Runbooks(cli::runbooks::RunbooksCommand),
    /// Change records the Gate opened for its actions: list, show.
    #[command(subcommand)]
    Changes(cli::changes::ChangesCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cli::manual::CompletionsArgs),
    /// Print the manual page (roff) generated from this command line.
    Man,
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    cli.global = cli.global.with_installed_defaults();
    if !matches!(cli.command, Command::Up(_)) {
        end_quietly_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Policy(command) => cli::policy::run(command, &cli.global),
        Command::Approvals(command) => cli::approvals::run(command, &cli.global),
        Command::KillSwitch(command) => cli::kill_switch::run(command, &cli.global),
        Command::Audit(command) => cli::audit::run(command, &cli.global),
        Command::Autonomy(command) => cli::autonomy::run(command, &cli.global),
        Command::Maturity(args) => cli::maturity::run(args, &cli.global),
        Command::Up(args) => cli::up::run(args, &cli.global),
        Command::Config(command) => cli::config::run(command, &cli.global),
        Command::Doctor(args) => cli::doctor::run(args, &cli.global),
        Command::Alerts(command) => cli::alerts::run(command, &cli.global),
        Command::Lab(args) => cli::lab::run(args, &cli.global),
        Command::Detect(args) => cli::detect::run(args, &cli.global),
        Command::Rca(args) => cli::rca::run(args, &cli.global),
        Command::Patch(command) => cli::patch::run(command, &cli.global),
        Command::Eval(command) => cli::eval::run(command, &cli.global),
        Command::Incidents(command) => cli::incidents::run(command, &cli.global),
        Command::Runbooks(command) => cli::runbooks::run(command, &cli.global),
        Command::Changes(command) => cli::changes::run(command, &cli.global),
        Command::Completions(args) => cli::manual::completions(args, &mut Cli::command()),
        Command::Man => cli::manual::man(&Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// `ooda alerts list | head`: when the reader closes the pipe, the next write ends the process
/// quietly with SIGPIPE (status 141 in a shell), as `cat` and `grep` do, instead of the
/// `failed printing to stdout` panic Rust's default (SIGPIPE ignored) gives `println!`.
/// Not for `ooda up`: the daemon keeps SIGPIPE ignored so a closed socket or child pipe is an
/// error it handles, never its death. Sockets are unaffected either way (std sends with
/// MSG_NOSIGNAL).
fn end_quietly_on_closed_pipe() {
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
