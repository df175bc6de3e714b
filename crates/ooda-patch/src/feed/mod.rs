//! Vulnerability feeds: one folder per source, each with a `parse.rs` that turns the vendor's
//! format into the records below, and (NVD) a `client.rs` for online sync behind the `sync`
//! feature. Parsers skip a malformed record, count it and keep its error; they never panic and
//! never write: persistence is [`store`]'s job, so an import is applied whole or not at all.

pub mod amazon;
pub mod debian;
pub mod epss;
pub mod import;
pub mod kev;
pub mod nvd;
pub mod osv;
pub mod redhat;
pub mod store;
pub mod suse;
pub mod vulnrichment;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::distro::Distro;

/// Which feed a snapshot holds. Closed: adding a feed is one variant, one parser, one match arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// NVD CVE API 2.0 records (an API page, JSON lines of `{"cve":…}`, or a directory of them).
    Nvd,
    /// CISA Known Exploited Vulnerabilities catalogue (JSON).
    Kev,
    /// Debian Security Tracker JSON (`/tracker/data/json`).
    DebianTracker,
    /// Debian Security Advisories list (`data/DSA/list`).
    Dsa,
    /// Debian LTS Advisories list (`data/DLA/list`).
    Dla,
    /// A flattened table of Debian fixed versions (`advisory, date, …, fixed_version, cves`).
    DebianFixed,
    /// Debian's source package ↔ CPE map (`data/CPE/list`), to link NVD products to packages.
    DebianCpe,
    /// OSV records (a file, a JSON array or a directory); Debian and Ubuntu ecosystems at least.
    Osv,
    /// EPSS daily scores (CSV, optionally gzipped).
    Epss,
    /// Red Hat CSAF advisories (RHSA JSON, a file or a directory): RHEL and rebuilds.
    RedhatCsaf,
    /// CVE 5 / Vulnrichment summary table: the bulk severity source.
    Vulnrichment,
    /// SUSE OVAL definitions (`suse.linux.enterprise.server.15.xml` and the like): SLE.
    SuseOval,
    /// Amazon Linux `updateinfo.xml` (ALAS advisories, plain or gzipped).
    AmazonAlas,
}

impl FeedKind {
    pub const ALL: [FeedKind; 13] = [
        FeedKind::Nvd,
        FeedKind::Kev,
        FeedKind::DebianTracker,
        FeedKind::Dsa,
        FeedKind::Dla,
        FeedKind::DebianFixed,
        FeedKind::DebianCpe,
        FeedKind::Osv,
        FeedKind::Epss,
        FeedKind::Vulnrichment,
        FeedKind::RedhatCsaf,
        FeedKind::SuseOval,
        FeedKind::AmazonAlas,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Nvd => "nvd",
            FeedKind::Kev => "kev",
            FeedKind::DebianTracker => "debian-tracker",
            FeedKind::Dsa => "dsa",
            FeedKind::Dla => "dla",
            FeedKind::DebianFixed => "debian-fixed",
            FeedKind::DebianCpe => "debian-cpe",
            FeedKind::Osv => "osv",
            FeedKind::Epss => "epss",
            FeedKind::Vulnrichment => "vulnrichment",
            FeedKind::RedhatCsaf => "redhat-csaf",
            FeedKind::SuseOval => "suse-oval",
            FeedKind::AmazonAlas => "amazon-alas",
        }
    }

    /// Feeds whose import adds to what is there (upsert by record id) rather than replacing the
    /// whole catalogue: NVD and OSV arrive in pieces, and so may the Debian tracker (one file per
    /// package or per slice of the JSON) and the advisory lists. KEV, EPSS and the severity
    /// summary are whole catalogues: a new one replaces the old.
    pub fn merges(self) -> bool {
        matches!(
            self,
            FeedKind::Nvd
                | FeedKind::Osv
                | FeedKind::DebianTracker
                | FeedKind::Dsa
                | FeedKind::Dla
                | FeedKind::DebianFixed
                | FeedKind::DebianCpe
                | FeedKind::RedhatCsaf
                | FeedKind::SuseOval
                | FeedKind::AmazonAlas
        )
    }
}

