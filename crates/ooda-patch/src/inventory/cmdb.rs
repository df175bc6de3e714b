//! The CMDB file: one row per host with `host, distro, release, class, environment,
//! internet_facing, owner, maintenance_window` and optionally `packages` (a package list path,
//! relative to the CMDB file). CSV, JSON (an array, or `{"hosts":[…]}`) and YAML, told apart
//! by extension. A bad row is skipped and counted, never guessed at.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use ooda_core::{Environment, Host, HostClass};

use crate::distro::Distro;
use crate::feed::Parsed;

/// A CMDB row as read, before validation. Field names accept the common spellings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CmdbRow {
    #[serde(alias = "name", alias = "hostname")]
    pub host: String,
    #[serde(default, alias = "os")]
    pub distro: String,
    #[serde(
        default,
        alias = "os_version",
        alias = "version",
        deserialize_with = "flexible_string"
    )]
    pub release: String,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default, alias = "env")]
    pub environment: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub internet_facing: Option<bool>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default, alias = "window")]
    pub maintenance_window: Option<String>,
    #[serde(default)]
    pub packages: Option<String>,
}

/// A validated CMDB entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CmdbHost {
    pub host: Host,
    pub distro: Option<Distro>,
    /// Normalised release (see [`Distro::normalise_release`]).
    pub release: String,
    /// The distro as written, kept for reports when it is not one we know.
    pub distro_name: String,
    pub packages: Option<String>,
}

/// A string, or a number written without quotes in YAML/JSON (`release: 12`). Quote releases
/// like `22.10` in YAML: as a number it would read as `22.1`.
fn flexible_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(i64),
        Float(f64),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        None => String::new(),
        Some(Raw::Text(text)) => text,
        Some(Raw::Int(i)) => i.to_string(),
        Some(Raw::Float(f)) => f.to_string(),
    })
}

/// `true/false`, `yes/no`, `y/n`, `1/0`, in any case, as a string or a YAML/JSON bool.
fn flexible_bool<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Bool(b)) => Ok(Some(b)),
        Some(Raw::Int(i)) => Ok(Some(i != 0)),
        Some(Raw::Text(text)) => parse_bool(&text).map_err(serde::de::Error::custom),
    }
}

fn parse_bool(text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "y" | "1" => Ok(Some(true)),
        "false" | "no" | "n" | "0" => Ok(Some(false)),
        other => Err(format!("expected true/false/yes/no/1/0, found {other:?}")),
    }
}

fn validate(row: CmdbRow) -> Result<CmdbHost, String> {
    let name = row.host.trim();
    if name.is_empty() {
        return Err("empty host name".to_owned());
    }
    let mut host = Host::new(name);
    if let Some(class) = row.class.filter(|c| !c.trim().is_empty()) {
        host.class = HostClass::new(class.trim());
    }
    if let Some(environment) = row.environment.filter(|e| !e.trim().is_empty()) {
        host.environment = environment.parse::<Environment>()?;
    }
    host.internet_facing = row.internet_facing.unwrap_or(false);
    host.owner = row.owner.filter(|o| !o.trim().is_empty());
    host.maintenance_window = row.maintenance_window.filter(|w| !w.trim().is_empty());
    let distro = Distro::parse(&row.distro);
    let release = match distro {
        Some(distro) => distro.normalise_release(&row.release),
        None => row.release.trim().to_ascii_lowercase(),
    };
    Ok(CmdbHost {
        host,
        distro,
        release,
        distro_name: row.distro.trim().to_owned(),
        packages: row.packages.filter(|p| !p.trim().is_empty()),
    })
}

fn collect(rows: Vec<(String, Result<CmdbRow, String>)>) -> Parsed<CmdbHost> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    for (place, row) in rows {
        match row.and_then(validate) {
            Ok(host) => {
                if seen.insert(host.host.name.clone(), ()).is_some() {
                    parsed.skip(|| format!("{place}: duplicate host {:?}", host.host.name));
                } else {
                    parsed.records.push(host);
                }
            }
            Err(error) => parsed.skip(|| format!("{place}: {error}")),
        }
    }
    parsed
}

