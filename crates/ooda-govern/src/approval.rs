//! Approvals: an action policy will not let an agent take alone is parked here until humans
//! decide, or until its timeout escalates it.
//!
//! Rules: approvers are named in config with roles; the role needed depends on the action and
//! its risk; the requester can never approve its own request (four-eyes); risk classes listed in
//! `two_approvers_for` need two distinct approvers; one deny decides. Every vote is audited
//! before it counts.
//!
//! Storage uses only the store's key/value and atomic counters, so the CLI and a running agent
//! can vote and read concurrently: ids and vote slots are allocated with `increment_bounded`, and
//! each vote is its own key, so no read-modify-write can lose a vote.

use std::sync::Arc;

use ooda_core::{ActionRequest, RiskClass, SharedClock, Timestamp};
use ooda_store::Store;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditLog};
use crate::catalogue;
use crate::config::ApprovalConfig;
use crate::{GovernError, Result};

const SEQ_KEY: &str = "govern/approval/seq";

fn record_key(id: u64) -> String {
    format!("govern/approval/{id}")
}
fn votes_key(id: u64) -> String {
    format!("govern/approval/{id}/votes")
}
fn vote_key(id: u64, n: u64) -> String {
    format!("govern/approval/{id}/vote/{n}")
}
fn escalated_key(id: u64) -> String {
    format!("govern/approval/{id}/escalated")
}
fn executed_key(id: u64) -> String {
    format!("govern/approval/{id}/executed")
}

/// A parked action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: u64,
    pub request: ActionRequest,
    pub risk: RiskClass,
    pub approvers_needed: u8,
    /// The role an approver must hold, if any.
    pub role: Option<String>,
    pub created: Timestamp,
    pub expires: Timestamp,
    /// The policies that sent it here.
    pub policies: Vec<String>,
}

/// One human's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    pub by: String,
    pub approve: bool,
    pub comment: String,
    pub time: Timestamp,
}

/// Where an approval stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApprovalState {
    Pending {
        approvals: u8,
        needed: u8,
    },
    Approved {
        by: Vec<String>,
    },
    Denied {
        by: String,
    },
    /// Timed out undecided; escalated.
    Expired,
}

#[derive(Clone)]
pub struct Approvals {
    store: Arc<dyn Store>,
    audit: Arc<AuditLog>,
    clock: SharedClock,
    config: ApprovalConfig,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals").finish_non_exhaustive()
    }
}

fn refuse(id: u64, reason: impl Into<String>) -> GovernError {
    GovernError::Approval {
        id,
        reason: reason.into(),
    }
}

