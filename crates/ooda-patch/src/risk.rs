//! Risk of one finding, by the fixed formula
//!
//! ```text
//! risk = CVSS/10 × 2.0 if in KEV × 1.5 if internet-facing × 1.3 if production
//!                × 0.85 if the fix is younger than 7 days,   capped at 1.0
//! ```
//!
//! and its tier: CRITICAL ≥ 0.85 (24 h), HIGH ≥ 0.65 (7 days), MEDIUM ≥ 0.40 (30 days), LOW
//! below. The capped score saturates (most KEV CVEs on exposed production hosts reach 1.0), so
//! the uncapped score and EPSS are kept to rank inside a tier. "Now" always comes from a
//! [`ooda_core::Clock`]; nothing here reads the wall clock.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// The formula's constants, in one place.
pub const KEV_FACTOR: f64 = 2.0;
pub const INTERNET_FACING_FACTOR: f64 = 1.5;
pub const PRODUCTION_FACTOR: f64 = 1.3;
pub const FRESH_FIX_FACTOR: f64 = 0.85;
/// A fix published fewer than this many days ago is "young" (less proven, often still rolling
/// out to mirrors).
pub const FRESH_FIX_DAYS: i64 = 7;
/// When nothing at all is known of a CVE's severity (rule 3 of [`SeverityBasis`]): the middle
/// of the scale, always marked as assumed.
pub const ASSUMED_CVSS: f64 = 5.0;

