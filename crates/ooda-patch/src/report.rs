//! What people read: findings with their risk (`scan`), what to patch where and by when
//! (`plan`), and how the fleet is doing (`report`: coverage, share within SLA, mean time to
//! patch, per owner and per tier), as a table, JSON, CSV or HTML. Rendering only: the numbers
//! come from the matcher, the risk formula and the ledger.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Duration, NaiveTime};
use serde::Serialize;

use ooda_core::{Environment, Timestamp};

use crate::feed::FixState;
use crate::index::VulnIndex;
use crate::inventory::InventoryHost;
use crate::ledger::{Ledger, Seen};
use crate::matcher::{Evidence, FindingStatus, HostFindings};
use crate::risk::{self, Risk, RiskInput, Tier};
use crate::version::Scheme;

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
    pub matched_by: &'static str,
    pub confidence: &'static str,
    pub cvss: Option<f64>,
    pub kev: bool,
    pub epss: Option<f64>,
    pub risk: Risk,
    pub first_seen: Timestamp,
    /// SLA due time; only for findings a fix exists for.
    pub due: Option<Timestamp>,
}

/// Resolves findings into rows, scored and ranked (most urgent first).
pub fn rows(
    index: &VulnIndex,
    hosts: &[InventoryHost],
    results: &[HostFindings],
    ledger: &Ledger,
    now: Timestamp,
) -> Vec<ScanRow> {
    let today = now.date_naive();
    let mut rows = Vec::new();
    for result in results {
        let inventory = &hosts[result.host];
        let host = &inventory.host;
        for finding in &result.findings {
            let package = &inventory.packages[finding.package as usize];
            let cve = &index.cves[finding.cve as usize];
            let (fixed_version, advisory, fix_published, urgency) = match &finding.evidence {
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
                    )
                }
                Evidence::Cpe(cpe) => (cpe.fixed_upstream.clone(), None, None, None),
            };
            let cvss = cve.cvss.or_else(|| risk::cvss_from_urgency(urgency));
            let risk = risk::score(&RiskInput {
                cvss,
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
            let source = package.source_name();
            let first_seen = ledger.first_seen(&host.name, source, &cve.id, now);
            let due = (finding.status == FindingStatus::FixAvailable)
                .then(|| sla_start(first_seen, fix_published) + risk.tier.sla());
            rows.push(ScanRow {
                host: host.name.clone(),
                owner: host.owner.clone(),
                environment: host.environment,
                internet_facing: host.internet_facing,
                maintenance_window: host.maintenance_window.clone(),
                package: package.name.to_string(),
                source: source.to_owned(),
                installed: package.source_version().to_owned(),
                cve: cve.id.clone(),
                status: finding.status,
                fixed_version,
                advisory,
                fix_published,
                matched_by: finding.source.as_str(),
                confidence: finding.confidence.as_str(),
                cvss: cve.cvss,
                kev: cve.kev_added.is_some(),
                epss: cve.epss,
                risk,
                first_seen,
                due,
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

/// The SLA clock starts when we knew of the finding *and* a fix existed: a fix published a year
/// before the first scan does not make the finding overdue on day one.
fn sla_start(first_seen: Timestamp, fix_published: Option<chrono::NaiveDate>) -> Timestamp {
    match fix_published {
        Some(date) => first_seen.max(date.and_time(NaiveTime::MIN).and_utc()),
        None => first_seen,
    }
}

/// Records the scan in the ledger.
pub fn record(ledger: &mut Ledger, rows: &[ScanRow], hosts: &[InventoryHost], now: Timestamp) {
    let seen: Vec<Seen<'_>> = rows
        .iter()
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

/// One line of the plan: upgrade a source package on a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    pub host: String,
    pub owner: Option<String>,
    pub maintenance_window: Option<String>,
    pub source: String,
    pub installed: String,
    /// The highest fixed version among its findings: installing it closes them all.
    pub target: Option<String>,
    pub tier: Tier,
    pub due: Timestamp,
    pub overdue: bool,
    /// Due before a weekly window can be relied on: patch out of window, through the Gate.
    pub emergency: bool,
    pub cves: Vec<String>,
    pub max_risk: f64,
}

/// Groups fix-available findings per host and source package, most urgent first.
pub fn plan(rows: &[ScanRow], scheme_of: impl Fn(&str) -> Scheme, now: Timestamp) -> Vec<PlanItem> {
    let mut items: BTreeMap<(String, String), PlanItem> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| r.status == FindingStatus::FixAvailable)
    {
        let Some(due) = row.due else { continue };
        let item = items
            .entry((row.host.clone(), row.source.clone()))
            .or_insert_with(|| PlanItem {
                host: row.host.clone(),
                owner: row.owner.clone(),
                maintenance_window: row.maintenance_window.clone(),
                source: row.source.clone(),
                installed: row.installed.clone(),
                target: None,
                tier: row.risk.tier,
                due,
                overdue: false,
                emergency: false,
                cves: Vec::new(),
                max_risk: row.risk.uncapped,
            });
        item.tier = item.tier.min(row.risk.tier);
        item.due = item.due.min(due);
        item.max_risk = item.max_risk.max(row.risk.uncapped);
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
    for item in &mut items {
        item.cves.sort();
        item.cves.dedup();
        item.overdue = item.due < now;
        item.emergency = item.tier == Tier::Critical || item.due - now < Duration::days(2);
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
    pub hosts: usize,
    pub hosts_with_packages: usize,
    pub hosts_with_distro_data: usize,
    pub packages_checked: usize,
    pub findings: usize,
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
    pub overdue: usize,
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

pub fn summarise(
    hosts: &[InventoryHost],
    results: &[HostFindings],
    rows: &[ScanRow],
    ledger: &Ledger,
    now: Timestamp,
) -> Summary {
    let mut summary = Summary {
        generated_at: Some(now),
        hosts: hosts.len(),
        hosts_with_packages: hosts.iter().filter(|h| h.package_format.is_some()).count(),
        hosts_with_distro_data: results.iter().filter(|r| !r.release_without_data).count(),
        packages_checked: hosts.iter().map(|h| h.packages.len()).sum(),
        findings: rows.len(),
        ..Summary::default()
    };
    let owner_of =
        |owner: &Option<String>| owner.clone().unwrap_or_else(|| "(no owner)".to_owned());
    let mut open_with_due = 0usize;
    let mut within = 0usize;
    for row in rows {
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
            if row.due.is_some_and(|due| due < now) {
                breakdown.overdue += 1;
            }
        }
        if let Some(due) = row.due {
            open_with_due += 1;
            if due >= now {
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
    let in_time = b.open - b.no_fix_yet - b.overdue + b.closed_within_sla;
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

const SCAN_HEADER: [&str; 14] = [
    "tier",
    "risk",
    "host",
    "source",
    "installed",
    "cve",
    "status",
    "fixed",
    "cvss",
    "kev",
    "epss",
    "match",
    "confidence",
    "due",
];

fn scan_cells(row: &ScanRow) -> Vec<String> {
    vec![
        row.risk.tier.to_string(),
        format!("{:.2}", row.risk.uncapped),
        row.host.clone(),
        row.source.clone(),
        row.installed.clone(),
        row.cve.clone(),
        row.status.as_str().to_owned(),
        opt(&row.fixed_version),
        row.cvss
            .map(|c| format!("{c:.1}"))
            .unwrap_or_else(|| "?".to_owned()),
        if row.kev {
            "KEV".to_owned()
        } else {
            String::new()
        },
        row.epss.map(|e| format!("{e:.3}")).unwrap_or_default(),
        row.matched_by.to_owned(),
        row.confidence.to_owned(),
        time(row.due),
    ]
}

pub fn scan_table(rows: &[ScanRow]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(scan_cells).collect();
    text_table(&SCAN_HEADER, &body)
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

pub fn scan_csv(rows: &[ScanRow]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(scan_cells).collect();
    csv_of(&SCAN_HEADER, &body)
}

const PLAN_HEADER: [&str; 10] = [
    "due",
    "tier",
    "host",
    "window",
    "owner",
    "source",
    "installed",
    "target",
    "cves",
    "note",
];

fn plan_cells(item: &PlanItem) -> Vec<String> {
    let note = match (item.overdue, item.emergency) {
        (true, _) => "OVERDUE",
        (false, true) => "emergency: do not wait for the window",
        _ => "",
    };
    vec![
        time(Some(item.due)),
        item.tier.to_string(),
        item.host.clone(),
        opt(&item.maintenance_window),
        opt(&item.owner),
        item.source.clone(),
        item.installed.clone(),
        opt(&item.target),
        item.cves.join(" "),
        note.to_owned(),
    ]
}

pub fn plan_table(items: &[PlanItem]) -> String {
    let body: Vec<Vec<String>> = items.iter().map(plan_cells).collect();
    text_table(&PLAN_HEADER, &body)
}

pub fn plan_csv(items: &[PlanItem]) -> String {
    let body: Vec<Vec<String>> = items.iter().map(plan_cells).collect();
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

pub fn summary_table(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Patch report, {}", time(summary.generated_at));
    let _ = writeln!(
        out,
        "coverage: {}/{} hosts with package lists, {} with distro data, {} packages checked",
        summary.hosts_with_packages,
        summary.hosts,
        summary.hosts_with_distro_data,
        summary.packages_checked
    );
    let _ = writeln!(
        out,
        "findings: {} ({} fix available, {} no fix yet, {} no fix planned); within SLA {}; mean time to patch {}\n",
        summary.findings,
        summary.fix_available,
        summary.no_fix_yet,
        summary.no_fix_planned,
        percent(summary.within_sla_share),
        hours(summary.mean_time_to_patch_hours)
    );
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
    out
}

pub fn summary_csv(summary: &Summary) -> String {
    let mut body = Vec::new();
    for (name, b) in ordered_tiers(summary) {
        let mut cells = vec!["tier".to_owned()];
        cells.extend(breakdown_cells(name, b));
        body.push(cells);
    }
    for (name, b) in &summary.per_owner {
        let mut cells = vec!["owner".to_owned()];
        cells.extend(breakdown_cells(name, b));
        body.push(cells);
    }
    let mut header = vec!["section", "name"];
    header.extend_from_slice(&BREAKDOWN_HEADER[1..]);
    csv_of(&header, &body)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html_table(out: &mut String, header: &[&str], body: &[Vec<String>]) {
    out.push_str("<table>\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape_html(h));
    }
    out.push_str("</tr>\n");
    for row in body {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape_html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// A self-contained HTML page: summary, tiers, owners, and the top findings.
pub fn summary_html(summary: &Summary, rows: &[ScanRow], top: usize) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>ooda patch report</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Patch report</h1>\n<p>Generated {}</p>",
        escape_html(&time(summary.generated_at))
    );
    let _ = writeln!(
        out,
        "<p>Coverage: {}/{} hosts with package lists, {} with distro data, {} packages checked. Findings: {} ({} fix available, {} no fix yet, {} no fix planned). Within SLA: {}. Mean time to patch: {}.</p>",
        summary.hosts_with_packages,
        summary.hosts,
        summary.hosts_with_distro_data,
        summary.packages_checked,
        summary.findings,
        summary.fix_available,
        summary.no_fix_yet,
        summary.no_fix_planned,
        percent(summary.within_sla_share),
        escape_html(&hours(summary.mean_time_to_patch_hours)),
    );
    let mut header = BREAKDOWN_HEADER;
    header[0] = "tier";
    out.push_str("<h2>Per tier</h2>\n");
    let tiers: Vec<Vec<String>> = ordered_tiers(summary)
        .into_iter()
        .map(|(n, b)| breakdown_cells(n, b))
        .collect();
    html_table(&mut out, &header, &tiers);
    header[0] = "owner";
    out.push_str("<h2>Per owner</h2>\n");
    let owners: Vec<Vec<String>> = summary
        .per_owner
        .iter()
        .map(|(n, b)| breakdown_cells(n, b))
        .collect();
    html_table(&mut out, &header, &owners);
    let _ = writeln!(out, "<h2>Top {} findings</h2>", top.min(rows.len()));
    let body: Vec<Vec<String>> = rows.iter().take(top).map(scan_cells).collect();
    html_table(&mut out, &SCAN_HEADER, &body);
    out.push_str("<p>This product uses data from the NVD API but is not endorsed or certified by the NVD.</p>\n</body></html>\n");
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
