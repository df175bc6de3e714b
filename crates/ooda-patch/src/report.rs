//! What people read: findings with their risk (`scan`), what to patch where and by when
//! (`plan`), and how the fleet is doing (`report`: coverage, share within SLA, mean time to
//! patch, per owner and per tier), as a table, JSON, CSV or HTML. Rendering only: the numbers
//! come from the matcher, the risk formula and the ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Serialize;

use ooda_core::{Environment, Timestamp};

use crate::exceptions::Exceptions;
use crate::feed::{Disposition, FeedKind, FixOrigin, FixState};
use crate::index::{FeedFreshness, VulnIndex};
use crate::inventory::InventoryHost;
use crate::ledger::{Ledger, Seen};
use crate::matcher::{self, Evidence, FindingStatus, HostFindings, MatchSource};
use crate::risk::{self, Risk, RiskInput, SeverityBasis, Tier};
use crate::version::Scheme;
use crate::windows::Opening;

/// How a scan treats distro dispositions and accepted risks.
#[derive(Debug, Clone, Default)]
pub struct ScanPolicy {
    /// Dispositions (unimportant, end-of-life, …) whose findings still count as findings. Empty
    /// by default: the distro's security team decided, and the rows are listed apart.
    pub count_dispositions: BTreeSet<Disposition>,
    pub exceptions: Exceptions,
}

/// What a due date asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DueFor {
    /// Install the fixed version.
    Patch,
    /// No fix exists: put a mitigation in place or record an exception by then.
    MitigateOrExcept,
}

impl DueFor {
    pub fn as_str(self) -> &'static str {
        match self {
            DueFor::Patch => "patch",
            DueFor::MitigateOrExcept => "mitigate or except",
        }
    }
}

/// An exception as a row shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionView {
    pub owner: String,
    pub reason: String,
    pub expires: NaiveDate,
    pub approved_by: Option<String>,
    /// False once past its expiry: the finding is due again.
    pub active: bool,
}

/// One finding, resolved for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRow {
    pub host: String,
    pub owner: Option<String>,
    pub environment: Environment,
    pub internet_facing: bool,
    pub maintenance_window: Option<String>,
    pub package: String,
    pub source: String,
    pub installed: String,
    pub cve: String,
    pub status: FindingStatus,
    pub fixed_version: Option<String>,
    pub advisory: Option<String>,
    pub fix_published: Option<chrono::NaiveDate>,
    /// Which feed matched.
    pub matched_by: &'static str,
    /// The rule that matched, in words (`installed < earliest fix … in bullseye (DSA-…)`).
    pub rule: String,
    pub confidence: &'static str,
    /// The newest date in the matching feed's data: how current the verdict is.
    pub data_as_of: Option<NaiveDate>,
    /// The distro's decision about this CVE, if any.
    pub disposition: Option<Disposition>,
    /// False for a dispositioned finding the policy does not count: listed apart, no SLA.
    pub counted: bool,
    /// The CVE's CVSS base score; `None` when no source has one (never filled in).
    pub cvss: Option<f64>,
    /// Where the severity the formula used came from, and its value.
    pub severity_basis: String,
    pub kev: bool,
    pub epss: Option<f64>,
    pub risk: Risk,
    pub first_seen: Timestamp,
    /// SLA due time: to patch, or (no fix, CRITICAL) to mitigate or record an exception.
    pub due: Option<Timestamp>,
    pub due_for: Option<DueFor>,
    /// Past due and no active exception.
    pub overdue: bool,
    pub exception: Option<ExceptionView>,
}

/// The feed kinds a match source reads, for the "data as of" of a verdict.
fn feeds_of(source: MatchSource) -> &'static [FeedKind] {
    match source {
        MatchSource::DebianTracker => &[FeedKind::DebianTracker],
        MatchSource::DebianAdvisory => &[FeedKind::Dsa, FeedKind::Dla, FeedKind::DebianFixed],
        MatchSource::RedHatCsaf => &[FeedKind::RedhatCsaf],
        MatchSource::SuseOval => &[FeedKind::SuseOval],
        MatchSource::AmazonAlas => &[FeedKind::AmazonAlas],
        MatchSource::Osv => &[FeedKind::Osv],
        MatchSource::NvdCpeLinked | MatchSource::NvdCpeGuessed => &[FeedKind::Nvd],
    }
}

/// The rule behind a distro verdict, in words an auditor can check by hand.
fn distro_rule(
    verdict: &crate::index::Verdict,
    release: &str,
    installed: &str,
    status: FindingStatus,
) -> String {
    let by = verdict
        .advisory
        .as_deref()
        .map(|a| format!(", {a}"))
        .unwrap_or_default();
    let what = match (&verdict.state, verdict.origin) {
        (FixState::Fixed { version }, FixOrigin::DebianTracker) => {
            format!("installed {installed} < fixed {version} (tracker's fixed version for {release}{by})")
        }
        (FixState::Fixed { version }, _) => {
            format!("installed {installed} < {version}, the earliest fix in {release}{by}")
        }
        (FixState::Open, _) => format!("open in {release}: no fixed version yet{by}"),
        (FixState::EndOfLife, _) => format!("{release} is out of security support for it{by}"),
        (FixState::NotAffected, _) => format!("not affected in {release}"),
    };
    let what = match (&verdict.introduced, status) {
        (Some(introduced), _) => format!("{what}; installed ≥ introduced {introduced}"),
        _ => what,
    };
    match verdict.disposition {
        Some(d) => format!("{what}; distro status {d}"),
        None => what,
    }
}

