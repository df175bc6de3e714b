//! Installed packages, from the tools hosts already have: `dpkg-query -W`, `rpm -qa --qf …` and
//! ansible's `package_facts`. What matters for matching is the *source* package and version,
//! which dpkg-query and rpm can report; ansible's facts cannot, so there the binary name stands
//! in for the source (noted on the host so reports can say so).

use std::process::Command;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{PatchError, Result};
use crate::feed::Parsed;

/// The dpkg-query format the parser expects (a fifth `${db:Status-Abbrev}` column is optional).
pub const DPKG_QUERY_FORMAT: &str =
    "${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n";

/// The rpm query format the parser expects.
pub const RPM_QUERY_FORMAT: &str = "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{SOURCERPM}\\n";

/// One installed binary package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
///
/// Strings are shared (`Arc<str>`): a fleet repeats the same names and versions on thousands of
/// hosts, and [`crate::inventory::intern`] makes them one allocation each.
pub struct InstalledPackage {
    pub name: Arc<str>,
    pub version: Arc<str>,
    /// Source package; `None` when the collector could not say (then the binary name is used).
    pub source: Option<Arc<str>>,
    pub source_version: Option<Arc<str>>,
}

impl InstalledPackage {
    pub fn new(
        name: &str,
        version: &str,
        source: Option<&str>,
        source_version: Option<&str>,
    ) -> Self {
        Self {
            name: Arc::from(name),
            version: Arc::from(version),
            source: source.map(Arc::from),
            source_version: source_version.map(Arc::from),
        }
    }

    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }

    pub fn source_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

/// Output of `dpkg-query -W -f '${Package}\t${Version}\t${source:Package}\t${source:Version}\n'`
/// (with an optional fifth status column: packages not installed are dropped).
pub fn parse_dpkg_query(text: &str) -> Parsed<InstalledPackage> {
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let name = cells[0];
        let version = cells.get(1).copied().unwrap_or("");
        if let Some(status) = cells.get(4) {
            // `rc` (removed, config files left) and `un` are not installed: nothing to patch.
            let state = status.as_bytes().get(1).copied();
            if matches!(state, Some(b'n') | Some(b'c')) {
                continue;
            }
        }
        if version.is_empty() {
            continue; // Known to dpkg but not installed.
        }
        if name.is_empty() || name.contains(' ') {
            parsed.skip(|| {
                format!(
                    "line {}: expected a package name, found {name:?}",
                    number + 1
                )
            });
            continue;
        }
        if let Err(error) = crate::version::dpkg::DebVersion::parse(version) {
            parsed.skip(|| format!("line {}: {name} {version:?}: {error}", number + 1));
            continue;
        }
        let non_empty = |i: usize| cells.get(i).copied().filter(|c| !c.is_empty());
        parsed.records.push(InstalledPackage::new(
            name,
            version,
            non_empty(2),
            non_empty(3),
        ));
    }
    parsed
}

/// Output of `rpm -qa --qf '%{NAME}\t%{EPOCH}:%{VERSION}-%{RELEASE}\t%{SOURCERPM}\n'`.
pub fn parse_rpm_query(text: &str) -> Parsed<InstalledPackage> {
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let (name, evr) = (cells[0], cells.get(1).copied().unwrap_or(""));
        // rpm prints `(none)` for a missing epoch.
        let evr = evr.strip_prefix("(none):").unwrap_or(evr);
        if name.is_empty() || evr.is_empty() {
            parsed.skip(|| format!("line {}: expected NAME<TAB>EVR, found {line:?}", number + 1));
            continue;
        }
        let srpm = cells.get(2).copied().unwrap_or("");
        let source = source_rpm_name(srpm);
        // A subpackage's own version can differ from its source RPM's (rubygem-irb 1.2.6 is
        // built from ruby 2.7.8): advisories name the source RPM's, so compare that one. The
        // file name carries no epoch; subpackages share their source's.
        let source_evr = source_rpm_version(srpm).map(|vr| match evr.split_once(':') {
            Some((epoch, _)) => format!("{epoch}:{vr}"),
            None => vr.to_owned(),
        });
        parsed.records.push(InstalledPackage::new(
            name,
            evr,
            source,
            Some(source_evr.as_deref().unwrap_or(evr)),
        ));
    }
    parsed
}

