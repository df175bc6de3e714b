//! One file per noun. Shared flags and logging set-up live here.

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod autonomy;
pub mod changes;
pub mod config;
pub mod data_dir;
pub mod detect;
pub mod doctor;
pub mod eval;
pub mod incidents;
pub mod kill_switch;
pub mod lab;
pub mod manual;
pub mod maturity;
pub mod patch;
pub mod policy;
pub mod rca;
pub mod runbooks;
pub mod table;
pub mod up;

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Flags every command understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Data directory (SQLite store, audit log, keys).
    #[arg(
        long,
        global = true,
        env = "OODA_DATA_DIR",
        default_value = DEFAULT_DATA_DIR
    )]
    pub data_dir: PathBuf,
    /// Configuration file (TOML). Without one, the installed default file if the package put one
    /// there (/etc/ooda/ooda.toml), else the embedded defaults.
    #[arg(long, global = true, env = "OODA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// Where state goes without `--data-dir`. A source checkout keeps it beside the working directory
/// (`./ooda-data`, as README says); the Debian package builds with
/// `OODA_DEFAULT_DATA_DIR=/var/lib/ooda`, so an operator's `ooda alerts list` on an installed host
/// reads the service's store without flags.
pub const DEFAULT_DATA_DIR: &str = match option_env!("OODA_DEFAULT_DATA_DIR") {
    Some(dir) => dir,
    None => "./ooda-data",
};

/// The configuration file an installed binary reads when none is named (`OODA_DEFAULT_CONFIG` at
/// build time; the package sets /etc/ooda/ooda.toml). None in a source build.
pub const DEFAULT_CONFIG: Option<&str> = option_env!("OODA_DEFAULT_CONFIG");

impl GlobalArgs {
    /// Fills in the installed default configuration file when none was named and it exists
    /// (a removed file means the embedded defaults, as in a source build).
    pub fn with_installed_defaults(mut self) -> Self {
        if self.config.is_none() {
            self.config = DEFAULT_CONFIG
                .map(PathBuf::from)
                .filter(|path| path.exists());
        }
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Installs the tracing subscriber: `RUST_LOG` wins, else `info` for ooda and `warn` elsewhere.
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,ooda=info,ooda_server=info,ooda_connect=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