/// Resolves findings into rows, scored and ranked (most urgent first).
pub fn rows(
    index: &VulnIndex,
    hosts: &[InventoryHost],
    results: &[HostFindings],
    ledger: &Ledger,
    freshness: &[FeedFreshness],
    policy: &ScanPolicy,
    now: Timestamp,
) -> Vec<ScanRow> {
    let today = now.date_naive();
    let data_date = |source: MatchSource| {
        freshness
            .iter()
            .filter(|f| feeds_of(source).contains(&f.feed))
            .filter_map(|f| f.data_date)
            .max()
    };
    let mut rows = Vec::new();
    for result in results {
        let inventory = &hosts[result.host];
        let host = &inventory.host;
        for finding in &result.findings {
            let package = &inventory.packages[finding.package as usize];
            let cve = &index.cves[finding.cve as usize];
            let installed = package.source_version();
            let (fixed_version, advisory, fix_published, urgency, rule) = match &finding.evidence {
                Evidence::Distro { verdict } => {
                    let verdict = &index.verdicts[*verdict as usize];
                    let fixed = match &verdict.state {
                        FixState::Fixed { version } => Some(version.clone()),
                        _ => None,
                    };
                    (
                        fixed,
                        verdict.advisory.clone(),
                        verdict.published,
                        verdict.urgency.as_deref(),
                        distro_rule(verdict, &inventory.release, installed, finding.status),
                    )
                }
                Evidence::Cpe(cpe) => {
                    let upstream =
                        matcher::upstream_version(scheme_of(inventory), installed).to_owned();
                    let bound = cpe
                        .fixed_upstream
                        .as_deref()
                        .map(|f| format!(" < {f}"))
                        .unwrap_or_else(|| " (no upper bound)".to_owned());
                    (
                        cpe.fixed_upstream.clone(),
                        None,
                        None,
                        None,
                        format!(
                            "NVD range {}:{}{bound} contains upstream {upstream}",
                            cpe.vendor, cpe.product
                        ),
                    )
                }
            };
            let (cvss_used, basis) = risk::severity(
                cve.cvss,
                cve.cvss_version.as_deref(),
                urgency,
                cve.epss_percentile,
            );
            let mut risk = risk::score(&RiskInput {
                cvss: Some(cvss_used),
                in_kev: cve.kev_added.is_some(),
                internet_facing: host.internet_facing,
                production: host.environment == Environment::Production,
                fix_published: if finding.status == FindingStatus::FixAvailable {
                    fix_published
                } else {
                    None
                },
                today,
                epss: cve.epss,
            });
            risk.cvss_assumed = !matches!(basis, SeverityBasis::Cvss { .. });
            let counted = finding
                .disposition
                .is_none_or(|d| policy.count_dispositions.contains(&d));
            let source = package.source_name();
            let first_seen = ledger.first_seen(&host.name, source, &cve.id, now);
            let due_for = match finding.status {
                _ if !counted => None,
                FindingStatus::FixAvailable => Some(DueFor::Patch),
                // No fix: the SLA still runs for the worst tier, for a mitigation or a
                // recorded exception.
                _ if risk.tier == Tier::Critical => Some(DueFor::MitigateOrExcept),
                _ => None,
            };
            let due = due_for.map(|due_for| match due_for {
                DueFor::Patch => sla_start(first_seen, fix_published) + risk.tier.sla(),
                DueFor::MitigateOrExcept => first_seen + risk.tier.sla(),
            });
            let exception = policy
                .exceptions
                .find(&host.name, source, &cve.id)
                .map(|e| ExceptionView {
                    owner: e.owner.clone(),
                    reason: e.reason.clone(),
                    expires: e.expires,
                    approved_by: e.approved_by.clone(),
                    active: e.active_on(today),
                });
            let excepted = exception.as_ref().is_some_and(|e| e.active);
            let overdue = !excepted && due.is_some_and(|due| due < now);
            rows.push(ScanRow {
                host: host.name.clone(),
                owner: host.owner.clone(),
                environment: host.environment,
                internet_facing: host.internet_facing,
                maintenance_window: host.maintenance_window.clone(),
                package: package.name.to_string(),
                source: source.to_owned(),
                installed: installed.to_owned(),
                cve: cve.id.clone(),
                status: finding.status,
                fixed_version,
                advisory,
                fix_published,
                matched_by: finding.source.as_str(),
                rule,
                confidence: finding.confidence.as_str(),
                data_as_of: data_date(finding.source),
                disposition: finding.disposition,
                counted,
                cvss: cve.cvss,
                severity_basis: basis.describe(cvss_used),
                kev: cve.kev_added.is_some(),
                epss: cve.epss,
                risk,
                first_seen,
                due,
                due_for,
                overdue,
                exception,
            });
        }
    }
    rows.sort_by(|a, b| {
        a.risk
            .rank_key()
            .cmp(&b.risk.rank_key())
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.cve.cmp(&b.cve))
    });
    rows
}

fn scheme_of(host: &InventoryHost) -> Scheme {
    host.distro.map(|d| d.scheme()).unwrap_or(Scheme::Dpkg)
}

/// The SLA clock starts when we knew of the finding *and* a fix existed: a fix published a year
/// before the first scan does not make the finding overdue on day one.
fn sla_start(first_seen: Timestamp, fix_published: Option<chrono::NaiveDate>) -> Timestamp {
    match fix_published {
        Some(date) => first_seen.max(date.and_time(NaiveTime::MIN).and_utc()),
        None => first_seen,
    }
}

/// Records the scan in the ledger (counted findings only: a dispositioned one is not open).
pub fn record(ledger: &mut Ledger, rows: &[ScanRow], hosts: &[InventoryHost], now: Timestamp) {
    let seen: Vec<Seen<'_>> = rows
        .iter()
        .filter(|row| row.counted)
        .map(|row| Seen {
            host: &row.host,
            source: &row.source,
            cve: &row.cve,
            tier: row.risk.tier,
            due: row.due,
            owner: row.owner.as_deref(),
        })
        .collect();
    // Only hosts whose packages were actually read count as scanned.
    let scanned: Vec<&str> = hosts
        .iter()
        .filter(|h| h.package_format.is_some())
        .map(|h| h.host.name.as_str())
        .collect();
    ledger.record(&seen, &scanned, now);
}

/// Whether a host's verdict can be trusted as "clean".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "assessed", content = "reason", rename_all = "kebab-case")]
pub enum Assessment {
    /// Distro data for its release was loaded and its packages were read.
    Assessed,
    /// Not assessed: no verdict, never "clean". The reason says what is missing.
    NotAssessed(String),
}

/// Why a host can or cannot be assessed.
pub fn assess(index: &VulnIndex, host: &InventoryHost, result: &HostFindings) -> Assessment {
    if host.package_format.is_none() {
        return Assessment::NotAssessed("no package list".to_owned());
    }
    let Some(distro) = host.distro else {
        return Assessment::NotAssessed("distro unknown to the matcher".to_owned());
    };
    if result.release_without_data || index.release(distro, &host.release).is_none() {
        return Assessment::NotAssessed(format!(
            "no loaded feed covers {distro} {}",
            if host.release.is_empty() {
                "(release unknown)"
            } else {
                &host.release
            }
        ));
    }
    Assessment::Assessed
}

/// One host in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRow {
    pub host: String,
    pub owner: Option<String>,
    pub distro: Option<String>,
    pub release: String,
    pub maintenance_window: Option<String>,
    pub packages: usize,
    #[serde(flatten)]
    pub assessment: Assessment,
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub kev: usize,
    pub overdue: usize,
    /// Dispositioned by the distro and not counted.
    pub distro_dispositioned: usize,
    /// Highest capped risk among its findings.
    pub max_risk: Option<f64>,
}

