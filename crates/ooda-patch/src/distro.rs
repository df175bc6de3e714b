//! Distributions and their releases, normalised so that a CMDB saying `debian 11`, an OSV
//! ecosystem saying `Debian:11` and the tracker saying `bullseye` all meet on one key. The
//! version scheme of a distro's packages is decided here and nowhere else.

use serde::{Deserialize, Serialize};

use crate::version::Scheme;

/// A distribution family whose security data the matcher can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distro {
    Debian,
    Ubuntu,
    /// Red Hat Enterprise Linux and rebuilds (AlmaLinux, Rocky) share one release numbering.
    Rhel,
    /// SUSE Linux Enterprise (Server, Desktop, SAP, HPC and the modules): `15`, `15.1` (SP1).
    Suse,
    /// Amazon Linux: `1` (the 2017.09/2018.03 AMI line), `2`, `2022`, `2023`.
    Amazon,
}

/// Debian's numeric releases and their codenames (the tracker speaks codenames).
const DEBIAN_RELEASES: [(&str, &str); 13] = [
    ("2.2", "potato"),
    ("3.0", "woody"),
    ("3.1", "sarge"),
    ("4", "etch"),
    ("5", "lenny"),
    ("6", "squeeze"),
    ("7", "wheezy"),
    ("8", "jessie"),
    ("9", "stretch"),
    ("10", "buster"),
    ("11", "bullseye"),
    ("12", "bookworm"),
    ("13", "trixie"),
];

const UBUNTU_RELEASES: [(&str, &str); 10] = [
    ("14.04", "trusty"),
    ("16.04", "xenial"),
    ("18.04", "bionic"),
    ("20.04", "focal"),
    ("22.04", "jammy"),
    ("23.10", "mantic"),
    ("24.04", "noble"),
    ("24.10", "oracular"),
    ("25.04", "plucky"),
    ("25.10", "questing"),
];

impl Distro {
    pub fn as_str(self) -> &'static str {
        match self {
            Distro::Debian => "debian",
            Distro::Ubuntu => "ubuntu",
            Distro::Rhel => "rhel",
            Distro::Suse => "suse",
            Distro::Amazon => "amazon",
        }
    }

    /// The version scheme of this distro's packages.
    pub fn scheme(self) -> Scheme {
        match self {
            Distro::Debian | Distro::Ubuntu => Scheme::Dpkg,
            Distro::Rhel | Distro::Suse | Distro::Amazon => Scheme::Rpm,
        }
    }

    /// Whether the vendor's data names *binary* packages rather than source packages. SUSE's
    /// OVAL tests each binary RPM (`kernel-default`, `krb5-client`) and Amazon's updateinfo
    /// lists the binary RPMs an advisory ships: matching them by source name would miss every
    /// binary whose name differs from its source. Debian, Ubuntu and Red Hat CSAF speak of
    /// source packages.
    pub fn matches_binaries(self) -> bool {
        matches!(self, Distro::Suse | Distro::Amazon)
    }

    /// Reads a distro name as CMDBs and `/etc/os-release` spell it.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "debian" => Some(Distro::Debian),
            "ubuntu" => Some(Distro::Ubuntu),
            "rhel" | "redhat" | "red hat" | "centos" | "almalinux" | "alma" | "rocky"
            | "rockylinux" | "rocky linux" | "ol" | "oracle" => Some(Distro::Rhel),
            // `/etc/os-release` IDs of SUSE Linux Enterprise products (openSUSE and SLE Micro
            // number their releases differently and are not read as SLE).
            "sles" | "sled" | "sles_sap" | "sle_hpc" | "suse" | "sle" => Some(Distro::Suse),
            "amzn" | "amazon" | "amazon linux" | "amazonlinux" => Some(Distro::Amazon),
            _ => None,
        }
    }

    /// Normalises a release: Debian → codename, Ubuntu → `YY.MM`, RHEL family → major version.
    pub fn normalise_release(self, release: &str) -> String {
        let release = release.trim().to_ascii_lowercase();
        match self {
            Distro::Debian => {
                // `11`, `11.7` and `bullseye` are the same release.
                let major = release.split('.').next().unwrap_or(&release);
                DEBIAN_RELEASES
                    .iter()
                    .find(|(number, _)| *number == release || *number == major)
                    .map(|(_, codename)| (*codename).to_owned())
                    .unwrap_or(release)
            }
            Distro::Ubuntu => {
                let release = release.trim_end_matches(" lts").to_owned();
                UBUNTU_RELEASES
                    .iter()
                    .find(|(_, codename)| *codename == release)
                    .map(|(number, _)| (*number).to_owned())
                    .unwrap_or(release)
            }
            Distro::Rhel => release.split('.').next().unwrap_or(&release).to_owned(),
            Distro::Suse => {
                // `15-SP1`, `15 SP1` and `15.1` are SLE 15 Service Pack 1; `15-SP0` is `15`.
                let release = release.replace(['-', ' '], "");
                match release.split_once("sp") {
                    Some((major, "0")) => major.to_owned(),
                    Some((major, pack)) => format!("{major}.{pack}"),
                    None => release,
                }
            }
            Distro::Amazon => {
                // The first Amazon Linux AMI is versioned by date (`2018.03`); its advisories are
                // one line, `ALAS-…`. Amazon Linux 2023 reports `2023` or `2023.x.date`.
                let major = release.split('.').next().unwrap_or(&release);
                if release.contains('.') && major.len() == 4 && major < "2022" {
                    "1".to_owned()
                } else {
                    major.to_owned()
                }
            }
        }
    }

    /// Reads an OSV ecosystem (`Debian:11`, `Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`,
    /// `AlmaLinux:8`, `Rocky Linux:9`) into a distro and a normalised release.
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<(Self, String)> {
        let mut parts = ecosystem.split(':');
        let distro = Distro::parse(parts.next()?)?;
        let release = parts.find(|part| part.starts_with(|c: char| c.is_ascii_digit()))?;
        Some((distro, distro.normalise_release(release)))
    }
}

