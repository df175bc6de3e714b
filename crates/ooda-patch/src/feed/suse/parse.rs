//! SUSE OVAL → [`DistroFix`] verdicts for SUSE Linux Enterprise.
//!
//! An OVAL file has four parts that refer to each other by id:
//!
//! - `definitions`: one per CVE (class `vulnerability`, title `CVE-…`) or per advisory (class
//!   `patch`, title `SUSE-SU-…`, CVEs in its `reference`s), each with a `criteria` tree;
//! - `tests` (`rpminfo_test`): an `object_ref` and a `state_ref`;
//! - `objects` (`rpminfo_object`): the RPM name the test looks at;
//! - `states` (`rpminfo_state`): what the RPM must be for the test to be true.
//!
//! SUSE builds every tree the same way: an `AND` of "product P is installed" and an `OR` of
//! "package X is affected", where
//!
//! - a product test looks at a `*-release` RPM (`sles-release`, `sles-ltss-release`,
//!   `sle-module-basesystem-release`, …) whose `version` equals the product's version: `15` or
//!   `15.1` (Service Pack 1), which is also what `/etc/os-release` says in `VERSION_ID`;
//! - a package test whose state is `evr` `less than` E means "installed below E": E is the
//!   fixed version on that product ([`FixState::Fixed`], compared with rpm's rules);
//! - a package test whose state is `version` `equals 0` ("X is not affected": no RPM has
//!   version 0) means the product never shipped the flaw ([`FixState::NotAffected`]).
//!
//! Products may sit directly in the `AND` or in an `OR` of products beside it. The fixed
//! version belongs to every product of its `AND`. SUSE's tests name *binary* RPMs
//! (`kernel-default`, `krb5-client`), so SUSE hosts are matched by binary name
//! ([`Distro::matches_binaries`]). A criterion that cannot be resolved (its test, object or
//! state is missing, the state uses an operation other than the two above, or it sits under no
//! product) is skipped and counted with the first reason: nothing is guessed.
//!
//! Products that are not SUSE Linux Enterprise (SUSE Manager, SLE Micro, openSUSE) name their
//! own `*-release` RPMs: their versions are kept as they are, so a host never meets them unless
//! its release says the same number.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use crate::distro::Distro;
use crate::feed::{extract_cve, is_cve_id, parse_iso_date, DistroFix, FixOrigin, FixState, Parsed};

/// A state's comparison: the element (`evr` or `version`), its operation and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check<'a> {
    field: &'a str,
    operation: &'a str,
    value: &'a str,
}

/// The parts of the file that definitions refer to, by id.
struct Refs<'a> {
    /// test id → (object id, state id)
    tests: HashMap<&'a str, (Option<&'a str>, Option<&'a str>)>,
    /// object id → RPM name
    objects: HashMap<&'a str, &'a str>,
    /// state id → its `evr` or `version` check
    states: HashMap<&'a str, Check<'a>>,
}

/// What one criterion means once its test is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Meaning {
    /// A `*-release` RPM at a version: the product's release.
    Product(String),
    /// An RPM below a version, or not affected.
    Package { name: String, state: FixState },
}

/// One OVAL document. Fails only when the file is not OVAL XML at all; a definition or
/// criterion of the wrong shape is skipped and counted.
pub fn parse(text: &str) -> Result<Parsed<DistroFix>, String> {
    let document = Document::parse(text).map_err(|e| format!("OVAL XML: {e}"))?;
    let root = document.root_element();
    if root.tag_name().name() != "oval_definitions" {
        return Err(format!(
            "OVAL: expected an oval_definitions document, found <{}>",
            root.tag_name().name()
        ));
    }
    let refs = collect_refs(root);
    let mut parsed = Parsed::default();
    for definition in root
        .descendants()
        .filter(|n| n.has_tag_name_local("definition"))
    {
        parse_definition(definition, &refs, &mut parsed);
    }
    Ok(parsed)
}

trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name_local(name))
}

fn collect_refs<'a>(root: Node<'a, 'a>) -> Refs<'a> {
    let mut refs = Refs {
        tests: HashMap::new(),
        objects: HashMap::new(),
        states: HashMap::new(),
    };
    for node in root.descendants().filter(Node::is_element) {
        let Some(id) = node.attribute("id") else {
            continue;
        };
        match node.tag_name().name() {
            "rpminfo_test" => {
                let object = child(node, "object").and_then(|o| o.attribute("object_ref"));
                let state = child(node, "state").and_then(|s| s.attribute("state_ref"));
                refs.tests.insert(id, (object, state));
            }
            "rpminfo_object" => {
                if let Some(name) = child(node, "name").and_then(|n| n.text()) {
                    refs.objects.insert(id, name.trim());
                }
            }
            "rpminfo_state" => {
                let check = ["evr", "version"].into_iter().find_map(|field| {
                    let element = child(node, field)?;
                    Some(Check {
                        field,
                        operation: element.attribute("operation").unwrap_or("equals"),
                        value: element.text().unwrap_or("").trim(),
                    })
                });
                if let Some(check) = check {
                    refs.states.insert(id, check);
                }
            }
            _ => {}
        }
    }
    refs
}

