//! `ooda doctor`: a pre-flight checklist, one ✔/✖ line per check, non-zero exit on any ✖.
//! It checks what `ooda up` would need: the config, the data directory and store, the listen
//! address, every configured source and secret.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use ooda_config::{Config, SourceConfig, StoreConfig};
use ooda_connect::host::HostSource;
use ooda_core::{Clock, SystemClock};
use ooda_store::{DataDir, SqliteStore};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct DoctorArgs {}

/// One line of the checklist.
struct Check {
    ok: bool,
    name: String,
    detail: String,
}

impl Check {
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: true,
            name: name.into(),
            detail: detail.into(),
        }
    }
    fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            name: name.into(),
            detail: detail.into(),
        }
    }
}

pub fn run(_args: DoctorArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let mut checks = Vec::new();
    let config = match &global.config {
        None => {
            checks.push(Check::pass("config", "no file given: embedded defaults"));
            Config::default()
        }
        Some(path) => match ooda_config::check_file(path) {
            Ok(config) => {
                checks.push(Check::pass(
                    "config",
                    format!("{} is valid", path.display()),
                ));
                config
            }
            Err(errors) => {
                checks.push(Check::fail(
                    "config",
                    errors.to_string().trim_end().replace('\n', "\n    "),
                ));
                print(&checks);
                return Ok(ExitCode::from(1));
            }
        },
    };
    checks.extend(data_dir_checks(global, &config));
    if let Some(secret) = &config.server.api_token {
        checks.push(match secret.reveal() {
            Ok(_) => Check::pass(
                "server.api_token",
                format!("readable from {}", secret.describe()),
            ),
            Err(e) => Check::fail("server.api_token", e.to_string()),
        });
    }
    for (i, source) in config.sources.iter().enumerate() {
        let name = format!("sources[{i}] {} ({})", source.name(), source.kind());
        checks.push(match source {
            SourceConfig::Host(host_config) => {
                let mut host = HostSource::new(host_config.clone(), Arc::new(SystemClock));
                let collection = host.collect();
                if collection.errors.is_empty() {
                    Check::pass(
                        name,
                        format!(
                            "{} samples from host {:?}",
                            collection.samples.len(),
                            host.host()
                        ),
                    )
                } else {
                    Check::fail(name, collection.errors.join("; "))
                }
            }
            SourceConfig::Scrape(c) => block_on(async {
                match ooda_connect::scrape::Scraper::new(c.clone()) {
                    Err(e) => Check::fail(name, e.to_string()),
                    Ok(mut scraper) => match scraper.scrape(SystemClock.now_ms()).await {
                        Ok(round) if round.line_errors.is_empty() => {
                            Check::pass(name, format!("{} samples from {}", round.parsed, c.url))
                        }
                        Ok(round) => Check::fail(
                            name,
                            format!(
                                "{} unreadable lines in {}: {:?}",
                                round.line_errors.len(),
                                c.url,
                                round.line_errors.first()
                            ),
                        ),
                        Err(e) => Check::fail(name, e.to_string()),
                    },
                }
            }),
            SourceConfig::Prometheus(c) => block_on(async {
                match ooda_connect::prometheus::PrometheusClient::new(c.clone()) {
                    Err(e) => Check::fail(name, e.to_string()),
                    Ok(client) => match client.query("vector(1)", None).await {
                        Ok(_) => Check::pass(name, format!("{} answers queries", c.url)),
                        Err(e) => Check::fail(name, e.to_string()),
                    },
                }
            }),
        });
    }
    checks.extend(integration_checks(&config));
    print(&checks);
    Ok(if checks.iter().all(|c| c.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn data_dir_checks(global: &GlobalArgs, config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    let shown = global.data_dir.display().to_string();
    let data_dir = match DataDir::open(&global.data_dir) {
        Ok(d) => d,
        Err(e) => {
            checks.push(Check::fail("data directory", e.to_string()));
            return checks;
        }
    };
    let probe = data_dir.path().join(".doctor-probe");
    match std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => checks.push(Check::pass(
            "data directory",
            format!("{shown} is writable"),
        )),
        Err(e) => checks.push(Check::fail(
            "data directory",
            format!("{shown} is not writable: {e}"),
        )),
    }
    match rustix::fs::statvfs(data_dir.path()) {
        Ok(stat) => {
            let free = stat.f_bavail as f64 * stat.f_frsize as f64;
            let mib = free / (1024.0 * 1024.0);
            if mib < 100.0 {
                checks.push(Check::fail(
                    "free space",
                    format!("{mib:.0} MiB free in {shown}; need at least 100 MiB"),
                ));
            } else {
                checks.push(Check::pass(
                    "free space",
                    format!("{:.1} GiB free", mib / 1024.0),
                ));
            }
        }
        Err(e) => checks.push(Check::fail("free space", e.to_string())),
    }
    let agent_running = match data_dir.lock_agent() {
        Ok(lock) => {
            drop(lock);
            checks.push(Check::pass(
                "agent lock",
                "no agent running on this data directory",
            ));
            false
        }
        Err(e) => {
            checks.push(Check::pass("agent lock", e.to_string()));
            true
        }
    };
    let StoreConfig::Sqlite(sqlite) = &config.store;
    let db = sqlite.path.clone().unwrap_or_else(|| data_dir.database());
    match SqliteStore::open(&db).and_then(|s| Ok((s.quick_check()?, s.schema_version()?))) {
        Ok((result, version)) if result == "ok" => checks.push(Check::pass(
            "store",
            format!("{} (schema v{version}, integrity ok)", db.display()),
        )),
        Ok((result, _)) => checks.push(Check::fail("store", format!("{}: {result}", db.display()))),
        Err(e) => checks.push(Check::fail("store", e.to_string())),
    }
    let listen = config.server.listen.0;
    if !agent_running {
        checks.push(match TcpListener::bind(listen) {
            Ok(_) => Check::pass("listen address", format!("{listen} is free")),
            Err(e) => Check::fail(
                "listen address",
                format!("{listen}: {e}; set server.listen or pass --listen to ooda up"),
            ),
        });
    }
    checks
}

/// Runs one async check to completion (doctor is otherwise synchronous).
/// Dedup, log sources, Alertmanager, the actuator's allowlist and the reasoner's models: each
/// configured integration is asked something harmless and read-only.
fn integration_checks(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    if let ooda_config::DedupConfig::Redis(redis) = &config.dedup {
        let dedup = ooda_connect::redis::RedisDedup::new(redis.clone());
        checks.push(match dedup.ping() {
            Ok(()) => Check::pass("dedup (redis)", format!("{} answers PING", redis.address)),
            Err(e) => Check::fail("dedup (redis)", e.to_string()),
        });
    }
    match ooda_agent::respond::log_sources(config) {
        Err(e) => checks.push(Check::fail("logs", format!("{e:#}"))),
        Ok(sources) => {
            for (i, source) in sources.iter().enumerate() {
                let name = format!("logs[{i}] {}", source.name());
                let now = SystemClock.now();
                let query = ooda_connect::logs::LogQuery {
                    host: None,
                    service: None,
                    start: now - chrono::Duration::minutes(5),
                    end: now,
                    limit: 10,
                    errors_only: false,
                };
                checks.push(block_on(async {
                    match source.fetch(&query).await {
                        Ok(batch) => Check::pass(
                            name,
                            format!(
                                "answered with {} lines of the last 5 minutes{}",
                                batch.lines.len(),
                                if batch.warnings.is_empty() {
                                    String::new()
                                } else {
                                    format!(" ({})", batch.warnings.join("; "))
                                }
                            ),
                        ),
                        Err(e) => Check::fail(name, e.to_string()),
                    }
                }));
            }
        }
    }
    if let Some(am) = &config.alertmanager {
        let name = format!("alertmanager {}", am.name);
        checks.push(block_on(async {
            match ooda_connect::alertmanager::AlertmanagerClient::new(am.clone()) {
                Err(e) => Check::fail(name, e.to_string()),
                Ok(client) => match client.silence_list().await {
                    Ok(silences) => Check::pass(
                        name,
                        format!("{} answers ({} silences)", am.url, silences.len()),
                    ),
                    Err(e) => Check::fail(name, e.to_string()),
                },
            }
        }));
    }
    for dir in &config.incident.actuator.clean_allowlist {
        let name = format!("incident.actuator.clean_allowlist {}", dir.display());
        checks.push(if dir.is_dir() {
            Check::pass(name, "directory exists")
        } else {
            Check::fail(name, "not a directory: clean_path can never run there")
        });
    }
    if let Some(reasoner) = &config.reasoner {
        for (model, spec) in &reasoner.models {
            let name = format!("reasoner.models.{model}");
            checks.push(match spec.api_key.as_ref().map(|k| (k, k.reveal())) {
                Some((key, Err(e))) => Check::fail(name, format!("{}: {e}", key.describe())),
                _ => Check::pass(
                    name,
                    format!(
                        "{} via {}",
                        spec.model,
                        spec.url
                            .as_ref()
                            .map_or("https://api.anthropic.com", |u| u.as_str())
                    ),
                ),
            });
        }
    }
    checks
}

fn block_on(check: impl std::future::Future<Output = Check>) -> Check {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(check),
        Err(e) => Check::fail("runtime", e.to_string()),
    }
}

fn print(checks: &[Check]) {
    for check in checks {
        let mark = if check.ok { "✔" } else { "✖" };
        println!("{mark} {:<28} {}", check.name, check.detail);
    }
}
