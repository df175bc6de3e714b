//! `ooda approvals list|approve|deny`: the humans' side of parked actions. A vote is audited and
//! stored; the running agent executes an approved action at its next tick.

use std::process::ExitCode;

use clap::Subcommand;
use ooda_govern::approval::parse_id;
use ooda_govern::ApprovalState;

use super::table::Table;
use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Every approval and its state.
    List {
        /// Include decided and expired ones.
        #[arg(long)]
        all: bool,
        /// JSON (an array of approvals with their state) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Approve a parked action.
    Approve {
        id: String,
        /// Approver name (defaults to $USER); must be a configured approver with the needed role.
        #[arg(long = "as", env = "USER")]
        by: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Deny a parked action.
    Deny {
        id: String,
        #[arg(long = "as", env = "USER")]
        by: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

fn describe(state: &ApprovalState) -> String {
    match state {
        ApprovalState::Pending { approvals, needed } => format!("pending ({approvals}/{needed})"),
        ApprovalState::Approved { by } => format!("approved by {}", by.join(", ")),
        ApprovalState::Denied { by } => format!("denied by {by}"),
        ApprovalState::Expired => "expired (escalated)".into(),
    }
}

pub fn run(command: ApprovalsCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        ApprovalsCommand::List { all, json } => {
            let (_, home) = crate::cli::data_dir::load(global)?;
            let approvals = home.approvals();
            let shown: Vec<_> = approvals
                .list()?
                .into_iter()
                .filter(|(_, state)| all || matches!(state, ApprovalState::Pending { .. }))
                .collect();
            if json {
                let rows: Vec<serde_json::Value> = shown
                    .iter()
                    .map(|(approval, state)| {
                        let r = &approval.request;
                        serde_json::json!({
                            "id": approval.id,
                            "state": describe(state),
                            "action": r.kind().as_str(),
                            "host": r.host.name,
                            "risk": approval.risk.as_str(),
                            "requested_by": r.requested_by,
                            "expires": approval.expires.to_rfc3339(),
                            "reason": r.reason,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            if shown.is_empty() {
                println!("no {}approvals", if all { "" } else { "pending " });
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = Table::new(&[
                "id", "state", "action", "host", "risk", "by", "expires", "reason",
            ]);
            for (approval, state) in &shown {
                let r = &approval.request;
                table.row(vec![
                    format!("#{}", approval.id),
                    describe(state),
                    r.kind().as_str().to_owned(),
                    r.host.name.clone(),
                    approval.risk.as_str().to_owned(),
                    r.requested_by.to_string(),
                    approval.expires.to_rfc3339(),
                    r.reason.clone(),
                ]);
            }
            table.print()?;
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::Approve { id, by, comment } => vote(global, &id, &by, true, &comment),
        ApprovalsCommand::Deny { id, by, comment } => vote(global, &id, &by, false, &comment),
    }
}

fn vote(
    global: &GlobalArgs,
    id: &str,
    by: &str,
    approve: bool,
    comment: &str,
) -> anyhow::Result<ExitCode> {
    let id = parse_id(id).map_err(anyhow::Error::msg)?;
    // The approvers and their roles come from the server's configuration (`[governance.approvals]`),
    // never from a file the voter names.
    let (_, home) = crate::cli::data_dir::load(global)?;
    let state = home.approvals().vote(id, by, approve, comment)?;
    println!("#{id}: {}", describe(&state));
    Ok(ExitCode::SUCCESS)
}