impl std::fmt::Display for FeedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FeedKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FeedKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("expected one of {}, found {s:?}", names.join(", "))
            })
    }
}

/// What a parser produced: the good records, and how many bad ones it skipped with the first
/// reason (so an operator can find the broken record without reading them all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parsed<T> {
    pub records: Vec<T>,
    pub skipped: usize,
    pub first_error: Option<String>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            skipped: 0,
            first_error: None,
        }
    }
}

impl<T> Parsed<T> {
    /// Counts a skipped record; keeps the first error only.
    pub fn skip(&mut self, error: impl FnOnce() -> String) {
        self.skipped += 1;
        if self.first_error.is_none() {
            self.first_error = Some(error());
        }
    }

    /// Appends another parse result (e.g. the next file of a directory).
    pub fn extend(&mut self, other: Parsed<T>) {
        self.records.extend(other.records);
        self.skipped += other.skipped;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// A CVSS base score and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub score: f64,
    pub vector: Option<String>,
    /// Who scored it (`nvd@nist.gov`, a CNA, `cisa-adp`).
    pub source: String,
}

/// One vulnerable-software range from an NVD `cpeMatch` entry (`vulnerable: true` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeRange {
    /// `a` (application), `o` (operating system) or `h` (hardware).
    pub part: String,
    pub vendor: String,
    pub product: String,
    /// A single affected version when the CPE names one (`*` and `-` mean "see the range").
    pub exact: Option<String>,
    pub start_including: Option<String>,
    pub start_excluding: Option<String>,
    pub end_including: Option<String>,
    pub end_excluding: Option<String>,
}

/// What NVD says about one CVE: severity, status and affected CPE ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveRecord {
    pub id: String,
    pub status: Option<String>,
    pub published: Option<String>,
    pub last_modified: Option<String>,
    pub description: Option<String>,
    pub cvss: Option<Cvss>,
    pub cpe_ranges: Vec<CpeRange>,
}

/// One entry of the CISA KEV catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: NaiveDate,
    /// Not always after `date_added` in the real catalogue: never assume an order.
    pub due_date: Option<NaiveDate>,
    pub known_ransomware: bool,
}

/// One EPSS score, always with the model that produced it (scores of different models are not
/// comparable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    pub cve: String,
    pub probability: f64,
    pub percentile: Option<f64>,
    pub model_version: Option<String>,
    pub score_date: Option<String>,
}

/// Severity of one CVE from the CVE 5 / Vulnrichment summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityRecord {
    pub cve: String,
    pub cvss: Option<Cvss>,
    /// SSVC exploitation, lower-cased (`none`, `poc`, `active`).
    pub exploitation: Option<String>,
    pub kev_date_added: Option<NaiveDate>,
}

/// What a distro says about one CVE in one source package on one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FixState {
    /// Fixed in this version and later.
    Fixed { version: String },
    /// This release never had the vulnerable code.
    NotAffected,
    /// Known vulnerable, no fix released yet.
    Open,
    /// The release is out of security support for this package: no fix will come.
    EndOfLife,
}

/// What a distro has decided about a vulnerability it does not (or will not) fix through a
/// security advisory. The Debian tracker's vocabulary; other vendors map onto it (Ubuntu's
/// `negligible` → `Unimportant`, `deferred` → `Postponed`, `ignored` → `Ignored`; Red Hat's "will
/// not fix" → `Ignored`). A finding that carries one is not counted as a finding unless the scan
/// is configured to (`StatusPolicy`): the distro's security team has looked at it and decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// No security impact worth a fix (tracker urgency `unimportant`).
    Unimportant,
    /// The release (or this package in it) is out of security support: no fix will come.
    EndOfLife,
    /// Minor issue, fix deferred to a later update (`<postponed>`, `nodsa_reason: postponed`).
    Postponed,
    /// Minor issue the security team decided not to fix in this release (`<ignored>`).
    Ignored,
    /// Fixed only through a point release, never a DSA (`<no-dsa>`, `nodsa` without a reason).
    NoDsa,
}