/// `openssl-1.1.1k-6.el8.src.rpm` → `1.1.1k-6.el8`.
pub fn source_rpm_version(srpm: &str) -> Option<&str> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let mut cut = stem.rmatch_indices('-').map(|(i, _)| i);
    let (_release_at, version_at) = (cut.next()?, cut.next()?);
    let version_release = &stem[version_at + 1..];
    (version_at > 0 && !version_release.is_empty()).then_some(version_release)
}

/// `openssl-1.1.1k-6.el8.src.rpm` → `openssl`.
pub fn source_rpm_name(srpm: &str) -> Option<&str> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let mut parts = stem.rsplitn(3, '-');
    let (_release, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty()).then_some(name)
}

/// ansible `package_facts` output: `{"ansible_facts":{"packages":{name:[{version,…}]}}}`, the
/// bare `{"packages":…}`, or the `--tree` file of one host.
pub fn parse_ansible_facts(text: &str) -> std::result::Result<Parsed<InstalledPackage>, String> {
    let document: Value =
        serde_json::from_str(text).map_err(|e| format!("ansible facts JSON: {e}"))?;
    let packages = document
        .pointer("/ansible_facts/packages")
        .or_else(|| document.get("packages"))
        .and_then(Value::as_object)
        .ok_or("ansible facts: expected ansible_facts.packages (run the package_facts module)")?;
    let mut parsed = Parsed::default();
    // Sorted by name: a JSON object's order depends on serde_json's features, the output must not.
    let mut by_name: Vec<(&String, &Value)> = packages.iter().collect();
    by_name.sort_by(|a, b| a.0.cmp(b.0));
    for (name, instances) in by_name {
        let Some(instances) = instances.as_array() else {
            parsed.skip(|| format!("packages.{name}: expected a list"));
            continue;
        };
        for instance in instances {
            let field = |key: &str| match instance.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            let Some(version) = field("version") else {
                parsed.skip(|| format!("packages.{name}: no version"));
                continue;
            };
            // rpm facts split epoch, version and release; apt facts carry the whole version.
            let full = match (field("epoch"), field("release")) {
                (epoch, Some(release)) => {
                    let epoch = epoch.map(|e| format!("{e}:")).unwrap_or_default();
                    format!("{epoch}{version}-{release}")
                }
                (Some(epoch), None) if !version.contains(':') => format!("{epoch}:{version}"),
                _ => version,
            };
            parsed
                .records
                .push(InstalledPackage::new(name, &full, None, None));
        }
    }
    Ok(parsed)
}

/// Which collector produced a package list, guessed from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageFormat {
    Dpkg,
    Rpm,
    AnsibleFacts,
}

/// Reads a package list of any supported format: JSON is ansible facts, a third column ending
/// in `.src.rpm` is rpm, the rest is dpkg-query.
pub fn parse_any(
    text: &str,
) -> std::result::Result<(PackageFormat, Parsed<InstalledPackage>), String> {
    if text.trim_start().starts_with('{') {
        return parse_ansible_facts(text).map(|p| (PackageFormat::AnsibleFacts, p));
    }
    let looks_rpm = text.lines().take(20).any(|line| {
        line.split('\t')
            .nth(2)
            .is_some_and(|c| c.trim().ends_with(".rpm") || c.trim() == "(none)")
    });
    if looks_rpm {
        Ok((PackageFormat::Rpm, parse_rpm_query(text)))
    } else {
        Ok((PackageFormat::Dpkg, parse_dpkg_query(text)))
    }
}

/// Runs `dpkg-query -W` on this host and returns its output.
pub fn query_local_dpkg() -> Result<String> {
    let format = DPKG_QUERY_FORMAT.replace("\\t", "\t").replace("\\n", "\n");
    run("dpkg-query", &["-W", "-f", &format])
}

