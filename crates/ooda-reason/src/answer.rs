//! The answer a model must give, as a Rust type from which the JSON Schema sent to the model is
//! generated (schemars), and its validation: strict decoding of that same type (unknown fields
//! refused) plus the checks a schema cannot express — every cause in the incident catalogue,
//! every runbook in the library and belonging to a cause the answer names, every evidence
//! reference an item that was actually gathered.
//!
//! An answer that fails gets one repair round (the errors are sent back); a second failure hands
//! the incident to the built-in reasoner.

use std::collections::BTreeSet;

use ooda_incident::catalogue::Catalogue;
use ooda_incident::evidence::{Evidence, EvidenceRef};
use ooda_incident::runbook::Runbook;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How many hypotheses an answer may rank.
pub const MAX_HYPOTHESES: usize = 5;
/// How many runbooks an answer may propose.
pub const MAX_ACTIONS: usize = 3;
/// Longest post-mortem kept, in characters.
pub const MAX_POST_MORTEM: usize = 8000;

/// The final answer (the `submit_answer` tool's input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The incident catalogue cause id of the root cause, or null when no catalogue cause fits.
    pub root_cause: Option<String>,
    /// Your probability, between 0 and 1, that root_cause is right.
    pub confidence: f64,
    /// Candidate causes, most likely first (at most 5).
    pub hypotheses: Vec<AnswerHypothesis>,
    /// Runbooks to run, by runbook id, best first (at most 3). Only runbooks of causes you list.
    pub proposed_actions: Vec<AnswerAction>,
    /// A short post-mortem narrative in Markdown: what happened, the evidence, what to do.
    pub post_mortem: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerHypothesis {
    /// An incident catalogue cause id.
    pub cause: String,
    /// Your probability, between 0 and 1.
    pub confidence: f64,
    /// Ids of evidence items that support it (the 12-character prefixes shown are enough).
    #[serde(default)]
    pub supporting: Vec<String>,
    /// Ids of evidence items that speak against it.
    #[serde(default)]
    pub contradicting: Vec<String>,
    /// One or two sentences: why.
    #[serde(default)]
    pub reasoning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerAction {
    /// A runbook id from the runbook library.
    pub runbook: String,
    /// Why this runbook.
    pub reason: String,
}

/// The JSON Schema of [`Answer`], with the closed sets (cause ids, runbook ids) written in as
/// `enum`s so a model sees exactly what it may name.
pub fn schema(catalogue: &Catalogue, runbooks: &[Runbook]) -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Answer)).unwrap_or_default();
    let causes: Vec<serde_json::Value> = catalogue
        .causes()
        .iter()
        .map(|c| serde_json::Value::String(c.id.clone()))
        .collect();
    let books: Vec<serde_json::Value> = runbooks
        .iter()
        .map(|r| serde_json::Value::String(r.id.clone()))
        .collect();
    restrict(&mut schema, "AnswerHypothesis", "cause", &causes);
    restrict(&mut schema, "AnswerAction", "runbook", &books);
    if let Some(root) = schema.pointer_mut("/properties/root_cause") {
        let mut with_null = causes.clone();
        with_null.push(serde_json::Value::Null);
        *root = serde_json::json!({ "type": ["string", "null"], "enum": with_null,
            "description": "The incident catalogue cause id of the root cause, or null." });
    }
    // Null is a real answer ("no catalogue cause fits"), but it must be given, not forgotten.
    if let Some(required) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        if !required.iter().any(|v| v == "root_cause") {
            required.push(serde_json::Value::String("root_cause".into()));
        }
    }
    // Tool input schemas are plain objects; the `$schema` key only confuses some servers.
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
    }
    schema
}

fn restrict(schema: &mut serde_json::Value, def: &str, field: &str, values: &[serde_json::Value]) {
    for defs in ["$defs", "definitions"] {
        if let Some(property) = schema.pointer_mut(&format!("/{defs}/{def}/properties/{field}")) {
            if let Some(map) = property.as_object_mut() {
                map.insert("enum".into(), serde_json::Value::Array(values.to_vec()));
            }
        }
    }
}

/// What validation resolved: evidence prefixes turned into full references.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub answer: Answer,
    /// Per hypothesis: (supporting, contradicting).
    pub references: Vec<(Vec<EvidenceRef>, Vec<EvidenceRef>)>,
}