pub fn host_rows(
    index: &VulnIndex,
    hosts: &[InventoryHost],
    results: &[HostFindings],
    rows: &[ScanRow],
) -> Vec<HostRow> {
    let mut out: Vec<HostRow> = hosts
        .iter()
        .zip(results)
        .map(|(host, result)| HostRow {
            host: host.host.name.clone(),
            owner: host.host.owner.clone(),
            distro: host.distro.map(|d| d.to_string()),
            release: host.release.clone(),
            maintenance_window: host.host.maintenance_window.clone(),
            packages: host.packages.len(),
            assessment: assess(index, host, result),
            findings: 0,
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            kev: 0,
            overdue: 0,
            distro_dispositioned: 0,
            max_risk: None,
        })
        .collect();
    let at: BTreeMap<&str, usize> = out
        .iter()
        .enumerate()
        .map(|(i, h)| (h.host.as_str(), i))
        .collect();
    let mut counts =
        vec![(0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize); out.len()];
    let mut max: Vec<Option<f64>> = vec![None; out.len()];
    for row in rows {
        let Some(&i) = at.get(row.host.as_str()) else {
            continue;
        };
        let c = &mut counts[i];
        if !row.counted {
            c.7 += 1;
            continue;
        }
        c.0 += 1;
        match row.risk.tier {
            Tier::Critical => c.1 += 1,
            Tier::High => c.2 += 1,
            Tier::Medium => c.3 += 1,
            Tier::Low => c.4 += 1,
        }
        c.5 += usize::from(row.kev);
        c.6 += usize::from(row.overdue);
        max[i] = Some(max[i].map_or(row.risk.score, |m: f64| m.max(row.risk.score)));
    }
    for ((host, c), max) in out.iter_mut().zip(counts).zip(max) {
        (
            host.findings,
            host.critical,
            host.high,
            host.medium,
            host.low,
            host.kev,
            host.overdue,
            host.distro_dispositioned,
        ) = c;
        host.max_risk = max;
    }
    out
}

/// One line of the plan: upgrade a source package on a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    pub host: String,
    pub owner: Option<String>,
    pub maintenance_window: Option<String>,
    /// The window opening this item is planned into: the first one before it is due.
    pub planned_window: Option<PlannedWindow>,
    pub source: String,
    pub installed: String,
    /// The highest fixed version among its findings: installing it closes them all.
    pub target: Option<String>,
    pub tier: Tier,
    pub due: Timestamp,
    pub overdue: bool,
    /// Due before the host's next window (or no window known for a CRITICAL item): patch out of
    /// window, through the Gate.
    pub emergency: bool,
    pub cves: Vec<String>,
    /// Any of its CVEs in CISA KEV.
    pub kev: bool,
    /// Highest risk as the formula defines it (capped at 1.0).
    pub max_risk: f64,
    /// Highest uncapped score: the rank used for ordering.
    pub max_rank: f64,
}

/// A maintenance window opening a plan item is scheduled into.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedWindow {
    pub window: String,
    pub opens: Timestamp,
    pub closes: Timestamp,
    /// False when the next opening comes only after the due time.
    pub before_due: bool,
}

/// When a host's next windows open; `None` when the host has none (or no windows file).
pub type WindowLookup<'a> = dyn Fn(&str) -> Option<(String, Vec<Opening>)> + 'a;

/// Groups counted fix-available findings per host and source package, each scheduled into the
/// host's first window opening before it is due; most urgent first.
pub fn plan(
    rows: &[ScanRow],
    scheme_of: impl Fn(&str) -> Scheme,
    windows: &WindowLookup<'_>,
    now: Timestamp,
) -> Vec<PlanItem> {
    let mut items: BTreeMap<(String, String), PlanItem> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| r.counted && r.status == FindingStatus::FixAvailable)
    {
        let Some(due) = row.due else { continue };
        let item = items
            .entry((row.host.clone(), row.source.clone()))
            .or_insert_with(|| PlanItem {
                host: row.host.clone(),
                owner: row.owner.clone(),
                maintenance_window: row.maintenance_window.clone(),
                planned_window: None,
                source: row.source.clone(),
                installed: row.installed.clone(),
                target: None,
                tier: row.risk.tier,
                due,
                overdue: false,
                emergency: false,
                cves: Vec::new(),
                kev: false,
                max_risk: row.risk.score,
                max_rank: row.risk.uncapped,
            });
        item.tier = item.tier.min(row.risk.tier);
        item.due = item.due.min(due);
        item.max_risk = item.max_risk.max(row.risk.score);
        item.max_rank = item.max_rank.max(row.risk.uncapped);
        item.kev |= row.kev;
        item.cves.push(row.cve.clone());
        if let Some(fixed) = &row.fixed_version {
            let scheme = scheme_of(&row.host);
            let higher = match &item.target {
                None => true,
                Some(current) => scheme
                    .compare(fixed, current)
                    .is_ok_and(|o| o == std::cmp::Ordering::Greater),
            };
            if higher {
                item.target = Some(fixed.clone());
            }
        }
    }
    let mut items: Vec<PlanItem> = items.into_values().collect();
    let mut cache: BTreeMap<String, Option<(String, Vec<Opening>)>> = BTreeMap::new();
    for item in &mut items {
        item.cves.sort();
        item.cves.dedup();
        item.overdue = item.due < now;
        let openings = cache
            .entry(item.host.clone())
            .or_insert_with(|| windows(&item.host));
        item.planned_window = openings.as_ref().and_then(|(name, openings)| {
            let before = openings.iter().find(|o| o.start <= item.due && o.end > now);
            let chosen = before.or(openings.first())?;
            Some(PlannedWindow {
                window: name.clone(),
                opens: chosen.start,
                closes: chosen.end,
                before_due: before.is_some(),
            })
        });
        item.emergency = match &item.planned_window {
            Some(window) => !window.before_due,
            // No window known: the old rule (CRITICAL, or due within two days).
            None => item.tier == Tier::Critical || item.due - now < Duration::days(2),
        };
    }
    items.sort_by(|a, b| {
        (a.due, a.tier, &a.host, &a.source).cmp(&(b.due, b.tier, &b.host, &b.source))
    });
    items
}