pub fn parse_csv(text: &str) -> Result<Parsed<CmdbHost>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("CMDB CSV header: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect::<Vec<_>>();
    if !headers
        .iter()
        .any(|h| h == "host" || h == "name" || h == "hostname")
    {
        return Err(format!(
            "CMDB CSV: expected a host column, found {headers:?}"
        ));
    }
    let header_record = csv::StringRecord::from(headers);
    let rows = reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let place = format!("row {}", i + 2);
            let row = record.map_err(|e| e.to_string()).and_then(|r| {
                r.deserialize::<CmdbRow>(Some(&header_record))
                    .map_err(|e| e.to_string())
            });
            (place, row)
        })
        .collect();
    Ok(collect(rows))
}

fn from_values(values: Vec<serde_json::Value>) -> Parsed<CmdbHost> {
    let rows = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let row = serde_json::from_value::<CmdbRow>(value).map_err(|e| e.to_string());
            (format!("hosts[{i}]"), row)
        })
        .collect();
    collect(rows)
}

fn host_list(document: serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    match document {
        serde_json::Value::Array(items) => Ok(items),
        serde_json::Value::Object(mut map) => match map.remove("hosts") {
            Some(serde_json::Value::Array(items)) => Ok(items),
            _ => Err("expected a list of hosts or {hosts: [...]}".to_owned()),
        },
        _ => Err("expected a list of hosts or {hosts: [...]}".to_owned()),
    }
}

pub fn parse_json(text: &str) -> Result<Parsed<CmdbHost>, String> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("CMDB JSON: {e}"))?;
    Ok(from_values(host_list(document)?))
}

pub fn parse_yaml(text: &str) -> Result<Parsed<CmdbHost>, String> {
    let document: serde_json::Value =
        serde_yaml::from_str(text).map_err(|e| format!("CMDB YAML: {e}"))?;
    Ok(from_values(host_list(document)?))
}

/// Parses by extension: `.csv`, `.json`, `.yaml`/`.yml`.
pub fn parse_file_text(path: &Path, text: &str) -> Result<Parsed<CmdbHost>, String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => parse_csv(text),
        Some("json") => parse_json(text),
        Some("yaml" | "yml") => parse_yaml(text),
        other => Err(format!(
            "expected a .csv, .json or .yaml CMDB file, found extension {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_validated() {
        let text =
            "host,distro,release,class,environment,internet_facing,owner,maintenance_window\n\
web-1,debian,11,web,production,yes,team-web,sun-02\n\
db-1,Debian,bookworm,database,staging,false,,\n\
bad-1,debian,12,web,moon,no,,\n\
web-1,debian,11,web,production,yes,,\n";
        let parsed = parse_csv(text).unwrap();
        assert_eq!(parsed.records.len(), 2);
        let web = &parsed.records[0];
        assert_eq!(web.release, "bullseye");
        assert!(web.host.internet_facing);
        assert_eq!(web.host.owner.as_deref(), Some("team-web"));
        assert_eq!(web.host.maintenance_window.as_deref(), Some("sun-02"));
        assert_eq!(parsed.records[1].host.environment, Environment::Staging);
        assert_eq!(parsed.skipped, 2);
        assert!(parsed.first_error.unwrap().contains("row 4"));
    }

    #[test]
    fn json_and_yaml() {
        let json = r#"{"hosts":[{"host":"a","distro":"ubuntu","release":"jammy","internet_facing":true,"env":"prod"}]}"#;
        let parsed = parse_json(json).unwrap();
        assert_eq!(parsed.records[0].release, "22.04");
        assert_eq!(parsed.records[0].distro, Some(Distro::Ubuntu));
        let yaml =
            "- host: b\n  distro: debian\n  release: 12\n  internet_facing: no\n  owner: ops\n";
        let parsed = parse_yaml(yaml).unwrap();
        assert_eq!(parsed.records[0].release, "bookworm");
        assert!(!parsed.records[0].host.internet_facing);
    }
}
