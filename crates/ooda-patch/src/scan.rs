//! One scan end to end: load the feed snapshots, build the index, load the inventory, match,
//! score, and (when asked) record the result in the ledger. The CLI and the agent call this;
//! rendering stays in [`crate::report`].

use std::path::Path;

use ooda_core::Clock;

use crate::error::Result;
use crate::feed::store::FeedStore;
use crate::feed::FeedKind;
use crate::index::{FeedFreshness, FeedSet, VulnIndex};
use crate::inventory::{self, InventoryHost, InventoryReport};
use crate::ledger::Ledger;
use crate::matcher::{self, HostFindings};
use crate::report::{self, PlanItem, ScanPolicy, ScanRow, Summary};
use crate::version::Scheme;
use crate::windows::Windows;

/// Everything a scan produced.
pub struct Scan {
    pub index: VulnIndex,
    pub feeds_present: Vec<FeedKind>,
    /// Per feed: records, data date, import time, releases covered.
    pub freshness: Vec<FeedFreshness>,
    pub hosts: Vec<InventoryHost>,
    pub inventory: InventoryReport,
    pub results: Vec<HostFindings>,
    /// Every row, counted or dispositioned (`ScanRow::counted` tells them apart).
    pub rows: Vec<ScanRow>,
    pub ledger: Ledger,
    pub now: ooda_core::Timestamp,
}

/// Options of a scan.
pub struct ScanOptions<'a> {
    pub data_dir: &'a Path,
    pub cmdb: &'a Path,
    pub packages_dir: Option<&'a Path>,
    pub threads: usize,
    /// Write the findings ledger (a real scan does; `plan` and `report` only read it).
    pub record: bool,
    /// Which distro dispositions count as findings; which risks are accepted.
    pub policy: ScanPolicy,
}

pub fn run(options: &ScanOptions<'_>, clock: &dyn Clock) -> Result<Scan> {
    let now = clock.now();
    let store = FeedStore::in_data_dir(options.data_dir);
    let feeds = FeedSet::load(&store)?;
    let feeds_present = feeds.present.clone();
    let freshness = feeds.freshness.clone();
    let index = VulnIndex::build(&feeds);
    drop(feeds);
    let (hosts, inventory) = inventory::load(options.cmdb, options.packages_dir)?;
    let results = matcher::match_fleet(&index, &hosts, options.threads);
    let mut ledger = Ledger::load(options.data_dir)?;
    let rows = report::rows(
        &index,
        &hosts,
        &results,
        &ledger,
        &freshness,
        &options.policy,
        now,
    );
    if options.record {
        report::record(&mut ledger, &rows, &hosts, now);
        ledger.save(options.data_dir)?;
    }
    Ok(Scan {
        index,
        feeds_present,
        freshness,
        hosts,
        inventory,
        results,
        rows,
        ledger,
        now,
    })
}

impl Scan {
    /// The plan; with maintenance windows, each item is scheduled into the host's first
    /// opening before it is due.
    pub fn plan(&self, windows: Option<&Windows>) -> Vec<PlanItem> {
        let by_name: std::collections::HashMap<&str, &InventoryHost> = self
            .hosts
            .iter()
            .map(|h| (h.host.name.as_str(), h))
            .collect();
        let now = self.now;
        let lookup = |name: &str| {
            let windows = windows?;
            let host = by_name.get(name)?;
            let window = windows.window_for(&host.host).ok()?;
            // Two months of openings: enough for every SLA but LOW's.
            let openings = window.next_openings(now, 62).ok()?;
            Some((window.spec.name.clone(), openings))
        };
        report::plan(
            &self.rows,
            |host| {
                by_name
                    .get(host)
                    .and_then(|h| h.distro)
                    .map(|d| d.scheme())
                    .unwrap_or(Scheme::Dpkg)
            },
            &lookup,
            self.now,
        )
    }

    pub fn summary(&self) -> Summary {
        report::summarise(
            &self.index,
            &self.hosts,
            &self.results,
            &self.rows,
            &self.ledger,
            &self.freshness,
            self.now,
        )
    }
}
