//! Reasoners explain an incident: from the case (incident, evidence, similar past incidents) to
//! a [`Report`] with a root cause, a confidence, ranked hypotheses that cite evidence, and
//! proposed runbooks.
//!
//! The trait is shaped for LLM reasoners that come later: their only tools are the read-only
//! probes ([`Tools`]), their answer must be this schema, and [`Report::validate`] refuses any
//! cause, runbook or evidence reference that does not exist — an LLM can only choose what is in
//! the catalogue, and what it proposes still passes the Gate.

pub mod builtin;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::evidence::{Evidence, EvidenceItem, EvidenceRef, Gap, Probe, ProbeError, ProbeQuery};
use crate::lifecycle::Incident;
use crate::runbook::Runbook;
use crate::triage::Similar;

pub use builtin::BuiltinReasoner;

/// One inspectable term of a hypothesis' score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The signal (`metric.disk_used.high`), `prior`, or `history.similar`.
    pub signal: String,
    /// Whether the signal was observed (`false`: looked for and absent).
    pub observed: bool,
    /// The likelihood ratio applied.
    pub ratio: f64,
    /// The evidence that showed the signal, or showed its absence.
    pub evidence: Vec<EvidenceRef>,
}

/// One candidate root cause with its confidence and the evidence for and against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypothesis {
    /// A catalogue cause id.
    pub cause: String,
    pub title: String,
    /// Calibrated probability that this is the root cause.
    pub confidence: f64,
    /// The natural-log score the confidence was computed from.
    pub log_score: f64,
    pub contributions: Vec<Contribution>,
    pub supporting: Vec<EvidenceRef>,
    pub contradicting: Vec<EvidenceRef>,
    /// The runbook that fixes it.
    pub runbook: Option<String>,
}

/// What a reasoner proposes to do: a runbook from the library, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedAction {
    pub runbook: String,
    pub reason: String,
}

/// The answer every reasoner gives, built-in or LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub reasoner: String,
    /// The top hypothesis' cause, if any hypothesis stands.
    pub root_cause: Option<String>,
    pub confidence: f64,
    /// Best first.
    pub hypotheses: Vec<Hypothesis>,
    pub proposed_actions: Vec<ProposedAction>,
    /// The reasoner's narrative for the post-mortem.
    pub post_mortem: String,
    /// What could not be looked at.
    pub gaps: Vec<Gap>,
}

impl Report {
    /// Refuses a report that names anything that does not exist or a confidence out of range.
    /// Run on every report, whoever wrote it.
    pub fn validate(
        &self,
        catalogue: &Catalogue,
        runbooks: &[Runbook],
        evidence: &Evidence,
    ) -> Result<(), String> {
        if !(self.confidence.is_finite() && (0.0..=1.0).contains(&self.confidence)) {
            return Err(format!(
                "confidence: expected a number in [0, 1], found {}",
                self.confidence
            ));
        }
        if let Some(cause) = &self.root_cause {
            if catalogue.cause(cause).is_none() {
                return Err(format!(
                    "root_cause: {cause:?} is not in the incident catalogue"
                ));
            }
        }
        for (i, h) in self.hypotheses.iter().enumerate() {
            if catalogue.cause(&h.cause).is_none() {
                return Err(format!(
                    "hypotheses[{i}].cause: {:?} is not in the catalogue",
                    h.cause
                ));
            }
            if !(h.confidence.is_finite() && (0.0..=1.0).contains(&h.confidence)) {
                return Err(format!(
                    "hypotheses[{i}].confidence: {} is not in [0, 1]",
                    h.confidence
                ));
            }
            for id in h.supporting.iter().chain(&h.contradicting) {
                if evidence.get(id).is_none() {
                    return Err(format!(
                        "hypotheses[{i}]: evidence {} does not exist",
                        id.short()
                    ));
                }
            }
        }
        for (i, action) in self.proposed_actions.iter().enumerate() {
            if !runbooks.iter().any(|r| r.id == action.runbook) {
                return Err(format!(
                    "proposed_actions[{i}].runbook: {:?} is not in the runbook library",
                    action.runbook
                ));
            }
        }
        Ok(())
    }
}

/// What a reasoner is given.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    pub incident: &'a Incident,
    pub evidence: &'a Evidence,
    pub similar: &'a [Similar],
}

/// The read-only probes a reasoner may call for more evidence (an LLM's tools).
#[derive(Clone)]
pub struct Tools {
    probes: Vec<Arc<dyn Probe>>,
    query: ProbeQuery,
    timeout: Duration,
}

impl std::fmt::Debug for Tools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tools")
            .field("probes", &self.names())
            .finish_non_exhaustive()
    }
}

impl Tools {
    pub fn new(probes: Vec<Arc<dyn Probe>>, query: ProbeQuery, timeout: Duration) -> Self {
        Self {
            probes,
            query,
            timeout,
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.probes.iter().map(|p| p.name()).collect()
    }

    /// Calls one probe by name, under the same per-probe timeout as evidence gathering.
    pub async fn call(&self, name: &str) -> Result<EvidenceItem, ProbeError> {
        let probe = self
            .probes
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ProbeError::NotApplicable(format!("no probe named {name:?}")))?;
        match tokio::time::timeout(self.timeout, probe.probe(&self.query)).await {
            Ok(Ok(observation)) => Ok(EvidenceItem::new(name, observation)),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(ProbeError::Timeout(self.timeout.as_millis() as u64)),
        }
    }
}

/// Why a reasoner could not answer. The incident is then escalated with what is known.
#[derive(Debug, thiserror::Error)]
pub enum ReasonerError {
    #[error("reasoner unavailable: {0}")]
    Unavailable(String),
    #[error("reasoner answered outside the schema: {0}")]
    Invalid(String),
}

pub type ReasonFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Report, ReasonerError>> + Send + 'a>>;

/// Explains incidents. Implementations must be read-only: they may call [`Tools`], never act.
pub trait Reasoner: Send + Sync {
    fn name(&self) -> &str;
    fn investigate<'a>(&'a self, case: Case<'a>, tools: &'a Tools) -> ReasonFuture<'a>;
}
