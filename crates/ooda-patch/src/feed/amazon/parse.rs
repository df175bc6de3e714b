//! Amazon Linux `updateinfo.xml` → [`DistroFix`] verdicts.
//!
//! The yum/dnf updateinfo format, as Amazon fills it:
//!
//! ```xml
//! <updates>
//!   <update author="linux-security@amazon.com" from="linux-security@amazon.com"
//!           status="final" type="security" version="1.4">
//!     <id>ALAS2-2018-939</id>
//!     <title>Amazon Linux 2 2017.12 - ALAS2-2018-939: critical priority package update for kernel</title>
//!     <issued date="2018-01-11 21:05" />
//!     <severity>critical</severity>
//!     <references>
//!       <reference href="…" id="CVE-2017-5715" type="cve" />
//!     </references>
//!     <pkglist><collection short="amazon-linux-2"><name>Amazon Linux 2</name>
//!       <package arch="x86_64" epoch="0" name="kernel" release="38.79.amzn2" version="4.9.76">
//!         <filename>Packages/kernel-4.9.76-38.79.amzn2.x86_64.rpm</filename>
//!       </package>
//!     </collection></pkglist>
//!   </update>
//! </updates>
//! ```
//!
//! Only `type="security"` updates are read. Each listed package, for each CVE reference, gives
//! a fixed version `epoch:version-release` (epoch `0` when absent), compared with rpm's rules.
//! The packages are *binary* RPMs, so Amazon hosts are matched by binary name
//! ([`Distro::matches_binaries`]); one advisory lists every binary it rebuilt. The release
//! comes from the advisory id, which names its line: `ALAS-` is the first Amazon Linux AMI
//! (`1`), `ALAS2-` and the extras `ALAS2KERNEL-5.15-…` are Amazon Linux 2, `ALAS2022-` and
//! `ALAS2023-` (with `…LIVEPATCH`, `…NVIDIA`) their own releases. Severity words (`low`,
//! `medium`, `important`, `critical`) are kept as the vendor severity.

use std::io::Read;

use roxmltree::{Document, Node};

use crate::distro::Distro;
use crate::feed::{is_cve_id, parse_iso_date, DistroFix, FixOrigin, FixState, Parsed};

/// The largest updateinfo this reader inflates (Amazon Linux 2's core file is ~100 MiB
/// inflated): a gzip bomb stops here with an error instead of filling memory.
const MAX_INFLATED: u64 = 1 << 30;

/// A file as it arrives: gzipped (magic `1f 8b`) or plain UTF-8.
pub fn parse_bytes(bytes: &[u8]) -> Result<Parsed<DistroFix>, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| format!("updateinfo gzip: {e}"))?;
        if inflated.len() as u64 > MAX_INFLATED {
            return Err(format!(
                "updateinfo gzip: inflates past {MAX_INFLATED} bytes"
            ));
        }
        return parse_bytes_plain(&inflated);
    }
    parse_bytes_plain(bytes)
}

fn parse_bytes_plain(bytes: &[u8]) -> Result<Parsed<DistroFix>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("expected UTF-8 text: {e}"))?;
    parse(text)
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn text_of(node: Node, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The Amazon Linux release an advisory id belongs to (see the module comment).
pub fn release_of(advisory: &str) -> Option<&'static str> {
    let rest = advisory.strip_prefix("ALAS")?;
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    match digits {
        "" if rest.starts_with('-') => Some("1"),
        "2" => Some("2"),
        "2022" => Some("2022"),
        "2023" => Some("2023"),
        _ => None,
    }
}

/// One updateinfo document. Fails only when the file is not updateinfo XML at all; an update
/// or package of the wrong shape is skipped and counted.
pub fn parse(text: &str) -> Result<Parsed<DistroFix>, String> {
    let document = Document::parse(text).map_err(|e| format!("updateinfo XML: {e}"))?;
    let root = document.root_element();
    if root.tag_name().name() != "updates" {
        return Err(format!(
            "updateinfo: expected an <updates> document, found <{}>",
            root.tag_name().name()
        ));
    }
    let mut parsed = Parsed::default();
    for (i, update) in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "update")
        .enumerate()
    {
        if update.attribute("type") != Some("security") {
            continue;
        }
        let Some(advisory) = text_of(update, "id") else {
            parsed.skip(|| format!("update[{i}]: expected an id"));
            continue;
        };
        let Some(release) = release_of(&advisory) else {
            parsed.skip(|| format!("{advisory}: the id names no Amazon Linux release"));
            continue;
        };
        let cves: Vec<&str> = child(update, "references")
            .into_iter()
            .flat_map(|r| r.children())
            .filter(|r| r.is_element() && r.attribute("type") == Some("cve"))
            .filter_map(|r| r.attribute("id"))
            .filter(|id| is_cve_id(id))
            .collect();
        if cves.is_empty() {
            parsed.skip(|| format!("{advisory}: names no CVE"));
            continue;
        }
        let published = child(update, "issued")
            .and_then(|n| n.attribute("date"))
            .and_then(parse_iso_date);
        let severity = text_of(update, "severity").map(|s| s.to_ascii_lowercase());
        let packages = child(update, "pkglist")
            .into_iter()
            .flat_map(|p| p.descendants())
            .filter(|n| n.is_element() && n.tag_name().name() == "package");
        let mut seen = Vec::new();
        for package in packages {
            let evr = match evr_of(package) {
                Ok(evr) => evr,
                Err(error) => {
                    parsed.skip(|| format!("{advisory}: {error}"));
                    continue;
                }
            };
            let name = package.attribute("name").unwrap_or_default();
            // One verdict per binary name: the same RPM is listed once per architecture.
            if seen.contains(&(name, evr.clone())) {
                continue;
            }
            seen.push((name, evr.clone()));
            for cve in &cves {
                parsed.records.push(DistroFix {
                    distro: Distro::Amazon,
                    release: release.to_owned(),
                    source: name.to_owned(),
                    cve: (*cve).to_owned(),
                    state: FixState::Fixed {
                        version: evr.clone(),
                    },
                    introduced: None,
                    advisory: Some(advisory.clone()),
                    published,
                    urgency: severity.clone(),
                    origin: FixOrigin::AmazonAlas,
                    disposition: None,
                });
            }
        }
    }
    Ok(parsed)
}

