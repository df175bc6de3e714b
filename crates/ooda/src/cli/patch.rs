//! `ooda patch …`: version comparison, feed import and sync, inventory collection, scan, plan
//! and report. Thin: the work is in `ooda-patch`; this file parses flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use ooda_core::{Clock, ManualClock, SystemClock};
use ooda_patch::feed::store::FeedStore;
use ooda_patch::feed::FeedKind;
use ooda_patch::version::{ordering_symbol, Scheme};
use ooda_patch::{report, scan};

use super::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum PatchCommand {
    /// Compare two versions: prints `<`, `=` or `>` (like `dpkg --compare-versions`).
    Vercmp(VercmpArgs),
    /// Import, sync and inspect vulnerability feeds.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Collect this host's installed packages (dpkg-query or rpm) as a package list file.
    Collect(CollectArgs),
    /// Match the inventory against the feeds: one line per finding, most urgent first.
    Scan(ScanArgs),
    /// What to patch where and by when (SLA due dates), most urgent first.
    Plan(ScanArgs),
    /// Coverage, share within SLA, mean time to patch, per owner and per tier.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct VercmpArgs {
    /// dpkg, rpm or semver.
    pub scheme: Scheme,
    pub a: String,
    pub b: String,
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Import a feed file or directory offline (all of it or nothing).
    Import {
        /// nvd, kev, debian-tracker, dsa, dla, debian-fixed, debian-cpe, osv, epss, vulnrichment.
        kind: FeedKind,
        path: PathBuf,
    },
    /// Show what is imported.
    Status,
    /// Sync NVD CVE API 2.0 online: incremental, resumable, rate-limited.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// NVD API key (raises the rate limit from 5 to 50 requests per 30 s).
    #[arg(long, env = "NVD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// API base URL.
    #[arg(long, default_value = ooda_patch::feed::nvd::client::NVD_API_URL)]
    pub url: String,
    /// Records per page (NVD allows at most 2000).
    #[arg(long, default_value_t = 2000)]
    pub results_per_page: u32,
    /// First sync only: fetch records modified since this date (YYYY-MM-DD) instead of all.
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Where to write the list (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Use rpm instead of dpkg-query.
    #[arg(long)]
    pub rpm: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// CMDB file (.csv, .json or .yaml): host, distro, release, class, environment,
    /// internet_facing, owner, maintenance_window[, packages].
    #[arg(long)]
    pub cmdb: PathBuf,
    /// Directory of package lists named after hosts (`web-1`, `web-1.dpkg`, `web-1.json` …).
    #[arg(long)]
    pub packages: Option<PathBuf>,
    /// Matching threads (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Evaluate as of this time (RFC 3339), for reproducible reports.
    #[arg(long, hide = true)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write to a file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(command: PatchCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        PatchCommand::Vercmp(args) => {
            let ordering = args.scheme.compare(&args.a, &args.b).with_context(|| {
                format!(
                    "comparing {:?} with {:?} as {}",
                    args.a, args.b, args.scheme
                )
            })?;
            println!("{}", ordering_symbol(ordering));
            Ok(ExitCode::SUCCESS)
        }
        PatchCommand::Feeds(command) => feeds(command, global),
        PatchCommand::Collect(args) => collect(args),
        PatchCommand::Scan(args) => {
            let scan = run_scan(&args.inventory, global, true)?;
            warn_inventory(&scan);
            let text = match args.format {
                ListFormat::Table => report::scan_table(&scan.rows),
                ListFormat::Json => serde_json::to_string_pretty(&scan.rows)? + "\n",
                ListFormat::Csv => report::scan_csv(&scan.rows),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PatchCommand::Plan(args) => {
            let scan = run_scan(&args.inventory, global, false)?;
            warn_inventory(&scan);
            let plan = scan.plan();
            let text = match args.format {
                ListFormat::Table => report::plan_table(&plan),
                ListFormat::Json => serde_json::to_string_pretty(&plan)? + "\n",
                ListFormat::Csv => report::plan_csv(&plan),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PatchCommand::Report(args) => {
            let scan = run_scan(&args.inventory, global, false)?;
            warn_inventory(&scan);
            let summary = scan.summary();
            let text = match args.format {
                ReportFormat::Table => report::summary_table(&summary),
                ReportFormat::Json => serde_json::to_string_pretty(&summary)? + "\n",
                ReportFormat::Csv => report::summary_csv(&summary),
                ReportFormat::Html => report::summary_html(&summary, &scan.rows, 100),
            };
            match args.out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn clock(at: Option<chrono::DateTime<chrono::Utc>>) -> Box<dyn Clock> {
    match at {
        Some(at) => Box::new(ManualClock::new(at)),
        None => Box::new(SystemClock),
    }
}

fn run_scan(args: &InventoryArgs, global: &GlobalArgs, record: bool) -> anyhow::Result<scan::Scan> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = scan::ScanOptions {
        data_dir: &global.data_dir,
        cmdb: &args.cmdb,
        packages_dir: args.packages.as_deref(),
        threads,
        record,
    };
    let scan = scan::run(&options, clock(args.at).as_ref())?;
    if scan.feeds_present.is_empty() {
        bail!(
            "no feeds imported in {}: run `ooda patch feeds import <kind> <path>` first",
            global.data_dir.display()
        );
    }
    Ok(scan)
}

fn warn_inventory(scan: &scan::Scan) {
    let report = &scan.inventory;
    if report.skipped_rows > 0 || report.skipped_packages > 0 {
        eprintln!(
            "warning: skipped {} CMDB rows and {} package lines; first error: {}",
            report.skipped_rows,
            report.skipped_packages,
            report.first_error.as_deref().unwrap_or("-")
        );
    }
    if !report.hosts_without_packages.is_empty() {
        eprintln!(
            "warning: {} hosts have no package list and were not checked: {}",
            report.hosts_without_packages.len(),
            report.hosts_without_packages.join(", ")
        );
    }
    let unparseable: u32 = scan.results.iter().map(|r| r.unparseable).sum();
    if unparseable > 0 {
        eprintln!(
            "warning: {unparseable} installed versions could not be parsed and were not checked"
        );
    }
}

fn feeds(command: FeedsCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let store = FeedStore::in_data_dir(&global.data_dir);
    match command {
        FeedsCommand::Import { kind, path } => {
            let report = ooda_patch::feed::import::import(&store, kind, &path, SystemClock.now())?;
            println!(
                "imported {} {kind} records from {} ({} in snapshot, {} skipped)",
                report.imported,
                path.display(),
                report.total,
                report.skipped
            );
            if let Some(error) = report.first_error {
                eprintln!("warning: first skipped record: {error}");
            }
            Ok(ExitCode::SUCCESS)
        }
        FeedsCommand::Status => {
            let mut body = Vec::new();
            for kind in FeedKind::ALL {
                match store.load(kind) {
                    Ok(Some(snapshot)) => body.push(vec![
                        kind.to_string(),
                        snapshot.records.len().to_string(),
                        snapshot.imported_at.format("%Y-%m-%d %H:%M").to_string(),
                        snapshot.skipped.to_string(),
                        snapshot.sources.join(" "),
                    ]),
                    Ok(None) => body.push(vec![
                        kind.to_string(),
                        "-".into(),
                        "never".into(),
                        "-".into(),
                        String::new(),
                    ]),
                    Err(error) => body.push(vec![
                        kind.to_string(),
                        "?".into(),
                        format!("unreadable: {error}"),
                        "-".into(),
                        String::new(),
                    ]),
                }
            }
            print!(
                "{}",
                report::text_table(
                    &["feed", "records", "imported", "skipped", "sources"],
                    &body
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        FeedsCommand::Sync(args) => sync(args, &store),
    }
}

fn sync(args: SyncArgs, store: &FeedStore) -> anyhow::Result<ExitCode> {
    use ooda_patch::feed::nvd::client::{NvdClient, SyncOptions};
    let options = SyncOptions {
        base_url: args.url,
        api_key: args.api_key,
        results_per_page: args.results_per_page,
        since: args.since,
        rate_limit: None,
        show_progress: true,
    };
    let client = NvdClient::new(options)?;
    let outcome = client.sync_blocking(store, &SystemClock)?;
    println!(
        "NVD sync: {} records fetched in {} requests, {} in snapshot ({} skipped)",
        outcome.fetched, outcome.requests, outcome.total, outcome.skipped
    );
    println!(
        "This product uses data from the NVD API but is not endorsed or certified by the NVD."
    );
    Ok(ExitCode::SUCCESS)
}

fn collect(args: CollectArgs) -> anyhow::Result<ExitCode> {
    use ooda_patch::inventory::packages;
    // Written as the tool printed it, so `scan` reads it with the same parser as any other list.
    let (raw, parsed) = if args.rpm {
        let raw = packages::query_local_rpm()?;
        let parsed = packages::parse_rpm_query(&raw);
        (raw, parsed)
    } else {
        let raw = packages::query_local_dpkg()?;
        let parsed = packages::parse_dpkg_query(&raw);
        (raw, parsed)
    };
    if let Some(error) = &parsed.first_error {
        eprintln!("warning: {} lines skipped; first: {error}", parsed.skipped);
    }
    match args.out {
        Some(path) => {
            std::fs::write(&path, raw).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "{} packages written to {}",
                parsed.records.len(),
                path.display()
            );
        }
        None => print!("{raw}"),
    }
    Ok(ExitCode::SUCCESS)
}