/// Risk tiers, most urgent first in `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    Critical,
    High,
    Medium,
    Low,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Critical, Tier::High, Tier::Medium, Tier::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Critical => "CRITICAL",
            Tier::High => "HIGH",
            Tier::Medium => "MEDIUM",
            Tier::Low => "LOW",
        }
    }

    /// The tier of a (capped) score.
    pub fn of(score: f64) -> Tier {
        // Compare at 1e-9 so that products landing on an edge (0.5 × 1.3 = 0.65) count as the
        // arithmetic says, not as binary floating point rounds them.
        let score = (score * 1e9).round() / 1e9;
        if score >= 0.85 {
            Tier::Critical
        } else if score >= 0.65 {
            Tier::High
        } else if score >= 0.40 {
            Tier::Medium
        } else {
            Tier::Low
        }
    }

    /// Time allowed to patch. LOW has no SLA in the policy; 90 days keeps it on the plan.
    pub fn sla(self) -> Duration {
        match self {
            Tier::Critical => Duration::hours(24),
            Tier::High => Duration::days(7),
            Tier::Medium => Duration::days(30),
            Tier::Low => Duration::days(90),
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the formula reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskInput {
    /// CVSS base score 0–10; `None` when unknown (then [`ASSUMED_CVSS`] is used and flagged).
    pub cvss: Option<f64>,
    pub in_kev: bool,
    pub internet_facing: bool,
    pub production: bool,
    /// When the fix was published; `None` when unknown or no fix exists.
    pub fix_published: Option<NaiveDate>,
    pub today: NaiveDate,
    pub epss: Option<f64>,
}

/// The score with its working shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// Capped at 1.0: decides the tier.
    pub score: f64,
    /// Before the cap: ranks inside a saturated tier.
    pub uncapped: f64,
    pub tier: Tier,
    pub cvss_used: f64,
    pub cvss_assumed: bool,
    pub kev_factor: f64,
    pub exposure_factor: f64,
    pub environment_factor: f64,
    pub fresh_fix_factor: f64,
    pub epss: Option<f64>,
}

impl Risk {
    /// Ranking inside and across tiers: tier, then uncapped score, then EPSS (higher first).
    pub fn rank_key(&self) -> (Tier, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>) {
        let as_key = |x: f64| (x.max(0.0) * 1e9).round() as u64;
        (
            self.tier,
            std::cmp::Reverse(as_key(self.uncapped)),
            std::cmp::Reverse(as_key(self.epss.unwrap_or(0.0))),
        )
    }
}

/// Applies the formula.
pub fn score(input: &RiskInput) -> Risk {
    let (cvss_used, cvss_assumed) = match input.cvss {
        Some(cvss) if cvss.is_finite() => (cvss.clamp(0.0, 10.0), false),
        _ => (ASSUMED_CVSS, true),
    };
    let kev_factor = if input.in_kev { KEV_FACTOR } else { 1.0 };
    let exposure_factor = if input.internet_facing {
        INTERNET_FACING_FACTOR
    } else {
        1.0
    };
    let environment_factor = if input.production {
        PRODUCTION_FACTOR
    } else {
        1.0
    };
    let fresh_fix_factor = match input.fix_published {
        Some(published) if (input.today - published).num_days() < FRESH_FIX_DAYS => {
            FRESH_FIX_FACTOR
        }
        _ => 1.0,
    };
    let uncapped =
        cvss_used / 10.0 * kev_factor * exposure_factor * environment_factor * fresh_fix_factor;
    let score = uncapped.min(1.0);
    Risk {
        score,
        uncapped,
        tier: Tier::of(score),
        cvss_used,
        cvss_assumed,
        kev_factor,
        exposure_factor,
        environment_factor,
        fresh_fix_factor,
        epss: input.epss,
    }
}

/// Where the severity the formula multiplies came from. A CVE without a CVSS score is shown
/// as having none (the row's `cvss` stays empty) and scored by the first rule that applies:
///
/// 1. the vendor's own severity for this CVE in this release (Debian urgency, Ubuntu priority,
///    Red Hat / SUSE / Amazon severity): critical 9.0, high/important 7.5, medium/moderate 5.0,
///    low 2.5, unimportant/negligible 1.0 — the midpoints of CVSS's bands;
/// 2. the EPSS percentile (how likely exploitation is, relative to every other CVE):
///    ≥ 0.95 → 9.0, ≥ 0.80 → 7.5, ≥ 0.50 → 5.0, below → 2.5;
/// 3. nothing known: 5.0 (the middle of the scale), marked `assumed` wherever it is shown.
///
/// KEV membership still doubles whichever of these applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "kebab-case")]
pub enum SeverityBasis {
    /// A CVSS base score (NVD, or the CNA / CISA ADP through CVE 5).
    Cvss { version: Option<String> },
    /// The vendor's severity word, mapped by rule 1.
    Vendor { severity: String },
    /// The EPSS percentile, mapped by rule 2.
    Epss { percentile: f64 },
    /// Rule 3.
    Assumed,
}

impl SeverityBasis {
    /// How a table shows it, with the value it produced.
    pub fn describe(&self, used: f64) -> String {
        match self {
            SeverityBasis::Cvss { version: Some(v) } => format!("cvss {v}"),
            SeverityBasis::Cvss { version: None } => "cvss".to_owned(),
            SeverityBasis::Vendor { severity } => format!("vendor {severity} → {used:.1}"),
            SeverityBasis::Epss { percentile } => format!("epss p{percentile:.2} → {used:.1}"),
            SeverityBasis::Assumed => format!("none: assumed {used:.1}"),
        }
    }
}

/// The severity to use and why (the rule documented on [`SeverityBasis`]).
pub fn severity(
    cvss: Option<f64>,
    cvss_version: Option<&str>,
    vendor_severity: Option<&str>,
    epss_percentile: Option<f64>,
) -> (f64, SeverityBasis) {
    if let Some(score) = cvss.filter(|c| c.is_finite()) {
        return (
            score.clamp(0.0, 10.0),
            SeverityBasis::Cvss {
                version: cvss_version.map(str::to_owned),
            },
        );
    }
    if let Some((word, score)) =
        vendor_severity.and_then(|word| cvss_from_urgency(Some(word)).map(|s| (word, s)))
    {
        return (
            score,
            SeverityBasis::Vendor {
                severity: word.to_owned(),
            },
        );
    }
    if let Some(percentile) = epss_percentile.filter(|p| p.is_finite()) {
        let score = match percentile {
            p if p >= 0.95 => 9.0,
            p if p >= 0.80 => 7.5,
            p if p >= 0.50 => 5.0,
            _ => 2.5,
        };
        return (score, SeverityBasis::Epss { percentile });
    }
    (ASSUMED_CVSS, SeverityBasis::Assumed)
}

/// A CVSS stand-in from a vendor's severity word (rule 1 of [`SeverityBasis`]).
pub fn cvss_from_urgency(urgency: Option<&str>) -> Option<f64> {
    match urgency?.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(9.0),
        "high" | "important" => Some(7.5),
        "medium" | "moderate" => Some(5.0),
        "low" => Some(2.5),
        "unimportant" | "negligible" => Some(1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn input(cvss: f64) -> RiskInput {
        RiskInput {
            cvss: Some(cvss),
            in_kev: false,
            internet_facing: false,
            production: false,
            fix_published: None,
            today: day(2025, 8, 25),
            epss: None,
        }
    }

    /// (name, input changes, expected uncapped, expected tier)
    #[test]
    fn every_factor() {
        type Case = (&'static str, fn(&mut RiskInput), f64, Tier);
        let cases: [Case; 10] = [
            ("base only", |_| {}, 0.50, Tier::Medium),
            ("kev doubles", |i| i.in_kev = true, 1.00, Tier::Critical),
            (
                "internet-facing",
                |i| i.internet_facing = true,
                0.75,
                Tier::High,
            ),
            ("production", |i| i.production = true, 0.65, Tier::High),
            (
                "fix 3 days old",
                |i| i.fix_published = Some(day(2025, 8, 22)),
                0.425,
                Tier::Medium,
            ),
            (
                "fix 6 days old is young",
                |i| i.fix_published = Some(day(2025, 8, 19)),
                0.425,
                Tier::Medium,
            ),
            (
                "fix exactly 7 days old is not",
                |i| i.fix_published = Some(day(2025, 8, 18)),
                0.50,
                Tier::Medium,
            ),
            (
                "fix published today",
                |i| i.fix_published = Some(day(2025, 8, 25)),
                0.425,
                Tier::Medium,
            ),
            (
                "all factors",
                |i| {
                    i.in_kev = true;
                    i.internet_facing = true;
                    i.production = true;
                    i.fix_published = Some(day(2025, 8, 24));
                },
                0.5 * 2.0 * 1.5 * 1.3 * 0.85,
                Tier::Critical,
            ),
            (
                "unknown cvss assumed 5.0",
                |i| i.cvss = None,
                0.50,
                Tier::Medium,
            ),
        ];
        for (name, change, uncapped, tier) in cases {
            let mut case = input(5.0);
            change(&mut case);
            let risk = score(&case);
            assert!(
                (risk.uncapped - uncapped).abs() < 1e-12,
                "{name}: {}",
                risk.uncapped
            );
            assert!(
                (risk.score - uncapped.min(1.0)).abs() < 1e-12,
                "{name}: capped"
            );
            assert_eq!(risk.tier, tier, "{name}");
        }
    }

    #[test]
    fn tier_edges() {
        let cases: [(f64, Tier); 10] = [
            (1.0, Tier::Critical),
            (0.85, Tier::Critical),
            (0.849_999, Tier::High),
            (0.65, Tier::High),
            (0.649_999, Tier::Medium),
            (0.40, Tier::Medium),
            (0.399_999, Tier::Low),
            (0.0, Tier::Low),
            (0.5 * 1.3, Tier::High),
            (0.34 * 2.5, Tier::Critical),
        ];
        for (value, tier) in cases {
            assert_eq!(Tier::of(value), tier, "{value}");
        }
        // The same edges reached through the formula.
        assert_eq!(score(&input(8.5)).tier, Tier::Critical);
        assert_eq!(score(&input(6.5)).tier, Tier::High);
        assert_eq!(score(&input(4.0)).tier, Tier::Medium);
        assert_eq!(score(&input(3.9)).tier, Tier::Low);
    }

    #[test]
    fn cap_keeps_uncapped_for_ranking() {
        let mut a = input(9.8);
        a.in_kev = true;
        a.internet_facing = true;
        a.production = true;
        let mut b = a.clone();
        b.cvss = Some(7.0);
        let (ra, rb) = (score(&a), score(&b));
        assert_eq!((ra.score, rb.score), (1.0, 1.0));
        assert!(ra.uncapped > rb.uncapped);
        assert!(ra.rank_key() < rb.rank_key(), "higher uncapped ranks first");
        let mut c = b.clone();
        c.epss = Some(0.9);
        assert!(score(&c).rank_key() < rb.rank_key(), "EPSS breaks ties");
    }

    #[test]
    fn missing_cvss_follows_the_documented_rule() {
        let (used, basis) = severity(Some(9.8), Some("3.1"), Some("low"), Some(0.1));
        assert_eq!((used, basis.describe(used).as_str()), (9.8, "cvss 3.1"));
        let (used, basis) = severity(None, None, Some("high"), Some(0.99));
        assert_eq!(used, 7.5, "vendor severity before EPSS");
        assert_eq!(basis.describe(used), "vendor high → 7.5");
        assert_eq!(
            severity(None, None, Some("not yet assigned"), Some(0.97)).0,
            9.0
        );
        assert_eq!(severity(None, None, None, Some(0.85)).0, 7.5);
        assert_eq!(severity(None, None, None, Some(0.2)).0, 2.5);
        let (used, basis) = severity(None, None, None, None);
        assert_eq!((used, basis), (ASSUMED_CVSS, SeverityBasis::Assumed));
    }

    #[test]
    fn slas() {
        assert_eq!(Tier::Critical.sla(), Duration::hours(24));
        assert_eq!(Tier::High.sla(), Duration::days(7));
        assert_eq!(Tier::Medium.sla(), Duration::days(30));
    }
}
