//! Tempo's JSON, as its HTTP API documentation shows it: the search response (`traces` with
//! `traceID`, `rootServiceName`, `rootTraceName`, `startTimeUnixNano` as a string,
//! `durationMs`) and a trace by id in OTLP JSON (`batches` of resource spans, each with
//! `resource.attributes` naming `service.name` and `scopeSpans` — `instrumentationLibrarySpans`
//! before Tempo 2 — holding spans). Outside data: never panics, unknown fields are ignored.

use serde_json::Value;

use crate::traces::{normalise_id, Span, Trace, TraceSummary};

/// Escapes a value for a TraceQL string literal.
pub fn traceql_string(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `{ resource.service.name = "checkout" }`, optionally only failed or slow spans.
pub fn traceql_for_service(service: &str, errors_only: bool) -> String {
    let mut query = format!("{{ resource.service.name = \"{}\"", traceql_string(service));
    if errors_only {
        query.push_str(" && status = error");
    }
    query.push_str(" }");
    query
}

fn decode(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))
}

/// A u64 written as a JSON number or (protobuf JSON's int64 style) a string.
fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `GET /api/search` → summaries. A non-2xx status is `Err((status, reason))`.
pub fn search(status: u16, body: &[u8]) -> Result<Vec<TraceSummary>, (u16, String)> {
    if !(200..300).contains(&status) {
        return Err((status, crate::http::snippet(body, 300)));
    }
    let document = decode(body).map_err(|reason| (status, reason))?;
    let traces = match document.get("traces") {
        Some(Value::Array(traces)) => traces,
        // Tempo omits an empty list.
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(_) => return Err((status, "`traces` is not a list".into())),
    };
    let mut out = Vec::new();
    for (i, trace) in traces.iter().enumerate() {
        let trace_id = trace
            .get("traceID")
            .and_then(Value::as_str)
            .and_then(normalise_id)
            .ok_or_else(|| {
                (
                    status,
                    format!("traces[{i}].traceID is missing or not an id"),
                )
            })?;
        out.push(TraceSummary {
            trace_id,
            root_service: text(trace.get("rootServiceName")),
            root_operation: text(trace.get("rootTraceName")),
            start_unix_nanos: number(trace.get("startTimeUnixNano")).unwrap_or_default(),
            duration_ms: number(trace.get("durationMs")).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn attribute_text<'a>(attributes: Option<&'a Value>, key: &str) -> Option<&'a str> {
    attributes?
        .as_array()?
        .iter()
        .find(|a| a.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")?
        .get("stringValue")?
        .as_str()
}

fn attribute_number(attributes: Option<&Value>, key: &str) -> Option<u64> {
    let value = attributes?
        .as_array()?
        .iter()
        .find(|a| a.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")?;
    number(value.get("intValue")).or_else(|| {
        value
            .get("stringValue")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    })
}

/// OTLP status code 2 (`STATUS_CODE_ERROR`), or an HTTP 5xx status attribute.
fn failed(span: &Value) -> bool {
    let code = span.get("status").and_then(|s| s.get("code"));
    let by_status = match code {
        Some(Value::Number(n)) => n.as_u64() == Some(2),
        Some(Value::String(s)) => s == "STATUS_CODE_ERROR" || s == "2",
        _ => false,
    };
    let attributes = span.get("attributes");
    let by_http = ["http.status_code", "http.response.status_code"]
        .iter()
        .any(|key| attribute_number(attributes, key).is_some_and(|code| code >= 500));
    by_status || by_http
}

/// `GET /api/traces/{id}` → the trace. Accepts `{"batches": …}` (v1 API), `{"trace":
/// {"resourceSpans": …}}` (v2 API) and bare `{"resourceSpans": …}`.
pub fn trace(status: u16, body: &[u8]) -> Result<Trace, (u16, String)> {
    if !(200..300).contains(&status) {
        return Err((status, crate::http::snippet(body, 300)));
    }
    let document = decode(body).map_err(|reason| (status, reason))?;
    let batches = document
        .get("batches")
        .or_else(|| document.get("resourceSpans"))
        .or_else(|| document.get("trace").and_then(|t| t.get("resourceSpans")))
        .and_then(Value::as_array)
        .ok_or_else(|| (status, "no `batches` or `resourceSpans` list".to_string()))?;
    let mut spans = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let service = attribute_text(
            batch.get("resource").and_then(|r| r.get("attributes")),
            "service.name",
        )
        .unwrap_or("unknown")
        .to_string();
        let scopes = batch
            .get("scopeSpans")
            .or_else(|| batch.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for scope in scopes {
            let list = scope
                .get("spans")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (s, span) in list.iter().enumerate() {
                let id = |key: &str| span.get(key).and_then(Value::as_str).and_then(normalise_id);
                let (Some(trace_id), Some(span_id)) = (id("traceId"), id("spanId")) else {
                    return Err((
                        status,
                        format!("batches[{b}] span {s}: traceId or spanId missing or not an id"),
                    ));
                };
                let start = number(span.get("startTimeUnixNano")).unwrap_or_default();
                let end = number(span.get("endTimeUnixNano")).unwrap_or(start);
                spans.push(Span {
                    trace_id,
                    span_id,
                    parent_span_id: id("parentSpanId"),
                    service: service.clone(),
                    operation: text(span.get("name")),
                    start_unix_nanos: start,
                    duration_nanos: end.saturating_sub(start),
                    error: failed(span),
                });
            }
        }
    }
    let trace_id = spans
        .first()
        .map(|s| s.trace_id.clone())
        .ok_or_else(|| (status, "the trace has no spans".to_string()))?;
    Ok(Trace { trace_id, spans })
}
