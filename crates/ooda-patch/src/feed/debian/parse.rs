//! Debian's security data in its four shapes: the tracker JSON, the DSA/DLA advisory lists, the
//! flattened fixed-version table derived from them, and the source package ↔ CPE list.
//! Everything becomes [`DistroFix`] verdicts keyed by release codename and *source* package.

use chrono::NaiveDate;
use serde_json::Value;

use crate::distro::Distro;
use crate::feed::{
    extract_cve, is_cve_id, CpeLink, Disposition, DistroFix, FixOrigin, FixState, Parsed,
};

/// Tracker JSON: `{source: {CVE: {releases: {codename: {status, fixed_version?, urgency}}}}}`.
/// A package or CVE entry of the wrong shape is skipped and counted; the rest still counts.
pub fn parse_tracker(text: &str) -> Result<Parsed<DistroFix>, String> {
    let document: Value =
        serde_json::from_str(text).map_err(|e| format!("Debian tracker JSON: {e}"))?;
    let packages = document
        .as_object()
        .ok_or("Debian tracker JSON: expected an object of source packages")?;
    let mut parsed = Parsed::default();
    for (source, cves) in packages {
        let Some(cves) = cves.as_object() else {
            parsed.skip(|| format!("{source}: expected an object of CVEs"));
            continue;
        };
        for (cve, entry) in cves {
            match tracker_entry(source, cve, entry) {
                Ok(fixes) => parsed.records.extend(fixes),
                Err(error) => parsed.skip(|| format!("{source}/{cve}: {error}")),
            }
        }
    }
    Ok(parsed)
}

fn tracker_entry(source: &str, cve: &str, entry: &Value) -> Result<Vec<DistroFix>, String> {
    // The tracker also lists TEMP-… ids for issues without a CVE; they are real issues too.
    if !is_cve_id(cve) && !cve.starts_with("TEMP-") {
        return Err(format!("expected a CVE id, found {cve:?}"));
    }
    let releases = match entry.get("releases") {
        Some(Value::Object(releases)) => releases,
        // PHP-style empty list: the tracker knows the CVE but no release carries the package.
        Some(Value::Array(items)) if items.is_empty() => return Ok(Vec::new()),
        _ => return Err("expected a \"releases\" object".to_owned()),
    };
    let mut fixes = Vec::with_capacity(releases.len());
    for (release, verdict) in releases {
        let status = verdict
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("releases.{release}: expected a string \"status\""))?;
        let fixed_version = verdict.get("fixed_version").and_then(Value::as_str);
        let urgency = verdict
            .get("urgency")
            .and_then(Value::as_str)
            .map(|u| u.trim_end_matches('*').to_owned());
        let mut state = match (status, fixed_version) {
            // `0` means the release never shipped the vulnerable code.
            ("resolved", Some("0")) => FixState::NotAffected,
            ("resolved", Some(version)) => {
                crate::version::dpkg::DebVersion::parse(version)
                    .map_err(|e| format!("releases.{release}: fixed_version {version:?}: {e}"))?;
                FixState::Fixed {
                    version: version.to_owned(),
                }
            }
            ("resolved", None) => FixState::NotAffected,
            ("open" | "undetermined", _) => FixState::Open,
            (other, _) => return Err(format!("releases.{release}: unknown status {other:?}")),
        };
        let disposition = tracker_disposition(verdict, urgency.as_deref(), &state);
        if disposition == Some(Disposition::EndOfLife) && state == FixState::Open {
            state = FixState::EndOfLife;
        }
        fixes.push(DistroFix {
            distro: Distro::Debian,
            release: release.to_owned(),
            source: source.to_owned(),
            cve: cve.to_owned(),
            state,
            introduced: None,
            advisory: None,
            published: None,
            urgency,
            disposition,
            origin: FixOrigin::DebianTracker,
        });
    }
    Ok(fixes)
}

/// The tracker's decision for one release: `urgency: unimportant` / `end-of-life`, or `nodsa`
/// with its `nodsa_reason` (`postponed`, `ignored`, or none: fixed through a point release).
/// A released fix stays a fix: only `unimportant` qualifies it (the security team rates the
/// issue as no real risk even where the fix is missing).
fn tracker_disposition(
    verdict: &Value,
    urgency: Option<&str>,
    state: &FixState,
) -> Option<Disposition> {
    match urgency {
        Some("unimportant") => return Some(Disposition::Unimportant),
        Some("end-of-life") if !matches!(state, FixState::Fixed { .. }) => {
            return Some(Disposition::EndOfLife)
        }
        _ => {}
    }
    if matches!(state, FixState::Fixed { .. } | FixState::NotAffected) {
        return None;
    }
    verdict.get("nodsa")?;
    Some(match verdict.get("nodsa_reason").and_then(Value::as_str) {
        Some("postponed") => Disposition::Postponed,
        Some("ignored") => Disposition::Ignored,
        _ => Disposition::NoDsa,
    })
}

