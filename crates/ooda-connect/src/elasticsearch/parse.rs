//! The `_search` request (query DSL) ooda sends and the response it reads: `hits.hits[]._source`
//! for the lines, `timed_out` and `_shards.failed` for completeness, and the
//! `{"error":{"type","reason"},"status"}` shape for failures.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::config::ElasticsearchConfig;
use crate::logs::{LogBatch, LogLine, LogQuery};

/// The search body: a time range filter, host/service term filters, and (for errors) a
/// `query_string` over the message field; newest first; only the fields ooda reads.
pub fn search_body(config: &ElasticsearchConfig, query: &LogQuery) -> Value {
    let mut filter = vec![json!({
        "range": { config.time_field.as_str(): {
            "gte": query.start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lte": query.end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "format": "strict_date_optional_time"
        }}
    })];
    if let Some(host) = &query.host {
        filter.push(json!({ "term": { config.host_field.as_str(): host } }));
    }
    if let Some(service) = &query.service {
        filter.push(json!({ "term": { config.service_field.as_str(): service } }));
    }
    let mut must = Vec::new();
    if query.errors_only {
        must.push(json!({ "query_string": {
            "query": "error OR fail* OR fatal OR panic OR exception OR critical OR timeout OR refused OR denied OR oom",
            "default_field": config.message_field,
        }}));
    }
    json!({
        "size": query.limit,
        "sort": [{ config.time_field.as_str(): { "order": "desc" } }],
        "track_total_hits": false,
        "_source": [config.time_field, config.message_field, config.host_field, config.service_field],
        "query": { "bool": { "filter": filter, "must": must } }
    })
}

#[derive(Debug, Deserialize)]
struct Response {
    #[serde(default)]
    timed_out: bool,
    #[serde(rename = "_shards", default)]
    shards: Option<Shards>,
    hits: Hits,
}

#[derive(Debug, Deserialize)]
struct Shards {
    #[serde(default)]
    failed: u64,
}

#[derive(Debug, Deserialize)]
struct Hits {
    #[serde(default)]
    hits: Vec<Hit>,
}

#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "_source", default)]
    source: Value,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorDetail {
    Typed {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        reason: String,
    },
    Text(String),
}

/// A field by dotted path: `{"host":{"name":"x"}}` or `{"host.name":"x"}` both answer `x`.
fn field<'a>(source: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = source.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    field(source.get(head)?, rest)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        // `message` can be an array in some pipelines; take the first.
        Value::Array(items) => items.first().and_then(text),
        other => Some(other.to_string()),
    }
}

fn time_of(value: &Value) -> Option<ooda_core::Timestamp> {
    match value {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok()
            .or_else(|| s.parse::<i64>().ok().map(ooda_core::clock::from_millis)),
        Value::Number(n) => n.as_i64().map(ooda_core::clock::from_millis),
        _ => None,
    }
}

/// Reads a response; `Err((status, reason))` carries the error's `type: reason`.
pub fn response(
    config: &ElasticsearchConfig,
    status: u16,
    body: &[u8],
) -> Result<LogBatch, (u16, String)> {
    if !(200..300).contains(&status) {
        let reason = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody {
                error: ErrorDetail::Typed { kind, reason },
            }) => format!("{kind}: {reason}"),
            Ok(ErrorBody {
                error: ErrorDetail::Text(text),
            }) => text,
            Err(_) => crate::http::snippet(body, 300),
        };
        return Err((status, reason));
    }
    let parsed: Response = serde_json::from_slice(body).map_err(|e| {
        (
            status,
            format!(
                "expected a _search response: {e}; body {:?}",
                crate::http::snippet(body, 200)
            ),
        )
    })?;
    let mut batch = LogBatch::default();
    let failed_shards = parsed.shards.map(|s| s.failed).unwrap_or(0);
    if parsed.timed_out {
        batch
            .warnings
            .push("search timed out; results are partial".into());
    }
    if failed_shards > 0 {
        batch.warnings.push(format!(
            "{failed_shards} shard(s) failed; results are partial"
        ));
    }
    batch.partial = parsed.timed_out || failed_shards > 0;
    for hit in parsed.hits.hits {
        let Some(line) = field(&hit.source, &config.message_field).and_then(text) else {
            continue;
        };
        let Some(time) = field(&hit.source, &config.time_field).and_then(time_of) else {
            batch
                .warnings
                .push("skipped a hit without a readable time field".into());
            continue;
        };
        let mut labels = BTreeMap::new();
        for (name, path) in [
            ("host", &config.host_field),
            ("service", &config.service_field),
        ] {
            if let Some(value) = field(&hit.source, path).and_then(text) {
                labels.insert(name.to_owned(), value);
            }
        }
        batch.lines.push(LogLine { time, line, labels });
    }
    Ok(batch)
}
