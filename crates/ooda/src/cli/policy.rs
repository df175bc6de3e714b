//! `ooda policy check DIR` and `ooda policy explain`: validate a policy directory (errors name
//! file and line) and show what the gate would decide for an action, and which policies decided.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use ooda_core::{
    Action, ActionId, ActionKind, ActionRequest, Clock, Environment, Host, HostClass, IncidentId,
    Principal, SystemClock,
};
use ooda_govern::catalogue::Precondition;
use ooda_govern::policy::{self, PolicyEngine, PolicyInput};

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a directory of `*.cedar` policies (together with the shipped defaults).
    Check { dir: PathBuf },
    /// Show the decision for one action and the policies that made it.
    Explain(ExplainArgs),
    /// Print the shipped default policies.
    Defaults,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Action type (restart_service, kill_process, throttle_process, clean_path, rotate_logs, scale, failover_database,
    /// rollback_deploy, apply_patch, reboot, run_template, notify, open_change_record).
    #[arg(long)]
    action: String,
    /// Target host name.
    #[arg(long)]
    host: String,
    /// Requester confidence in [0, 1].
    #[arg(long)]
    confidence: f64,
    /// Host class (web, database, cache …).
    #[arg(long, default_value = "generic")]
    class: String,
    #[arg(long, default_value = "production")]
    environment: String,
    #[arg(long)]
    internet_facing: bool,
    /// Host tag, `key=value`; repeatable.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// The request belongs to an incident.
    #[arg(long)]
    incident: bool,
    /// The host's maintenance window is closed.
    #[arg(long)]
    window_closed: bool,
    /// Open incidents on the host.
    #[arg(long, default_value_t = 0)]
    active_incidents: u32,
    /// The request rolls back an earlier change (a patch reverted to the previous version).
    #[arg(long)]
    reverting: bool,
    /// A catalogue precondition that does NOT hold (replication_healthy, path_allowlisted,
    /// template_approved, previous_release_available, host_drained); repeatable.
    #[arg(long = "failing")]
    failing: Vec<String>,
    /// Ask as this human instead of as an agent.
    #[arg(long)]
    human: Option<String>,
    /// Policy directory (defaults to the governance config's `policy_dir`).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(command: PolicyCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { dir } => check(dir),
        PolicyCommand::Explain(args) => explain(args, global),
        PolicyCommand::Defaults => {
            print!("{}", policy::DEFAULT_POLICIES);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(dir: PathBuf) -> anyhow::Result<ExitCode> {
    match policy::check_dir(&dir) {
        Ok(summary) => {
            println!(
                "✔ {}: {} policies in {} files (with the shipped defaults), digest {}",
                dir.display(),
                summary.policies,
                summary.files,
                &summary.digest[..12.min(summary.digest.len())]
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for problem in &problems {
                println!("✖ {problem}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn precondition(name: &str) -> anyhow::Result<Precondition> {
    let all = [
        Precondition::ReplicationHealthy,
        Precondition::PathAllowlisted,
        Precondition::TemplateApproved,
        Precondition::PreviousReleaseAvailable,
        Precondition::HostDrained,
    ];
    all.into_iter()
        .find(|p| p.as_str() == name)
        .ok_or_else(|| anyhow!("--failing: expected one of replication_healthy, path_allowlisted, template_approved, previous_release_available, host_drained, found {name:?}"))
}

/// A placeholder action of the requested type: policy decides on the type, not its parameters.
fn action_of(kind: ActionKind) -> Action {
    let s = String::new;
    match kind {
        ActionKind::RestartService => Action::RestartService { service: s() },
        ActionKind::KillProcess => Action::KillProcess { process: s() },
        ActionKind::ThrottleProcess => Action::ThrottleProcess {
            process: s(),
            cpu_percent: 20,
        },
        ActionKind::CleanPath => Action::CleanPath { path: s() },
        ActionKind::RotateLogs => Action::RotateLogs { service: s() },
        ActionKind::Scale => Action::Scale {
            service: s(),
            replicas: 1,
        },
        ActionKind::FailoverDatabase => Action::FailoverDatabase { cluster: s() },
        ActionKind::RollbackDeploy => Action::RollbackDeploy {
            service: s(),
            to_version: s(),
        },
        ActionKind::ApplyPatch => Action::ApplyPatch {
            package: s(),
            version: s(),
        },
        ActionKind::Reboot => Action::Reboot {},
        ActionKind::RunTemplate => Action::RunTemplate { template: s() },
        ActionKind::Notify => Action::Notify {
            channel: s(),
            message: s(),
        },
        ActionKind::OpenChangeRecord => Action::OpenChangeRecord { summary: s() },
    }
}

fn explain(args: ExplainArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let kind: ActionKind = args.action.parse().map_err(|e| anyhow!("--action: {e}"))?;
    if !args.confidence.is_finite() || !(0.0..=1.0).contains(&args.confidence) {
        return Err(anyhow!(
            "--confidence: expected a number in [0, 1], found {}",
            args.confidence
        ));
    }
    let mut host = Host::new(args.host.clone());
    host.class = HostClass::new(args.class.clone());
    host.environment = args
        .environment
        .parse::<Environment>()
        .map_err(|e| anyhow!("--environment: {e}"))?;
    host.internet_facing = args.internet_facing;
    for tag in &args.tags {
        let (k, v) = tag
            .split_once('=')
            .ok_or_else(|| anyhow!("--tag: expected key=value, found {tag:?}"))?;
        host.tags.insert(k.to_owned(), v.to_owned());
    }
    let failing = args
        .failing
        .iter()
        .map(|f| precondition(f))
        .collect::<anyhow::Result<BTreeSet<_>>>()?;
    let spec = ooda_govern::catalogue::spec(kind);
    let holding: BTreeSet<Precondition> = spec
        .preconditions
        .iter()
        .copied()
        .filter(|p| !failing.contains(p))
        .collect();
    // Without --policies, the policies the agent runs: `[governance] policy_dir` of the config.
    let configured = super::config::load(global)?.governance.policy_dir;
    let engine = match args.policies.as_ref().or(configured.as_ref()) {
        Some(dir) => PolicyEngine::load_dir(dir),
        None => PolicyEngine::with_defaults(),
    }
    .map_err(|problems| {
        anyhow!(
            "policies do not load: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let principal = match &args.human {
        Some(name) => Principal::Human(name.clone()),
        None => Principal::Agent("explain".into()),
    };
    // A request is built only to show hard preconditions the gate checks before policy.
    let request = ActionRequest {
        id: ActionId::new(),
        action: action_of(kind),
        host: host.clone(),
        incident: args.incident.then(IncidentId::new),
        confidence: args.confidence,
        requested_by: principal.clone(),
        reason: "ooda policy explain".into(),
        idempotency_key: None,
        revert: args.reverting,
    };
    let hard = failing.iter().find(|p| {
        matches!(
            p,
            Precondition::PathAllowlisted | Precondition::TemplateApproved
        )
    });
    let input = PolicyInput {
        principal,
        kind,
        host,
        confidence: request.confidence,
        has_incident: request.incident.is_some(),
        in_maintenance_window: !args.window_closed,
        active_incidents: args.active_incidents,
        reverting: args.reverting,
        holding: holding.clone(),
        now: SystemClock.now(),
    };
    let decision = engine.evaluate(&input);
    if args.json {
        let value = serde_json::json!({
            "action": kind.as_str(),
            "risk": spec.risk.as_str(),
            "hard_precondition_failing": hard.map(|p| p.as_str()),
            "decision": decision,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).context("encoding")?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(p) = hard {
        println!(
            "decision: refused before policy (precondition {} does not hold)",
            p.as_str()
        );
    }
    println!("decision: {}", decision.autonomy.as_str());
    println!(
        "action:   {} (risk {}, destructive {}, reversible {})",
        kind,
        spec.risk.as_str(),
        spec.destructive,
        spec.reversible
    );
    if decision.determining.is_empty() {
        println!("policies: none matched");
    } else {
        println!("policies:");
        for d in &decision.determining {
            println!("  {d}");
        }
    }
    for error in &decision.errors {
        println!("note:     {error}");
    }
    let summary = engine.summary();
    println!(
        "policy set: {} policies, digest {}",
        summary.policies,
        &summary.digest[..12.min(summary.digest.len())]
    );
    Ok(ExitCode::SUCCESS)
}
