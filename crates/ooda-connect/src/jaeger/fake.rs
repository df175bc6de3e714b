//! A wire-exact fake Jaeger query service for tests: `/api/services`, `/api/traces` and
//! `/api/dependencies` from a set of traces, in the wrapped `{"data", "total", "limit",
//! "offset", "errors"}` shape the query service answers with (an unknown service gets the
//! documented 400 with an `errors` list).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::traces::{service_calls, Trace};

#[derive(Debug, Clone, Default)]
pub struct FakeJaeger {
    traces: Vec<Trace>,
}

fn wrapped(data: Value) -> String {
    let total = data.as_array().map(Vec::len).unwrap_or_default();
    json!({"data": data, "total": total, "limit": 0, "offset": 0, "errors": null}).to_string()
}

impl FakeJaeger {
    pub fn new(traces: Vec<Trace>) -> Self {
        Self { traces }
    }

    pub async fn serve(self) -> String {
        crate::testkit::serve(self.router()).await
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/api/services", get(services))
            .route("/api/traces", get(traces))
            .route("/api/dependencies", get(dependencies))
            .with_state(Arc::new(self))
    }

    fn services(&self) -> BTreeSet<&str> {
        self.traces
            .iter()
            .flat_map(|t| &t.spans)
            .map(|s| s.service.as_str())
            .collect()
    }
}

async fn services(State(jaeger): State<Arc<FakeJaeger>>) -> (StatusCode, String) {
    (StatusCode::OK, wrapped(json!(jaeger.services())))
}

fn render(trace: &Trace) -> Value {
    let services: Vec<&str> = {
        let set: BTreeSet<&str> = trace.spans.iter().map(|s| s.service.as_str()).collect();
        set.into_iter().collect()
    };
    let process_of = |service: &str| {
        format!(
            "p{}",
            services
                .iter()
                .position(|s| *s == service)
                .unwrap_or_default()
                + 1
        )
    };
    let spans: Vec<Value> = trace
        .spans
        .iter()
        .map(|s| {
            let references = match &s.parent_span_id {
                Some(parent) => {
                    json!([{"refType": "CHILD_OF", "traceID": trace.trace_id, "spanID": parent}])
                }
                None => json!([]),
            };
            let mut tags = vec![json!({"key": "span.kind", "type": "string", "value": "server"})];
            if s.error {
                tags.push(json!({"key": "error", "type": "bool", "value": true}));
            }
            json!({
                "traceID": trace.trace_id,
                "spanID": s.span_id,
                "flags": 1,
                "operationName": s.operation,
                "references": references,
                "startTime": s.start_unix_nanos / 1000,
                "duration": s.duration_nanos / 1000,
                "tags": tags,
                "logs": [],
                "processID": process_of(&s.service),
                "warnings": null,
            })
        })
        .collect();
    let processes: BTreeMap<String, Value> = services
        .iter()
        .map(|s| {
            (
                process_of(s),
                json!({"serviceName": s, "tags": [{"key": "hostname", "type": "string", "value": format!("{s}-0")}]}),
            )
        })
        .collect();
    json!({"traceID": trace.trace_id, "spans": spans, "processes": processes, "warnings": null})
}

async fn traces(
    State(jaeger): State<Arc<FakeJaeger>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> (StatusCode, String) {
    let Some(service) = params.get("service").filter(|s| !s.is_empty()) else {
        let body = json!({"data": null, "total": 0, "limit": 0, "offset": 0,
            "errors": [{"code": 400, "msg": "parameter 'service' is required"}]});
        return (StatusCode::BAD_REQUEST, body.to_string());
    };
    let micros = |key: &str| params.get(key).and_then(|v| v.parse::<u64>().ok());
    let (start, end) = (
        micros("start").unwrap_or(0),
        micros("end").unwrap_or(u64::MAX),
    );
    let limit = params
        .get("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(20);
    let found: Vec<Value> = jaeger
        .traces
        .iter()
        .filter(|t| t.spans.iter().any(|s| &s.service == service))
        .filter(|t| {
            t.spans
                .iter()
                .map(|s| s.start_unix_nanos / 1000)
                .min()
                .is_some_and(|at| at >= start && at <= end)
        })
        .take(limit)
        .map(render)
        .collect();
    (StatusCode::OK, wrapped(Value::Array(found)))
}

async fn dependencies(State(jaeger): State<Arc<FakeJaeger>>) -> (StatusCode, String) {
    let links: Vec<Value> = service_calls(&jaeger.traces)
        .into_iter()
        .map(|c| json!({"parent": c.caller, "child": c.callee, "callCount": c.calls}))
        .collect();
    (StatusCode::OK, wrapped(Value::Array(links)))
}
