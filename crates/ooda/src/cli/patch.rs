//! `ooda patch …`: version comparison, feed import and sync, inventory collection, scan, plan
//! and report. Thin: the work is in `ooda-patch`; this file parses flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use ooda_core::{Clock, ManualClock, SystemClock};
use ooda_patch::feed::store::FeedStore;
use ooda_patch::feed::{Disposition, FeedKind};
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
    /// What to patch where and by when (SLA due dates, maintenance windows), most urgent first.
    Plan(PlanArgs),
    /// Coverage, share within SLA, mean time to patch, per owner and per tier.
    Report(ReportArgs),
    /// Staged rollouts: start, run, status, pause, resume, abort.
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// The next maintenance windows, per window and (with --cmdb) per host.
    Windows(rollout::WindowsArgs),
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
        /// nvd, kev, debian-tracker, dsa, dla, debian-fixed, debian-cpe, osv, epss, vulnrichment,
        /// redhat-csaf.
        kind: FeedKind,
        path: PathBuf,
    },
    /// Show what is imported.
    Status {
        /// JSON (one object per feed) instead of a table.
        #[arg(long)]
        json: bool,
    },
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
    /// Count findings the distro dispositioned as this (unimportant, end-of-life, postponed,
    /// ignored, no-dsa) as findings; repeatable. By default they are listed apart, not counted.
    #[arg(long = "count-disposition", value_name = "DISPOSITION")]
    pub count_dispositions: Vec<Disposition>,
    /// Risk exceptions (TOML: [[exception]] cve, host?, source?, owner, reason, expires).
    #[arg(long)]
    pub exceptions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Maintenance windows (TOML, as for `ooda patch windows`): each item is planned into the
    /// host's first opening before it is due.
    #[arg(long)]
    pub windows: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Shorthand for `--format html`.
    #[arg(long, conflicts_with = "format")]
    pub html: bool,
    /// Maintenance windows for the report's plan section.
    #[arg(long)]
    pub windows: Option<PathBuf>,
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
            let summary = scan.summary();
            warn_not_assessed(&summary);
            let text = match args.format {
                ListFormat::Table => report::scan_table(&scan.rows, &summary),
                ListFormat::Json => {
                    serde_json::to_string_pretty(&report::scan_document(&scan.rows, &summary))?
                        + "\n"
                }
                ListFormat::Csv => report::scan_csv(&scan.rows),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PatchCommand::Plan(args) => {
            let scan = run_scan(&args.inventory, global, false)?;
            warn_inventory(&scan);
            let summary = scan.summary();
            warn_not_assessed(&summary);
            let windows = args.windows.as_deref().map(read_windows).transpose()?;
            let plan = scan.plan(windows.as_ref());
            let text = match args.format {
                ListFormat::Table => {
                    report::provenance_text(&summary) + "\n" + &report::plan_table(&plan)
                }
                ListFormat::Json => serde_json::to_string_pretty(&plan)? + "\n",
                ListFormat::Csv => report::plan_csv(&plan),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PatchCommand::Rollout(command) => rollout::run(command, global),
        PatchCommand::Windows(args) => rollout::windows(args),
        PatchCommand::Report(args) => {
            let scan = run_scan(&args.inventory, global, false)?;
            warn_inventory(&scan);
            let summary = scan.summary();
            warn_not_assessed(&summary);
            let windows = args.windows.as_deref().map(read_windows).transpose()?;
            let plan = scan.plan(windows.as_ref());
            let format = if args.html {
                ReportFormat::Html
            } else {
                args.format
            };
            let text = match format {
                ReportFormat::Table => report::summary_table(&summary),
                ReportFormat::Json => serde_json::to_string_pretty(&summary)? + "\n",
                ReportFormat::Csv => report::summary_csv(&summary),
                ReportFormat::Html => report::summary_html(&summary, &scan.rows, &plan, 100),
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

fn read_windows(path: &std::path::Path) -> anyhow::Result<ooda_patch::windows::Windows> {
    ooda_agent::patch::read_windows(path)
}

/// A host without a verdict must never read as clean: say so on stderr whatever the format.
fn warn_not_assessed(summary: &report::Summary) {
    for host in &summary.not_assessed {
        eprintln!("warning: {} NOT ASSESSED: {}", host.host, host.reason);
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
    let exceptions = match &args.exceptions {
        None => ooda_patch::exceptions::Exceptions::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ooda_patch::exceptions::Exceptions::from_toml(&text)
                .with_context(|| format!("{}", path.display()))?
        }
    };
    let options = scan::ScanOptions {
        data_dir: &global.data_dir,
        cmdb: &args.cmdb,
        packages_dir: args.packages.as_deref(),
        threads,
        record,
        policy: report::ScanPolicy {
            count_dispositions: args.count_dispositions.iter().copied().collect(),
            exceptions,
        },
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
        FeedsCommand::Status { json } => {
            let mut body = Vec::new();
            for kind in FeedKind::ALL {
                match store.load(kind) {
                    Ok(Some(snapshot)) => body.push(vec![
                        kind.to_string(),
                        snapshot.records.len().to_string(),
                        snapshot
                            .data_date
                            .or_else(|| snapshot.records.newest_date())
                            .map(|d| d.to_string())
                            .or_else(|| snapshot.catalogue_version.clone())
                            .unwrap_or_else(|| "undated".into()),
                        snapshot.imported_at.format("%Y-%m-%d %H:%M").to_string(),
                        snapshot.skipped.to_string(),
                        snapshot.sources.join(" "),
                    ]),
                    Ok(None) => body.push(vec![
                        kind.to_string(),
                        "-".into(),
                        "-".into(),
                        "never".into(),
                        "-".into(),
                        String::new(),
                    ]),
                    Err(error) => body.push(vec![
                        kind.to_string(),
                        "?".into(),
                        "-".into(),
                        format!("unreadable: {error}"),
                        "-".into(),
                        String::new(),
                    ]),
                }
            }
            let header = [
                "feed",
                "records",
                "data as of",
                "imported",
                "skipped",
                "sources",
            ];
            if json {
                let rows = crate::cli::table::json_rows(&header, &body);
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", report::text_table(&header, &body));
            }
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

/// `ooda patch rollout …` and `ooda patch windows`: thin over `ooda_patch::rollout`.
mod rollout {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::sync::Arc;
    use std::time::Duration;

    use anyhow::{bail, Context};
    use clap::{Args, Subcommand};
    use ooda_core::{Clock, Host, SystemClock, Timestamp};
    use ooda_govern::Gate;
    use ooda_patch::rollout::executor::AnsibleConfig;
    use ooda_patch::rollout::{
        ControlRequest, HostPhase, NoEvents, Rollout, RolloutConfig, RolloutEngine, RolloutPlan,
        RolloutStore, Stage,
    };

    use super::{read_windows, GlobalArgs};
    use crate::cli::table::{json_rows, Table};

    #[derive(Debug, Subcommand)]
    pub enum RolloutCommand {
        /// Check a plan (TOML) against the inventory and windows and store it as a new rollout.
        Start(StartArgs),
        /// Carry out rollouts through the gate: tick every --interval until none is active.
        Run(RunArgs),
        /// Progress of one rollout, or a list of all of them.
        Status {
            id: Option<String>,
            /// Redraw every two seconds until the rollout is final.
            #[arg(long)]
            watch: bool,
            /// JSON instead of the progress view.
            #[arg(long)]
            json: bool,
        },
        /// Start no new host until resumed (steps in flight finish).
        Pause {
            id: String,
            #[arg(long)]
            reason: String,
            #[arg(long = "as", env = "USER", default_value = "operator")]
            by: String,
        },
        /// Clear a pause (a human's or an automatic one); its cause is checked again.
        Resume {
            id: String,
            #[arg(long = "as", env = "USER", default_value = "operator")]
            by: String,
        },
        /// Stop for good: no new host starts; steps in flight finish or roll back.
        Abort {
            id: String,
            #[arg(long)]
            reason: String,
            #[arg(long = "as", env = "USER", default_value = "operator")]
            by: String,
        },
    }

    #[derive(Debug, Args)]
    pub struct FleetArgs {
        /// CMDB file (.csv, .json or .yaml), as for `ooda patch scan`.
        #[arg(long)]
        pub cmdb: PathBuf,
        /// Maintenance windows file (TOML, `version = 1`, `[[window]]` tables).
        #[arg(long)]
        pub windows: PathBuf,
        /// Rollout settings (TOML: staging_validation_secs, batch …); defaults otherwise.
        #[arg(long)]
        pub rollout_config: Option<PathBuf>,
    }

    #[derive(Debug, Args)]
    pub struct StartArgs {
        /// The plan: id, package, version, staging, production, previous, batch, reason.
        pub plan: PathBuf,
        #[command(flatten)]
        pub fleet: FleetArgs,
    }

    #[derive(Debug, Args)]
    pub struct RunArgs {
        #[command(flatten)]
        pub fleet: FleetArgs,
        /// Local ansible executor settings (TOML); defaults otherwise.
        #[arg(long)]
        pub ansible_config: Option<PathBuf>,
        /// Dry run: every playbook with --check (the shipped ones simulate the package change).
        #[arg(long)]
        pub check: bool,
        /// Hosts take no traffic (drained): without it policy asks a human for each patch.
        #[arg(long)]
        pub assume_drained: bool,
        /// One tick, then exit.
        #[arg(long)]
        pub once: bool,
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        pub interval: Duration,
    }

    #[derive(Debug, Args)]
    pub struct WindowsArgs {
        #[arg(long)]
        pub windows: PathBuf,
        /// Also show each host's window and next opening.
        #[arg(long)]
        pub cmdb: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        pub count: usize,
        /// JSON (`windows` and, with --cmdb, `hosts`) instead of tables.
        #[arg(long)]
        pub json: bool,
        /// From this time (RFC 3339) instead of now.
        #[arg(long)]
        pub at: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn read_hosts(path: &Path) -> anyhow::Result<Vec<Host>> {
        let (hosts, report) = ooda_patch::inventory::load(path, None)?;
        if report.skipped_rows > 0 {
            eprintln!(
                "warning: {} CMDB rows skipped; first: {}",
                report.skipped_rows,
                report.first_error.as_deref().unwrap_or("-")
            );
        }
        Ok(hosts.into_iter().map(|h| h.host).collect())
    }

    /// A TOML settings file, or the defaults when none is named.
    macro_rules! read_toml {
        ($ty:ty, $path:expr) => {
            match $path {
                None => Ok::<$ty, anyhow::Error>(<$ty>::default()),
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))
                    .and_then(|text| {
                        toml::from_str::<$ty>(&text).with_context(|| format!("{}", path.display()))
                    }),
            }
        };
    }

    /// The engine over the data directory's store, audit log and gate (assembled as the running
    /// agent assembles its own: [`ooda_agent::patch::engine`]). The CLI has no monitor, so
    /// `monitoring.intensify` goes nowhere here.
    fn engine(
        global: &GlobalArgs,
        fleet: &FleetArgs,
        actuator: PatchActuatorChoice,
        assume_drained: bool,
    ) -> anyhow::Result<(RolloutEngine, Arc<Gate>)> {
        let (settings, home) = crate::cli::data_dir::load(global)?;
        ooda_agent::patch::engine(ooda_agent::patch::EngineParts {
            config: &settings,
            home: &home,
            hosts: read_hosts(&fleet.cmdb)?,
            windows: read_windows(&fleet.windows)?,
            rollout: read_toml!(RolloutConfig, fleet.rollout_config.as_deref())?,
            ansible: match actuator {
                PatchActuatorChoice::None => None,
                PatchActuatorChoice::Local(config) => Some(config),
            },
            assume_drained,
            events: Arc::new(NoEvents),
            telemetry: ooda_server::Telemetry::new(env!("CARGO_PKG_VERSION")),
        })
    }

    enum PatchActuatorChoice {
        None,
        Local(AnsibleConfig),
    }

    pub fn run(command: RolloutCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        match command {
            RolloutCommand::Start(args) => {
                let text = std::fs::read_to_string(&args.plan)
                    .with_context(|| format!("reading {}", args.plan.display()))?;
                let plan: RolloutPlan =
                    toml::from_str(&text).with_context(|| format!("{}", args.plan.display()))?;
                let (engine, _) = engine(global, &args.fleet, PatchActuatorChoice::None, false)?;
                let rollout = engine.start(plan)?;
                print!("{}", progress(&rollout));
                println!("stored; `ooda patch rollout run --cmdb … --windows …` carries it out");
                Ok(ExitCode::SUCCESS)
            }
            RolloutCommand::Run(args) => {
                let mut ansible = read_toml!(AnsibleConfig, args.ansible_config.as_deref())?;
                ansible.check |= args.check;
                let (engine, gate) = engine(
                    global,
                    &args.fleet,
                    PatchActuatorChoice::Local(ansible),
                    args.assume_drained,
                )?;
                for (action, status) in gate.reconcile() {
                    eprintln!(
                        "reconciled interrupted action {action}: {}",
                        status.as_str()
                    );
                }
                loop {
                    gate.tick();
                    let results = engine.tick();
                    for (id, result) in &results {
                        match result {
                            Ok(rollout) => print!("{}", progress(rollout)),
                            Err(error) => eprintln!("rollout {id}: {error}"),
                        }
                    }
                    // A paused rollout waits for a human: nothing for this loop to do.
                    let active = results.iter().any(|(_, r)| {
                        r.as_ref().is_ok_and(|r| {
                            (!r.stage.is_final() && r.paused.is_none())
                                || r.hosts.iter().any(|h| h.phase.in_flight())
                        })
                    });
                    if args.once || !active {
                        return Ok(ExitCode::SUCCESS);
                    }
                    std::thread::sleep(args.interval);
                }
            }
            RolloutCommand::Status { id, watch, json } => {
                let (_, home) = crate::cli::data_dir::load(global)?;
                let repo = RolloutStore::new(home.store.clone());
                let Some(id) = id else {
                    let ids = repo.ids()?;
                    if json {
                        let all = ids
                            .iter()
                            .map(|id| repo.get(id))
                            .collect::<Result<Vec<_>, _>>()?;
                        println!("{}", serde_json::to_string_pretty(&all)?);
                        return Ok(ExitCode::SUCCESS);
                    }
                    if ids.is_empty() {
                        println!("no rollouts");
                        return Ok(ExitCode::SUCCESS);
                    }
                    let mut table = Table::new(&["id", "stage", "hosts", "paused"]);
                    for id in ids {
                        let r = repo.get(&id)?;
                        let (done, total) = r.progress();
                        table.row(vec![
                            id,
                            r.stage.name().to_owned(),
                            format!("{done}/{total}"),
                            r.paused.clone().unwrap_or_default(),
                        ]);
                    }
                    table.print()?;
                    return Ok(ExitCode::SUCCESS);
                };
                loop {
                    let r = repo.get(&id)?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&r)?);
                    } else {
                        if watch {
                            print!("\x1b[2J\x1b[H");
                        }
                        print!("{}", progress(&r));
                    }
                    let moving = !r.stage.is_final() || r.hosts.iter().any(|h| h.phase.in_flight());
                    if !watch || !moving {
                        return Ok(ExitCode::SUCCESS);
                    }
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
            RolloutCommand::Pause { id, reason, by } => control(global, &id, "pause", |c, now| {
                c.pause = Some(ControlRequest {
                    by,
                    reason,
                    at: now,
                });
            }),
            RolloutCommand::Resume { id, by } => control(global, &id, "resume", |c, _| {
                c.pause = None;
                c.resumes += 1;
                let _ = by;
            }),
            RolloutCommand::Abort { id, reason, by } => control(global, &id, "abort", |c, now| {
                c.abort = Some(ControlRequest {
                    by,
                    reason,
                    at: now,
                });
            }),
        }
    }

    fn control(
        global: &GlobalArgs,
        id: &str,
        verb: &'static str,
        change: impl FnOnce(&mut ooda_patch::rollout::Control, Timestamp),
    ) -> anyhow::Result<ExitCode> {
        let (_, home) = crate::cli::data_dir::load(global)?;
        let repo = RolloutStore::new(home.store.clone());
        let rollout = repo.get(id)?;
        if matches!(
            rollout.stage,
            Stage::Completed { .. } | Stage::Aborted { .. }
        ) {
            return Err(ooda_patch::rollout::RolloutError::Finished {
                id: id.to_owned(),
                stage: rollout.stage.name().to_owned(),
                verb,
            }
            .into());
        }
        let now = SystemClock.now();
        repo.update_control(id, |c| change(c, now))?;
        println!("rollout {id}: {verb} requested; the running `ooda patch rollout run` applies it at its next tick");
        Ok(ExitCode::SUCCESS)
    }

    /// The progress view: a bar, each host's phase, the last lines of the journal.
    fn progress(r: &Rollout) -> String {
        let (done, total) = r.progress();
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let mut out = format!(
            "rollout {}  {} → {}  [{}{}] {done}/{total} hosts  stage: {}{}\n",
            r.id(),
            r.plan.package,
            r.plan.version,
            "#".repeat(filled),
            ".".repeat(width - filled),
            r.stage.name(),
            match &r.stage {
                Stage::StagingValidation { until, .. } => format!(" until {}", until.to_rfc3339()),
                Stage::Halted { reason, .. } => format!(" ({reason})"),
                Stage::Aborted { by, reason, .. } => format!(" by {by} ({reason})"),
                _ => String::new(),
            }
        );
        if let Some(paused) = &r.paused {
            out.push_str(&format!("  PAUSED: {paused}\n"));
        }
        for h in &r.hosts {
            let detail = match &h.phase {
                HostPhase::Patching { since, .. } => format!("since {}", since.to_rfc3339()),
                HostPhase::AwaitingApproval { approval, .. } => {
                    format!("approval #{approval}: `ooda approvals approve {approval}`")
                }
                HostPhase::Validating { until, .. } => format!("until {}", until.to_rfc3339()),
                HostPhase::Validated { at } | HostPhase::Patched { at } => at.to_rfc3339(),
                HostPhase::RolledBack { reason, .. } | HostPhase::Failed { reason } => {
                    reason.clone()
                }
                HostPhase::RollingBack { reason, .. } => reason.clone(),
                HostPhase::Pending => String::new(),
            };
            let change = h.change.as_ref().map(|c| c.number.as_str()).unwrap_or("");
            out.push_str(&format!(
                "  {:<10} {:<24} {:<17} {:<16} {detail}\n",
                h.wave.as_str(),
                h.host,
                h.phase.name(),
                change
            ));
        }
        for entry in r
            .journal
            .iter()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            out.push_str(&format!(
                "  {}  {:<12} {}\n",
                entry.at.format("%Y-%m-%d %H:%M"),
                entry.host.as_deref().unwrap_or("-"),
                entry.what
            ));
        }
        out
    }

    pub fn windows(args: WindowsArgs) -> anyhow::Result<ExitCode> {
        let windows = read_windows(&args.windows)?;
        let now = args.at.unwrap_or_else(|| SystemClock.now());
        let mut body = Vec::new();
        for window in windows.iter() {
            let openings = window.next_openings(now, args.count)?;
            if openings.is_empty() {
                body.push(vec![
                    window.spec.name.clone(),
                    window.spec.cron.clone(),
                    window.spec.timezone.clone(),
                    "never".into(),
                    String::new(),
                ]);
            }
            for opening in openings {
                body.push(vec![
                    window.spec.name.clone(),
                    window.spec.cron.clone(),
                    window.spec.timezone.clone(),
                    opening.start.format("%Y-%m-%d %H:%M UTC").to_string(),
                    opening.end.format("%Y-%m-%d %H:%M UTC").to_string(),
                ]);
            }
        }
        let header = ["window", "cron", "zone", "opens", "closes"];
        let mut json = serde_json::json!({ "windows": json_rows(&header, &body) });
        if !args.json {
            print!("{}", ooda_patch::report::text_table(&header, &body));
        }
        if let Some(cmdb) = &args.cmdb {
            let mut body = Vec::new();
            for host in read_hosts(cmdb)? {
                let row = match windows.window_for(&host) {
                    Ok(window) => {
                        let next = window.next_openings(now, 1)?;
                        vec![
                            host.name.clone(),
                            window.spec.name.clone(),
                            if window.is_open(now)? {
                                "open".into()
                            } else {
                                "shut".into()
                            },
                            next.first()
                                .map(|o| o.start.format("%Y-%m-%d %H:%M UTC").to_string())
                                .unwrap_or_else(|| "never".into()),
                        ]
                    }
                    Err(error) => vec![
                        host.name.clone(),
                        format!("error: {error}"),
                        "shut".into(),
                        "never".into(),
                    ],
                };
                body.push(row);
            }
            let header = ["host", "window", "now", "next opening"];
            if args.json {
                json["hosts"] = json_rows(&header, &body);
            } else {
                println!();
                print!("{}", ooda_patch::report::text_table(&header, &body));
            }
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        if windows.iter().next().is_none() {
            bail!("{}: no windows defined", args.windows.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
