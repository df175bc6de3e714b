//! Pure encoding of Jira REST requests and decoding of its answers. Never panics on what the
//! server sends.

use ooda_core::ChangeDraft;
use serde_json::{json, Value};

use super::JiraConfig;

/// Text as the API version wants it: a string for v2, an Atlassian Document (one paragraph per
/// line) for v3.
pub fn text(api_version: u8, text: &str) -> Value {
    if api_version < 3 {
        return json!(text);
    }
    let paragraphs: Vec<Value> = text
        .lines()
        .map(|line| {
            if line.is_empty() {
                json!({"type": "paragraph", "content": []})
            } else {
                json!({"type": "paragraph", "content": [{"type": "text", "text": line}]})
            }
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// The POST /issue body.
pub fn create_body(config: &JiraConfig, draft: &ChangeDraft) -> Value {
    let description = format!(
        "{}\n\nhost: {}\nrisk: {}\nooda action: {}",
        draft.description,
        draft.host,
        draft.risk.as_str(),
        draft.action
    );
    let mut fields = json!({
        "project": {"key": config.project},
        "summary": draft.summary,
        "issuetype": {"name": config.issue_type},
        "labels": config.labels,
        "description": text(config.api_version, &description),
    });
    if let Some(map) = fields.as_object_mut() {
        for (field, value) in &draft.fields {
            map.entry(field.clone()).or_insert_with(|| json!(value));
        }
    }
    json!({"fields": fields})
}

/// The POST /issue/{key}/comment body.
pub fn comment_body(api_version: u8, note: &str) -> Value {
    json!({"body": text(api_version, note)})
}

/// The POST /issue/{key}/transitions body.
pub fn transition_body(id: &str) -> Value {
    json!({"transition": {"id": id}})
}

/// Jira's error shape `{"errorMessages": [...], "errors": {"field": "message"}}`, flattened.
pub fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return crate::http::snippet(body, 200);
    };
    let mut parts: Vec<String> = value
        .get("errorMessages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(errors) = value.get("errors").and_then(Value::as_object) {
        for (field, message) in errors {
            parts.push(format!("{field}: {}", message.as_str().unwrap_or_default()));
        }
    }
    if parts.is_empty() {
        crate::http::snippet(body, 200)
    } else {
        parts.join("; ")
    }
}

/// `id` and `key` of a created issue (`{"id": "10000", "key": "OPS-24", "self": …}`).
pub fn created(body: &[u8]) -> Result<(String, String), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("expected JSON: {e}"))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match (field("id"), field("key")) {
        (Some(id), Some(key)) => Ok((id, key)),
        _ => Err("expected `id` and `key` in the created issue".into()),
    }
}

/// The id of the transition named `name` (case-insensitive) among those the issue offers, or the
/// names that are offered.
pub fn transition_id(body: &[u8], name: &str) -> Result<String, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("expected JSON: {e}"))?;
    let transitions = value
        .get("transitions")
        .and_then(Value::as_array)
        .ok_or_else(|| "expected `transitions`".to_owned())?;
    let mut offered = Vec::new();
    for transition in transitions {
        let Some(transition_name) = transition.get("name").and_then(Value::as_str) else {
            continue;
        };
        if transition_name.eq_ignore_ascii_case(name) {
            return transition
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("transition {name:?} has no id"));
        }
        offered.push(transition_name.to_owned());
    }
    Err(format!(
        "no transition named {name:?} is available (offered: {})",
        offered.join(", ")
    ))
}
