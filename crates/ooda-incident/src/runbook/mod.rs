//! Runbooks as data: TOML files, one per incident type, each step an action from the closed
//! governance catalogue with its preconditions, timeout, expected result, verification and
//! rollback. This module parses and validates them; [`engine`] runs them through the Gate.
//!
//! Validation must name the file and the field of every problem and must never panic, whatever
//! the file holds.

pub mod engine;
pub mod library;

use std::collections::{BTreeMap, BTreeSet};

use ooda_core::{Action, ActionKind};
use serde::{Deserialize, Serialize};

/// Preconditions a step may state. The first five are the governance catalogue's (the Gate checks
/// them again for every action); `signal_present:<signal>` asks that a signal is still observed,
/// so a runbook never acts on a problem that has already gone.
pub const KNOWN_PRECONDITIONS: &[&str] = &[
    "replication_healthy",
    "path_allowlisted",
    "template_approved",
    "previous_release_available",
    "host_drained",
];

/// Variables a runbook may use as `${name}` inside action parameters, filled from the incident
/// context at run time. A variable with no value stops the runbook before it acts.
pub const KNOWN_VARIABLES: &[&str] = &[
    "host",
    "service",
    "process",
    "clean_path",
    "cluster",
    "previous_version",
    "template",
    "replicas",
    "channel",
];

/// A step's expected result: the actuator reported success and, when set, its captured output
/// contains this text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub output_contains: Option<String>,
}

/// How a step is verified after it ran: the named signal must be gone (`cleared = true`) once the
/// incident is re-evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub signal: String,
    #[serde(default = "yes")]
    pub cleared: bool,
}

fn yes() -> bool {
    true
}

/// How to undo a step: an action, or an explicit statement why it cannot be undone.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollback {
    Action(ActionTemplate),
    None { reason: String },
}

/// An action with `${variable}` placeholders, kept as the TOML table until it is rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionTemplate {
    pub table: toml::Table,
}

impl ActionTemplate {
    /// The action kind named by `type` (validated at load time).
    pub fn kind(&self) -> Option<ActionKind> {
        self.table
            .get("type")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
    }

    /// Fills the placeholders from `vars` and decodes the result into a catalogue action.
    /// A placeholder with no value is an error naming it: never act on missing information.
    pub fn render(&self, vars: &BTreeMap<String, String>) -> Result<Action, String> {
        let mut table = self.table.clone();
        for (key, value) in table.iter_mut() {
            if let toml::Value::String(text) = value {
                *value = substitute(text, vars).map_err(|var| {
                    format!("action.{key}: variable ${{{var}}} has no value for this incident")
                })?;
            }
        }
        toml::Value::Table(table)
            .try_into::<Action>()
            .map_err(|e| format!("action: {}", e.message()))
    }

    /// Placeholders used by this action.
    pub fn variables(&self) -> BTreeSet<String> {
        self.table
            .values()
            .filter_map(|v| v.as_str())
            .flat_map(placeholders)
            .collect()
    }
}

/// Replaces `${name}` in `text`. A string that is exactly one placeholder whose value is an
/// integer becomes an integer (for `replicas`).
fn substitute(text: &str, vars: &BTreeMap<String, String>) -> Result<toml::Value, String> {
    let names = placeholders(text);
    if names.len() == 1 && text == format!("${{{}}}", names[0]) {
        let value = vars.get(&names[0]).ok_or_else(|| names[0].clone())?;
        if let Ok(number) = value.parse::<i64>() {
            return Ok(toml::Value::Integer(number));
        }
        return Ok(toml::Value::String(value.clone()));
    }
    let mut out = text.to_owned();
    for name in names {
        let value = vars.get(&name).ok_or_else(|| name.clone())?;
        out = out.replace(&format!("${{{name}}}"), value);
    }
    Ok(toml::Value::String(out))
}

fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                found.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}

/// One step of a runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub action: ActionTemplate,
    pub preconditions: Vec<String>,
    pub timeout_secs: u64,
    pub expect: Expect,
    pub verify: Verify,
    pub rollback: Rollback,
    /// The step to run after this one; the next in the file when absent.
    pub next: Option<String>,
}

/// A validated runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    /// The catalogue cause it fixes.
    pub cause: String,
    pub description: String,
    pub steps: Vec<Step>,
}

impl Runbook {
    /// The order the engine runs steps in (following `next`); validation guarantees it ends.
    pub fn order(&self) -> Vec<usize> {
        let mut order = Vec::new();
        let mut seen = BTreeSet::new();
        let mut at = if self.steps.is_empty() { None } else { Some(0) };
        while let Some(index) = at {
            if !seen.insert(index) {
                break; // unreachable for validated runbooks; belt and braces
            }
            order.push(index);
            at = match &self.steps[index].next {
                Some(next) => self.steps.iter().position(|s| &s.id == next),
                None if index + 1 < self.steps.len() => Some(index + 1),
                None => None,
            };
        }
        order
    }
}