/// Fleet summary for `ooda patch report`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub generated_at: Option<Timestamp>,
    /// The feeds the report rests on: records, data dates, import times, releases covered.
    pub feeds: Vec<FeedFreshness>,
    pub hosts: usize,
    pub hosts_with_packages: usize,
    pub hosts_with_distro_data: usize,
    /// Hosts with a verdict; the rest are "not assessed", never "clean".
    pub hosts_assessed: usize,
    pub not_assessed: Vec<NotAssessed>,
    pub packages_checked: usize,
    /// Counted findings (dispositioned ones the policy does not count are apart).
    pub findings: usize,
    /// Findings the distro dispositioned (unimportant, end-of-life, …) and the policy does not
    /// count, by disposition.
    pub distro_dispositioned: BTreeMap<String, usize>,
    pub kev_findings: usize,
    pub per_host: Vec<HostRow>,
    /// Every overdue finding, most overdue first.
    pub overdue: Vec<OverdueRow>,
    /// Every exception that matched a finding.
    pub exceptions: Vec<ExceptionRow>,
    pub fix_available: usize,
    pub no_fix_yet: usize,
    pub no_fix_planned: usize,
    /// Open fix-available findings not yet past due, over all open fix-available findings.
    pub within_sla_share: Option<f64>,
    /// Mean hours from first seen to closed, over closed findings in the ledger.
    pub mean_time_to_patch_hours: Option<f64>,
    pub per_tier: BTreeMap<String, Breakdown>,
    pub per_owner: BTreeMap<String, Breakdown>,
}

/// Counts for one tier or one owner.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub open: usize,
    /// Overdue to patch, or (CRITICAL without a fix) to mitigate or record an exception.
    pub overdue: usize,
    /// Of those, overdue to patch.
    pub overdue_patch: usize,
    pub no_fix_yet: usize,
    pub within_sla_share: Option<f64>,
    pub closed: usize,
    pub closed_within_sla: usize,
    pub mean_time_to_patch_hours: Option<f64>,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl Breakdown {
    fn count_tier(&mut self, tier: Tier) {
        match tier {
            Tier::Critical => self.critical += 1,
            Tier::High => self.high += 1,
            Tier::Medium => self.medium += 1,
            Tier::Low => self.low += 1,
        }
    }
}

#[derive(Default)]
struct Mttp {
    hours: f64,
    count: usize,
}

impl Mttp {
    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.hours / self.count as f64)
    }
}

/// A host without a verdict, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotAssessed {
    pub host: String,
    pub reason: String,
}

/// An overdue finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueRow {
    pub host: String,
    pub owner: Option<String>,
    pub source: String,
    pub cve: String,
    pub tier: Tier,
    pub risk: f64,
    pub kev: bool,
    pub due: Timestamp,
    pub due_for: Option<DueFor>,
    pub days_overdue: i64,
}

/// An exception and what it covers today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionRow {
    pub host: String,
    pub source: String,
    pub cve: String,
    pub tier: Tier,
    #[serde(flatten)]
    pub exception: ExceptionView,
}

#[allow(clippy::too_many_arguments)]
pub fn summarise(
    index: &VulnIndex,
    hosts: &[InventoryHost],
    results: &[HostFindings],
    all_rows: &[ScanRow],
    ledger: &Ledger,
    freshness: &[FeedFreshness],
    now: Timestamp,
) -> Summary {
    let per_host = host_rows(index, hosts, results, all_rows);
    let not_assessed: Vec<NotAssessed> = per_host
        .iter()
        .filter_map(|h| match &h.assessment {
            Assessment::NotAssessed(reason) => Some(NotAssessed {
                host: h.host.clone(),
                reason: reason.clone(),
            }),
            Assessment::Assessed => None,
        })
        .collect();
    let rows: Vec<&ScanRow> = all_rows.iter().filter(|r| r.counted).collect();
    let mut distro_dispositioned: BTreeMap<String, usize> = BTreeMap::new();
    for row in all_rows.iter().filter(|r| !r.counted) {
        if let Some(d) = row.disposition {
            *distro_dispositioned.entry(d.to_string()).or_default() += 1;
        }
    }
    let mut overdue: Vec<OverdueRow> = rows
        .iter()
        .filter(|r| r.overdue)
        .filter_map(|r| {
            let due = r.due?;
            Some(OverdueRow {
                host: r.host.clone(),
                owner: r.owner.clone(),
                source: r.source.clone(),
                cve: r.cve.clone(),
                tier: r.risk.tier,
                risk: r.risk.score,
                kev: r.kev,
                due,
                due_for: r.due_for,
                days_overdue: (now - due).num_days(),
            })
        })
        .collect();
    overdue.sort_by(|a, b| (a.due, a.tier, &a.host, &a.cve).cmp(&(b.due, b.tier, &b.host, &b.cve)));
    let exceptions: Vec<ExceptionRow> = all_rows
        .iter()
        .filter_map(|r| {
            Some(ExceptionRow {
                host: r.host.clone(),
                source: r.source.clone(),
                cve: r.cve.clone(),
                tier: r.risk.tier,
                exception: r.exception.clone()?,
            })
        })
        .collect();
    let mut summary = Summary {
        generated_at: Some(now),
        feeds: freshness.to_vec(),
        hosts: hosts.len(),
        hosts_with_packages: hosts.iter().filter(|h| h.package_format.is_some()).count(),
        hosts_with_distro_data: results.iter().filter(|r| !r.release_without_data).count(),
        hosts_assessed: hosts.len() - not_assessed.len(),
        not_assessed,
        packages_checked: hosts.iter().map(|h| h.packages.len()).sum(),
        findings: rows.len(),
        distro_dispositioned,
        kev_findings: rows.iter().filter(|r| r.kev).count(),
        per_host,
        overdue,
        exceptions,
        ..Summary::default()
    };
    let owner_of =
        |owner: &Option<String>| owner.clone().unwrap_or_else(|| "(no owner)".to_owned());
    let mut open_with_due = 0usize;
    let mut within = 0usize;
    for row in rows.iter().copied() {
        let tier = summary
            .per_tier
            .entry(row.risk.tier.as_str().to_owned())
            .or_default();
        let owner = summary.per_owner.entry(owner_of(&row.owner)).or_default();
        match row.status {
            FindingStatus::FixAvailable => summary.fix_available += 1,
            FindingStatus::NoFixYet => summary.no_fix_yet += 1,
            FindingStatus::NoFixPlanned => summary.no_fix_planned += 1,
        }
        for breakdown in [tier, owner] {
            breakdown.open += 1;
            breakdown.count_tier(row.risk.tier);
            if row.status != FindingStatus::FixAvailable {
                breakdown.no_fix_yet += 1;
            }
            if row.overdue {
                breakdown.overdue += 1;
                if row.status == FindingStatus::FixAvailable {
                    breakdown.overdue_patch += 1;
                }
            }
        }
        if row.status == FindingStatus::FixAvailable && row.due.is_some() {
            open_with_due += 1;
            if !row.overdue {
                within += 1;
            }
        }
    }
    summary.within_sla_share = (open_with_due > 0).then(|| within as f64 / open_with_due as f64);

    // Closed findings from the ledger: time to patch and whether it was in time.
    let mut all = Mttp::default();
    let mut by_tier: BTreeMap<String, Mttp> = BTreeMap::new();
    let mut by_owner: BTreeMap<String, Mttp> = BTreeMap::new();
    for entry in ledger.entries.values() {
        let Some(closed) = entry.closed_at else {
            continue;
        };
        let hours = (closed - entry.first_seen).num_seconds() as f64 / 3600.0;
        let in_time = entry.due.is_none_or(|due| closed <= due);
        let owner = owner_of(&entry.owner);
        for (map, key) in [
            (&mut by_tier, entry.tier.as_str().to_owned()),
            (&mut by_owner, owner.clone()),
        ] {
            let m = map.entry(key).or_default();
            m.hours += hours;
            m.count += 1;
        }
        all.hours += hours;
        all.count += 1;
        for breakdown in [
            summary
                .per_tier
                .entry(entry.tier.as_str().to_owned())
                .or_default(),
            summary.per_owner.entry(owner).or_default(),
        ] {
            breakdown.closed += 1;
            if in_time {
                breakdown.closed_within_sla += 1;
            }
        }
    }
    summary.mean_time_to_patch_hours = all.mean();
    for (key, breakdown) in summary.per_tier.iter_mut() {
        breakdown.mean_time_to_patch_hours = by_tier.get(key).and_then(Mttp::mean);
        breakdown.within_sla_share = share(breakdown);
    }
    for (key, breakdown) in summary.per_owner.iter_mut() {
        breakdown.mean_time_to_patch_hours = by_owner.get(key).and_then(Mttp::mean);
        breakdown.within_sla_share = share(breakdown);
    }
    summary
}