impl Disposition {
    pub const ALL: [Disposition; 5] = [
        Disposition::Unimportant,
        Disposition::EndOfLife,
        Disposition::Postponed,
        Disposition::Ignored,
        Disposition::NoDsa,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Unimportant => "unimportant",
            Disposition::EndOfLife => "end-of-life",
            Disposition::Postponed => "postponed",
            Disposition::Ignored => "ignored",
            Disposition::NoDsa => "no-dsa",
        }
    }
}

impl std::fmt::Display for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Disposition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Disposition::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Disposition::ALL.iter().map(|d| d.as_str()).collect();
                format!("expected one of {}, found {s:?}", names.join(", "))
            })
    }
}

/// Which feed a distro verdict came from; the matcher prefers the tracker, then advisories,
/// then OSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixOrigin {
    DebianTracker,
    DebianAdvisory,
    /// Red Hat's CSAF advisories: the vendor's own data, preferred over OSV.
    RedHatCsaf,
    /// SUSE's OVAL definitions.
    SuseOval,
    /// Amazon's ALAS advisories (updateinfo).
    AmazonAlas,
    Osv,
}

impl FixOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FixOrigin::DebianTracker => "debian-tracker",
            FixOrigin::DebianAdvisory => "debian-advisory",
            FixOrigin::RedHatCsaf => "redhat-csaf",
            FixOrigin::SuseOval => "suse-oval",
            FixOrigin::AmazonAlas => "amazon-alas",
            FixOrigin::Osv => "osv",
        }
    }
}

/// A distro verdict: the unit the matcher reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistroFix {
    pub distro: Distro,
    /// Normalised release: the codename for Debian (`bookworm`), `22.04` for Ubuntu, the major
    /// version for RPM distros.
    pub release: String,
    /// Source package name.
    pub source: String,
    /// A CVE id, or the advisory id when the advisory names no CVE.
    pub cve: String,
    pub state: FixState,
    /// Only when a range does not start at the beginning (OSV `introduced` other than `0`).
    pub introduced: Option<String>,
    pub advisory: Option<String>,
    /// When the fix was published: the "fix younger than 7 days" risk factor reads it.
    pub published: Option<NaiveDate>,
    pub urgency: Option<String>,
    pub origin: FixOrigin,
    /// The distro's decision not to fix (or not through an advisory), when it made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
}

/// Debian's link from a source package to an NVD product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeLink {
    pub source: String,
    pub vendor: String,
    pub product: String,
}

/// Finds `CVE-YYYY-NNNN…` inside a longer id (`UBUNTU-CVE-2021-3782` → `CVE-2021-3782`).
pub fn extract_cve(text: &str) -> Option<&str> {
    let start = text.find("CVE-")?;
    let rest = &text[start..];
    let bytes = rest.as_bytes();
    let year_end = 4 + bytes[4..].iter().take_while(|b| b.is_ascii_digit()).count();
    if year_end != 8 || bytes.get(8) != Some(&b'-') {
        return None;
    }
    let number_end = 9 + bytes[9..].iter().take_while(|b| b.is_ascii_digit()).count();
    if number_end < 13 {
        return None;
    }
    Some(&rest[..number_end])
}

/// A CVE id is `CVE-` + four-digit year + `-` + at least four digits.
pub fn is_cve_id(text: &str) -> bool {
    extract_cve(text) == Some(text)
}

/// Dates in feeds are ISO (`2023-03-29` or a timestamp starting with it).
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let head = text.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_found_inside_other_ids() {
        assert_eq!(extract_cve("UBUNTU-CVE-2021-3782"), Some("CVE-2021-3782"));
        assert_eq!(extract_cve("CVE-2021-44228"), Some("CVE-2021-44228"));
        assert_eq!(extract_cve("CVE-21-1"), None);
        assert_eq!(extract_cve("DSA-135"), None);
        assert!(is_cve_id("CVE-2014-3616"));
        assert!(!is_cve_id("xCVE-2014-3616"));
    }

    #[test]
    fn feed_kinds_round_trip() {
        for kind in FeedKind::ALL {
            assert_eq!(kind.as_str().parse::<FeedKind>(), Ok(kind));
        }
        assert!("nvd2".parse::<FeedKind>().is_err());
    }
}