impl Approvals {
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<AuditLog>,
        clock: SharedClock,
        config: ApprovalConfig,
    ) -> Self {
        Self {
            store,
            audit,
            clock,
            config,
        }
    }

    /// Parks `request`; returns the new approval.
    pub fn park(&self, request: &ActionRequest, policies: Vec<String>) -> Result<Approval> {
        let spec = catalogue::spec(request.kind());
        let id = self
            .store
            .increment_bounded(SEQ_KEY, u64::MAX)?
            .ok_or_else(|| refuse(0, "approval ids exhausted"))?;
        let now = self.clock.now();
        let timeout = chrono::Duration::seconds(
            i64::try_from(self.config.timeout_secs).unwrap_or(i64::MAX / 1000),
        );
        let approval = Approval {
            id,
            request: request.clone(),
            risk: spec.risk,
            approvers_needed: if self.config.two_approvers_for.contains(&spec.risk) {
                2
            } else {
                1
            },
            role: self
                .config
                .role_for_action
                .get(&spec.kind)
                .or_else(|| self.config.role_for_risk.get(&spec.risk))
                .cloned(),
            created: now,
            expires: now.checked_add_signed(timeout).unwrap_or(now),
            policies,
        };
        self.audit.append(AuditEntry::Parked {
            action: request.id,
            approval: id,
            kind: request.kind(),
            host: request.host.name.clone(),
            approvers_needed: approval.approvers_needed,
            expires: approval.expires,
        })?;
        self.store
            .kv_put(&record_key(id), &serde_json::to_string(&approval)?)?;
        Ok(approval)
    }

    pub fn get(&self, id: u64) -> Result<Approval> {
        let text = self
            .store
            .kv_get(&record_key(id))?
            .ok_or_else(|| refuse(id, "no such approval"))?;
        serde_json::from_str(&text)
            .map_err(|e| refuse(id, format!("stored approval does not decode: {e}")))
    }

    pub fn votes(&self, id: u64) -> Result<Vec<Vote>> {
        let count = self.store.counter(&votes_key(id))?;
        let mut votes = Vec::with_capacity(count as usize);
        for n in 1..=count {
            // A slot allocated but not yet written (its writer is mid-vote) is skipped.
            if let Some(text) = self.store.kv_get(&vote_key(id, n))? {
                votes.push(
                    serde_json::from_str(&text)
                        .map_err(|e| refuse(id, format!("vote {n} does not decode: {e}")))?,
                );
            }
        }
        Ok(votes)
    }

    /// The state at `now`.
    pub fn state(&self, approval: &Approval, votes: &[Vote], now: Timestamp) -> ApprovalState {
        if let Some(deny) = votes.iter().find(|v| !v.approve) {
            return ApprovalState::Denied {
                by: deny.by.clone(),
            };
        }
        let mut approvers: Vec<String> = votes
            .iter()
            .filter(|v| v.approve)
            .map(|v| v.by.clone())
            .collect();
        approvers.sort();
        approvers.dedup();
        if approvers.len() >= usize::from(approval.approvers_needed) {
            return ApprovalState::Approved { by: approvers };
        }
        if now >= approval.expires {
            return ApprovalState::Expired;
        }
        ApprovalState::Pending {
            approvals: u8::try_from(approvers.len()).unwrap_or(u8::MAX),
            needed: approval.approvers_needed,
        }
    }

    pub fn current_state(&self, id: u64) -> Result<(Approval, ApprovalState)> {
        let approval = self.get(id)?;
        let votes = self.votes(id)?;
        let state = self.state(&approval, &votes, self.clock.now());
        Ok((approval, state))
    }

    /// Every approval, oldest first, with its state.
    pub fn list(&self) -> Result<Vec<(Approval, ApprovalState)>> {
        let count = self.store.counter(SEQ_KEY)?;
        let mut out = Vec::new();
        for id in 1..=count {
            match self.current_state(id) {
                Ok(entry) => out.push(entry),
                // Allocated but not yet stored: its parker is mid-write.
                Err(GovernError::Approval { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
        Ok(out)
    }

    /// Records `by`'s decision. Refuses self-approval, unknown approvers, missing roles, double
    /// votes and decisions on approvals that are no longer pending.
    pub fn vote(&self, id: u64, by: &str, approve: bool, comment: &str) -> Result<ApprovalState> {
        let by = by.trim();
        if by.is_empty() {
            return Err(GovernError::Invalid {
                field: "by".into(),
                reason: "expected the approver's name".into(),
            });
        }
        let (approval, state) = self.current_state(id)?;
        if !matches!(state, ApprovalState::Pending { .. }) {
            return Err(refuse(id, format!("is no longer pending ({state:?})")));
        }
        if approval.request.requested_by.name() == by {
            return Err(refuse(
                id,
                format!("{by} requested this action and cannot approve or deny it (four-eyes)"),
            ));
        }
        let Some(roles) = self.config.approvers.get(by) else {
            return Err(refuse(
                id,
                format!("{by} is not a configured approver (governance approvals.approvers)"),
            ));
        };
        if let Some(role) = &approval.role {
            if !roles.contains(role) {
                return Err(refuse(
                    id,
                    format!("{by} lacks the role {role:?} this action needs (has {roles:?})"),
                ));
            }
        }
        if self.votes(id)?.iter().any(|v| v.by == by) {
            return Err(refuse(id, format!("{by} has already voted")));
        }
        self.audit.append(AuditEntry::ApprovalVote {
            approval: id,
            by: by.to_owned(),
            approve,
            comment: comment.to_owned(),
        })?;
        let slot = self
            .store
            .increment_bounded(&votes_key(id), u64::MAX)?
            .ok_or_else(|| refuse(id, "vote slots exhausted"))?;
        let vote = Vote {
            by: by.to_owned(),
            approve,
            comment: comment.to_owned(),
            time: self.clock.now(),
        };
        self.store
            .kv_put(&vote_key(id, slot), &serde_json::to_string(&vote)?)?;
        let votes = self.votes(id)?;
        Ok(self.state(&approval, &votes, self.clock.now()))
    }

    /// Approvals that timed out undecided and were not escalated yet; marks them escalated
    /// (once, across processes) and audits the expiry.
    pub fn sweep_expired(&self) -> Result<Vec<Approval>> {
        let mut expired = Vec::new();
        for (approval, state) in self.list()? {
            if state == ApprovalState::Expired
                && self
                    .store
                    .increment_bounded(&escalated_key(approval.id), 1)?
                    .is_some()
            {
                self.audit.append(AuditEntry::ApprovalExpired {
                    approval: approval.id,
                })?;
                expired.push(approval);
            }
        }
        Ok(expired)
    }

    /// Claims the right to execute an approved action; `false` if another process already did.
    pub(crate) fn claim_execution(&self, id: u64) -> Result<bool> {
        Ok(self
            .store
            .increment_bounded(&executed_key(id), 1)?
            .is_some())
    }

    pub fn executed(&self, id: u64) -> Result<bool> {
        Ok(self.store.counter(&executed_key(id))? > 0)
    }
}

/// Parses an approval id from outside input (CLI, API).
pub fn parse_id(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim().trim_start_matches('#');
    trimmed
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("approval id: expected a positive whole number, found {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::{Action, ActionId, Host, ManualClock, Principal};
    use ooda_store::SqliteStore;
    use std::time::Duration;

    struct Fixture {
        _dir: tempfile::TempDir,
        clock: ManualClock,
        approvals: Approvals,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at_ms(1_700_000_000_000);
        let shared: SharedClock = Arc::new(clock.clone());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        let audit = Arc::new(AuditLog::open(dir.path(), shared.clone(), None).unwrap());
        let mut config = ApprovalConfig::default();
        config.approvers.insert("alice".into(), vec!["sre".into()]);
        config.approvers.insert("bob".into(), vec!["sre".into()]);
        config.approvers.insert("carol".into(), vec!["dev".into()]);
        config.timeout_secs = 60;
        Fixture {
            _dir: dir,
            clock,
            approvals: Approvals::new(store, audit, shared, config),
        }
    }

    fn request(action: Action, by: Principal) -> ActionRequest {
        ActionRequest {
            id: ActionId::new(),
            action,
            host: Host::new("db-1"),
            incident: None,
            confidence: 0.5,
            requested_by: by,
            reason: "test".into(),
            idempotency_key: None,
            revert: false,
        }
    }

    #[test]
    fn one_approver_approves_a_high_risk_action() {
        let f = fixture();
        let a = f
            .approvals
            .park(
                &request(Action::Reboot {}, Principal::Agent("incident".into())),
                vec![],
            )
            .unwrap();
        assert_eq!(a.approvers_needed, 1);
        assert_eq!(a.role.as_deref(), Some("sre"));
        let state = f.approvals.vote(a.id, "alice", true, "ok").unwrap();
        assert_eq!(
            state,
            ApprovalState::Approved {
                by: vec!["alice".into()]
            }
        );
        assert!(
            f.approvals.vote(a.id, "bob", true, "").is_err(),
            "already decided"
        );
    }

    #[test]
    fn the_requester_can_never_approve_its_own_request() {
        let f = fixture();
        let a = f
            .approvals
            .park(
                &request(Action::Reboot {}, Principal::Human("alice".into())),
                vec![],
            )
            .unwrap();
        let err = f.approvals.vote(a.id, "alice", true, "").unwrap_err();
        assert!(err.to_string().contains("four-eyes"), "{err}");
        assert!(matches!(
            f.approvals.current_state(a.id).unwrap().1,
            ApprovalState::Pending { .. }
        ));
    }

    #[test]
    fn critical_actions_need_two_distinct_approvers_with_the_role() {
        let f = fixture();
        let a = f
            .approvals
            .park(
                &request(
                    Action::FailoverDatabase {
                        cluster: "main".into(),
                    },
                    Principal::Agent("incident".into()),
                ),
                vec![],
            )
            .unwrap();
        assert_eq!(a.approvers_needed, 2);
        let err = f.approvals.vote(a.id, "carol", true, "").unwrap_err();
        assert!(err.to_string().contains("lacks the role"), "{err}");
        assert!(
            f.approvals.vote(a.id, "mallory", true, "").is_err(),
            "unknown approver"
        );
        assert_eq!(
            f.approvals.vote(a.id, "alice", true, "").unwrap(),
            ApprovalState::Pending {
                approvals: 1,
                needed: 2
            }
        );
        assert!(
            f.approvals.vote(a.id, "alice", true, "").is_err(),
            "one vote each"
        );
        assert!(matches!(
            f.approvals.vote(a.id, "bob", true, "").unwrap(),
            ApprovalState::Approved { .. }
        ));
    }

    #[test]
    fn one_deny_decides_and_timeouts_escalate_once() {
        let f = fixture();
        let a = f
            .approvals
            .park(
                &request(Action::Reboot {}, Principal::Agent("x".into())),
                vec![],
            )
            .unwrap();
        assert_eq!(
            f.approvals.vote(a.id, "bob", false, "no").unwrap(),
            ApprovalState::Denied { by: "bob".into() }
        );
        let b = f
            .approvals
            .park(
                &request(Action::Reboot {}, Principal::Agent("x".into())),
                vec![],
            )
            .unwrap();
        assert!(f.approvals.sweep_expired().unwrap().is_empty());
        f.clock.advance(Duration::from_secs(61));
        let expired = f.approvals.sweep_expired().unwrap();
        assert_eq!(expired.iter().map(|a| a.id).collect::<Vec<_>>(), vec![b.id]);
        assert!(
            f.approvals.sweep_expired().unwrap().is_empty(),
            "escalated once"
        );
        assert!(
            f.approvals.vote(b.id, "alice", true, "").is_err(),
            "too late"
        );
        assert_eq!(f.approvals.list().unwrap().len(), 2);
    }

    #[test]
    fn ids_from_outside_are_checked() {
        assert_eq!(parse_id("#12"), Ok(12));
        assert!(parse_id("0").unwrap_err().contains("approval id"));
        assert!(parse_id("-1").is_err());
        assert!(parse_id("x").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_id_never_panics(text in ".{0,40}") {
            let _ = parse_id(&text);
        }
    }
}