/// `data/DSA/list` or `data/DLA/list`:
///
/// ```text
/// [29 Mar 2023] DSA-5380-1 xorg-server - security update
///     {CVE-2023-1393}
///     [bullseye] - xorg-server 2:1.20.11-1+deb11u6
///     [lenny] - vlc <not-affected> (Vulnerable code not present)
/// ```
pub fn parse_advisory_list(text: &str) -> Parsed<DistroFix> {
    let mut parsed = Parsed::default();
    let mut advisory: Option<(String, Option<NaiveDate>)> = None;
    let mut cves: Vec<String> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('[') {
            match advisory_header(line) {
                Ok(header) => advisory = Some(header),
                Err(error) => {
                    advisory = None;
                    parsed.skip(|| format!("line {}: {error}", number + 1));
                }
            }
            cves.clear();
            continue;
        }
        let body = line.trim();
        if let Some(list) = body.strip_prefix('{') {
            cves = list
                .trim_end_matches('}')
                .split_whitespace()
                .filter_map(extract_cve)
                .map(str::to_owned)
                .collect();
            continue;
        }
        if !body.starts_with('[') {
            continue; // NOTE: lines and blank lines carry nothing to match on.
        }
        let Some((id, date)) = &advisory else {
            continue; // Lines of a header we could not read were already counted.
        };
        match release_line(body) {
            Ok((release, source, (state, disposition))) => {
                // An advisory without CVEs (a regression update) is still a fixed version:
                // the advisory id stands in for the CVE.
                let ids: Vec<&str> = if cves.is_empty() {
                    vec![id.as_str()]
                } else {
                    cves.iter().map(String::as_str).collect()
                };
                for cve in ids {
                    parsed.records.push(DistroFix {
                        distro: Distro::Debian,
                        release: release.to_owned(),
                        source: source.to_owned(),
                        cve: cve.to_owned(),
                        state: state.clone(),
                        introduced: None,
                        advisory: Some(id.clone()),
                        published: *date,
                        urgency: None,
                        origin: FixOrigin::DebianAdvisory,
                        disposition,
                    });
                }
            }
            Err(error) => parsed.skip(|| format!("line {}: {error}", number + 1)),
        }
    }
    parsed
}

/// `[DD Mon YYYY] DSA-NNNN-N package - title`: the id and date.
fn advisory_header(line: &str) -> Result<(String, Option<NaiveDate>), String> {
    let close = line.find(']').ok_or("expected `[date] ID …`")?;
    let date = NaiveDate::parse_from_str(&line[1..close], "%d %b %Y")
        .map_err(|e| format!("advisory date {:?}: {e}", &line[1..close]))?;
    let id = line[close + 1..]
        .split_whitespace()
        .next()
        .ok_or("expected an advisory id after the date")?;
    Ok((id.to_owned(), Some(date)))
}

/// `[release] - package version|<not-affected>|<end-of-life> (note)`.
fn release_line(body: &str) -> Result<(&str, &str, Judged), String> {
    let close = body
        .find(']')
        .ok_or("expected `[release] - package version`")?;
    let release = body[1..close].trim();
    let mut words = body[close + 1..].split_whitespace();
    if words.next() != Some("-") {
        return Err(format!("expected ` - ` after [{release}]"));
    }
    let source = words.next().ok_or("expected a package name")?;
    let version = words.next().ok_or("expected a version or <state>")?;
    let state = fix_state(version)?;
    if release.is_empty() || source.is_empty() {
        return Err("empty release or package".to_owned());
    }
    Ok((release, source, state))
}

/// A verdict as a list line states it: the state and the distro's decision, if any.
type Judged = (FixState, Option<Disposition>);

/// A version or a `<state>` as the lists write them, with the decision it records.
fn fix_state(word: &str) -> Result<Judged, String> {
    Ok(match word {
        "<not-affected>" => (FixState::NotAffected, None),
        "<end-of-life>" => (FixState::EndOfLife, Some(Disposition::EndOfLife)),
        "<unfixed>" => (FixState::Open, None),
        "<no-dsa>" => (FixState::Open, Some(Disposition::NoDsa)),
        "<postponed>" => (FixState::Open, Some(Disposition::Postponed)),
        "<ignored>" => (FixState::Open, Some(Disposition::Ignored)),
        "<unimportant>" => (FixState::Open, Some(Disposition::Unimportant)),
        other if other.starts_with('<') => return Err(format!("unknown state {other}")),
        other => {
            crate::version::dpkg::DebVersion::parse(other)
                .map_err(|e| format!("fixed version {other:?}: {e}"))?;
            (
                FixState::Fixed {
                    version: other.to_owned(),
                },
                None,
            )
        }
    })
}

