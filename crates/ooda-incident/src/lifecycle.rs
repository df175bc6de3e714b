//! The incident lifecycle: a closed state machine
//! `open → triaged → investigating → acting → verifying → resolved | escalated → closed`.
//!
//! Every accepted transition returns a [`Transition`] record (the caller persists it and puts an
//! event on the bus); a transition the machine does not allow is an error and changes nothing.

use std::collections::BTreeMap;

use ooda_core::{AlertId, IncidentId, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::IncidentError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Open,
    Triaged,
    Investigating,
    Acting,
    Verifying,
    Resolved,
    Escalated,
    /// Waiting because the kill switch is on; resumes where it left off.
    Paused,
    Closed,
}

impl IncidentState {
    pub const ALL: [IncidentState; 9] = [
        IncidentState::Open,
        IncidentState::Triaged,
        IncidentState::Investigating,
        IncidentState::Acting,
        IncidentState::Verifying,
        IncidentState::Resolved,
        IncidentState::Escalated,
        IncidentState::Paused,
        IncidentState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Open => "open",
            IncidentState::Triaged => "triaged",
            IncidentState::Investigating => "investigating",
            IncidentState::Acting => "acting",
            IncidentState::Verifying => "verifying",
            IncidentState::Resolved => "resolved",
            IncidentState::Escalated => "escalated",
            IncidentState::Paused => "paused",
            IncidentState::Closed => "closed",
        }
    }

    /// Whether `self → to` is allowed.
    ///
    /// Escalation is reachable from every working state (a human can always be called in); a
    /// failed verification goes back to escalated, never to acting, so ooda cannot loop on a fix
    /// that does not work. Pause is only entered from the states where ooda would act next.
    pub fn can_go_to(self, to: IncidentState) -> bool {
        use IncidentState as S;
        matches!(
            (self, to),
            (S::Open, S::Triaged)
                | (S::Triaged, S::Investigating)
                | (S::Investigating, S::Acting)
                | (S::Acting, S::Verifying)
                // A step's signal did not clear: the runbook's next step.
                | (S::Verifying, S::Acting)
                | (S::Verifying, S::Resolved)
                | (S::Resolved, S::Closed)
                | (S::Escalated, S::Closed)
                // Every alert stopped firing before a diagnosis held, or after a person took it.
                | (S::Investigating | S::Escalated, S::Resolved)
                // A person reopens a closed incident: it is theirs again.
                | (S::Closed, S::Escalated)
                | (S::Investigating | S::Acting, S::Paused)
                | (S::Paused, S::Acting)
                | (
                    S::Open | S::Triaged | S::Investigating | S::Acting | S::Verifying | S::Paused,
                    S::Escalated
                )
        )
    }

    /// Only a person's reopen leaves `closed` (to `escalated`); ooda never does.
    pub fn is_terminal(self) -> bool {
        self == IncidentState::Closed
    }

    /// Still being worked on (new alerts on the host attach to it).
    pub fn is_active(self) -> bool {
        !matches!(self, IncidentState::Resolved | IncidentState::Closed)
    }

    /// Still in ooda's hands: a new alert on the host joins it. An escalated incident belongs
    /// to a person and keeps its diagnosis; a new fault there opens its own incident, with its
    /// own diagnosis and notification.
    pub fn takes_new_alerts(self) -> bool {
        self.is_active() && self != IncidentState::Escalated
    }
}

impl std::fmt::Display for IncidentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IncidentState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("expected an incident state (open, triaged, …), found {s:?}"))
    }
}

/// One accepted transition: the timeline entry and the bus event's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at: Timestamp,
    pub from: IncidentState,
    pub to: IncidentState,
    pub reason: String,
}

/// Something noteworthy that is not a state change (an alert attached, a step ran, evidence
/// gathered): also part of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub at: Timestamp,
    pub what: String,
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum TimelineEntry {
    Transition(Transition),
    Note(Note),
}

impl TimelineEntry {
    pub fn at(&self) -> Timestamp {
        match self {
            TimelineEntry::Transition(t) => t.at,
            TimelineEntry::Note(n) => n.at,
        }
    }
}