/// The proptest twins of the fuzz targets in `fuzz/fuzz_targets/patch_*.rs`: every parser of
/// outside input, fed arbitrary bytes and mutated real records, must return (an error is fine)
/// and never panic.
#[cfg(test)]
mod never_panics {
    use proptest::prelude::*;

    use super::FeedKind;
    use crate::feed::import::parse_document;
    use crate::inventory::{cmdb, packages};

    const NVD: &str = r#"{"resultsPerPage":1,"startIndex":0,"totalResults":1,"vulnerabilities":[{"cve":{"id":"CVE-2021-44228","published":"2021-12-10T10:15:09.143","lastModified":"2026-06-17T04:12:05.460","vulnStatus":"Analyzed","descriptions":[{"lang":"en","value":"x"}],"metrics":{"cvssMetricV31":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N","baseScore":10.0}}]},"configurations":[{"nodes":[{"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*","versionStartIncluding":"2.0.1","versionEndExcluding":"12.6\\(1\\)"}]}]}]}}]}"#;
    const KEV: &str = r#"{"catalogVersion":"2025.08.25","vulnerabilities":[{"cveID":"CVE-2025-48384","vendorProject":"Git","product":"Git","vulnerabilityName":"n","dateAdded":"2025-08-25","dueDate":"2025-09-15","knownRansomwareCampaignUse":"Unknown"}]}"#;
    const TRACKER: &str = r#"{"apparmor":{"CVE-2016-1585":{"releases":{"bookworm":{"status":"resolved","fixed_version":"0"},"bullseye":{"status":"open"},"sid":{"status":"resolved","fixed_version":"3.0.12-1"}}}}}"#;
    const DSA: &str = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\t[lenny] - vlc <not-affected> (x)\n";
    const FIXED: &str = "advisory\tdate\tsrc_pkg_in_title\trelease\tpackage\tfixed_version\tcves\nDSA-5380-1\t29 Mar 2023\txorg-server\tbullseye\txorg-server\t2:1.20.11-1+deb11u6\tCVE-2023-1393\n";
    const OSV: &str = r#"{"id":"DSA-3029-1","aliases":["CVE-2014-3616"],"published":"2014-09-20T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:7","name":"nginx"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2.1-2.2+wheezy3"}]}]}]}"#;
    const EPSS: &str = "#model_version:v2023.03.01,score_date:2023-03-07T00:00:00+0000\ncve,epss,percentile\nCVE-2020-5902,0.97567,0.99995\n";
    const SUMMARY: &str = "cve\tstate\tcvss31_score\tcvss40_score\tssvc_exploitation\tkev_date_added\nCVE-1999-0006\tPUBLISHED\t9.8\t\tnone\t2022-01-01\n";
    const DPKG: &str = "libssl3\t3.0.11-1~deb12u2\topenssl\t3.0.11-1~deb12u2\tii \n";
    const CMDB: &str =
        "host,distro,release,environment,internet_facing\nweb-1,debian,11,production,yes\n";

    const CSAF: &str = r#"{"document":{"aggregate_severity":{"text":"Moderate"},"tracking":{"id":"RHSA-2023:3821","initial_release_date":"2023-06-27T15:16:35+00:00"}},"vulnerabilities":[{"cve":"CVE-2023-28755","product_status":{"fixed":["AppStream-8.8.0.Z.MAIN.EUS:ruby:2.7:8080020230427102918:63b34585:ruby-0:2.7.8-139.module+el8.8.0+18745+f1bef313.src"]},"threats":[{"category":"impact","details":"Moderate"}]}]}"#;