/// The flattened table `advisory, date, src_pkg_in_title, release, package, fixed_version, cves`.
pub fn parse_fixed_table(text: &str) -> Result<Parsed<DistroFix>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty());
    let (_, header) = lines.next().ok_or("fixed table: empty")?;
    let columns: Vec<&str> = header.split('\t').collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| format!("fixed table: no {name} column"))
    };
    let (advisory_at, date_at, release_at) = (at("advisory")?, at("date")?, at("release")?);
    let (package_at, version_at, cves_at) = (at("package")?, at("fixed_version")?, at("cves")?);
    let mut parsed = Parsed::default();
    for (number, line) in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| cells.get(i).map(|c| c.trim()).unwrap_or("");
        let (advisory, release, source, version) = (
            cell(advisory_at),
            cell(release_at),
            cell(package_at),
            cell(version_at),
        );
        if advisory.is_empty() || release.is_empty() || source.is_empty() || version.is_empty() {
            parsed.skip(|| {
                format!(
                    "line {}: empty advisory, release, package or version",
                    number + 1
                )
            });
            continue;
        }
        // `<not-affected> (reason)`: the state is the first word.
        let word = version.split_whitespace().next().unwrap_or(version);
        let (state, disposition) = match fix_state(word) {
            Ok(found) => found,
            Err(error) => {
                parsed.skip(|| format!("line {}: {error}", number + 1));
                continue;
            }
        };
        let date = NaiveDate::parse_from_str(cell(date_at), "%d %b %Y").ok();
        let cve_cell = cell(cves_at);
        let ids: Vec<&str> = if cve_cell.is_empty() {
            vec![advisory]
        } else {
            cve_cell.split_whitespace().collect()
        };
        for cve in ids {
            parsed.records.push(DistroFix {
                distro: Distro::Debian,
                release: release.to_owned(),
                source: source.to_owned(),
                cve: cve.to_owned(),
                state: state.clone(),
                introduced: None,
                advisory: Some(advisory.to_owned()),
                published: date,
                urgency: None,
                origin: FixOrigin::DebianAdvisory,
                disposition,
            });
        }
    }
    Ok(parsed)
}

/// `data/CPE/list`: `source;cpe:/a:vendor:product` per line.
pub fn parse_cpe_list(text: &str) -> Parsed<CpeLink> {
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((source, cpe)) = line.split_once(';') else {
            parsed.skip(|| format!("line {}: expected `package;cpe:/…`", number + 1));
            continue;
        };
        let fields: Vec<&str> = cpe.split(':').collect();
        match fields.as_slice() {
            ["cpe", _part, vendor, product, ..] if !vendor.is_empty() && !product.is_empty() => {
                parsed.records.push(CpeLink {
                    source: source.trim().to_owned(),
                    vendor: (*vendor).to_owned(),
                    product: (*product).to_owned(),
                });
            }
            // Packages the tracker knows have no CPE are listed with an empty CPE: not an error.
            _ if cpe.trim().is_empty() => {}
            _ => parsed.skip(|| format!("line {}: expected cpe:/part:vendor:product", number + 1)),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\
\t{CVE-2023-1393}\n\
\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\
[17 Mar 2023] DSA-5356-2 sox - regression update\n\
\t[bullseye] - sox 14.4.2+git20190427-2+deb11u2\n\
[01 Jan 2010] DSA-1-1 vlc - security update\n\
\t{CVE-2009-0001 CVE-2009-0002}\n\
\t[lenny] - vlc <not-affected> (Vulnerable code not present)\n\
\t[etch] - vlc 0.8.6-svn20061012.debian-5.1+etch3 (medium)\n\
\tNOTE: anything\n\
[18 Apr 2018] DSA-4205-1 jessie end-of-life\n\
\t[jessie] - bad\n";

    #[test]
    fn advisory_list_lines() {
        let parsed = parse_advisory_list(LIST);
        assert_eq!(parsed.records.len(), 6);
        assert_eq!(parsed.records[0].cve, "CVE-2023-1393");
        assert_eq!(parsed.records[0].advisory.as_deref(), Some("DSA-5380-1"));
        assert_eq!(
            parsed.records[0].published,
            NaiveDate::from_ymd_opt(2023, 3, 29)
        );
        assert_eq!(
            parsed.records[1].cve, "DSA-5356-2",
            "regression update stands for itself"
        );
        assert_eq!(parsed.records[2].state, FixState::NotAffected);
        assert!(matches!(parsed.records[5].state, FixState::Fixed { .. }));
        assert_eq!(parsed.skipped, 1, "the release line without a version");
    }

    #[test]
    fn tracker_statuses() {
        let text = r#"{"apparmor": {"CVE-2016-1585": {"releases": {
            "bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"},
            "bullseye": {"status": "open", "urgency": "low**"},
            "sid": {"status": "resolved", "fixed_version": "3.0.12-1"}}},
          "BAD": {"releases": {}}}, "x": 3}"#;
        let parsed = parse_tracker(text).unwrap();
        assert_eq!(parsed.records.len(), 3);
        assert_eq!(parsed.skipped, 2);
        let state = |release: &str| {
            parsed
                .records
                .iter()
                .find(|f| f.release == release)
                .map(|f| f.state.clone())
        };
        assert_eq!(state("bookworm"), Some(FixState::NotAffected));
        assert_eq!(state("bullseye"), Some(FixState::Open));
        assert_eq!(
            state("sid"),
            Some(FixState::Fixed {
                version: "3.0.12-1".into()
            })
        );
    }
}
