//! OSV JSON: one record, an array of records, or (at import) a directory of record files. Each
//! `affected[]` entry of a known distro ecosystem with an `ECOSYSTEM` range becomes one verdict
//! per CVE the record names (`aliases`, `upstream`, `related`, or the id itself).

use serde_json::Value;

use crate::distro::Distro;
use crate::feed::{extract_cve, parse_iso_date, DistroFix, FixOrigin, FixState, Parsed};

/// Parses one OSV document (a record or an array of records).
pub fn parse(text: &str) -> Result<Parsed<DistroFix>, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("OSV JSON: {e}"))?;
    let mut parsed = Parsed::default();
    match document {
        Value::Array(records) => {
            for (index, record) in records.iter().enumerate() {
                match fixes(record) {
                    Ok(fixes) => parsed.records.extend(fixes),
                    Err(error) => parsed.skip(|| format!("[{index}]: {error}")),
                }
            }
        }
        record => match fixes(&record) {
            Ok(fixes) => parsed.records.extend(fixes),
            Err(error) => parsed.skip(|| error),
        },
    }
    Ok(parsed)
}

fn string_list(record: &Value, key: &str) -> Vec<String> {
    record
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn fixes(record: &Value) -> Result<Vec<DistroFix>, String> {
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .ok_or("expected a string \"id\"")?;
    let affected = record
        .get("affected")
        .and_then(Value::as_array)
        .ok_or("expected an \"affected\" array")?;
    let published = record
        .get("published")
        .and_then(Value::as_str)
        .and_then(parse_iso_date);

    let mut cves: Vec<String> = std::iter::once(id.to_owned())
        .chain(string_list(record, "aliases"))
        .chain(string_list(record, "upstream"))
        .chain(string_list(record, "related"))
        .filter_map(|name| extract_cve(&name).map(str::to_owned))
        .collect();
    cves.sort();
    cves.dedup();
    if cves.is_empty() {
        cves.push(id.to_owned());
    }

    let mut fixes = Vec::new();
    for entry in affected {
        let Some(package) = entry.get("package") else {
            continue;
        };
        let ecosystem = package
            .get("ecosystem")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some((distro, release)) = Distro::from_osv_ecosystem(ecosystem) else {
            continue; // Language ecosystems are not distro data.
        };
        let source = package
            .get("name")
            .and_then(Value::as_str)
            .ok_or("affected[].package: expected a string \"name\"")?;
        let ranges = entry.get("ranges").and_then(Value::as_array);
        for range in ranges.into_iter().flatten() {
            if range.get("type").and_then(Value::as_str) != Some("ECOSYSTEM") {
                continue;
            }
            let events = range
                .get("events")
                .and_then(Value::as_array)
                .ok_or("ranges[]: expected an \"events\" array")?;
            let mut introduced = None;
            let mut fixed = None;
            for event in events {
                if let Some(version) = event.get("introduced").and_then(Value::as_str) {
                    introduced = Some(version.to_owned());
                }
                if let Some(version) = event.get("fixed").and_then(Value::as_str) {
                    fixed = Some(version.to_owned());
                }
            }
            let state = match fixed {
                Some(version) => {
                    distro
                        .scheme()
                        .compare(&version, &version)
                        .map_err(|e| format!("fixed version {version:?}: {e}"))?;
                    FixState::Fixed { version }
                }
                None => FixState::Open,
            };
            for cve in &cves {
                fixes.push(DistroFix {
                    distro,
                    release: release.clone(),
                    source: source.to_owned(),
                    cve: cve.clone(),
                    state: state.clone(),
                    introduced: introduced.clone().filter(|v| v != "0"),
                    advisory: Some(id.to_owned()),
                    published,
                    urgency: None,
                    origin: FixOrigin::Osv,
                    disposition: None,
                });
            }
        }
    }
    Ok(fixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsa_record_becomes_one_fix_per_cve() {
        let text = r#"{"id":"DSA-3029-1","aliases":["CVE-2014-3616"],"published":"2014-09-20T00:00:00Z",
          "affected":[{"package":{"ecosystem":"Debian:7","name":"nginx"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2.1-2.2+wheezy3"}]}]},
            {"package":{"ecosystem":"PyPI","name":"x"},"ranges":[]}]}"#;
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let fix = &parsed.records[0];
        assert_eq!(
            (fix.release.as_str(), fix.source.as_str()),
            ("wheezy", "nginx")
        );
        assert_eq!(fix.cve, "CVE-2014-3616");
        assert_eq!(fix.introduced, None);
    }

    #[test]
    fn no_fixed_event_is_open() {
        let text = r#"[{"id":"UBUNTU-CVE-2025-0001","affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"linux"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}, {"nope":1}]"#;
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.records[0].state, FixState::Open);
        assert_eq!(parsed.records[0].cve, "CVE-2025-0001");
        assert_eq!(parsed.skipped, 1);
    }
}