    const SUSE: &str = r#"<oval_definitions><definitions><definition id="oval:org.opensuse.security:def:202129154" class="vulnerability"><metadata><title>CVE-2021-29154</title><advisory><severity>Important</severity></advisory></metadata><criteria operator="AND"><criterion test_ref="t1" comment="SUSE Linux Enterprise Server 15 SP1-LTSS is installed"/><criteria operator="OR"><criterion test_ref="t2"/></criteria></criteria></definition></definitions><tests><rpminfo_test id="t1"><object object_ref="o1"/><state state_ref="s1"/></rpminfo_test><rpminfo_test id="t2"><object object_ref="o2"/><state state_ref="s2"/></rpminfo_test></tests><objects><rpminfo_object id="o1"><name>sles-ltss-release</name></rpminfo_object><rpminfo_object id="o2"><name>kernel-default</name></rpminfo_object></objects><states><rpminfo_state id="s1"><version operation="equals">15.1</version></rpminfo_state><rpminfo_state id="s2"><evr datatype="evr_string" operation="less than">0:4.12.14-197.89.2</evr></rpminfo_state></states></oval_definitions>"#;
    const ALAS: &str = r#"<?xml version="1.0" ?><updates><update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" type="security" version="1.4"><id>ALAS2-2018-939</id><issued date="2018-01-11 21:05" /><severity>critical</severity><references><reference href="x" id="CVE-2017-5715" type="cve" /></references><pkglist><collection short="amazon-linux-2"><name>Amazon Linux 2</name><package arch="x86_64" epoch="0" name="kernel" release="38.79.amzn2" version="4.9.76"><filename>Packages/kernel-4.9.76-38.79.amzn2.x86_64.rpm</filename></package></collection></pkglist></update></updates>"#;

    fn samples() -> [(FeedKind, &'static str); 12] {
        [
            (FeedKind::Nvd, NVD),
            (FeedKind::Kev, KEV),
            (FeedKind::DebianTracker, TRACKER),
            (FeedKind::Dsa, DSA),
            (FeedKind::DebianFixed, FIXED),
            (FeedKind::DebianCpe, "curl;cpe:/a:haxx:curl\n"),
            (FeedKind::Osv, OSV),
            (FeedKind::Epss, EPSS),
            (FeedKind::Vulnrichment, SUMMARY),
            (FeedKind::RedhatCsaf, CSAF),
            (FeedKind::SuseOval, SUSE),
            (FeedKind::AmazonAlas, ALAS),
        ]
    }

    #[test]
    fn samples_parse() {
        for (kind, text) in samples() {
            let (parsed, _) =
                parse_document(kind, text.as_bytes()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(parsed.skipped, 0, "{kind}: {:?}", parsed.first_error);
            assert!(
                parsed.records.iter().map(|r| r.len()).sum::<usize>() > 0,
                "{kind}"
            );
        }
    }

    /// Truncates, splices and overwrites a real sample at random places.
    fn mutate(text: &str, cut: usize, at: usize, insert: &[u8]) -> Vec<u8> {
        let bytes = text.as_bytes();
        let cut = cut % (bytes.len() + 1);
        let at = at % (cut + 1);
        let mut out = bytes[..at].to_vec();
        out.extend_from_slice(insert);
        out.extend_from_slice(&bytes[at..cut]);
        out
    }

    proptest! {
        #[test]
        fn feed_parsers_never_panic_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            for kind in FeedKind::ALL {
                let _ = parse_document(kind, &data);
            }
        }

        #[test]
        fn feed_parsers_never_panic_on_mutated_records(
            cut in any::<usize>(),
            at in any::<usize>(),
            insert in proptest::collection::vec(prop_oneof![
                Just(b'"'), Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b','), Just(b':'),
                Just(b'\t'), Just(b'\n'), Just(b'-'), Just(b'0'), Just(b'~'), Just(b'\\'), any::<u8>()
            ], 0..8),
        ) {
            for (kind, text) in samples() {
                let _ = parse_document(kind, &mutate(text, cut, at, &insert));
            }
            for text in [DPKG, CMDB] {
                let data = mutate(text, cut, at, &insert);
                if let Ok(text) = std::str::from_utf8(&data) {
                    let _ = packages::parse_any(text);
                    let _ = cmdb::parse_csv(text);
                    let _ = cmdb::parse_json(text);
                    let _ = cmdb::parse_yaml(text);
                }
            }
        }

        #[test]
        fn inventory_parsers_never_panic(text in "\\PC{0,200}") {
            let _ = packages::parse_any(&text);
            let _ = packages::parse_rpm_query(&text);
            let _ = packages::parse_os_release(&text);
            let _ = cmdb::parse_csv(&text);
            let _ = cmdb::parse_yaml(&text);
        }
    }
}
