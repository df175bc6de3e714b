//! The narrow port this crate needs from governance: submit one action request, learn what
//! happened, and ask whether autonomous action is paused. [`ooda_govern::Gate`] implements it;
//! tests may use fakes. Nothing in this crate holds an actuator.

use ooda_core::ActionRequest;
use serde::{Deserialize, Serialize};

/// What the gate did with one request, reduced to what the runbook engine decides on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum GateAnswer {
    /// It ran and the actuator reported success; `detail` is the bounded captured output.
    Succeeded { detail: String },
    /// It ran (or may have) and did not succeed.
    Failed { detail: String },
    /// Waiting for a human approval.
    Parked { approval: u64 },
    /// Nothing ran. `code` is the gate's refusal code (`kill_switch`, `budget`, `policy` …).
    Refused { code: String, reason: String },
}

pub trait ActionGate: Send + Sync {
    fn submit(&self, request: ActionRequest) -> GateAnswer;
    /// Runs a parked request once its approval is granted.
    fn resume(&self, approval: u64) -> GateAnswer;
    /// The kill switch: no new step starts while it is on.
    fn paused(&self) -> bool;
}

fn answer(decision: ooda_govern::Decision) -> GateAnswer {
    use ooda_govern::{Decision, OutcomeStatus};
    match decision {
        Decision::Executed { status, detail, .. } => match status {
            OutcomeStatus::Succeeded => GateAnswer::Succeeded { detail },
            OutcomeStatus::Failed | OutcomeStatus::NotRun | OutcomeStatus::Unknown => {
                GateAnswer::Failed {
                    detail: format!("{}: {detail}", status.as_str()),
                }
            }
        },
        Decision::Parked { approval, .. } => GateAnswer::Parked { approval },
        Decision::Refused(refusal) => GateAnswer::Refused {
            code: refusal.code().to_owned(),
            reason: refusal.to_string(),
        },
    }
}

impl ActionGate for ooda_govern::Gate {
    fn submit(&self, request: ActionRequest) -> GateAnswer {
        answer(ooda_govern::Gate::submit(self, request))
    }
    fn resume(&self, approval: u64) -> GateAnswer {
        answer(ooda_govern::Gate::resume(self, approval))
    }
    fn paused(&self) -> bool {
        ooda_govern::Gate::paused(self)
    }
}