/// Decodes and checks a `submit_answer` input. Every problem is listed (the repair round sends
/// them all back at once), each naming its field.
pub fn check(
    input: &serde_json::Value,
    catalogue: &Catalogue,
    runbooks: &[Runbook],
    evidence: &Evidence,
) -> Result<Checked, Vec<String>> {
    let answer: Answer = serde_json::from_value(input.clone())
        .map_err(|e| vec![format!("the answer does not match the schema: {e}")])?;
    let mut problems = Vec::new();
    let probability = |field: String, p: f64, problems: &mut Vec<String>| {
        if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
            problems.push(format!("{field}: expected a number in [0, 1], found {p}"));
        }
    };
    probability("confidence".into(), answer.confidence, &mut problems);
    if let Some(cause) = &answer.root_cause {
        if catalogue.cause(cause).is_none() {
            problems.push(format!(
                "root_cause: {cause:?} is not an incident catalogue cause id"
            ));
        }
    }
    if answer.hypotheses.len() > MAX_HYPOTHESES {
        problems.push(format!(
            "hypotheses: at most {MAX_HYPOTHESES}, found {}",
            answer.hypotheses.len()
        ));
    }
    if answer.proposed_actions.len() > MAX_ACTIONS {
        problems.push(format!(
            "proposed_actions: at most {MAX_ACTIONS}, found {}",
            answer.proposed_actions.len()
        ));
    }
    if answer.root_cause.is_some()
        && answer.hypotheses.first().map(|h| &h.cause) != answer.root_cause.as_ref()
    {
        problems
            .push("hypotheses[0].cause: expected the root_cause as the first hypothesis".into());
    }
    let mut named: BTreeSet<&str> = BTreeSet::new();
    let mut references = Vec::new();
    for (i, h) in answer.hypotheses.iter().enumerate() {
        probability(
            format!("hypotheses[{i}].confidence"),
            h.confidence,
            &mut problems,
        );
        match catalogue.cause(&h.cause) {
            Some(cause) => {
                named.insert(cause.runbook.as_str());
            }
            None => problems.push(format!(
                "hypotheses[{i}].cause: {:?} is not an incident catalogue cause id",
                h.cause
            )),
        }
        let mut resolve = |side: &str, ids: &[String]| -> Vec<EvidenceRef> {
            let mut out = Vec::new();
            for (j, id) in ids.iter().enumerate() {
                match resolve_ref(id, evidence) {
                    Ok(found) => out.push(found),
                    Err(reason) => problems.push(format!("hypotheses[{i}].{side}[{j}]: {reason}")),
                }
            }
            out
        };
        let supporting = resolve("supporting", &h.supporting);
        let contradicting = resolve("contradicting", &h.contradicting);
        references.push((supporting, contradicting));
    }
    for (i, action) in answer.proposed_actions.iter().enumerate() {
        if !runbooks.iter().any(|r| r.id == action.runbook) {
            problems.push(format!(
                "proposed_actions[{i}].runbook: {:?} is not in the runbook library",
                action.runbook
            ));
        } else if !named.contains(action.runbook.as_str()) {
            problems.push(format!(
                "proposed_actions[{i}].runbook: {:?} does not fix any cause among your hypotheses",
                action.runbook
            ));
        }
    }
    if problems.is_empty() {
        Ok(Checked { answer, references })
    } else {
        Err(problems)
    }
}

/// A full id or a unique prefix of at least 8 hex digits.
fn resolve_ref(id: &str, evidence: &Evidence) -> Result<EvidenceRef, String> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{id:?} is not an evidence id (hex, at least 8 digits)"
        ));
    }
    let matches: Vec<&EvidenceRef> = evidence
        .items
        .iter()
        .map(|item| &item.id)
        .filter(|r| r.0.starts_with(&id))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("no evidence item {id:?} was gathered")),
        _ => Err(format!("{id:?} is ambiguous; give more digits")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_incident::evidence::{EvidenceItem, Observation};

    fn library() -> (Catalogue, Vec<Runbook>, Evidence) {
        let catalogue = Catalogue::embedded().expect("catalogue");
        let runbooks = ooda_incident::runbook::library::shipped().expect("runbooks");
        let mut evidence = Evidence::default();
        evidence.push(EvidenceItem::new(
            "logs",
            Observation::Logs { templates: vec![] },
        ));
        (catalogue, runbooks, evidence)
    }

    #[test]
    fn the_schema_names_the_closed_sets() {
        let (catalogue, runbooks, _) = library();
        let schema = schema(&catalogue, &runbooks);
        let text = schema.to_string();
        assert!(text.contains("\"disk_full\""));
        assert!(
            text.contains("deny")
                || schema.pointer("/additionalProperties") == Some(&serde_json::json!(false))
        );
        assert_eq!(schema["type"], "object");
        assert!(schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|v| v == "root_cause")));
    }

    #[test]
    fn a_good_answer_checks_and_prefixes_resolve() {
        let (catalogue, runbooks, evidence) = library();
        let prefix = &evidence.items[0].id.0[..12];
        let input = serde_json::json!({
            "root_cause": "disk_full", "confidence": 0.9,
            "hypotheses": [{"cause": "disk_full", "confidence": 0.9, "supporting": [prefix], "contradicting": []}],
            "proposed_actions": [{"runbook": "disk_full", "reason": "free space"}],
            "post_mortem": "disk filled"
        });
        let checked = check(&input, &catalogue, &runbooks, &evidence).expect("valid");
        assert_eq!(checked.references[0].0[0], evidence.items[0].id);
    }

    #[test]
    fn every_problem_is_listed() {
        let (catalogue, runbooks, evidence) = library();
        let input = serde_json::json!({
            "root_cause": "aliens", "confidence": 1.5,
            "hypotheses": [{"cause": "aliens", "confidence": -1, "supporting": ["deadbeefdead"]}],
            "proposed_actions": [{"runbook": "rm_rf", "reason": "x"}, {"runbook": "failed_deploy", "reason": "x"}],
            "post_mortem": ""
        });
        let problems = check(&input, &catalogue, &runbooks, &evidence).expect_err("invalid");
        let text = problems.join("\n");
        for needle in [
            "confidence:",
            "root_cause",
            "hypotheses[0].cause",
            "hypotheses[0].confidence",
            "supporting[0]",
            "rm_rf",
            "does not fix",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let (catalogue, runbooks, evidence) = library();
        let input = serde_json::json!({
            "root_cause": null, "confidence": 0.1, "hypotheses": [], "proposed_actions": [],
            "post_mortem": "", "execute": {"type": "run_command", "argv": ["rm", "-rf", "/"]}
        });
        let problems = check(&input, &catalogue, &runbooks, &evidence).expect_err("refused");
        assert!(problems[0].contains("unknown field"), "{problems:?}");
    }
}
