//! What the trace integrations (Tempo, Jaeger) share: one span model, the service call graph
//! learnt from parent → child spans, and the spans worth citing as evidence (slowest and failed
//! spans of the services on a call path). Read-only: nothing here talks back to a tracer.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::http::HttpError;

/// One span, whichever tracer it came from. Ids are lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub service: String,
    pub operation: String,
    pub start_unix_nanos: u64,
    pub duration_nanos: u64,
    /// The span reported an error status (OTLP `STATUS_CODE_ERROR`, Jaeger `error=true`, an
    /// HTTP 5xx status attribute).
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<Span>,
}

/// One hit of a trace search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    pub trace_id: String,
    pub root_service: String,
    pub root_operation: String,
    pub start_unix_nanos: u64,
    pub duration_ms: u64,
}

/// Calls from one service to another, counted over traces (or read from a dependency store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCall {
    pub caller: String,
    pub callee: String,
    pub calls: u64,
    pub errors: u64,
}

/// A span cited as evidence, with a link a human can open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanEvidence {
    pub trace_id: String,
    pub span_id: String,
    pub service: String,
    pub operation: String,
    pub duration_ms: f64,
    pub error: bool,
    pub link: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{source_name}: {error}")]
    Http {
        source_name: String,
        #[source]
        error: HttpError,
    },
    #[error("{source_name}: HTTP {status}: {reason}")]
    Status {
        source_name: String,
        status: u16,
        reason: String,
    },
    #[error("{source_name}: response does not decode: {reason}")]
    Decode { source_name: String, reason: String },
}

/// Service-to-service calls from parent → child spans whose services differ (a span calling
/// into its own service is not an edge). Sorted by caller, callee.
pub fn service_calls(traces: &[Trace]) -> Vec<ServiceCall> {
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for trace in traces {
        let by_id: BTreeMap<&str, &Span> = trace
            .spans
            .iter()
            .map(|span| (span.span_id.as_str(), span))
            .collect();
        for span in &trace.spans {
            let Some(parent) = span.parent_span_id.as_deref().and_then(|id| by_id.get(id)) else {
                continue;
            };
            if parent.service == span.service {
                continue;
            }
            let entry = counts
                .entry((parent.service.clone(), span.service.clone()))
                .or_default();
            entry.0 += 1;
            entry.1 += u64::from(span.error);
        }
    }
    counts
        .into_iter()
        .map(|((caller, callee), (calls, errors))| ServiceCall {
            caller,
            callee,
            calls,
            errors,
        })
        .collect()
}

/// The spans to show for a call path: per service on `path`, its slowest span and its first
/// failed span across `traces`, at most `limit` in all, errors first, then slowest first.
/// `link` turns a trace id into a URL.
pub fn spans_on_path(
    traces: &[Trace],
    path: &[String],
    limit: usize,
    link: impl Fn(&str) -> String,
) -> Vec<SpanEvidence> {
    let on_path: BTreeSet<&str> = path.iter().map(String::as_str).collect();
    let mut slowest: BTreeMap<&str, &Span> = BTreeMap::new();
    let mut failed: BTreeMap<&str, &Span> = BTreeMap::new();
    for span in traces.iter().flat_map(|t| &t.spans) {
        if !on_path.contains(span.service.as_str()) {
            continue;
        }
        let slot = slowest.entry(span.service.as_str()).or_insert(span);
        if span.duration_nanos > slot.duration_nanos {
            *slot = span;
        }
        if span.error {
            failed.entry(span.service.as_str()).or_insert(span);
        }
    }
    let mut chosen: Vec<&Span> = failed.values().copied().collect();
    for span in slowest.values() {
        if !chosen
            .iter()
            .any(|c| c.span_id == span.span_id && c.trace_id == span.trace_id)
        {
            chosen.push(span);
        }
    }
    chosen.sort_by(|a, b| {
        b.error
            .cmp(&a.error)
            .then_with(|| b.duration_nanos.cmp(&a.duration_nanos))
            .then_with(|| a.span_id.cmp(&b.span_id))
    });
    chosen
        .into_iter()
        .take(limit)
        .map(|span| SpanEvidence {
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            service: span.service.clone(),
            operation: span.operation.clone(),
            duration_ms: span.duration_nanos as f64 / 1e6,
            error: span.error,
            link: link(&span.trace_id),
        })
        .collect()
}

/// A trace or span id as lowercase hex: hex passes through (any case), base64 (as protobuf
/// JSON writes bytes) is decoded. `None` for anything else.
pub fn normalise_id(id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    if id.len().is_multiple_of(2) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(id.to_ascii_lowercase());
    }
    let bytes = decode_base64(id)?;
    if bytes.is_empty() {
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, service: &str, ms: u64, error: bool) -> Span {
        Span {
            trace_id: "t1".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_string),
            service: service.into(),
            operation: format!("{service} op"),
            start_unix_nanos: 0,
            duration_nanos: ms * 1_000_000,
            error,
        }
    }

    #[test]
    fn calls_and_path_evidence() {
        let trace = Trace {
            trace_id: "t1".into(),
            spans: vec![
                span("a", None, "checkout", 900, true),
                span("b", Some("a"), "checkout", 880, false),
                span("c", Some("b"), "payments", 850, true),
                span("d", Some("c"), "payments-db", 800, true),
                span("e", Some("a"), "search", 20, false),
            ],
        };
        let calls = service_calls(std::slice::from_ref(&trace));
        let pairs: Vec<_> = calls
            .iter()
            .map(|c| (c.caller.as_str(), c.callee.as_str(), c.errors))
            .collect();
        assert_eq!(
            pairs,
            [
                ("checkout", "payments", 1),
                ("checkout", "search", 0),
                ("payments", "payments-db", 1)
            ]
        );
        let path = ["payments".to_string(), "payments-db".to_string()];
        let evidence = spans_on_path(&[trace], &path, 3, |id| format!("http://t/{id}"));
        assert_eq!(evidence.len(), 2);
        assert_eq!(evidence[0].service, "payments");
        assert!(evidence.iter().all(|e| e.error && e.link == "http://t/t1"));
    }

    #[test]
    fn ids_in_hex_or_base64() {
        assert_eq!(
            normalise_id("5B8EFFF798038103").as_deref(),
            Some("5b8efff798038103")
        );
        // Protobuf JSON writes bytes as base64.
        assert_eq!(
            normalise_id("AAAAAAAAAABjR9Dv0vC7Xg==").as_deref(),
            Some("00000000000000006347d0efd2f0bb5e")
        );
        assert_eq!(normalise_id(""), None);
        assert_eq!(normalise_id("not an id!"), None);
    }
}
