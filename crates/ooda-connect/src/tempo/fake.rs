//! A wire-exact fake Tempo for tests: serves `/api/search` and `/api/traces/{id}` from a set of
//! traces, in the JSON shapes Tempo's API documentation shows (search hits with `traceID`,
//! `rootServiceName`, `rootTraceName`, `startTimeUnixNano` as a string, `durationMs`, and a
//! `spanSets` list; traces as OTLP JSON `batches` with `scopeSpans`). Search understands the
//! one TraceQL shape ooda sends (`resource.service.name = "…"`, optional `status = error`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::traces::{Span, Trace};

/// The traces a fake Tempo holds.
#[derive(Debug, Clone, Default)]
pub struct FakeTempo {
    traces: Vec<Trace>,
}

impl FakeTempo {
    pub fn new(traces: Vec<Trace>) -> Self {
        Self { traces }
    }

    /// Serves on a free loopback port; returns the base URL. The server lives as long as the
    /// runtime.
    pub async fn serve(self) -> String {
        crate::testkit::serve(self.router()).await
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/api/search", get(search))
            .route("/api/traces/:id", get(trace))
            .with_state(Arc::new(self))
    }
}

fn root(trace: &Trace) -> Option<&Span> {
    trace
        .spans
        .iter()
        .find(|s| s.parent_span_id.is_none())
        .or(trace.spans.first())
}

/// The service a TraceQL query names, and whether it asks for errors only.
fn understand(q: &str) -> (Option<String>, bool) {
    let service = q
        .split("resource.service.name = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string);
    (service, q.contains("status = error"))
}

async fn search(
    State(tempo): State<Arc<FakeTempo>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> (StatusCode, String) {
    let q = params.get("q").cloned().unwrap_or_default();
    let looks_like_traceql = q.trim_start().starts_with('{') && q.trim_end().ends_with('}');
    if !q.is_empty() && !looks_like_traceql {
        return (
            StatusCode::BAD_REQUEST,
            format!("invalid TraceQL query: parse error at line 1, col 1: syntax error: unexpected IDENTIFIER in {q}"),
        );
    }
    let (service, errors_only) = understand(&q);
    let seconds = |key: &str| params.get(key).and_then(|v| v.parse::<u64>().ok());
    let (start, end) = (
        seconds("start").unwrap_or(0),
        seconds("end").unwrap_or(u64::MAX),
    );
    let limit = params
        .get("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(20);
    let mut hits = Vec::new();
    for trace in &tempo.traces {
        let matching: Vec<&Span> = trace
            .spans
            .iter()
            .filter(|s| service.as_ref().is_none_or(|name| &s.service == name))
            .filter(|s| !errors_only || s.error)
            .collect();
        let Some(root) = root(trace) else { continue };
        let at = root.start_unix_nanos / 1_000_000_000;
        if matching.is_empty() || at < start || at > end {
            continue;
        }
        hits.push(json!({
            "traceID": trace.trace_id,
            "rootServiceName": root.service,
            "rootTraceName": root.operation,
            "startTimeUnixNano": root.start_unix_nanos.to_string(),
            "durationMs": root.duration_nanos / 1_000_000,
            "spanSets": [{
                "spans": matching.iter().map(|s| json!({
                    "spanID": s.span_id,
                    "startTimeUnixNano": s.start_unix_nanos.to_string(),
                    "durationNanos": s.duration_nanos.to_string(),
                    "attributes": [{"key": "service.name", "value": {"stringValue": s.service}}],
                })).collect::<Vec<Value>>(),
                "matched": matching.len(),
            }],
        }));
        if hits.len() >= limit {
            break;
        }
    }
    let body = json!({
        "traces": hits,
        "metrics": {"inspectedTraces": tempo.traces.len(), "inspectedBytes": "1024"},
    });
    (StatusCode::OK, body.to_string())
}

async fn trace(
    State(tempo): State<Arc<FakeTempo>>,
    Path(id): Path<String>,
) -> (StatusCode, String) {
    let wanted = id.to_ascii_lowercase();
    let Some(trace) = tempo.traces.iter().find(|t| t.trace_id == wanted) else {
        return (StatusCode::NOT_FOUND, "trace not found".into());
    };
    let mut by_service: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for span in &trace.spans {
        by_service
            .entry(span.service.as_str())
            .or_default()
            .push(span);
    }
    let batches: Vec<Value> = by_service
        .into_iter()
        .map(|(service, spans)| {
            json!({
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": service}},
                    {"key": "telemetry.sdk.language", "value": {"stringValue": "go"}},
                ]},
                "scopeSpans": [{
                    "scope": {"name": "go.opentelemetry.io/otel/sdk/trace", "version": "1.21.0"},
                    "spans": spans.iter().map(|s| json!({
                        "traceId": s.trace_id.to_ascii_uppercase(),
                        "spanId": s.span_id.to_ascii_uppercase(),
                        "parentSpanId": s.parent_span_id.clone().unwrap_or_default().to_ascii_uppercase(),
                        "name": s.operation,
                        "kind": 2,
                        "startTimeUnixNano": s.start_unix_nanos.to_string(),
                        "endTimeUnixNano": (s.start_unix_nanos + s.duration_nanos).to_string(),
                        "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}],
                        "status": if s.error { json!({"code": 2, "message": "connection refused"}) } else { json!({}) },
                    })).collect::<Vec<Value>>(),
                }],
            })
        })
        .collect();
    (StatusCode::OK, json!({ "batches": batches }).to_string())
}
