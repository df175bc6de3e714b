//! Loki's `query_range` answer for log queries (`resultType: "streams"`) and its errors, which
//! are plain text for bad LogQL and JSON envelopes elsewhere. Also builds the LogQL.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::logs::{LogBatch, LogLine, LogQuery};

#[derive(Debug, Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    #[serde(default)]
    result: Vec<Stream>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    /// `["<ns>", "<line>"]`, plus a structured-metadata object in Loki 3.
    #[serde(default)]
    values: Vec<Vec<serde_json::Value>>,
}

/// LogQL string literal: backslash and double quote escaped.
fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The LogQL for a query: a selector on host and/or service (or the configured default), and a
/// case-insensitive error filter when asked.
pub fn logql(
    query: &LogQuery,
    host_label: &str,
    service_label: &str,
    default_selector: &str,
) -> String {
    let mut matchers = Vec::new();
    if let Some(host) = &query.host {
        matchers.push(format!("{host_label}={}", literal(host)));
    }
    if let Some(service) = &query.service {
        matchers.push(format!("{service_label}={}", literal(service)));
    }
    let mut out = if matchers.is_empty() {
        default_selector.to_owned()
    } else {
        format!("{{{}}}", matchers.join(","))
    };
    if query.errors_only {
        out.push_str(
            r#" |~ "(?i)(error|fail|fatal|panic|exception|critical|timeout|refused|denied|oom)""#,
        );
    }
    out
}

/// Reads a response body; `status` matters only when the body is not Loki's JSON.
pub fn response(status: u16, body: &[u8], limit: usize) -> Result<LogBatch, (u16, String)> {
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(e) => {
            let text = crate::http::snippet(body, 300);
            return Err((
                status,
                if (200..300).contains(&status) {
                    format!("expected Loki's JSON: {e}; body {text:?}")
                } else {
                    text
                },
            ));
        }
    };
    if envelope.status != "success" {
        let kind = envelope.error_type.unwrap_or_else(|| "error".into());
        return Err((
            status,
            format!("{kind}: {}", envelope.error.unwrap_or_default()),
        ));
    }
    let Some(data) = envelope.data else {
        return Err((status, "expected \"data\" in a success response".into()));
    };
    if data.result_type != "streams" {
        return Err((
            status,
            format!(
                "expected resultType \"streams\" for a log query, found {:?}",
                data.result_type
            ),
        ));
    }
    let mut lines = Vec::new();
    let mut warnings = envelope.warnings;
    for stream in data.result {
        for entry in stream.values {
            let (Some(ns), Some(line)) = (
                entry.first().and_then(|v| v.as_str()),
                entry.get(1).and_then(|v| v.as_str()),
            ) else {
                warnings.push("skipped an entry that is not [\"<ns>\", \"<line>\"]".into());
                continue;
            };
            let Ok(ns) = ns.parse::<i64>() else {
                warnings.push(format!(
                    "skipped a line with timestamp {ns:?} (expected nanoseconds)"
                ));
                continue;
            };
            let line = line.to_owned();
            lines.push(LogLine {
                time: ooda_core::clock::from_millis(ns.div_euclid(1_000_000)),
                line,
                labels: stream.stream.clone(),
            });
        }
    }
    // Streams arrive grouped by label set; newest first across all of them.
    lines.sort_by_key(|l| std::cmp::Reverse(l.time));
    let partial = lines.len() >= limit;
    lines.truncate(limit);
    Ok(LogBatch {
        lines,
        partial,
        warnings,
    })
}
