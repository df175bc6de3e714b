//! The persisted state of one rollout. Every field needed to resume after a crash is here, and
//! the whole value is written in one store write before each step acts.

use std::collections::BTreeMap;

use ooda_core::{ActionId, ChangeRef, Timestamp};
use serde::{Deserialize, Serialize};

use super::plan::RolloutPlan;

/// Where the rollout as a whole is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// Patching the staging wave.
    Staging,
    /// Watching the staged hosts until `until`.
    StagingValidation {
        since: Timestamp,
        until: Timestamp,
    },
    /// Production hosts, `batch` at a time.
    Production,
    Completed {
        at: Timestamp,
    },
    /// A validation failed (or a step could not be reconciled): no host is started again.
    Halted {
        at: Timestamp,
        reason: String,
    },
    Aborted {
        at: Timestamp,
        by: String,
        reason: String,
    },
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Staging => "staging",
            Stage::StagingValidation { .. } => "staging-validation",
            Stage::Production => "production",
            Stage::Completed { .. } => "completed",
            Stage::Halted { .. } => "halted",
            Stage::Aborted { .. } => "aborted",
        }
    }

    /// No new host is started in these stages.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Stage::Completed { .. } | Stage::Halted { .. } | Stage::Aborted { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wave {
    Staging,
    Production,
}

impl Wave {
    pub fn as_str(self) -> &'static str {
        match self {
            Wave::Staging => "staging",
            Wave::Production => "production",
        }
    }
}

/// One host's progress. A step is written here (with its idempotency key) before it is submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum HostPhase {
    Pending,
    /// The patch was (or is about to be) submitted to the gate under `key`.
    Patching {
        key: String,
        action: ActionId,
        since: Timestamp,
    },
    /// The gate parked the patch for a human.
    AwaitingApproval {
        key: String,
        action: ActionId,
        approval: u64,
    },
    /// Staging host patched; the wave validation watches it.
    Patched {
        at: Timestamp,
    },
    /// Production host patched and being watched until `until`.
    Validating {
        since: Timestamp,
        until: Timestamp,
        #[serde(default)]
        rebooted: bool,
    },
    Validated {
        at: Timestamp,
    },
    /// Validation (or the patch) failed; the rollback was (or is about to be) submitted.
    RollingBack {
        key: String,
        action: ActionId,
        reason: String,
    },
    RolledBack {
        at: Timestamp,
        reason: String,
    },
    /// Needs a human: the patch or its rollback failed, or its outcome is unknown.
    Failed {
        reason: String,
    },
}

impl HostPhase {
    pub fn name(&self) -> &'static str {
        match self {
            HostPhase::Pending => "pending",
            HostPhase::Patching { .. } => "patching",
            HostPhase::AwaitingApproval { .. } => "awaiting-approval",
            HostPhase::Patched { .. } => "patched",
            HostPhase::Validating { .. } => "validating",
            HostPhase::Validated { .. } => "validated",
            HostPhase::RollingBack { .. } => "rolling-back",
            HostPhase::RolledBack { .. } => "rolled-back",
            HostPhase::Failed { .. } => "failed",
        }
    }

    /// A change is under way on the host (counts against the batch).
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            HostPhase::Patching { .. }
                | HostPhase::AwaitingApproval { .. }
                | HostPhase::Validating { .. }
                | HostPhase::RollingBack { .. }
        )
    }

    /// The host has been touched by this rollout.
    pub fn touched(&self) -> bool {
        !matches!(self, HostPhase::Pending)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRollout {
    pub host: String,
    pub wave: Wave,
    pub phase: HostPhase,
    /// The change record the gate opened for this host's patch.
    #[serde(default)]
    pub change: Option<ChangeRef>,
}

/// Journal lines kept in the rollout's state (the newest).
pub const JOURNAL_KEEP: usize = 500;

/// One line of the rollout's story (`ooda patch rollout status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: Timestamp,
    #[serde(default)]
    pub host: Option<String>,
    pub what: String,
}

/// A rollout and everything it has done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub plan: RolloutPlan,
    pub created: Timestamp,
    pub batch: u32,
    pub staging_validation_secs: u64,
    pub host_validation_secs: u64,
    pub emergency: bool,
    pub stage: Stage,
    pub hosts: Vec<HostRollout>,
    /// Why the rollout is paused (an incident, a refusal, an unreachable fact), if it is.
    #[serde(default)]
    pub paused: Option<String>,
    /// One change record per wave.
    #[serde(default)]
    pub wave_changes: BTreeMap<Wave, ChangeRef>,
    #[serde(default)]
    pub journal: Vec<JournalEntry>,
    /// Writes so far; a resumed process can tell how far the rollout got.
    #[serde(default)]
    pub revision: u64,
    /// The last [`Control::resumes`] acted on.
    #[serde(default)]
    pub resumes_seen: u64,
}

impl Rollout {
    pub fn id(&self) -> &str {
        &self.plan.id
    }

    pub fn host(&self, name: &str) -> Option<&HostRollout> {
        self.hosts.iter().find(|h| h.host == name)
    }

    pub fn in_flight(&self, wave: Wave) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.wave == wave && h.phase.in_flight())
            .count()
    }

    pub fn log(&mut self, at: Timestamp, host: Option<&str>, what: impl Into<String>) {
        let what = what.into();
        tracing::info!(rollout = %self.plan.id, host = host.unwrap_or("-"), "{what}");
        self.journal.push(JournalEntry {
            at,
            host: host.map(str::to_owned),
            what,
        });
        // The whole state is rewritten on every step: keep it small on large fleets. The full
        // story stays in the audit log and the change records.
        if self.journal.len() > JOURNAL_KEEP {
            let excess = self.journal.len() - JOURNAL_KEEP;
            self.journal.drain(..excess);
        }
    }

    /// `(done, total)` hosts, done meaning validated or finally handled.
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .hosts
            .iter()
            .filter(|h| {
                matches!(
                    h.phase,
                    HostPhase::Validated { .. }
                        | HostPhase::RolledBack { .. }
                        | HostPhase::Failed { .. }
                )
            })
            .count();
        (done, self.hosts.len())
    }
}

/// What a human asked of a rollout from the CLI. Kept apart from [`Rollout`] so the CLI never
/// races the agent's writes of the rollout itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    #[serde(default)]
    pub pause: Option<ControlRequest>,
    #[serde(default)]
    pub abort: Option<ControlRequest>,
    /// Bumped by `resume`: clears an automatic pause whose reason was seen before this count.
    #[serde(default)]
    pub resumes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    pub by: String,
    pub reason: String,
    pub at: Timestamp,
}
