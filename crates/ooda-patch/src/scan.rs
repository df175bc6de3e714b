//! One scan end to end: load the feed snapshots, build the index, load the inventory, match,
//! score, and (when asked) record the result in the ledger. The CLI and the agent call this;
//! rendering stays in [`crate::report`].

use std::path::Path;

use ooda_core::Clock;

use crate::error::Result;
use crate::feed::store::FeedStore;
use crate::feed::FeedKind;
use crate::index::{FeedSet, VulnIndex};
use crate::inventory::{self, InventoryHost, InventoryReport};
use crate::ledger::Ledger;
use crate::matcher::{self, HostFindings};
use crate::report::{self, PlanItem, ScanRow, Summary};
use crate::version::Scheme;

/// Everything a scan produced.
pub struct Scan {
    pub index: VulnIndex,
    pub feeds_present: Vec<FeedKind>,
    pub hosts: Vec<InventoryHost>,
    pub inventory: InventoryReport,
    pub results: Vec<HostFindings>,
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
}

pub fn run(options: &ScanOptions<'_>, clock: &dyn Clock) -> Result<Scan> {
    let now = clock.now();
    let store = FeedStore::in_data_dir(options.data_dir);
    let feeds = FeedSet::load(&store)?;
    let feeds_present = feeds.present.clone();
    let index = VulnIndex::build(&feeds);
    drop(feeds);
    let (hosts, inventory) = inventory::load(options.cmdb, options.packages_dir)?;
    let results = matcher::match_fleet(&index, &hosts, options.threads);
    let mut ledger = Ledger::load(options.data_dir)?;
    let rows = report::rows(&index, &hosts, &results, &ledger, now);
    if options.record {
        report::record(&mut ledger, &rows, &hosts, now);
        ledger.save(options.data_dir)?;
    }
    Ok(Scan {
        index,
        feeds_present,
        hosts,
        inventory,
        results,
        rows,
        ledger,
        now,
    })
}

impl Scan {
    pub fn plan(&self) -> Vec<PlanItem> {
        let schemes: std::collections::HashMap<&str, Scheme> = self
            .hosts
            .iter()
            .map(|h| {
                (
                    h.host.name.as_str(),
                    h.distro.map(|d| d.scheme()).unwrap_or(Scheme::Dpkg),
                )
            })
            .collect();
        report::plan(
            &self.rows,
            |host| schemes.get(host).copied().unwrap_or(Scheme::Dpkg),
            self.now,
        )
    }

    pub fn summary(&self) -> Summary {
        report::summarise(
            &self.hosts,
            &self.results,
            &self.rows,
            &self.ledger,
            self.now,
        )
    }
}