impl std::fmt::Display for Distro {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_meet_on_one_key() {
        assert_eq!(Distro::Debian.normalise_release("11"), "bullseye");
        assert_eq!(Distro::Debian.normalise_release("11.7"), "bullseye");
        assert_eq!(Distro::Debian.normalise_release("Bullseye"), "bullseye");
        assert_eq!(Distro::Debian.normalise_release("3.0"), "woody");
        assert_eq!(Distro::Ubuntu.normalise_release("jammy"), "22.04");
        assert_eq!(Distro::Rhel.normalise_release("8.9"), "8");
        assert_eq!(Distro::Suse.normalise_release("15-SP1"), "15.1");
        assert_eq!(Distro::Suse.normalise_release("15 SP4"), "15.4");
        assert_eq!(Distro::Suse.normalise_release("15.1"), "15.1");
        assert_eq!(Distro::Suse.normalise_release("15"), "15");
        assert_eq!(Distro::Suse.normalise_release("12-SP0"), "12");
        assert_eq!(Distro::Amazon.normalise_release("2"), "2");
        assert_eq!(Distro::Amazon.normalise_release("2023"), "2023");
        assert_eq!(Distro::Amazon.normalise_release("2023.5.20240805"), "2023");
        assert_eq!(Distro::Amazon.normalise_release("2018.03"), "1");
        assert_eq!(Distro::parse("amzn"), Some(Distro::Amazon));
        assert_eq!(Distro::parse("sles"), Some(Distro::Suse));
        assert_eq!(Distro::parse("opensuse-leap"), None);
    }

    #[test]
    fn osv_ecosystems() {
        assert_eq!(
            Distro::from_osv_ecosystem("Debian:7"),
            Some((Distro::Debian, "wheezy".to_owned()))
        );
        assert_eq!(
            Distro::from_osv_ecosystem("Ubuntu:Pro:18.04:LTS"),
            Some((Distro::Ubuntu, "18.04".to_owned()))
        );
        assert_eq!(
            Distro::from_osv_ecosystem("Rocky Linux:9"),
            Some((Distro::Rhel, "9".to_owned()))
        );
        assert_eq!(Distro::from_osv_ecosystem("PyPI"), None);
    }
}