/// `epoch:version-release` of a `<package>`, validated by rpm's rules.
fn evr_of(package: Node) -> Result<String, String> {
    let name = package
        .attribute("name")
        .filter(|n| !n.is_empty())
        .ok_or("package without a name")?;
    let version = package
        .attribute("version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("package {name}: no version"))?;
    let release = package
        .attribute("release")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("package {name}: no release"))?;
    let epoch = package
        .attribute("epoch")
        .filter(|e| !e.is_empty())
        .unwrap_or("0");
    let evr = format!("{epoch}:{version}-{release}");
    crate::version::rpm::Evr::parse(&evr)
        .map_err(|e| format!("package {name}: version {evr:?}: {e}"))?;
    Ok(evr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_from_ids() {
        assert_eq!(release_of("ALAS-2018-1058"), Some("1"));
        assert_eq!(release_of("ALAS2-2018-939"), Some("2"));
        assert_eq!(release_of("ALAS2KERNEL-5.15-2022-001"), Some("2"));
        assert_eq!(release_of("ALAS2022-2021-001"), Some("2022"));
        assert_eq!(release_of("ALAS2023LIVEPATCH-2023-001"), Some("2023"));
        assert_eq!(release_of("ALAS3-2020-1"), None);
        assert_eq!(release_of("RHSA-2020:1"), None);
    }

    #[test]
    fn security_updates_only_and_bad_packages_counted() {
        let doc = r#"<updates>
<update type="bugfix"><id>ALAS2-2020-1</id><references><reference type="cve" id="CVE-2020-0001"/></references>
<pkglist><collection><package name="a" version="1" release="1"/></collection></pkglist></update>
<update type="security"><id>ALAS2-2020-2</id><issued date="2020-01-02 10:00"/><severity>Medium</severity>
<references><reference type="cve" id="CVE-2020-0002"/><reference type="bugzilla" id="123"/></references>
<pkglist><collection short="amazon-linux-2">
<package name="b" version="1.0" release="2.amzn2" arch="x86_64"/>
<package name="b" version="1.0" release="2.amzn2" arch="aarch64"/>
<package name="c" version="1.0" arch="x86_64"/>
</collection></pkglist></update></updates>"#;
        let parsed = parse(doc).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let record = &parsed.records[0];
        assert_eq!(
            (
                record.release.as_str(),
                record.source.as_str(),
                record.cve.as_str()
            ),
            ("2", "b", "CVE-2020-0002")
        );
        assert_eq!(
            record.state,
            FixState::Fixed {
                version: "0:1.0-2.amzn2".into()
            }
        );
        assert_eq!(record.urgency.as_deref(), Some("medium"));
        assert_eq!(parsed.skipped, 1);
        assert!(parsed
            .first_error
            .unwrap()
            .contains("package c: no release"));
    }

    #[test]
    fn gzip_is_read_and_garbage_refused() {
        use std::io::Write;
        let doc = r#"<updates><update type="security"><id>ALAS-2018-1</id><references><reference type="cve" id="CVE-2018-0001"/></references><pkglist><collection><package name="x" epoch="1" version="2" release="3.amzn1"/></collection></pkglist></update></updates>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(doc.as_bytes()).unwrap();
        let parsed = parse_bytes(&gz.finish().unwrap()).unwrap();
        assert_eq!(parsed.records[0].release, "1");
        assert!(parse_bytes(&[0x1f, 0x8b, 0, 1])
            .unwrap_err()
            .contains("gzip"));
        assert!(parse("<rss/>").unwrap_err().contains("<updates>"));
    }
}
