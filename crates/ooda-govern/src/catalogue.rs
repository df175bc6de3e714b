//! The action catalogue: for every action ooda can take, how risky it is, whether it can be
//! undone and by what, and what must be true before it runs.
//!
//! The set is closed (it is [`ActionKind`]); this table must never let an action through without
//! an entry, which the exhaustive `match` guarantees at compile time.

use ooda_core::{ActionKind, RiskClass};
use serde::Serialize;

/// A fact that must hold before an action runs. Checked by the gate through the
/// [`Facts`](crate::Facts) port and passed to policy as context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precondition {
    /// Database replication is healthy (replicas caught up), so a restart or failover cannot
    /// lose writes.
    ReplicationHealthy,
    /// The path is on the configured clean-up allowlist.
    PathAllowlisted,
    /// The ansible playbook / AWX template is on the approved list.
    TemplateApproved,
    /// A known-good previous release exists to roll back to.
    PreviousReleaseAvailable,
    /// The host is drained from its load balancer (or has no traffic to drain).
    HostDrained,
}

impl Precondition {
    pub fn as_str(self) -> &'static str {
        match self {
            Precondition::ReplicationHealthy => "replication_healthy",
            Precondition::PathAllowlisted => "path_allowlisted",
            Precondition::TemplateApproved => "template_approved",
            Precondition::PreviousReleaseAvailable => "previous_release_available",
            Precondition::HostDrained => "host_drained",
        }
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    pub kind: ActionKind,
    pub risk: RiskClass,
    /// Destroys state that cannot be recovered by ooda (data, running processes' memory). Policy
    /// never lets these run without a human.
    pub destructive: bool,
    pub reversible: bool,
    /// The action that undoes this one, when there is one.
    pub undo: Option<ActionKind>,
    /// Checked for every request; the ones that apply only to some host classes (replication for
    /// databases) are still checked and handed to policy, which decides whether they matter.
    pub preconditions: &'static [Precondition],
}

/// The catalogue entry for `kind`.
pub fn spec(kind: ActionKind) -> ActionSpec {
    use ActionKind as K;
    use Precondition as P;
    use RiskClass as R;
    let (risk, destructive, reversible, undo, preconditions): (
        RiskClass,
        bool,
        bool,
        Option<ActionKind>,
        &'static [Precondition],
    ) = match kind {
        K::RestartService => (R::Medium, false, true, None, &[P::ReplicationHealthy]),
        K::KillProcess => (R::High, true, false, None, &[]),
        // A CPU cap keeps the process and its state; the same action with 0 lifts it.
        K::ThrottleProcess => (R::Low, false, true, Some(K::ThrottleProcess), &[]),
        // Only paths on the operator's clean-up allowlist (declared disposable) are ever cleaned:
        // the allowlist precondition refuses anything else, so this is not "destructive".
        K::CleanPath => (R::Medium, false, false, None, &[P::PathAllowlisted]),
        K::RotateLogs => (R::Low, false, true, None, &[]),
        K::Scale => (R::Medium, false, true, Some(K::Scale), &[]),
        K::FailoverDatabase => (
            R::Critical,
            false,
            true,
            Some(K::FailoverDatabase),
            &[P::ReplicationHealthy],
        ),
        K::RollbackDeploy => (
            R::High,
            false,
            true,
            Some(K::RollbackDeploy),
            &[P::PreviousReleaseAvailable],
        ),
        K::ApplyPatch => (
            R::High,
            false,
            true,
            Some(K::RollbackDeploy),
            &[P::HostDrained],
        ),
        K::Reboot => (
            R::High,
            false,
            false,
            None,
            &[P::ReplicationHealthy, P::HostDrained],
        ),
        K::RunTemplate => (R::High, false, false, None, &[P::TemplateApproved]),
        K::Notify => (R::Low, false, false, None, &[]),
        K::OpenChangeRecord => (R::Low, false, false, None, &[]),
    };
    ActionSpec {
        kind,
        risk,
        destructive,
        reversible,
        undo,
        preconditions,
    }
}

/// The whole catalogue, in declaration order.
pub fn all() -> Vec<ActionSpec> {
    ActionKind::ALL.into_iter().map(spec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_undo_is_itself_in_the_catalogue_and_reversible_actions_say_how() {
        for entry in all() {
            if let Some(undo) = entry.undo {
                assert!(
                    entry.reversible,
                    "{:?} has an undo but is not reversible",
                    entry.kind
                );
                assert!(ActionKind::ALL.contains(&undo));
            }
            if entry.destructive {
                assert!(
                    !entry.reversible,
                    "{:?}: destructive means irreversible",
                    entry.kind
                );
                assert!(entry.risk >= RiskClass::High);
            }
        }
    }

    #[test]
    fn database_touching_actions_require_a_replication_check() {
        for kind in [
            ActionKind::RestartService,
            ActionKind::FailoverDatabase,
            ActionKind::Reboot,
        ] {
            assert!(spec(kind)
                .preconditions
                .contains(&Precondition::ReplicationHealthy));
        }
    }
}