/// Open findings not overdue plus closed ones closed in time, over all with an SLA.
fn share(b: &Breakdown) -> Option<f64> {
    let with_sla = b.open - b.no_fix_yet + b.closed;
    let in_time = b.open - b.no_fix_yet - b.overdue_patch + b.closed_within_sla;
    (with_sla > 0).then(|| in_time as f64 / with_sla as f64)
}

// ---- rendering ----

fn percent(share: Option<f64>) -> String {
    share
        .map(|s| format!("{:.1}%", s * 100.0))
        .unwrap_or_else(|| "-".to_owned())
}

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h:.1} h"))
        .unwrap_or_else(|| "-".to_owned())
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

fn opt<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "-".to_owned())
}

/// Left-aligned text table with a header rule.
pub fn text_table(header: &[&str], body: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let parts: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &mut header.iter().copied());
    line(
        &mut out,
        &mut widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    for row in body {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

const SCAN_HEADER: [&str; 20] = [
    "tier",
    "risk",
    "rank",
    "host",
    "source",
    "installed",
    "cve",
    "status",
    "fixed",
    "advisory",
    "cvss",
    "severity basis",
    "kev",
    "epss",
    "match",
    "confidence",
    "data as of",
    "due",
    "note",
    "rule",
];

/// What a row's last columns say about it beyond its numbers.
fn row_note(row: &ScanRow) -> String {
    let mut notes = Vec::new();
    if let Some(d) = row.disposition {
        notes.push(if row.counted {
            format!("distro: {d} (counted)")
        } else {
            format!("distro: {d}")
        });
    }
    if row.overdue {
        notes.push("OVERDUE".to_owned());
    }
    if row.due_for == Some(DueFor::MitigateOrExcept) {
        notes.push("no fix: mitigate or except by due".to_owned());
    }
    if let Some(e) = &row.exception {
        notes.push(if e.active {
            format!("excepted until {} ({})", e.expires, e.owner)
        } else {
            format!("exception EXPIRED {} ({})", e.expires, e.owner)
        });
    }
    notes.join("; ")
}

fn scan_cells(row: &ScanRow) -> Vec<String> {
    vec![
        row.risk.tier.to_string(),
        format!("{:.2}", row.risk.score),
        format!("{:.3}", row.risk.uncapped),
        row.host.clone(),
        row.source.clone(),
        row.installed.clone(),
        row.cve.clone(),
        row.status.as_str().to_owned(),
        opt(&row.fixed_version),
        opt(&row.advisory),
        row.cvss
            .map(|c| format!("{c:.1}"))
            .unwrap_or_else(|| "missing".to_owned()),
        row.severity_basis.clone(),
        if row.kev {
            "KEV".to_owned()
        } else {
            String::new()
        },
        row.epss.map(|e| format!("{e:.3}")).unwrap_or_default(),
        row.matched_by.to_owned(),
        row.confidence.to_owned(),
        opt(&row.data_as_of),
        row.due
            .map(|d| {
                format!(
                    "{} ({})",
                    time(Some(d)),
                    row.due_for.map_or("", DueFor::as_str)
                )
            })
            .unwrap_or_else(|| "-".to_owned()),
        row_note(row),
        row.rule.clone(),
    ]
}

/// The scan as a table: what the verdicts rest on, which hosts have none, the counted
/// findings, then the distro-dispositioned ones apart.
pub fn scan_table(rows: &[ScanRow], summary: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&provenance_text(summary));
    let counted: Vec<Vec<String>> = rows.iter().filter(|r| r.counted).map(scan_cells).collect();
    let _ = writeln!(out, "\nfindings: {}", counted.len());
    out.push_str(&text_table(&SCAN_HEADER, &counted));
    let apart: Vec<Vec<String>> = rows.iter().filter(|r| !r.counted).map(scan_cells).collect();
    if !apart.is_empty() {
        let _ = writeln!(
            out,
            "\ndispositioned by the distro, not counted ({}; `--count-disposition` counts them):",
            apart.len()
        );
        out.push_str(&text_table(&SCAN_HEADER, &apart));
    }
    out
}

/// Feeds and their data dates, and the hosts without a verdict: the lines every verdict needs
/// beside it.
pub fn provenance_text(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "as of {}; verdicts rest on:",
        time(summary.generated_at)
    );
    for feed in &summary.feeds {
        let _ = writeln!(out, "  {}", feed.describe());
    }
    let _ = writeln!(
        out,
        "assessed {}/{} hosts",
        summary.hosts_assessed, summary.hosts
    );
    for host in &summary.not_assessed {
        let _ = writeln!(out, "  NOT ASSESSED {}: {}", host.host, host.reason);
    }
    out
}