/// A problem in one runbook file: which file, which field, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookProblem {
    pub file: String,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RunbookProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.reason)
    }
}

/// Parses and validates one runbook file. Every problem found is returned, not only the first.
pub fn parse(file: &str, text: &str) -> Result<Runbook, Vec<RunbookProblem>> {
    // A RefCell so the reporting closure can be shared by the checks below and the list still
    // read at the end.
    let problems = std::cell::RefCell::new(Vec::new());
    let mut problem = |field: &str, reason: String| {
        problems.borrow_mut().push(RunbookProblem {
            file: file.to_owned(),
            field: field.to_owned(),
            reason,
        })
    };
    let root: toml::Table = match toml::from_str(text) {
        Ok(root) => root,
        Err(e) => {
            problem("(file)", format!("not valid TOML: {}", e.message()));
            return Err(problems.into_inner());
        }
    };
    let string =
        |table: &toml::Table, key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    for key in root.keys() {
        if !["id", "title", "cause", "description", "step"].contains(&key.as_str()) {
            problem(
                key,
                "unknown field; expected id, title, cause, description, step".into(),
            );
        }
    }
    let id = string(&root, "id").unwrap_or_else(|| {
        problem("id", "missing; expected the runbook id (a string)".into());
        String::new()
    });
    let title = string(&root, "title").unwrap_or_else(|| {
        problem("title", "missing; expected a one-line title".into());
        String::new()
    });
    let cause = string(&root, "cause").unwrap_or_else(|| {
        problem(
            "cause",
            "missing; expected the catalogue cause this runbook fixes".into(),
        );
        String::new()
    });
    let description = string(&root, "description").unwrap_or_default();
    let raw_steps = match root.get("step").and_then(|v| v.as_array()) {
        Some(steps) if !steps.is_empty() => steps.clone(),
        _ => {
            problem("step", "missing; expected at least one [[step]]".into());
            Vec::new()
        }
    };
    let mut steps = Vec::new();
    for (i, raw) in raw_steps.iter().enumerate() {
        let at = |field: &str| format!("step[{i}].{field}");
        let Some(table) = raw.as_table() else {
            problem(&format!("step[{i}]"), "expected a table".into());
            continue;
        };
        for key in table.keys() {
            if ![
                "id",
                "action",
                "preconditions",
                "timeout_secs",
                "expect",
                "verify",
                "rollback",
                "next",
            ]
            .contains(&key.as_str())
            {
                problem(&at(key), "unknown field".into());
            }
        }
        let step_id = string(table, "id").unwrap_or_else(|| {
            problem(&at("id"), "missing; expected a step id".into());
            format!("#{i}")
        });
        let action = match table.get("action").and_then(|v| v.as_table()) {
            Some(action) => check_action(action, &at("action"), &mut problem),
            None => {
                problem(
                    &at("action"),
                    "missing; expected an action table with `type`".into(),
                );
                None
            }
        };
        let preconditions = match table.get("preconditions") {
            Some(toml::Value::Array(items)) => {
                let mut list = Vec::new();
                for (j, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(name)
                            if KNOWN_PRECONDITIONS.contains(&name)
                                || name.starts_with("signal_present:") =>
                        {
                            list.push(name.to_owned())
                        }
                        _ => problem(
                            &at(&format!("preconditions[{j}]")),
                            format!(
                                "unknown precondition {item}; expected one of {} or signal_present:<signal>",
                                KNOWN_PRECONDITIONS.join(", ")
                            ),
                        ),
                    }
                }
                list
            }
            Some(_) => {
                problem(&at("preconditions"), "expected a list of names".into());
                Vec::new()
            }
            None => {
                problem(
                    &at("preconditions"),
                    "missing; write `preconditions = []` if none apply".into(),
                );
                Vec::new()
            }
        };
        let timeout_secs = match table.get("timeout_secs").and_then(|v| v.as_integer()) {
            Some(secs) if (1..=86_400).contains(&secs) => secs as u64,
            Some(secs) => {
                problem(
                    &at("timeout_secs"),
                    format!("expected 1..=86400 seconds, found {secs}"),
                );
                0
            }
            None => {
                problem(
                    &at("timeout_secs"),
                    "missing; expected seconds (an integer)".into(),
                );
                0
            }
        };
        let expect = decode::<Expect>(table.get("expect"), &at("expect"), &mut problem);
        let verify = decode::<Verify>(table.get("verify"), &at("verify"), &mut problem);
        let rollback = match table.get("rollback").and_then(|v| v.as_table()) {
            Some(rb) if rb.get("type").and_then(|t| t.as_str()) == Some("none") => {
                match rb.get("reason").and_then(|r| r.as_str()) {
                    Some(reason) if !reason.trim().is_empty() => Some(Rollback::None {
                        reason: reason.to_owned(),
                    }),
                    _ => {
                        problem(
                            &at("rollback.reason"),
                            "a rollback of type none must say why".into(),
                        );
                        None
                    }
                }
            }
            Some(rb) => check_action(rb, &at("rollback"), &mut problem).map(Rollback::Action),
            None => {
                problem(
                    &at("rollback"),
                    "missing; expected an action, or { type = \"none\", reason = \"…\" }".into(),
                );
                None
            }
        };
        let next = string(table, "next");
        if let (Some(action), Some(expect), Some(verify), Some(rollback)) =
            (action, expect, verify, rollback)
        {
            steps.push(Step {
                id: step_id,
                action,
                preconditions,
                timeout_secs,
                expect,
                verify,
                rollback,
                next,
            });
        }
    }
    // Graph checks only make sense when every step parsed.
    if problems.borrow().is_empty() {
        check_graph(&steps, &mut problem);
    }
    let problems = problems.into_inner();
    if problems.is_empty() {
        Ok(Runbook {
            id,
            title,
            cause,
            description,
            steps,
        })
    } else {
        Err(problems)
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    value: Option<&toml::Value>,
    field: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<T> {
    match value {
        None => {
            problem(field, "missing".into());
            None
        }
        Some(value) => match value.clone().try_into::<T>() {
            Ok(decoded) => Some(decoded),
            Err(e) => {
                problem(field, e.message().to_owned());
                None
            }
        },
    }
}

/// Checks that an action table names a catalogue action with the right parameters, using
/// placeholder values for the variables.
fn check_action(
    table: &toml::Table,
    field: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<ActionTemplate> {
    let template = ActionTemplate {
        table: table.clone(),
    };
    let Some(kind_name) = table.get("type").and_then(|v| v.as_str()) else {
        problem(
            &format!("{field}.type"),
            "missing; expected a catalogue action name".into(),
        );
        return None;
    };
    if let Err(reason) = kind_name.parse::<ActionKind>() {
        problem(
            &format!("{field}.type"),
            format!("unknown action: {reason}"),
        );
        return None;
    }
    let mut ok = true;
    for var in template.variables() {
        if !KNOWN_VARIABLES.contains(&var.as_str()) {
            problem(
                field,
                format!(
                    "unknown variable ${{{var}}}; expected one of {}",
                    KNOWN_VARIABLES.join(", ")
                ),
            );
            ok = false;
        }
    }
    let sample: BTreeMap<String, String> = KNOWN_VARIABLES
        .iter()
        .map(|v| {
            (
                (*v).to_owned(),
                if *v == "replicas" {
                    "2".into()
                } else {
                    "x".into()
                },
            )
        })
        .collect();
    if ok {
        if let Err(reason) = template.render(&sample) {
            problem(
                field,
                format!("does not fit action {kind_name:?}: {reason}"),
            );
            ok = false;
        }
    }
    ok.then_some(template)
}

fn check_graph(steps: &[Step], problem: &mut impl FnMut(&str, String)) {
    let mut ids = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        if ids.insert(step.id.as_str(), i).is_some() {
            problem(
                &format!("step[{i}].id"),
                format!("duplicate step id {:?}", step.id),
            );
        }
    }
    let successor = |i: usize| -> Option<usize> {
        match &steps[i].next {
            Some(next) => ids.get(next.as_str()).copied(),
            None if i + 1 < steps.len() => Some(i + 1),
            None => None,
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if let Some(next) = &step.next {
            if !ids.contains_key(next.as_str()) {
                problem(
                    &format!("step[{i}].next"),
                    format!("no step with id {next:?}"),
                );
            }
        }
    }
    // Every step has at most one successor, so a cycle is a walk that revisits a step.
    for start in 0..steps.len() {
        let mut seen = BTreeSet::new();
        let mut at = Some(start);
        while let Some(i) = at {
            if !seen.insert(i) {
                problem(
                    &format!("step[{i}].next"),
                    format!(
                        "cycle: step {:?} is reached again from step {:?}",
                        steps[i].id, steps[start].id
                    ),
                );
                return;
            }
            at = successor(i);
        }
    }
}

/// Checks every `*.toml` in `dir` and, when `causes` is given, that each runbook's cause is in
/// the catalogue. Returns the runbooks that passed and every problem found.
pub fn check_dir(
    dir: &std::path::Path,
    causes: Option<&BTreeSet<String>>,
) -> std::io::Result<(Vec<Runbook>, Vec<RunbookProblem>)> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    entries.sort();
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for path in entries {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(RunbookProblem {
                    file: name,
                    field: "(file)".into(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        match parse(&name, &text) {
            Ok(runbook) => {
                if let Some(causes) = causes {
                    if !causes.contains(&runbook.cause) {
                        problems.push(RunbookProblem {
                            file: name.clone(),
                            field: "cause".into(),
                            reason: format!("{:?} is not in the incident catalogue", runbook.cause),
                        });
                        continue;
                    }
                }
                runbooks.push(runbook)
            }
            Err(found) => problems.extend(found),
        }
    }
    Ok((runbooks, problems))
}

#[cfg(test)]
mod tests;
