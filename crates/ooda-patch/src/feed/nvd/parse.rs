//! NVD CVE API 2.0 records: an API page (`{"vulnerabilities":[{"cve":…}],…}`), a single
//! `{"cve":…}` object, or JSON lines of them. The metrics zoo is reduced to one CVSS score:
//! v4.0 → v3.1 → v3.0 → v2, the `Primary` (NVD) score first within a version, else a CNA's.

use serde::Deserialize;
use serde_json::Value;

use crate::feed::{CpeRange, CveRecord, Cvss, Parsed};

/// The paging envelope of the CVE API 2.0.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub results_per_page: u64,
    pub start_index: u64,
    pub total_results: u64,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub vulnerabilities: Vec<Value>,
}

/// Parses one API page. The envelope must be whole (a truncated page is an error, so it is
/// never applied); a bad record inside it is skipped and counted.
pub fn parse_page(text: &str) -> Result<(Page, Parsed<CveRecord>), String> {
    let mut page: Page = serde_json::from_str(text).map_err(|e| format!("NVD page: {e}"))?;
    let mut parsed = Parsed::default();
    for (index, item) in std::mem::take(&mut page.vulnerabilities)
        .into_iter()
        .enumerate()
    {
        match record_from_item(&item) {
            Ok(record) => parsed.records.push(record),
            Err(error) => parsed.skip(|| format!("vulnerabilities[{index}]: {error}")),
        }
    }
    Ok((page, parsed))
}

/// Parses any of the accepted shapes: API page, one `{"cve":…}` object, or JSON lines.
pub fn parse(text: &str) -> Result<Parsed<CveRecord>, String> {
    let first_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    // JSON lines when the first line is a whole object on its own; otherwise one document.
    let first_is_whole = serde_json::from_str::<Value>(first_line).is_ok();
    if !first_is_whole || text.trim_end().lines().count() <= 1 {
        let document: Value =
            serde_json::from_str(text).map_err(|e| format!("NVD document: {e}"))?;
        if document.get("vulnerabilities").is_some() {
            return parse_page(text).map(|(_, parsed)| parsed);
        }
        let mut parsed = Parsed::default();
        match record_from_item(&document) {
            Ok(record) => parsed.records.push(record),
            Err(error) => parsed.skip(|| error),
        }
        return Ok(parsed);
    }
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let result = serde_json::from_str::<Value>(line)
            .map_err(|e| e.to_string())
            .and_then(|item| record_from_item(&item));
        match result {
            Ok(record) => parsed.records.push(record),
            Err(error) => parsed.skip(|| format!("line {}: {error}", number + 1)),
        }
    }
    Ok(parsed)
}

/// One element of `vulnerabilities[]` (or one JSON line): `{"cve": {...}}`.
pub fn record_from_item(item: &Value) -> Result<CveRecord, String> {
    let cve = item.get("cve").ok_or("expected a \"cve\" object")?;
    record_from_cve(cve)
}

fn str_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn record_from_cve(cve: &Value) -> Result<CveRecord, String> {
    let id = cve
        .get("id")
        .and_then(Value::as_str)
        .ok_or("expected a string \"id\"")?;
    if !crate::feed::is_cve_id(id) {
        return Err(format!("expected a CVE id, found {id:?}"));
    }
    let description = cve
        .get("descriptions")
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|d| d.get("lang").and_then(Value::as_str) == Some("en"))
                .or_else(|| all.first())
        })
        .and_then(|d| str_field(d, "value"));
    Ok(CveRecord {
        id: id.to_owned(),
        status: str_field(cve, "vulnStatus"),
        published: str_field(cve, "published"),
        last_modified: str_field(cve, "lastModified"),
        description,
        cvss: cve.get("metrics").and_then(pick_cvss),
        cpe_ranges: cve
            .get("configurations")
            .map(cpe_ranges)
            .unwrap_or_default(),
    })
}

/// The one score to use, in NVD's preference order.
fn pick_cvss(metrics: &Value) -> Option<Cvss> {
    for key in [
        "cvssMetricV40",
        "cvssMetricV31",
        "cvssMetricV30",
        "cvssMetricV2",
    ] {
        let Some(list) = metrics.get(key).and_then(Value::as_array) else {
            continue;
        };
        let scored: Vec<(bool, Cvss)> = list.iter().filter_map(metric_score).collect();
        let primary = scored.iter().find(|(is_primary, _)| *is_primary);
        if let Some((_, cvss)) = primary.or_else(|| scored.first()) {
            return Some(cvss.clone());
        }
    }
    None
}

/// `(is_primary, score)` of one metric entry; `None` when it has no usable base score.
fn metric_score(metric: &Value) -> Option<(bool, Cvss)> {
    let data = metric.get("cvssData")?;
    let score = data.get("baseScore").and_then(Value::as_f64)?;
    if !(0.0..=10.0).contains(&score) {
        return None;
    }
    let is_primary = metric.get("type").and_then(Value::as_str) == Some("Primary");
    Some((
        is_primary,
        Cvss {
            version: str_field(data, "version").unwrap_or_default(),
            score,
            vector: str_field(data, "vectorString"),
            source: str_field(metric, "source").unwrap_or_default(),
        },
    ))
}

fn cpe_ranges(configurations: &Value) -> Vec<CpeRange> {
    let mut ranges = Vec::new();
    let Some(configurations) = configurations.as_array() else {
        return ranges;
    };
    for configuration in configurations {
        let Some(nodes) = configuration.get("nodes").and_then(Value::as_array) else {
            continue;
        };
        for node in nodes {
            // A negated node lists what is *not* affected: no range to match against.
            if node.get("negate").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(matches) = node.get("cpeMatch").and_then(Value::as_array) else {
                continue;
            };
            for entry in matches {
                // `vulnerable: false` entries are platform context ("running on"), not findings.
                if entry.get("vulnerable").and_then(Value::as_bool) != Some(true) {
                    continue;
                }
                if let Some(range) = cpe_range(entry) {
                    ranges.push(range);
                }
            }
        }
    }
    ranges
}

fn cpe_range(entry: &Value) -> Option<CpeRange> {
    let criteria = entry.get("criteria").and_then(Value::as_str)?;
    let fields = split_cpe(criteria);
    // cpe:2.3:part:vendor:product:version:…
    if fields.len() < 6 || fields[0] != "cpe" || fields[1] != "2.3" {
        return None;
    }
    let version = &fields[5];
    let exact = (version != "*" && version != "-").then(|| version.clone());
    let bound = |key: &str| str_field(entry, key).map(|v| unescape_cpe(&v));
    Some(CpeRange {
        part: fields[2].clone(),
        vendor: fields[3].clone(),
        product: fields[4].clone(),
        exact,
        start_including: bound("versionStartIncluding"),
        start_excluding: bound("versionStartExcluding"),
        end_including: bound("versionEndIncluding"),
        end_excluding: bound("versionEndExcluding"),
    })
}

/// Splits a CPE 2.3 formatted string on unescaped colons and removes the escapes.
fn split_cpe(criteria: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = criteria.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            ':' => fields.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    fields.push(current);
    fields
}

/// NVD escapes punctuation in range bounds too (`12.6\(1\)`).
fn unescape_cpe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}
