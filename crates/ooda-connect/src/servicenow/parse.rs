//! Pure encoding of ServiceNow Table API requests and decoding of its answers. Never panics on
//! what the server sends.

use ooda_core::{ChangeDraft, ChangeStatus, RiskClass};
use serde_json::{json, Map, Value};

use super::ServiceNowConfig;

/// The change_request `risk` choice values (1 = very high … 4 = low).
pub fn risk_value(risk: RiskClass) -> &'static str {
    match risk {
        RiskClass::Critical => "1",
        RiskClass::High => "2",
        RiskClass::Medium => "3",
        RiskClass::Low => "4",
    }
}

/// The POST body that opens a change request.
pub fn create_body(config: &ServiceNowConfig, draft: &ChangeDraft) -> Value {
    let mut body = Map::new();
    body.insert("short_description".into(), json!(draft.summary));
    body.insert("description".into(), json!(draft.description));
    body.insert("type".into(), json!(config.change_type));
    body.insert("risk".into(), json!(risk_value(draft.risk)));
    // A reference field set by display value: the request asks sysparm_input_display_value=true.
    body.insert("cmdb_ci".into(), json!(draft.host));
    body.insert("correlation_id".into(), json!(draft.action.to_string()));
    body.insert("correlation_display".into(), json!("ooda"));
    if let Some(group) = &config.assignment_group {
        body.insert("assignment_group".into(), json!(group));
    }
    if let Some(category) = &config.category {
        body.insert("category".into(), json!(category));
    }
    for (field, value) in &draft.fields {
        body.entry(field.clone()).or_insert_with(|| json!(value));
    }
    Value::Object(body)
}

/// The PATCH body that records progress or the outcome. Change states: -1 Implement, 0 Review;
/// an unknown outcome only adds a work note and leaves the change for a human.
pub fn update_body(status: ChangeStatus, note: &str) -> Value {
    match status {
        ChangeStatus::Implementing => json!({"state": "-1", "work_notes": note}),
        ChangeStatus::Succeeded => json!({
            "state": "0",
            "close_code": "successful",
            "close_notes": note,
            "work_notes": note,
        }),
        ChangeStatus::Failed => json!({
            "state": "0",
            "close_code": "unsuccessful",
            "close_notes": note,
            "work_notes": note,
        }),
        ChangeStatus::Unknown => {
            json!({"work_notes": format!("outcome unknown, needs a human: {note}")})
        }
    }
}

/// What went wrong, decoded from the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `sys_id` and `number` of the record.
    Record {
        sys_id: String,
        number: String,
    },
    /// ServiceNow's `{"error": {"message", "detail"}}`, or the raw body.
    Error {
        status: u16,
        message: String,
    },
    Malformed(String),
}

/// Decodes a Table API answer: `{"result": {...}}` on success.
pub fn answer(status: u16, body: &[u8]) -> Answer {
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    if !(200..300).contains(&status) {
        let message = parsed
            .ok()
            .and_then(|v| {
                let error = v.get("error")?;
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let detail = error
                    .get("detail")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some(if detail.is_empty() {
                    message.to_owned()
                } else {
                    format!("{message}: {detail}")
                })
            })
            .unwrap_or_else(|| crate::http::snippet(body, 200));
        return Answer::Error { status, message };
    }
    let Ok(value) = parsed else {
        return Answer::Malformed(format!(
            "expected JSON, found {:?}",
            crate::http::snippet(body, 80)
        ));
    };
    let Some(result) = value.get("result") else {
        return Answer::Malformed("expected an object with `result`".into());
    };
    let field = |name: &str| result.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field("sys_id"), field("number")) {
        (Some(sys_id), Some(number)) if !sys_id.is_empty() => Answer::Record { sys_id, number },
        _ => Answer::Malformed("`result` lacks `sys_id` or `number`".into()),
    }
}
