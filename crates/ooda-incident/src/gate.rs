//! The port this crate acts through is governance's one [`ActionGate`] (shared with patch
//! rollouts; [`ooda_govern::Gate`] implements it, tests may use fakes); [`GateAnswer`] is its
//! [`ooda_govern::Decision`] reduced to what the runbook engine decides on. Nothing in this crate
//! holds an actuator.

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

pub use ooda_govern::port::ActionGate;

impl From<ooda_govern::Decision> for GateAnswer {
    fn from(decision: ooda_govern::Decision) -> Self {
        answer(decision)
    }
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
