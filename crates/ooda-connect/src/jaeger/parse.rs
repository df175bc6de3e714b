//! Jaeger query-service JSON: every answer is wrapped as `{"data": …, "total", "limit",
//! "offset", "errors"}`. Services are a list of names; traces are `{"traceID", "spans",
//! "processes"}` with spans carrying `spanID`, `operationName`, `references` (`CHILD_OF`),
//! `startTime` and `duration` in microseconds, `tags` and a `processID` whose process names the
//! service; dependencies are `{"parent", "child", "callCount"}`. Never panics.

use serde_json::Value;

use crate::traces::{normalise_id, ServiceCall, Span, Trace};

type Failure = (u16, String);

/// The `data` member, or the wrapped `errors` as the reason.
fn data(status: u16, body: &[u8]) -> Result<Value, Failure> {
    let document: Value = match serde_json::from_slice(body) {
        Ok(document) => document,
        Err(_) if !(200..300).contains(&status) => {
            return Err((status, crate::http::snippet(body, 300)))
        }
        Err(error) => return Err((status, format!("not JSON: {error}"))),
    };
    if let Some(errors) = document.get("errors").and_then(Value::as_array) {
        if let Some(first) = errors.first() {
            let code = first
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(status);
            let message = first
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("error without a message");
            return Err((
                if (200..300).contains(&status) {
                    code
                } else {
                    status
                },
                message.to_string(),
            ));
        }
    }
    if !(200..300).contains(&status) {
        return Err((status, crate::http::snippet(body, 300)));
    }
    Ok(document.get("data").cloned().unwrap_or(Value::Null))
}

/// `GET /api/services` → service names.
pub fn services(status: u16, body: &[u8]) -> Result<Vec<String>, Failure> {
    match data(status, body)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(names) => Ok(names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()),
        _ => Err((status, "`data` is not a list of service names".into())),
    }
}

/// `GET /api/dependencies` → calls between services.
pub fn dependencies(status: u16, body: &[u8]) -> Result<Vec<ServiceCall>, Failure> {
    let links = match data(status, body)? {
        Value::Null => return Ok(Vec::new()),
        Value::Array(links) => links,
        _ => return Err((status, "`data` is not a list of dependency links".into())),
    };
    let mut calls = Vec::new();
    for (i, link) in links.iter().enumerate() {
        let name = |key: &str| {
            link.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(parent), Some(child)) = (name("parent"), name("child")) else {
            return Err((
                status,
                format!("data[{i}]: `parent` and `child` are required"),
            ));
        };
        calls.push(ServiceCall {
            caller: parent.to_string(),
            callee: child.to_string(),
            calls: link
                .get("callCount")
                .and_then(Value::as_u64)
                .unwrap_or_default(),
            errors: link
                .get("errorCount")
                .and_then(Value::as_u64)
                .unwrap_or_default(),
        });
    }
    Ok(calls)
}

fn tag<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span.get("tags")?
        .as_array()?
        .iter()
        .find(|t| t.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")
}

fn failed(span: &Value) -> bool {
    let error_tag = match tag(span, "error") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let otel = tag(span, "otel.status_code").and_then(Value::as_str) == Some("ERROR");
    let http = ["http.status_code", "http.response.status_code"]
        .iter()
        .any(|key| match tag(span, key) {
            Some(Value::Number(n)) => n.as_u64().is_some_and(|c| c >= 500),
            Some(Value::String(s)) => s.parse::<u64>().is_ok_and(|c| c >= 500),
            _ => false,
        });
    error_tag || otel || http
}

/// `GET /api/traces` (and `/api/traces/{id}`) → traces.
pub fn traces(status: u16, body: &[u8]) -> Result<Vec<Trace>, Failure> {
    let list = match data(status, body)? {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        _ => return Err((status, "`data` is not a list of traces".into())),
    };
    let mut out = Vec::new();
    for (t, trace) in list.iter().enumerate() {
        let trace_id = trace
            .get("traceID")
            .and_then(Value::as_str)
            .and_then(normalise_id)
            .ok_or_else(|| (status, format!("data[{t}].traceID is missing or not an id")))?;
        let processes = trace.get("processes");
        let mut spans = Vec::new();
        for (s, span) in trace
            .get("spans")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let span_id = span
                .get("spanID")
                .and_then(Value::as_str)
                .and_then(normalise_id)
                .ok_or_else(|| (status, format!("data[{t}].spans[{s}].spanID is missing")))?;
            let parent_span_id = span
                .get("references")
                .and_then(Value::as_array)
                .and_then(|refs| {
                    refs.iter()
                        .find(|r| r.get("refType").and_then(Value::as_str) == Some("CHILD_OF"))
                        .or(refs.first())
                })
                .and_then(|r| r.get("spanID"))
                .and_then(Value::as_str)
                .and_then(normalise_id);
            let service = span
                .get("processID")
                .and_then(Value::as_str)
                .and_then(|p| processes?.get(p))
                .and_then(|p| p.get("serviceName"))
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            let micros = |key: &str| span.get(key).and_then(Value::as_u64).unwrap_or_default();
            spans.push(Span {
                trace_id: trace_id.clone(),
                span_id,
                parent_span_id,
                service,
                operation: span
                    .get("operationName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                start_unix_nanos: micros("startTime").saturating_mul(1000),
                duration_nanos: micros("duration").saturating_mul(1000),
                error: failed(span),
            });
        }
        out.push(Trace { trace_id, spans });
    }
    Ok(out)
}
