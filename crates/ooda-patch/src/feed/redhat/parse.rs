//! Red Hat CSAF advisories → [`DistroFix`] verdicts for RHEL and its rebuilds.
//!
//! A CSAF RHSA lists, per CVE, the product ids it fixes (`product_status.fixed`). Each id is
//! `<platform>:<nevra>` or, for a module, `<platform>:<module>:<stream>:<version>:<context>:<nevra>`:
//!
//! ```text
//! AppStream-8.8.0.Z.MAIN.EUS:ruby:2.7:8080020230427102918:63b34585:ruby-0:2.7.8-139.module+el8.8.0+18745+f1bef313.src
//! ```
//!
//! Only the source RPMs (`.src`) are read: the matcher works on source packages, and every
//! binary of the advisory is built from one of them. The platform's first number is the RHEL
//! major release (`8`); the fixed version is the source RPM's `epoch:version-release`, compared
//! with rpm's rules. The advisory's aggregate impact (`Low`, `Moderate`, `Important`,
//! `Critical`) is kept as the vendor severity. A module stream is named in the advisory field
//! (`RHSA-2023:3821 (module ruby:2.7)`); matching does not yet check which stream a host has
//! enabled, so a host on another stream of the same package is judged by version alone.

use serde_json::Value;

use crate::distro::Distro;
use crate::feed::{is_cve_id, parse_iso_date, DistroFix, FixOrigin, FixState, Parsed};

/// One CSAF document (an RHSA). Vulnerabilities of the wrong shape are skipped and counted.
pub fn parse(text: &str) -> Result<Parsed<DistroFix>, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("CSAF JSON: {e}"))?;
    let tracking = document
        .pointer("/document/tracking")
        .ok_or("CSAF: expected document.tracking")?;
    let advisory = tracking
        .get("id")
        .and_then(Value::as_str)
        .ok_or("CSAF: expected a string document.tracking.id")?;
    let published = tracking
        .get("initial_release_date")
        .and_then(Value::as_str)
        .and_then(parse_iso_date);
    let impact = document
        .pointer("/document/aggregate_severity/text")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let vulnerabilities = document
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or("CSAF: expected a vulnerabilities array")?;
    let mut parsed = Parsed::default();
    for (i, vulnerability) in vulnerabilities.iter().enumerate() {
        let Some(cve) = vulnerability
            .get("cve")
            .and_then(Value::as_str)
            .filter(|c| is_cve_id(c))
        else {
            parsed.skip(|| format!("{advisory}: vulnerabilities[{i}]: expected a CVE id"));
            continue;
        };
        let fixed = vulnerability
            .pointer("/product_status/fixed")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // Red Hat's per-CVE impact, when given, over the advisory's aggregate.
        let severity = vulnerability
            .get("threats")
            .and_then(Value::as_array)
            .and_then(|threats| {
                threats
                    .iter()
                    .find(|t| t.get("category").and_then(Value::as_str) == Some("impact"))
            })
            .and_then(|t| t.get("details").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
            .or_else(|| impact.clone());
        for id in fixed.iter().filter_map(Value::as_str) {
            match product(id) {
                Ok(Some(product)) => parsed.records.push(DistroFix {
                    distro: Distro::Rhel,
                    release: product.release,
                    source: product.name,
                    cve: cve.to_owned(),
                    state: FixState::Fixed {
                        version: product.evr,
                    },
                    introduced: None,
                    advisory: Some(match product.module {
                        Some(module) => format!("{advisory} (module {module})"),
                        None => advisory.to_owned(),
                    }),
                    published,
                    urgency: severity.clone(),
                    origin: FixOrigin::RedHatCsaf,
                    disposition: None,
                }),
                Ok(None) => {} // a binary RPM or the module itself: its source RPM is listed too
                Err(error) => parsed.skip(|| format!("{advisory} {cve}: {id:?}: {error}")),
            }
        }
    }
    Ok(parsed)
}

/// A source RPM named by a product id.
#[derive(Debug, PartialEq, Eq)]
struct Product {
    release: String,
    name: String,
    evr: String,
    module: Option<String>,
}

/// Reads `<platform>:[<module>:<stream>:<version>:<context>:]<name>-<epoch>:<version>-<release>.<arch>`;
/// `None` for anything but a source RPM.
fn product(id: &str) -> Result<Option<Product>, String> {
    let parts: Vec<&str> = id.split(':').collect();
    if parts.len() < 3 {
        return Ok(None); // a platform or a module alone
    }
    let (head, rest) = parts.split_at(parts.len() - 2);
    let (name_epoch, version_arch) = (rest[0], rest[1]);
    let Some(version_release) = version_arch.strip_suffix(".src") else {
        return Ok(None);
    };
    let (name, epoch) = name_epoch
        .rsplit_once('-')
        .ok_or("expected name-epoch before the colon")?;
    if name.is_empty() || epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected name-epoch before the colon".to_owned());
    }
    let platform = head[0];
    let release = platform
        .split_once('-')
        .map(|(_, version)| version)
        .and_then(|version| version.split('.').next())
        .filter(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("platform {platform:?} names no RHEL release"))?;
    let evr = format!("{epoch}:{version_release}");
    crate::version::rpm::Evr::parse(&evr).map_err(|e| format!("version {evr:?}: {e}"))?;
    let module = (head.len() >= 3).then(|| format!("{}:{}", head[1], head[2]));
    Ok(Some(Product {
        release: release.to_owned(),
        name: name.to_owned(),
        evr,
        module,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids() {
        let module = "AppStream-8.8.0.Z.MAIN.EUS:ruby:2.7:8080020230427102918:63b34585:ruby-0:2.7.8-139.module+el8.8.0+18745+f1bef313.src";
        assert_eq!(
            product(module).unwrap(),
            Some(Product {
                release: "8".into(),
                name: "ruby".into(),
                evr: "0:2.7.8-139.module+el8.8.0+18745+f1bef313".into(),
                module: Some("ruby:2.7".into()),
            })
        );
        let plain = "BaseOS-9.2.0.Z.MAIN:openssl-1:3.0.7-16.el9_2.src";
        let p = product(plain).unwrap().unwrap();
        assert_eq!((p.release.as_str(), p.name.as_str()), ("9", "openssl"));
        assert_eq!((p.evr.as_str(), p.module), ("1:3.0.7-16.el9_2", None));
        assert_eq!(
            product("BaseOS-9.2.0.Z.MAIN:openssl-1:3.0.7-16.el9_2.x86_64").unwrap(),
            None
        );
        assert_eq!(product("AppStream-8.8.0.Z.MAIN.EUS").unwrap(), None);
        assert!(product("Nope:openssl-1:3.0.7-16.el9_2.src").is_err());
        assert!(product("BaseOS-9:openssl-x:3.0.7-1.src").is_err());
    }
}
