//! The KEV JSON catalogue (`{"catalogVersion":…,"vulnerabilities":[…]}`). Each entry is read on
//! its own so one bad entry is skipped and counted instead of losing the catalogue.

use serde::Deserialize;
use serde_json::Value;

use crate::feed::{is_cve_id, KevEntry, Parsed};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalogue {
    #[serde(default)]
    catalog_version: Option<String>,
    vulnerabilities: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
}

/// Parses the catalogue; returns its version (when present) with the entries.
pub fn parse(text: &str) -> Result<(Option<String>, Parsed<KevEntry>), String> {
    let catalogue: Catalogue =
        serde_json::from_str(text).map_err(|e| format!("KEV catalogue: {e}"))?;
    let mut parsed = Parsed::default();
    for (index, item) in catalogue.vulnerabilities.into_iter().enumerate() {
        match entry(item) {
            Ok(entry) => parsed.records.push(entry),
            Err(error) => parsed.skip(|| format!("vulnerabilities[{index}]: {error}")),
        }
    }
    Ok((catalogue.catalog_version, parsed))
}

fn entry(item: Value) -> Result<KevEntry, String> {
    let raw: RawEntry = serde_json::from_value(item).map_err(|e| e.to_string())?;
    if !is_cve_id(&raw.cve_id) {
        return Err(format!("cveID: expected a CVE id, found {:?}", raw.cve_id));
    }
    let date_added = chrono::NaiveDate::parse_from_str(&raw.date_added, "%Y-%m-%d")
        .map_err(|e| format!("dateAdded {:?}: {e}", raw.date_added))?;
    let due_date = match raw.due_date.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|e| format!("dueDate {text:?}: {e}"))?,
        ),
    };
    Ok(KevEntry {
        cve: raw.cve_id,
        vendor: raw.vendor_project,
        product: raw.product,
        name: raw.vulnerability_name,
        date_added,
        due_date,
        known_ransomware: raw
            .known_ransomware_campaign_use
            .is_some_and(|v| v.eq_ignore_ascii_case("known")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entry_is_skipped_and_counted() {
        let text = r#"{"catalogVersion":"1","vulnerabilities":[
            {"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","dueDate":"2021-12-24",
             "knownRansomwareCampaignUse":"Known"},
            {"cveID":"CVE-2021-1","dateAdded":"2021-12-10"},
            {"cveID":"CVE-2022-0001","dateAdded":"not a date"}]}"#;
        let (version, parsed) = parse(text).unwrap();
        assert_eq!(version.as_deref(), Some("1"));
        assert_eq!(parsed.records.len(), 1);
        assert!(parsed.records[0].known_ransomware);
        assert_eq!(parsed.skipped, 2);
        assert!(parsed.first_error.unwrap().contains("vulnerabilities[1]"));
    }

    #[test]
    fn truncated_catalogue_is_an_error() {
        assert!(parse(r#"{"vulnerabilities":[{"cveID":"CVE-2021-44228""#).is_err());
    }
}
