//! The post-mortem: Markdown for people and the machine-readable result
//! `{root_cause, confidence, hypotheses, actions_taken, status, post_mortem, evidence}`.
//!
//! It reports what happened, including what went wrong and what could not be looked at; it never
//! claims an action or a resolution the records do not show.

use serde::{Deserialize, Serialize};

use crate::evidence::{EvidenceRef, Gap};
use crate::lifecycle::{Incident, TimelineEntry};
use crate::reasoner::{Hypothesis, Report};
use crate::runbook::engine::StepRecord;

/// The machine-readable result of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentResult {
    pub incident: String,
    pub root_cause: Option<String>,
    pub confidence: f64,
    pub hypotheses: Vec<Hypothesis>,
    pub actions_taken: Vec<StepRecord>,
    /// The incident's state when the result was written (`closed`, `escalated`, `paused` …).
    pub status: String,
    pub post_mortem: String,
    pub evidence: Vec<EvidenceRef>,
    pub gaps: Vec<Gap>,
}

/// Builds the result and its Markdown.
pub fn write(
    incident: &Incident,
    report: Option<&Report>,
    actions: &[StepRecord],
    evidence: &[EvidenceRef],
) -> IncidentResult {
    let mut md = String::new();
    md.push_str(&format!(
        "# Incident {}: {}\n\n",
        incident.id, incident.title
    ));
    md.push_str(&format!(
        "- Host: {}\n- Severity: {}\n- Status: {}\n- Opened: {}\n- Last update: {}\n\n",
        incident.host.as_deref().unwrap_or("(none)"),
        incident.severity,
        incident.state,
        incident.opened_at.to_rfc3339(),
        incident.updated_at.to_rfc3339()
    ));
    md.push_str("## Root cause\n\n");
    match report {
        Some(r) => {
            md.push_str(&format!(
                "{} (confidence {:.2}, reasoner `{}`)\n\n{}\n",
                r.root_cause.as_deref().unwrap_or("unknown"),
                r.confidence,
                r.reasoner,
                r.post_mortem
            ));
            md.push_str(
                "## Hypotheses\n\n| cause | confidence | for | against |\n|---|---|---|---|\n",
            );
            for h in &r.hypotheses {
                md.push_str(&format!(
                    "| {} | {:.3} | {} | {} |\n",
                    h.cause,
                    h.confidence,
                    h.supporting.len(),
                    h.contradicting.len()
                ));
            }
            md.push('\n');
        }
        None => md.push_str("No reasoner report.\n\n"),
    }
    md.push_str("## Actions\n\n");
    if actions.is_empty() {
        md.push_str("No action was taken.\n\n");
    } else {
        for a in actions {
            let what = a
                .action
                .as_ref()
                .map(|x| serde_json::to_string(x).unwrap_or_default())
                .unwrap_or_else(|| "(nothing submitted)".into());
            md.push_str(&format!(
                "- {}{}: {} → {}\n",
                if a.rollback { "rollback of " } else { "" },
                a.step,
                what,
                serde_json::to_string(&a.answer).unwrap_or_default()
            ));
        }
        md.push('\n');
    }
    md.push_str("## Timeline\n\n");
    for entry in &incident.timeline {
        match entry {
            TimelineEntry::Transition(t) => md.push_str(&format!(
                "- {} {} → {}: {}\n",
                t.at.to_rfc3339(),
                t.from,
                t.to,
                t.reason
            )),
            TimelineEntry::Note(n) => md.push_str(&format!("- {} {}\n", n.at.to_rfc3339(), n.what)),
        }
    }
    md.push_str("\n## Evidence\n\n");
    for e in evidence {
        md.push_str(&format!("- `{}`\n", e.0));
    }
    if let Some(r) = report {
        for g in &r.gaps {
            md.push_str(&format!("- gap: {} ({})\n", g.probe, g.error));
        }
    }
    IncidentResult {
        incident: incident.id.to_string(),
        root_cause: report.and_then(|r| r.root_cause.clone()),
        confidence: report.map(|r| r.confidence).unwrap_or(0.0),
        hypotheses: report.map(|r| r.hypotheses.clone()).unwrap_or_default(),
        actions_taken: actions.to_vec(),
        status: incident.state.as_str().to_owned(),
        post_mortem: md,
        evidence: evidence.to_vec(),
        gaps: report.map(|r| r.gaps.clone()).unwrap_or_default(),
    }
}
