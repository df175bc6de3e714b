//! The Prometheus HTTP API's JSON envelope and result types, as documented for `/api/v1/query`,
//! `/api/v1/query_range` and `/api/v1/series`; VictoriaMetrics answers in the same shapes and
//! adds `isPartial`.
//!
//! Never trusts the body: every shape error is a [`PromError::Decode`] quoting a short snippet.

use std::collections::BTreeMap;

use ooda_core::{Labels, Sample, SeriesKey};
use serde::Deserialize;

use super::PromError;
use crate::http;

/// The envelope every endpoint answers with.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    /// Prometheus ≥ 2.45 sends informational notes here.
    #[serde(default)]
    infos: Vec<String>,
    /// VictoriaMetrics: some storage nodes did not answer.
    #[serde(rename = "isPartial", default)]
    is_partial: bool,
}

/// A successful answer with what the server said about its quality.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    pub data: T,
    /// Server warnings (and infos), e.g. "PromQL info: metric might not be a counter".
    pub warnings: Vec<String>,
    /// True when the server says the answer is incomplete (VictoriaMetrics `isPartial`, or a
    /// Thanos/Prometheus warning about a partial response).
    pub partial: bool,
}

/// One series with its points, in milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// All labels, including `__name__` when the result kept it.
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// The ooda identity: `__name__` becomes the metric (or `fallback_name` for expressions
    /// that dropped it), and a `host` label is derived from `instance` when missing, so
    /// [`SeriesKey::host`] works for node-exporter targets.
    pub fn key(&self, fallback_name: &str) -> SeriesKey {
        let mut labels = Labels::new();
        let mut name = fallback_name;
        for (k, v) in &self.labels {
            if k == "__name__" {
                name = v;
            } else {
                labels.insert(k.as_str(), v.as_str());
            }
        }
        if labels.get("host").is_none() {
            if let Some(instance) = self.labels.get("instance") {
                labels.insert("host", host_of_instance(instance));
            }
        }
        SeriesKey::new(name, labels)
    }

    /// The points as ooda samples (non-finite values dropped: baselines cannot learn from them).
    pub fn samples(&self, fallback_name: &str) -> Vec<Sample> {
        let key = self.key(fallback_name);
        self.points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|&(time_ms, value)| Sample {
                series: key.clone(),
                time_ms,
                value,
            })
            .collect()
    }
}

/// `10.0.0.1:9100` → `10.0.0.1`, `[::1]:9100` → `::1`, `web-1` → `web-1`.
pub fn host_of_instance(instance: &str) -> &str {
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match instance.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => instance,
    }
}

/// What an instant query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// One point per series.
    Vector(Vec<Series>),
    Matrix(Vec<Series>),
    Scalar(i64, f64),
    String(i64, String),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RawData {
    Vector(Vec<RawInstant>),
    Matrix(Vec<RawRange>),
    Scalar(RawPoint),
    String((f64, String)),
}

#[derive(Debug, Deserialize)]
struct RawInstant {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// Absent for native-histogram samples (`histogram`), which ooda does not read yet.
    #[serde(default)]
    value: Option<RawPoint>,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<RawPoint>,
}

/// `[1435781451.781, "1"]`: seconds as a number, the value as a string (so NaN and ±Inf fit).
#[derive(Debug, Deserialize)]
struct RawPoint(f64, String);

impl RawPoint {
    fn convert(&self) -> Result<(i64, f64), String> {
        let value = self
            .1
            .parse::<f64>()
            .map_err(|_| format!("expected a numeric sample value, found {:?}", self.1))?;
        Ok((seconds_to_ms(self.0), value))
    }
}

fn seconds_to_ms(seconds: f64) -> i64 {
    let ms = (seconds * 1000.0).round();
    if ms.is_finite() {
        ms.clamp(i64::MIN as f64, i64::MAX as f64) as i64
    } else {
        0
    }
}

fn partial_warning(warnings: &[String]) -> bool {
    warnings
        .iter()
        .any(|w| w.to_ascii_lowercase().contains("partial"))
}

/// Decodes the envelope of any endpoint; HTTP status only matters when the body is not the
/// API's JSON (a proxy's HTML error page, an empty 502).
fn envelope<T: for<'de> Deserialize<'de>>(
    status: u16,
    body: &[u8],
) -> Result<(T, Vec<String>, bool), PromError> {
    let parsed: Envelope<T> = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(e) => {
            if !(200..300).contains(&status) {
                return Err(PromError::Status {
                    status,
                    body: http::snippet(body, 300),
                });
            }
            return Err(PromError::Decode {
                reason: e.to_string(),
                body: http::snippet(body, 300),
            });
        }
    };
    if parsed.status != "success" {
        return Err(PromError::Api {
            status,
            error_type: parsed.error_type.unwrap_or_else(|| "unknown".into()),
            error: parsed.error.unwrap_or_default(),
        });
    }
    let Some(data) = parsed.data else {
        return Err(PromError::Decode {
            reason: "expected \"data\" in a success response, found none".into(),
            body: http::snippet(body, 300),
        });
    };
    let mut warnings = parsed.warnings;
    warnings.extend(parsed.infos);
    let partial = parsed.is_partial || partial_warning(&warnings);
    Ok((data, warnings, partial))
}

fn decode_error(reason: String, body: &[u8]) -> PromError {
    PromError::Decode {
        reason,
        body: http::snippet(body, 300),
    }
}

/// `/api/v1/query`.
pub fn query(status: u16, body: &[u8]) -> Result<Response<QueryValue>, PromError> {
    let (data, warnings, partial) = envelope::<RawData>(status, body)?;
    let value = match data {
        RawData::Vector(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let points = match &item.value {
                    Some(point) => vec![point.convert().map_err(|r| decode_error(r, body))?],
                    None => Vec::new(),
                };
                out.push(Series {
                    labels: item.metric,
                    points,
                });
            }
            QueryValue::Vector(out)
        }
        RawData::Matrix(items) => QueryValue::Matrix(matrix(items, body)?),
        RawData::Scalar(point) => {
            let (t, v) = point.convert().map_err(|r| decode_error(r, body))?;
            QueryValue::Scalar(t, v)
        }
        RawData::String((t, s)) => QueryValue::String(seconds_to_ms(t), s),
    };
    Ok(Response {
        data: value,
        warnings,
        partial,
    })
}

fn matrix(items: Vec<RawRange>, body: &[u8]) -> Result<Vec<Series>, PromError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut points = Vec::with_capacity(item.values.len());
        for point in &item.values {
            points.push(point.convert().map_err(|r| decode_error(r, body))?);
        }
        out.push(Series {
            labels: item.metric,
            points,
        });
    }
    Ok(out)
}

/// `/api/v1/query_range`: always a matrix.
pub fn query_range(status: u16, body: &[u8]) -> Result<Response<Vec<Series>>, PromError> {
    let (data, warnings, partial) = envelope::<RawData>(status, body)?;
    let RawData::Matrix(items) = data else {
        return Err(decode_error(
            "expected resultType \"matrix\" from a range query".into(),
            body,
        ));
    };
    Ok(Response {
        data: matrix(items, body)?,
        warnings,
        partial,
    })
}

/// `/api/v1/series`: label sets.
pub fn series(
    status: u16,
    body: &[u8],
) -> Result<Response<Vec<BTreeMap<String, String>>>, PromError> {
    let (data, warnings, partial) = envelope::<Vec<BTreeMap<String, String>>>(status, body)?;
    Ok(Response {
        data,
        warnings,
        partial,
    })
}