/// Resolves one criterion to what it says.
fn meaning(criterion: Node, refs: &Refs) -> Result<Meaning, String> {
    let test_id = criterion
        .attribute("test_ref")
        .ok_or("criterion without test_ref")?;
    if criterion.attribute("negate") == Some("true") {
        return Err(format!("test {test_id} is negated"));
    }
    let (object, state) = refs
        .tests
        .get(test_id)
        .ok_or_else(|| format!("test {test_id} is not in the document"))?;
    let name = object
        .and_then(|o| refs.objects.get(o))
        .ok_or_else(|| format!("test {test_id}: its rpminfo_object is not in the document"))?;
    let check = state
        .and_then(|s| refs.states.get(s))
        .ok_or_else(|| format!("test {test_id}: its rpminfo_state is not in the document"))?;
    if name.ends_with("-release") && check.field == "version" && check.operation == "equals" {
        if check.value.is_empty() {
            return Err(format!("test {test_id}: {name} with an empty version"));
        }
        return Ok(Meaning::Product(
            Distro::Suse.normalise_release(check.value),
        ));
    }
    let state = match (check.field, check.operation, check.value) {
        ("evr", "less than", evr) => {
            crate::version::rpm::Evr::parse(evr)
                .map_err(|e| format!("test {test_id}: {name} evr {evr:?}: {e}"))?;
            FixState::Fixed {
                version: evr.to_owned(),
            }
        }
        ("version", "equals", "0") => FixState::NotAffected,
        (field, operation, value) => {
            return Err(format!(
                "test {test_id}: {name}: unsupported state {field} {operation:?} {value:?} (expected evr \"less than\" or version equals 0)"
            ))
        }
    };
    Ok(Meaning::Package {
        name: (*name).to_owned(),
        state,
    })
}

/// The CVEs a definition speaks of: its title, or (a `patch` definition) its CVE references.
fn cves(metadata: Node) -> Vec<String> {
    let title = child(metadata, "title")
        .and_then(|t| t.text())
        .unwrap_or("")
        .trim();
    if is_cve_id(title) {
        return vec![title.to_owned()];
    }
    let mut cves: Vec<String> = metadata
        .children()
        .filter(|n| n.has_tag_name_local("reference"))
        .filter_map(|r| r.attribute("ref_id").and_then(extract_cve))
        .map(str::to_owned)
        .collect();
    cves.sort();
    cves.dedup();
    cves
}

fn parse_definition(definition: Node, refs: &Refs, parsed: &mut Parsed<DistroFix>) {
    let id = definition.attribute("id").unwrap_or("?");
    let short_id = id.rsplit_once("security:").map_or(id, |(_, rest)| rest);
    let Some(metadata) = child(definition, "metadata") else {
        parsed.skip(|| format!("{id}: expected metadata"));
        return;
    };
    let cves = cves(metadata);
    if cves.is_empty() {
        parsed.skip(|| format!("{id}: names no CVE"));
        return;
    }
    let title = child(metadata, "title")
        .and_then(|t| t.text())
        .unwrap_or("")
        .trim();
    let advisory = if is_cve_id(title) {
        format!("SUSE OVAL {short_id}")
    } else {
        title.to_owned()
    };
    let advisory_node = child(metadata, "advisory");
    let severity = advisory_node
        .and_then(|a| child(a, "severity"))
        .and_then(|s| s.text())
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let published = advisory_node
        .and_then(|a| child(a, "issued"))
        .and_then(|i| i.attribute("date"))
        .and_then(parse_iso_date);
    let Some(criteria) = child(definition, "criteria") else {
        parsed.skip(|| format!("{id}: expected criteria"));
        return;
    };
    let mut found = Vec::new();
    walk(criteria, &[], refs, &mut found, parsed, id);
    for (release, name, state) in found {
        for cve in &cves {
            parsed.records.push(DistroFix {
                distro: Distro::Suse,
                release: release.clone(),
                source: name.clone(),
                cve: cve.clone(),
                state: state.clone(),
                introduced: None,
                advisory: Some(advisory.clone()),
                published,
                urgency: severity.clone(),
                origin: FixOrigin::SuseOval,
                disposition: None,
            });
        }
    }
}

/// Products named by a criteria node's own criterions, or by a child `criteria` made of
/// product criterions only. Empty when the node names none.
fn products_of(node: Node, refs: &Refs) -> Vec<String> {
    let mut releases = Vec::new();
    for item in node.children().filter(Node::is_element) {
        match item.tag_name().name() {
            "criterion" => {
                if let Ok(Meaning::Product(release)) = meaning(item, refs) {
                    releases.push(release);
                }
            }
            "criteria" => {
                let inner: Vec<Node> = item.children().filter(Node::is_element).collect();
                // A product whose test is missing stays unknown (and is counted when walked);
                // the products beside it still scope the packages.
                let all_products = inner.iter().all(|n| {
                    n.has_tag_name_local("criterion")
                        && !matches!(meaning(*n, refs), Ok(Meaning::Package { .. }))
                }) && inner
                    .iter()
                    .any(|n| matches!(meaning(*n, refs), Ok(Meaning::Product(_))));
                if all_products {
                    releases.extend(inner.iter().filter_map(|n| match meaning(*n, refs) {
                        Ok(Meaning::Product(release)) => Some(release),
                        _ => None,
                    }));
                }
            }
            _ => {}
        }
    }
    releases.sort();
    releases.dedup();
    releases
}