/// Runs `rpm -qa --qf …` on this host and returns its output.
pub fn query_local_rpm() -> Result<String> {
    let format = RPM_QUERY_FORMAT.replace("\\t", "\t").replace("\\n", "\n");
    run("rpm", &["-qa", "--qf", &format])
}

/// This host's packages from dpkg-query.
pub fn collect_local_dpkg() -> Result<Parsed<InstalledPackage>> {
    Ok(parse_dpkg_query(&query_local_dpkg()?))
}

/// This host's packages from rpm.
pub fn collect_local_rpm() -> Result<Parsed<InstalledPackage>> {
    Ok(parse_rpm_query(&query_local_rpm()?))
}

fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| PatchError::Command {
            command: program.to_owned(),
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(PatchError::Command {
            command: program.to_owned(),
            message: format!(
                "exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| PatchError::Command {
        command: program.to_owned(),
        message: format!("output is not UTF-8: {e}"),
    })
}

/// `/etc/os-release` → (`ID`, `VERSION_ID` or `VERSION_CODENAME`).
pub fn parse_os_release(text: &str) -> Option<(String, String)> {
    let mut id = None;
    let mut version = None;
    let mut codename = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match key.trim() {
            "ID" => id = Some(value),
            "VERSION_ID" => version = Some(value),
            "VERSION_CODENAME" => codename = Some(value),
            _ => {}
        }
    }
    Some((id?, version.or(codename)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_query_lines() {
        let text = "libssl3\t3.0.11-1~deb12u2\topenssl\t3.0.11-1~deb12u2\tii \n\
zlib1g\t1:1.2.13.dfsg-1\tzlib\t1:1.2.13.dfsg-1\n\
oldpkg\t1.0-1\toldpkg\t1.0-1\trc \n\
ghost\t\t\t\n\
bad\tnot a version\n\
bash\t5.2.15-2+b2\tbash\t5.2.15-2\n";
        let parsed = parse_dpkg_query(text);
        let names: Vec<&str> = parsed.records.iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["libssl3", "zlib1g", "bash"]);
        assert_eq!(parsed.records[0].source_name(), "openssl");
        assert_eq!(
            parsed.records[2].source_version(),
            "5.2.15-2",
            "binNMU: source version"
        );
        assert_eq!(parsed.skipped, 1);
    }

    #[test]
    fn rpm_query_lines() {
        let text = "openssl-libs\t1:1.1.1k-6.el8\topenssl-1.1.1k-6.el8.src.rpm\n\
bash\t(none):4.4.20-4.el8\tbash-4.4.20-4.el8.src.rpm\n\
gpg-pubkey\t(none):fd431d51-4ae0493b\t(none)\n";
        let (format, parsed) = parse_any(text).unwrap();
        assert_eq!(format, PackageFormat::Rpm);
        assert_eq!(parsed.records[0].source_name(), "openssl");
        assert_eq!(&*parsed.records[1].version, "4.4.20-4.el8");
        assert_eq!(parsed.records[2].source_name(), "gpg-pubkey");
    }

    #[test]
    fn ansible_package_facts() {
        let text = r#"{"ansible_facts":{"packages":{
            "openssl":[{"name":"openssl","version":"1.1.1k","release":"6.el8","epoch":1,"arch":"x86_64","source":"rpm"}],
            "bash":[{"name":"bash","version":"5.2.15-2+b2","arch":"amd64","source":"apt"}],
            "broken":[{"name":"broken"}]}}, "changed": false}"#;
        let (format, parsed) = parse_any(text).unwrap();
        assert_eq!(format, PackageFormat::AnsibleFacts);
        let versions: Vec<&str> = parsed.records.iter().map(|p| &*p.version).collect();
        assert_eq!(
            versions,
            ["5.2.15-2+b2", "1:1.1.1k-6.el8"],
            "sorted by package name"
        );
        assert_eq!(parsed.skipped, 1);
    }

    #[test]
    fn os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
        assert_eq!(parse_os_release(text), Some(("debian".into(), "12".into())));
    }
}