pub fn csv_of(header: &[&str], body: &[Vec<String>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(header);
    for row in body {
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Every row, counted or not (the `note` column says which), for spreadsheets.
pub fn scan_csv(rows: &[ScanRow]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(scan_cells).collect();
    csv_of(&SCAN_HEADER, &body)
}

/// The scan as one JSON document: provenance, per-host verdicts, findings, dispositioned rows.
#[derive(Debug, Serialize)]
pub struct ScanDocument<'a> {
    pub generated_at: Option<Timestamp>,
    pub feeds: &'a [FeedFreshness],
    pub hosts: &'a [HostRow],
    pub findings: Vec<&'a ScanRow>,
    pub distro_dispositioned: Vec<&'a ScanRow>,
}

pub fn scan_document<'a>(rows: &'a [ScanRow], summary: &'a Summary) -> ScanDocument<'a> {
    ScanDocument {
        generated_at: summary.generated_at,
        feeds: &summary.feeds,
        hosts: &summary.per_host,
        findings: rows.iter().filter(|r| r.counted).collect(),
        distro_dispositioned: rows.iter().filter(|r| !r.counted).collect(),
    }
}

const PLAN_HEADER: [&str; 13] = [
    "due",
    "tier",
    "risk",
    "rank",
    "kev",
    "host",
    "owner",
    "window (planned opening)",
    "source",
    "installed",
    "target",
    "cves",
    "note",
];

/// A long CVE list shortened for tables and HTML (CSV and JSON keep every id).
fn cve_list(cves: &[String], full: bool) -> String {
    const SHOWN: usize = 6;
    if full || cves.len() <= SHOWN {
        return cves.join(" ");
    }
    format!(
        "{} … (+{} more)",
        cves[..SHOWN].join(" "),
        cves.len() - SHOWN
    )
}

fn plan_cells(item: &PlanItem) -> Vec<String> {
    plan_cells_with(item, false)
}

fn plan_cells_with(item: &PlanItem, full: bool) -> Vec<String> {
    let note = match (item.overdue, item.emergency, &item.planned_window) {
        (true, _, _) => "OVERDUE: patch now, through the Gate".to_owned(),
        (false, true, Some(w)) => {
            format!("emergency: next {} opening is after the due time", w.window)
        }
        (false, true, None) => "emergency: do not wait for a window".to_owned(),
        _ => String::new(),
    };
    let window = match (&item.planned_window, &item.maintenance_window) {
        (Some(w), _) => format!(
            "{} {} – {}",
            w.window,
            w.opens.format("%Y-%m-%d %H:%M"),
            w.closes.format("%H:%M UTC")
        ),
        (None, Some(name)) => format!("{name} (openings unknown: no windows file)"),
        (None, None) => "none".to_owned(),
    };
    vec![
        time(Some(item.due)),
        item.tier.to_string(),
        format!("{:.2}", item.max_risk),
        format!("{:.3}", item.max_rank),
        if item.kev {
            "KEV".into()
        } else {
            String::new()
        },
        item.host.clone(),
        opt(&item.owner),
        window,
        item.source.clone(),
        item.installed.clone(),
        opt(&item.target),
        cve_list(&item.cves, full),
        note,
    ]
}

pub fn plan_table(items: &[PlanItem]) -> String {
    let body: Vec<Vec<String>> = items.iter().map(plan_cells).collect();
    text_table(&PLAN_HEADER, &body)
}

pub fn plan_csv(items: &[PlanItem]) -> String {
    let body: Vec<Vec<String>> = items.iter().map(|i| plan_cells_with(i, true)).collect();
    csv_of(&PLAN_HEADER, &body)
}

const BREAKDOWN_HEADER: [&str; 11] = [
    "",
    "open",
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "overdue",
    "no fix yet",
    "within SLA",
    "closed",
    "mean time to patch",
];

fn breakdown_cells(name: &str, b: &Breakdown) -> Vec<String> {
    vec![
        name.to_owned(),
        b.open.to_string(),
        b.critical.to_string(),
        b.high.to_string(),
        b.medium.to_string(),
        b.low.to_string(),
        b.overdue.to_string(),
        b.no_fix_yet.to_string(),
        percent(b.within_sla_share),
        b.closed.to_string(),
        hours(b.mean_time_to_patch_hours),
    ]
}

fn ordered_tiers(summary: &Summary) -> Vec<(&str, &Breakdown)> {
    Tier::ALL
        .iter()
        .filter_map(|t| summary.per_tier.get(t.as_str()).map(|b| (t.as_str(), b)))
        .collect()
}

const FEED_HEADER: [&str; 6] = [
    "feed",
    "records",
    "data as of",
    "imported",
    "covers",
    "sources",
];

fn feed_cells(feed: &FeedFreshness) -> Vec<String> {
    vec![
        feed.feed.to_string(),
        feed.records.to_string(),
        match (&feed.data_date, &feed.catalogue_version) {
            (Some(d), _) => d.to_string(),
            (None, Some(v)) => format!("catalogue {v}"),
            (None, None) => "undated".to_owned(),
        },
        feed.imported_at.format("%Y-%m-%d %H:%M").to_string(),
        if feed.releases.len() > 6 {
            format!(
                "{} … ({} releases)",
                feed.releases[..6].join(", "),
                feed.releases.len()
            )
        } else {
            feed.releases.join(", ")
        },
        feed.sources.join(" "),
    ]
}

const HOST_HEADER: [&str; 13] = [
    "host", "owner", "release", "window", "verdict", "findings", "CRITICAL", "HIGH", "MEDIUM",
    "LOW", "KEV", "overdue", "max risk",
];

fn host_cells(h: &HostRow) -> Vec<String> {
    vec![
        h.host.clone(),
        opt(&h.owner),
        format!("{} {}", h.distro.as_deref().unwrap_or("?"), h.release),
        opt(&h.maintenance_window),
        match &h.assessment {
            Assessment::Assessed if h.findings == 0 => "clean".to_owned(),
            Assessment::Assessed => "vulnerable".to_owned(),
            Assessment::NotAssessed(reason) => format!("NOT ASSESSED: {reason}"),
        },
        h.findings.to_string(),
        h.critical.to_string(),
        h.high.to_string(),
        h.medium.to_string(),
        h.low.to_string(),
        h.kev.to_string(),
        h.overdue.to_string(),
        h.max_risk
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "-".into()),
    ]
}

const OVERDUE_HEADER: [&str; 9] = [
    "due",
    "days over",
    "tier",
    "risk",
    "kev",
    "host",
    "owner",
    "source",
    "cve",
];

fn overdue_cells(o: &OverdueRow) -> Vec<String> {
    vec![
        format!(
            "{} ({})",
            time(Some(o.due)),
            o.due_for.map_or("", DueFor::as_str)
        ),
        o.days_overdue.to_string(),
        o.tier.to_string(),
        format!("{:.2}", o.risk),
        if o.kev { "KEV".into() } else { String::new() },
        o.host.clone(),
        opt(&o.owner),
        o.source.clone(),
        o.cve.clone(),
    ]
}

const EXCEPTION_HEADER: [&str; 9] = [
    "host",
    "source",
    "cve",
    "tier",
    "owner",
    "expires",
    "state",
    "approved by",
    "reason",
];

fn exception_cells(e: &ExceptionRow) -> Vec<String> {
    vec![
        e.host.clone(),
        e.source.clone(),
        e.cve.clone(),
        e.tier.to_string(),
        e.exception.owner.clone(),
        e.exception.expires.to_string(),
        if e.exception.active {
            "active".into()
        } else {
            "EXPIRED".into()
        },
        opt(&e.exception.approved_by),
        e.exception.reason.clone(),
    ]
}

fn headline(summary: &Summary) -> String {
    format!(
        "findings: {} ({} fix available, {} no fix yet, {} no fix planned; {} in KEV); within SLA {}; mean time to patch {}; dispositioned by the distro and not counted: {}",
        summary.findings,
        summary.fix_available,
        summary.no_fix_yet,
        summary.no_fix_planned,
        summary.kev_findings,
        percent(summary.within_sla_share),
        hours(summary.mean_time_to_patch_hours),
        if summary.distro_dispositioned.is_empty() {
            "none".to_owned()
        } else {
            summary
                .distro_dispositioned
                .iter()
                .map(|(d, n)| format!("{n} {d}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

pub fn summary_table(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Patch report, {}\n", time(summary.generated_at));
    let feeds: Vec<Vec<String>> = summary.feeds.iter().map(feed_cells).collect();
    out.push_str("Feeds this report rests on\n");
    out.push_str(&text_table(&FEED_HEADER, &feeds));
    let _ = writeln!(
        out,
        "\ncoverage: {}/{} hosts assessed ({} with package lists, {} with distro data), {} packages checked",
        summary.hosts_assessed,
        summary.hosts,
        summary.hosts_with_packages,
        summary.hosts_with_distro_data,
        summary.packages_checked
    );
    let _ = writeln!(out, "{}\n", headline(summary));
    let tiers: Vec<Vec<String>> = ordered_tiers(summary)
        .into_iter()
        .map(|(name, b)| breakdown_cells(name, b))
        .collect();
    let mut header = BREAKDOWN_HEADER;
    header[0] = "tier";
    out.push_str(&text_table(&header, &tiers));
    out.push('\n');
    let owners: Vec<Vec<String>> = summary
        .per_owner
        .iter()
        .map(|(name, b)| breakdown_cells(name, b))
        .collect();
    header[0] = "owner";
    out.push_str(&text_table(&header, &owners));
    out.push_str("\nPer host\n");
    let hosts: Vec<Vec<String>> = summary.per_host.iter().map(host_cells).collect();
    out.push_str(&text_table(&HOST_HEADER, &hosts));
    let _ = writeln!(out, "\nOverdue ({})", summary.overdue.len());
    let overdue: Vec<Vec<String>> = summary.overdue.iter().map(overdue_cells).collect();
    out.push_str(&text_table(&OVERDUE_HEADER, &overdue));
    let _ = writeln!(out, "\nExceptions ({})", summary.exceptions.len());
    let exceptions: Vec<Vec<String>> = summary.exceptions.iter().map(exception_cells).collect();
    out.push_str(&text_table(&EXCEPTION_HEADER, &exceptions));
    out
}

/// One CSV for spreadsheets: tier, owner and host rows on the breakdown columns, then the
/// report's provenance (feed rows) so the file carries its data dates.
pub fn summary_csv(summary: &Summary) -> String {
    let mut body = Vec::new();
    let pad = |mut cells: Vec<String>, n: usize| {
        cells.resize(n, String::new());
        cells
    };
    let width = 2 + BREAKDOWN_HEADER.len() - 1 + 3;
    for (name, b) in ordered_tiers(summary) {
        let mut cells = vec!["tier".to_owned()];
        cells.extend(breakdown_cells(name, b));
        body.push(pad(cells, width));
    }
    for (name, b) in &summary.per_owner {
        let mut cells = vec!["owner".to_owned()];
        cells.extend(breakdown_cells(name, b));
        body.push(pad(cells, width));
    }
    for h in &summary.per_host {
        let cells = vec![
            "host".to_owned(),
            h.host.clone(),
            h.findings.to_string(),
            h.critical.to_string(),
            h.high.to_string(),
            h.medium.to_string(),
            h.low.to_string(),
            h.overdue.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            host_cells(h)[4].clone(),
            opt(&h.owner),
            h.kev.to_string(),
        ];
        body.push(pad(cells, width));
    }
    for f in &summary.feeds {
        let c = feed_cells(f);
        let mut cells = vec!["feed".to_owned(), c[0].clone(), c[1].clone()];
        cells.resize(width - 3, String::new());
        cells.extend([
            format!("data as of {}", c[2]),
            format!("imported {}", c[3]),
            c[4].clone(),
        ]);
        body.push(cells);
    }
    let mut header = vec!["section", "name"];
    header.extend_from_slice(&BREAKDOWN_HEADER[1..]);
    header.extend(["verdict", "owner", "kev"]);
    csv_of(&header, &body)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A table; a cell's CSS class comes from `class_of(column, text)` (tiers and alarms coloured).
fn html_table(out: &mut String, header: &[&str], body: &[Vec<String>]) {
    if body.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
        return;
    }
    out.push_str("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape_html(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in body {
        out.push_str("<tr>");
        for cell in row {
            let class = match cell.as_str() {
                "CRITICAL" => " class=\"t-critical\"",
                "HIGH" => " class=\"t-high\"",
                "MEDIUM" => " class=\"t-medium\"",
                "LOW" => " class=\"t-low\"",
                "KEV" => " class=\"kev\"",
                "clean" => " class=\"ok\"",
                "EXPIRED" => " class=\"alarm\"",
                c if c.starts_with("OVERDUE") || c.starts_with("NOT ASSESSED") => {
                    " class=\"alarm\""
                }
                _ => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape_html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// Inline stylesheet: no external assets, readable on screen, tables that print (repeated
/// headers, rows not split across pages, A4 landscape).
const REPORT_CSS: &str = "\
:root{--ink:#1b1f24;--muted:#5b6570;--line:#d5dbe1;--head:#f2f5f8;--crit:#b3261e;--high:#c25e00;--med:#8a6d00;--low:#2f6f3e}\
*{box-sizing:border-box}\
body{font:13px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--ink);margin:24px 32px;max-width:1500px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--ink)}\
.meta{color:var(--muted);margin:0 0 14px}\
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}\
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px}\
.card b{display:block;font-size:20px}.card span{color:var(--muted);font-size:12px}\
.card.alarm b{color:var(--crit)}\
table{border-collapse:collapse;width:100%;margin:0 0 8px;font-size:12px}\
th{background:var(--head);text-align:left;font-weight:600;border-bottom:2px solid var(--line)}\
th,td{padding:4px 7px;border-bottom:1px solid var(--line);vertical-align:top}\
tbody tr:nth-child(even){background:#fafbfc}\
td.t-critical{color:#fff;background:var(--crit);font-weight:700}td.t-high{color:#fff;background:var(--high);font-weight:700}\
td.t-medium{color:var(--med);font-weight:700}td.t-low{color:var(--low)}\
td.kev{color:var(--crit);font-weight:700}td.alarm{color:var(--crit);font-weight:600}td.ok{color:var(--low);font-weight:600}\
.none{color:var(--muted);font-style:italic}\
.foot{color:var(--muted);font-size:11px;margin-top:24px}\
@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;font-size:10px}table{font-size:9px}\
thead{display:table-header-group}tr,.card{break-inside:avoid}h2{break-after:avoid}\
td.t-critical,td.t-high,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// A self-contained HTML page (inline CSS, no external assets): provenance, coverage, tiers,
/// owners, hosts, overdue, exceptions, the plan and the top findings.
pub fn summary_html(summary: &Summary, rows: &[ScanRow], plan: &[PlanItem], top: usize) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Patch report {}</title>\n<style>{REPORT_CSS}</style></head><body>\n",
        escape_html(&time(summary.generated_at))
    );
    let newest = summary.feeds.iter().filter_map(|f| f.data_date).max();
    let _ = writeln!(
        out,
        "<h1>Patch compliance report</h1>\n<p class=\"meta\">Generated {} UTC · newest feed data {} · {} feeds · evaluated by ooda-patch</p>",
        escape_html(&time(summary.generated_at)),
        newest.map(|d| d.to_string()).unwrap_or_else(|| "undated".into()),
        summary.feeds.len()
    );
    let overdue = summary.overdue.len();
    let critical = summary.per_tier.get("CRITICAL").map_or(0, |b| b.open);
    let not_assessed = summary.not_assessed.len();
    let cards = [
        (
            format!("{}/{}", summary.hosts_assessed, summary.hosts),
            "hosts assessed",
            not_assessed > 0,
        ),
        (summary.findings.to_string(), "open findings", false),
        (critical.to_string(), "CRITICAL", critical > 0),
        (
            summary.kev_findings.to_string(),
            "in CISA KEV",
            summary.kev_findings > 0,
        ),
        (overdue.to_string(), "overdue", overdue > 0),
        (percent(summary.within_sla_share), "within SLA", false),
        (
            hours(summary.mean_time_to_patch_hours),
            "mean time to patch",
            false,
        ),
    ];
    out.push_str("<div class=\"cards\">");
    for (value, label, alarm) in cards {
        let _ = write!(
            out,
            "<div class=\"card{}\"><b>{}</b><span>{}</span></div>",
            if alarm { " alarm" } else { "" },
            escape_html(&value),
            label
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(out, "<p>{}</p>", escape_html(&headline(summary)));

    out.push_str("<h2>Data this report rests on</h2>\n");
    let feeds: Vec<Vec<String>> = summary.feeds.iter().map(feed_cells).collect();
    html_table(&mut out, &FEED_HEADER, &feeds);

    out.push_str("<h2>Per tier</h2>\n");
    let mut header = BREAKDOWN_HEADER;
    header[0] = "tier";
    let tiers: Vec<Vec<String>> = ordered_tiers(summary)
        .into_iter()
        .map(|(n, b)| breakdown_cells(n, b))
        .collect();
    html_table(&mut out, &header, &tiers);
    out.push_str(
        "<p class=\"meta\">SLA: CRITICAL 24 h, HIGH 7 days, MEDIUM 30 days, LOW 90 days, from the later of first seen and the fix's publication. CRITICAL findings without a fix are due for a mitigation or an exception.</p>\n",
    );
    header[0] = "owner";
    out.push_str("<h2>Per owner</h2>\n");
    let owners: Vec<Vec<String>> = summary
        .per_owner
        .iter()
        .map(|(n, b)| breakdown_cells(n, b))
        .collect();
    html_table(&mut out, &header, &owners);

    out.push_str("<h2>Per host</h2>\n");
    let hosts: Vec<Vec<String>> = summary.per_host.iter().map(host_cells).collect();
    html_table(&mut out, &HOST_HEADER, &hosts);

    const OVERDUE_SHOWN: usize = 40;
    let _ = writeln!(out, "<h2>Overdue ({overdue})</h2>");
    let rows_overdue: Vec<Vec<String>> = summary
        .overdue
        .iter()
        .take(OVERDUE_SHOWN)
        .map(overdue_cells)
        .collect();
    html_table(&mut out, &OVERDUE_HEADER, &rows_overdue);
    if overdue > OVERDUE_SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"meta\">The {OVERDUE_SHOWN} most overdue of {overdue}; every one is in the CSV and JSON reports.</p>"
        );
    }

    let _ = writeln!(out, "<h2>Exceptions ({})</h2>", summary.exceptions.len());
    let exceptions: Vec<Vec<String>> = summary.exceptions.iter().map(exception_cells).collect();
    html_table(&mut out, &EXCEPTION_HEADER, &exceptions);

    let _ = writeln!(out, "<h2>Patch plan ({} items)</h2>", plan.len());
    let plan_rows: Vec<Vec<String>> = plan.iter().map(plan_cells).collect();
    html_table(&mut out, &PLAN_HEADER, &plan_rows);

    let counted: Vec<&ScanRow> = rows.iter().filter(|r| r.counted).collect();
    let _ = writeln!(
        out,
        "<h2>Top {} findings</h2>\n<p class=\"meta\">risk = CVSS/10 × 2.0 KEV × 1.5 internet-facing × 1.3 production × 0.85 fix younger than 7 days, capped at 1.0; rank is the same product uncapped, used for ordering.</p>",
        top.min(counted.len())
    );
    let body: Vec<Vec<String>> = counted.iter().take(top).map(|r| scan_cells(r)).collect();
    html_table(&mut out, &SCAN_HEADER, &body);
    out.push_str("<p class=\"foot\">This product uses data from the NVD API but is not endorsed or certified by the NVD. Debian verdicts from the Debian security tracker; KEV from CISA (CC0); EPSS from FIRST.</p>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>&\"'"),
            "&lt;script&gt;&amp;&quot;&#39;"
        );
    }

    #[test]
    fn sla_clock_starts_at_the_later_of_first_seen_and_fix() {
        let seen = ooda_core::clock::from_millis(1_700_000_000_000);
        let old_fix = chrono::NaiveDate::from_ymd_opt(2020, 1, 1);
        assert_eq!(sla_start(seen, old_fix), seen);
        let future_fix = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        assert_eq!(
            sla_start(seen, Some(future_fix)),
            future_fix.and_time(NaiveTime::MIN).and_utc()
        );
    }

    #[test]
    fn table_aligns_columns() {
        let table = text_table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(table, "a    bb\n---  --\nxxx  y\n");
    }
}