/// Walks a criteria tree; `context` holds the releases of the products above.
fn walk(
    node: Node,
    context: &[String],
    refs: &Refs,
    found: &mut Vec<(String, String, FixState)>,
    parsed: &mut Parsed<DistroFix>,
    id: &str,
) {
    let here = products_of(node, refs);
    let context = if node.attribute("operator") != Some("OR") && !here.is_empty() {
        here.as_slice()
    } else {
        context
    };
    for item in node.children().filter(Node::is_element) {
        match item.tag_name().name() {
            "criterion" => match meaning(item, refs) {
                Ok(Meaning::Product(_)) => {}
                Ok(Meaning::Package { name, state }) if !context.is_empty() => {
                    for release in context {
                        found.push((release.clone(), name.clone(), state.clone()));
                    }
                }
                Ok(Meaning::Package { name, .. }) => {
                    parsed.skip(|| format!("{id}: {name} sits under no SUSE product"));
                }
                Err(error) => parsed.skip(|| format!("{id}: {error}")),
            },
            "criteria" => walk(item, context, refs, found, parsed, id),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5">
<definitions><definition id="oval:org.opensuse.security:def:1" class="vulnerability"><metadata><title>CVE-2021-29154</title>
<advisory><severity>Important</severity><issued date="2021-04-30"/></advisory></metadata>
<criteria operator="OR">
 <criteria operator="AND"><criterion test_ref="t:rel"/><criteria operator="OR"><criterion test_ref="t:kernel"/><criterion test_ref="t:gone"/></criteria></criteria>
 <criteria operator="AND"><criteria operator="OR"><criterion test_ref="t:rel"/><criterion test_ref="t:rel2"/></criteria><criterion test_ref="t:na"/></criteria>
</criteria></definition></definitions>
<tests>
 <rpminfo_test id="t:rel"><object object_ref="o:rel"/><state state_ref="s:15.1"/></rpminfo_test>
 <rpminfo_test id="t:rel2"><object object_ref="o:rel"/><state state_ref="s:15"/></rpminfo_test>
 <rpminfo_test id="t:kernel"><object object_ref="o:kernel"/><state state_ref="s:lt"/></rpminfo_test>
 <rpminfo_test id="t:na"><object object_ref="o:crypto"/><state state_ref="s:0"/></rpminfo_test>
</tests>
<objects><rpminfo_object id="o:rel"><name>sles-release</name></rpminfo_object>
<rpminfo_object id="o:kernel"><name>kernel-default</name></rpminfo_object>
<rpminfo_object id="o:crypto"><name>python3-cryptography</name></rpminfo_object></objects>
<states><rpminfo_state id="s:15.1"><version operation="equals">15.1</version></rpminfo_state>
<rpminfo_state id="s:15"><version operation="equals">15</version></rpminfo_state>
<rpminfo_state id="s:lt"><evr datatype="evr_string" operation="less than">0:4.12.14-197.89.2</evr></rpminfo_state>
<rpminfo_state id="s:0"><version operation="equals">0</version></rpminfo_state></states>
</oval_definitions>"#;

    #[test]
    fn products_scope_the_packages_beside_them() {
        let parsed = parse(DOC).unwrap();
        let got: Vec<(&str, &str, &FixState)> = parsed
            .records
            .iter()
            .map(|r| (r.release.as_str(), r.source.as_str(), &r.state))
            .collect();
        let fixed = FixState::Fixed {
            version: "0:4.12.14-197.89.2".into(),
        };
        assert_eq!(
            got,
            vec![
                ("15.1", "kernel-default", &fixed),
                ("15", "python3-cryptography", &FixState::NotAffected),
                ("15.1", "python3-cryptography", &FixState::NotAffected),
            ]
        );
        assert_eq!(parsed.skipped, 1);
        assert!(parsed
            .first_error
            .unwrap()
            .contains("test t:gone is not in the document"));
        let record = &parsed.records[0];
        assert_eq!(record.cve, "CVE-2021-29154");
        assert_eq!(record.urgency.as_deref(), Some("important"));
        assert_eq!(record.advisory.as_deref(), Some("SUSE OVAL def:1"));
        assert_eq!(
            record.published,
            chrono::NaiveDate::from_ymd_opt(2021, 4, 30)
        );
    }

    #[test]
    fn not_oval_is_an_error() {
        assert!(parse("<html/>").unwrap_err().contains("oval_definitions"));
        assert!(parse("not xml").unwrap_err().starts_with("OVAL XML"));
    }
}