/// An incident as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub host: Option<String>,
    pub title: String,
    pub severity: Severity,
    pub state: IncidentState,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// Alerts attached to it, in arrival order (never repeated).
    pub alerts: Vec<AlertId>,
    /// The alerts' texts (summaries, metrics, log templates): what triage searches on.
    pub text: Vec<String>,
    /// The catalogue cause triage or the reasoner settled on.
    pub cause: Option<String>,
    pub confidence: Option<f64>,
    pub runbook: Option<String>,
    /// Labels from the alerts (service, path …): runbook variables come from here.
    pub labels: BTreeMap<String, String>,
    pub timeline: Vec<TimelineEntry>,
}

impl Incident {
    pub fn open(
        id: IncidentId,
        host: Option<String>,
        title: String,
        severity: Severity,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            host,
            title,
            severity,
            state: IncidentState::Open,
            opened_at: at,
            updated_at: at,
            alerts: Vec::new(),
            text: Vec::new(),
            cause: None,
            confidence: None,
            runbook: None,
            labels: BTreeMap::new(),
            timeline: Vec::new(),
        }
    }

    /// Moves to `to`, or refuses and changes nothing.
    pub fn transition(
        &mut self,
        to: IncidentState,
        reason: impl Into<String>,
        at: Timestamp,
    ) -> Result<Transition, IncidentError> {
        if !self.state.can_go_to(to) {
            return Err(IncidentError::Transition {
                incident: self.id,
                from: self.state,
                to,
            });
        }
        let transition = Transition {
            at,
            from: self.state,
            to,
            reason: reason.into(),
        };
        self.state = to;
        self.updated_at = at;
        self.timeline
            .push(TimelineEntry::Transition(transition.clone()));
        Ok(transition)
    }

    pub fn note(&mut self, what: impl Into<String>, at: Timestamp) {
        self.updated_at = at;
        self.timeline.push(TimelineEntry::Note(Note {
            at,
            what: what.into(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::clock::from_millis;
    use proptest::prelude::*;

    fn incident() -> Incident {
        Incident::open(
            IncidentId::from_u128(1),
            Some("web-1".into()),
            "disk".into(),
            Severity::Critical,
            from_millis(0),
        )
    }

    #[test]
    fn the_happy_path_reaches_closed() {
        use IncidentState as S;
        let mut inc = incident();
        for (i, to) in [
            S::Triaged,
            S::Investigating,
            S::Acting,
            S::Verifying,
            S::Resolved,
            S::Closed,
        ]
        .into_iter()
        .enumerate()
        {
            inc.transition(to, "step", from_millis(i as i64)).unwrap();
        }
        assert_eq!(inc.state, S::Closed);
        assert_eq!(inc.timeline.len(), 6);
    }

    #[test]
    fn illegal_moves_are_refused_and_change_nothing() {
        let mut inc = incident();
        let err = inc
            .transition(IncidentState::Acting, "skip triage", from_millis(1))
            .unwrap_err();
        assert!(err.to_string().contains("open → acting"), "{err}");
        assert_eq!(inc.state, IncidentState::Open);
        assert!(inc.timeline.is_empty());
    }

    fn any_state() -> impl Strategy<Value = IncidentState> {
        proptest::sample::select(IncidentState::ALL.to_vec())
    }

    proptest! {
        /// Over any sequence of requested moves: the state only changes through allowed edges,
        /// every accepted move is one timeline entry, nothing leaves closed, and the machine
        /// never acts (acting) without having been investigated first.
        #[test]
        fn random_transition_sequences_respect_the_machine(moves in proptest::collection::vec(any_state(), 0..60)) {
            let mut inc = incident();
            let mut accepted = 0;
            let mut investigated = false;
            for (i, to) in moves.into_iter().enumerate() {
                let before = inc.state;
                match inc.transition(to, "prop", from_millis(i as i64)) {
                    Ok(t) => {
                        prop_assert!(before.can_go_to(to));
                        prop_assert!(!before.is_terminal() || to == IncidentState::Escalated);
                        prop_assert_eq!(t.from, before);
                        prop_assert_eq!(inc.state, to);
                        accepted += 1;
                        if to == IncidentState::Investigating { investigated = true; }
                        if to == IncidentState::Acting { prop_assert!(investigated); }
                    }
                    Err(_) => prop_assert_eq!(inc.state, before),
                }
            }
            prop_assert_eq!(inc.timeline.len(), accepted);
        }

        #[test]
        fn states_round_trip_by_name(state in any_state()) {
            prop_assert_eq!(state.as_str().parse::<IncidentState>(), Ok(state));
        }
    }
}
