//! Checking and loading, one code path. Each section (and each element of an array section) is
//! deserialized on its own, so one file yields every error it has, each with its path —
//! `sources[2].url: expected an http(s) URL, found "ftp://x"` — instead of stopping at the first.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use toml::{Table, Value};

use crate::model::{
    BusConfig, ChangesConfig, Config, DedupConfig, EnrichmentConfig, ExecutorsConfig,
    HostSourceConfig, IncidentConfig, LogSourceConfig, MemoryBusConfig, NotifyConfig,
    PagerDutyNotifyConfig, RolloutsConfig, ServerConfig, SlackNotifyConfig, SourceConfig,
    SqliteStoreConfig, StoreConfig, WatchConfig, WebhookNotifyConfig,
};
use crate::CONFIG_VERSION;

/// One problem, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path with indices (`sources[2].url`); empty for the whole document.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// Where the text came from (file path, or `-` for stdin).
    pub origin: String,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "{}: {n} error{}",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

const TOP_LEVEL: &[&str] = &[
    "version",
    "server",
    "store",
    "bus",
    "sources",
    "hosts",
    "monitor",
    "dedup",
    "logs",
    "enrichment",
    "alertmanager",
    "incident",
    "reasoner",
    "watch",
    "governance",
    "changes",
    "notify",
    "executors",
    "rollouts",
];

/// Reads and checks a file (`-` reads standard input).
pub fn check_file(path: &Path) -> Result<Config, ConfigErrors> {
    let origin = path.display().to_string();
    let text = if origin == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    match text {
        Ok(text) => check(&text).map_err(|errors| ConfigErrors { origin, errors }),
        Err(e) => Err(ConfigErrors {
            origin,
            errors: vec![ConfigError {
                path: String::new(),
                message: format!("cannot read the file: {e}"),
            }],
        }),
    }
}

/// Checks a document and returns the configuration, or every error found.
pub fn check(text: &str) -> Result<Config, Vec<ConfigError>> {
    let table: Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            return Err(vec![ConfigError {
                path: String::new(),
                message: syntax_message(text, &e),
            }])
        }
    };
    let mut errors = Vec::new();
    let mut config = Config::default();

    for key in table.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            errors.push(err(
                key,
                format!("unknown key, expected one of {}", TOP_LEVEL.join(", ")),
            ));
        }
    }

    match table.get("version") {
        None => errors.push(err(
            "version",
            format!("missing; this ooda reads `version = {CONFIG_VERSION}`"),
        )),
        Some(Value::Integer(v)) if *v == i64::from(CONFIG_VERSION) => {}
        Some(Value::Integer(v)) => errors.push(err(
            "version",
            format!("expected {CONFIG_VERSION}, found {v}; this ooda reads version {CONFIG_VERSION} files"),
        )),
        Some(other) => errors.push(err(
            "version",
            format!("expected an integer, found {}", other.type_str()),
        )),
    }

    if let Some(value) = table.get("server") {
        if let Some(server) = section::<ServerConfig>("server", value, &mut errors) {
            config.server = server;
        }
    }
    if let Some(value) = table.get("store") {
        config.store = tagged(
            "store",
            value,
            &mut errors,
            |kind, path, rest, errors| match kind {
                "sqlite" => {
                    section::<SqliteStoreConfig>(path, rest, errors).map(StoreConfig::Sqlite)
                }
                _ => unknown_kind(path, kind, &["sqlite"], errors),
            },
        )
        .unwrap_or_default();
    }
    if let Some(value) = table.get("bus") {
        config.bus = tagged(
            "bus",
            value,
            &mut errors,
            |kind, path, rest, errors| match kind {
                "memory" => section::<MemoryBusConfig>(path, rest, errors).map(BusConfig::Memory),
                _ => unknown_kind(path, kind, &["memory"], errors),
            },
        )
        .unwrap_or_default();
    }
    if let Some(value) = table.get("sources") {
        config.sources = array("sources", value, &mut errors, |path, item, errors| {
            tagged(path, item, errors, |kind, path, rest, errors| match kind {
                "host" => section::<HostSourceConfig>(path, rest, errors).map(SourceConfig::Host),
                "scrape" => section::<ooda_connect::scrape::ScrapeConfig>(path, rest, errors)
                    .map(SourceConfig::Scrape),
                "prometheus" => {
                    section::<ooda_connect::prometheus::PrometheusConfig>(path, rest, errors)
                        .map(SourceConfig::Prometheus)
                }
                _ => unknown_kind(path, kind, &["host", "scrape", "prometheus"], errors),
            })
        });
    }
    if let Some(value) = table.get("hosts") {
        config.hosts = array("hosts", value, &mut errors, |path, item, errors| {
            section::<ooda_core::Host>(path, item, errors)
        });
    }

    if let Some(value) = table.get("dedup") {
        config.dedup = tagged(
            "dedup",
            value,
            &mut errors,
            |kind, path, rest, errors| match kind {
                "memory" => section::<EmptyParams>(path, rest, errors).map(|_| DedupConfig::Memory),
                "redis" => section::<ooda_connect::redis::RedisDedupConfig>(path, rest, errors)
                    .map(DedupConfig::Redis),
                _ => unknown_kind(path, kind, &["memory", "redis"], errors),
            },
        )
        .unwrap_or_default();
    }
    if let Some(value) = table.get("logs") {
        config.logs = array("logs", value, &mut errors, |path, item, errors| {
            tagged(path, item, errors, |kind, path, rest, errors| match kind {
                "file" => section::<ooda_connect::logfile::LogFileConfig>(path, rest, errors)
                    .map(LogSourceConfig::File),
                "loki" => section::<ooda_connect::loki::LokiConfig>(path, rest, errors)
                    .map(LogSourceConfig::Loki),
                "elasticsearch" => {
                    section::<ooda_connect::elasticsearch::ElasticsearchConfig>(path, rest, errors)
                        .map(LogSourceConfig::Elasticsearch)
                }
                _ => unknown_kind(path, kind, &["file", "loki", "elasticsearch"], errors),
            })
        });
    }
    if let Some(value) = table.get("enrichment") {
        if let Some(enrichment) = section::<EnrichmentConfig>("enrichment", value, &mut errors) {
            config.enrichment = enrichment;
        }
    }
    if let Some(value) = table.get("alertmanager") {
        config.alertmanager = section::<ooda_connect::alertmanager::AlertmanagerConfig>(
            "alertmanager",
            value,
            &mut errors,
        );
    }
    if let Some(value) = table.get("incident") {
        if let Some(incident) = section::<IncidentConfig>("incident", value, &mut errors) {
            config.incident = incident;
        }
    }
    if let Some(value) = table.get("reasoner") {
        if let Some(reasoner) =
            section::<ooda_reason::config::ReasonerConfig>("reasoner", value, &mut errors)
        {
            match reasoner.check() {
                Ok(()) => config.reasoner = Some(reasoner),
                Err(ooda_reason::ReasonError::Config { field, reason }) => {
                    errors.push(err(&format!("reasoner.{field}"), reason))
                }
                Err(other) => errors.push(err("reasoner", other.to_string())),
            }
        }
    }
    if let Some(value) = table.get("watch") {
        config.watch = array("watch", value, &mut errors, |path, item, errors| {
            let watch = section::<WatchConfig>(path, item, errors)?;
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    && !s.starts_with(|c: char| c.is_ascii_digit())
            };
            if !valid(&watch.metric) {
                errors.push(err(
                    &format!("{path}.metric"),
                    format!(
                        "expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), found {:?}",
                        watch.metric
                    ),
                ));
                return None;
            }
            if let Some(name) = watch.name.as_deref().filter(|n| !valid(n)) {
                errors.push(err(
                    &format!("{path}.name"),
                    format!("expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), found {name:?}"),
                ));
                return None;
            }
            Some(watch)
        });
        let mut seen = BTreeSet::new();
        for (i, w) in config.watch.iter().enumerate() {
            if !seen.insert(w.metric.clone()) {
                errors.push(err(
                    &format!("watch[{i}].metric"),
                    format!("duplicate watched metric {:?}", w.metric),
                ));
            }
        }
    }
    if let Some(value) = table.get("governance") {
        if let Some(governance) =
            section::<ooda_govern::GovernConfig>("governance", value, &mut errors)
        {
            governance_rules(&governance, &mut errors);
            config.governance = governance;
        }
    }
    if let Some(value) = table.get("changes") {
        config.changes = tagged(
            "changes",
            value,
            &mut errors,
            |kind, path, rest, errors| match kind {
                "embedded" => {
                    section::<EmptyParams>(path, rest, errors).map(|_| ChangesConfig::Embedded)
                }
                "servicenow" => {
                    section::<ooda_connect::servicenow::ServiceNowConfig>(path, rest, errors)
                        .map(ChangesConfig::ServiceNow)
                }
                "jira" => section::<ooda_connect::jira::JiraConfig>(path, rest, errors)
                    .map(ChangesConfig::Jira),
                _ => unknown_kind(path, kind, &["embedded", "servicenow", "jira"], errors),
            },
        )
        .unwrap_or_default();
    }
    if let Some(value) = table.get("notify") {
        config.notify = array("notify", value, &mut errors, |path, item, errors| {
            tagged(path, item, errors, |kind, path, rest, errors| match kind {
                "webhook" => {
                    section::<WebhookNotifyConfig>(path, rest, errors).map(NotifyConfig::Webhook)
                }
                "slack" => {
                    section::<SlackNotifyConfig>(path, rest, errors).map(NotifyConfig::Slack)
                }
                "pagerduty" => section::<PagerDutyNotifyConfig>(path, rest, errors)
                    .map(NotifyConfig::PagerDuty),
                _ => unknown_kind(path, kind, &["webhook", "slack", "pagerduty"], errors),
            })
        });
        let mut seen = BTreeSet::new();
        for (i, n) in config.notify.iter().enumerate() {
            if n.name().trim().is_empty() {
                errors.push(err(
                    &format!("notify[{i}].name"),
                    "must not be empty".into(),
                ));
            } else if !seen.insert(n.name().to_owned()) {
                errors.push(err(
                    &format!("notify[{i}].name"),
                    format!(
                        "duplicate channel name {:?}; names must be unique",
                        n.name()
                    ),
                ));
            }
        }
    }
    if let Some(value) = table.get("executors") {
        if let Some(executors) = section::<ExecutorsConfig>("executors", value, &mut errors) {
            if let Some(awx) = &executors.awx {
                if awx.templates.is_empty() {
                    errors.push(err(
                        "executors.awx.templates",
                        "expected at least one allowlisted job template (name = id); AWX launches nothing else".into(),
                    ));
                }
            }
            if let Some(template) = &executors.patch_template {
                match &executors.awx {
                    None => errors.push(err(
                        "executors.patch_template",
                        "patches through AWX need an [executors.awx] controller".into(),
                    )),
                    Some(awx) if !awx.templates.contains_key(template) => errors.push(err(
                        "executors.patch_template",
                        format!("{template:?} is not in executors.awx.templates"),
                    )),
                    Some(_) => {}
                }
            }
            config.executors = executors;
        }
    }
    if let Some(value) = table.get("rollouts") {
        if let Some(rollouts) = section::<RolloutsConfig>("rollouts", value, &mut errors) {
            if rollouts.tick.get().is_zero() {
                errors.push(err("rollouts.tick", "must be more than 0 seconds".into()));
            }
            config.rollouts = Some(rollouts);
        }
    }
    if let Some(value) = table.get("monitor") {
        if let Some(monitor) = section::<ooda_monitor::MonitorConfig>("monitor", value, &mut errors)
        {
            // Relations serde cannot express (warning below critical …), checked by the engine.
            match monitor.check() {
                Ok(()) => config.monitor = monitor,
                Err(ooda_monitor::MonitorError::Config { path, reason }) => {
                    errors.push(err(&format!("monitor.{path}"), reason))
                }
                Err(other) => errors.push(err("monitor", other.to_string())),
            }
        }
    }

    validate(&config, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// Rules that span fields: uniqueness, ranges.
fn validate(config: &Config, errors: &mut Vec<ConfigError>) {
    let mut names = BTreeSet::new();
    for (i, source) in config.sources.iter().enumerate() {
        if source.name().trim().is_empty() {
            errors.push(err(
                &format!("sources[{i}].name"),
                "must not be empty".into(),
            ));
        } else if !names.insert(source.name().to_owned()) {
            errors.push(err(
                &format!("sources[{i}].name"),
                format!(
                    "duplicate source name {:?}; names must be unique",
                    source.name()
                ),
            ));
        }
    }
    let mut hosts = BTreeSet::new();
    for (i, host) in config.hosts.iter().enumerate() {
        if host.name.trim().is_empty() {
            errors.push(err(&format!("hosts[{i}].name"), "must not be empty".into()));
        } else if !hosts.insert(host.name.clone()) {
            errors.push(err(
                &format!("hosts[{i}].name"),
                format!("duplicate host {:?}; host names must be unique", host.name),
            ));
        }
    }
    let verify = config.incident.verify_window.get();
    if !(std::time::Duration::from_secs(60)..=std::time::Duration::from_secs(15 * 60))
        .contains(&verify)
    {
        errors.push(err(
            "incident.verify_window",
            format!("expected 1 to 15 minutes, found {} s", verify.as_secs()),
        ));
    }
    let actuator = &config.incident.actuator;
    for (i, dir) in actuator.clean_allowlist.iter().enumerate() {
        if let Some(problem) = unsafe_clean_dir(dir) {
            errors.push(err(
                &format!("incident.actuator.clean_allowlist[{i}]"),
                problem,
            ));
        }
    }
    let mut services = BTreeSet::new();
    for (i, service) in actuator.supervise.iter().enumerate() {
        let at = format!("incident.actuator.supervise[{i}]");
        let valid_name = !service.name.is_empty()
            && !service.name.starts_with('-')
            && service
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@._-".contains(c));
        if !valid_name {
            errors.push(err(
                &format!("{at}.name"),
                format!(
                    "expected a service name of [A-Za-z0-9@._-] not starting with '-', found {:?}",
                    service.name
                ),
            ));
        } else if !services.insert(service.name.clone()) {
            errors.push(err(
                &format!("{at}.name"),
                format!("duplicate supervised service {:?}", service.name),
            ));
        }
        if service.command.first().is_none_or(|p| p.trim().is_empty()) {
            errors.push(err(
                &format!("{at}.command"),
                "expected a non-empty argv, e.g. [\"/usr/bin/app\", \"--serve\"]".into(),
            ));
        }
    }
    let BusConfig::Memory(bus) = &config.bus;
    if bus.capacity < 1_000 {
        errors.push(err(
            "bus.capacity",
            format!("expected at least 1000 events, found {}", bus.capacity),
        ));
    }
}

/// Trees that hold the system itself: ooda never offers to empty them, whatever an operator
/// lists (a typo of `/var/tmp/app` as `/var` would otherwise delete a host).
const SYSTEM_TREES: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/var/lib",
    "/var/log",
    "/var/cache",
    "/var/spool",
    "/var/mail",
    "/var/backups",
    "/tmp",
    "/mnt",
    "/media",
];

/// Why `dir` may not be a clean-up directory, if it may not.
fn unsafe_clean_dir(dir: &std::path::Path) -> Option<String> {
    if !dir.is_absolute() {
        return Some(format!(
            "expected an absolute path, found {:?}",
            dir.display().to_string()
        ));
    }
    if dir
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Some(format!(
            "{:?} contains '..'; name the directory itself",
            dir.display().to_string()
        ));
    }
    let text = dir.display().to_string();
    let normal = text.trim_end_matches('/');
    let normal = if normal.is_empty() { "/" } else { normal };
    if SYSTEM_TREES.contains(&normal) {
        return Some(format!(
            "{normal:?} is a system tree; only a dedicated scratch directory (e.g. /var/tmp/app) may be emptied"
        ));
    }
    let under_system = [
        "/etc/", "/usr/", "/boot/", "/bin/", "/sbin/", "/lib/", "/proc/", "/sys/", "/dev/",
    ]
    .iter()
    .find(|tree| normal.starts_with(*tree));
    under_system.map(|tree| {
        format!(
            "{normal:?} is inside the system tree {}; only scratch directories may be emptied",
            tree.trim_end_matches('/')
        )
    })
}

/// What serde cannot say about `[governance]`: the ranges and names `GovernConfig` checks, and
/// whether the policy directory loads (a file `config check` accepts is one `ooda up` runs).
fn governance_rules(governance: &ooda_govern::GovernConfig, errors: &mut Vec<ConfigError>) {
    match governance.validate() {
        Ok(()) => {}
        Err(ooda_govern::GovernError::Invalid { field, reason }) => {
            errors.push(err(&format!("governance.{field}"), reason))
        }
        Err(other) => errors.push(err("governance", other.to_string())),
    }
    if let Some(dir) = &governance.policy_dir {
        if let Err(problems) = ooda_govern::PolicyEngine::load_dir(dir) {
            for problem in problems {
                errors.push(err("governance.policy_dir", problem.to_string()));
            }
        }
    }
}

/// A kind that takes no parameters.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyParams {}

fn err(path: &str, message: String) -> ConfigError {
    ConfigError {
        path: path.to_owned(),
        message,
    }
}

/// Deserializes one value, recording every error with its full path. serde stops at the first
/// error, so after each one the offending key is taken out and the section read again: a file
/// with a bad `listen`, an unknown `port` and a bad `external_url` in `[server]` gets three lines,
/// not one. Bounded, in case a key cannot be taken out (a missing required field).
fn section<T: DeserializeOwned>(
    path: &str,
    value: &Value,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    const MAX_ERRORS_PER_SECTION: usize = 64;
    let mut value = value.clone();
    let mut removed: Vec<String> = Vec::new();
    let mut failed = false;
    for _ in 0..MAX_ERRORS_PER_SECTION {
        match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(v) => return (!failed).then_some(v),
            Err(e) => {
                let inner = e.path().to_string();
                let full = if inner == "." || inner.is_empty() {
                    path.to_owned()
                } else if inner.starts_with('[') {
                    format!("{path}{inner}")
                } else {
                    format!("{path}.{inner}")
                };
                let segments: Vec<Segment> = e.path().iter().cloned().collect();
                let message = clean_serde_message(&e.into_inner().to_string());
                // A field taken out after its own error may now be reported missing: that is
                // the same problem again, not a new one.
                let echo = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                    .is_some_and(|field| removed.contains(&join(&full, field)));
                if echo {
                    return None;
                }
                errors.push(err(&full, message));
                failed = true;
                match take_out(&mut value, &segments) {
                    Some(key) => removed.push(join(&key_parent(&full, &segments), &key)),
                    None => return None,
                }
            }
        }
    }
    None
}

fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

/// The error path without its trailing segments from the deepest key on (`server.listen` →
/// `server`; `sources[0].ignore_devices[2]` → `sources[0]`).
fn key_parent(full: &str, segments: &[Segment]) -> String {
    let Some(deepest) = segments
        .iter()
        .rposition(|s| matches!(s, Segment::Map { .. }))
    else {
        return full.to_owned();
    };
    let Segment::Map { key } = &segments[deepest] else {
        return full.to_owned();
    };
    full.rfind(&format!(".{key}"))
        .map_or_else(|| full.to_owned(), |at| full[..at].to_owned())
}

/// Removes the deepest table key on the error path (the whole array when the error is inside
/// one, so later indices stay true); returns the key, or None when there is nothing to remove.
fn take_out(value: &mut Value, segments: &[Segment]) -> Option<String> {
    let deepest = segments
        .iter()
        .rposition(|s| matches!(s, Segment::Map { .. }))?;
    let mut at = value;
    for segment in &segments[..deepest] {
        at = match (segment, at) {
            (Segment::Map { key }, Value::Table(table)) => table.get_mut(key)?,
            (Segment::Seq { index }, Value::Array(items)) => items.get_mut(*index)?,
            (Segment::Enum { .. }, here) => here,
            _ => return None,
        };
    }
    let (Segment::Map { key }, Value::Table(table)) = (&segments[deepest], at) else {
        return None;
    };
    table.remove(key).map(|_| key.clone())
}

/// A table with a `kind` tag: checks the tag, then hands the rest to `build`.
fn tagged<T>(
    path: &str,
    value: &Value,
    errors: &mut Vec<ConfigError>,
    build: impl FnOnce(&str, &str, &Value, &mut Vec<ConfigError>) -> Option<T>,
) -> Option<T> {
    let Value::Table(table) = value else {
        errors.push(err(
            path,
            format!("expected a table, found {}", value.type_str()),
        ));
        return None;
    };
    let kind = match table.get("kind") {
        Some(Value::String(kind)) => kind.clone(),
        Some(other) => {
            errors.push(err(
                &format!("{path}.kind"),
                format!("expected a string, found {}", other.type_str()),
            ));
            return None;
        }
        None => {
            errors.push(err(&format!("{path}.kind"), "missing".to_owned()));
            return None;
        }
    };
    let mut rest = table.clone();
    rest.remove("kind");
    build(&kind, path, &Value::Table(rest), errors)
}

fn unknown_kind<T>(
    path: &str,
    kind: &str,
    known: &[&str],
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    errors.push(err(
        &format!("{path}.kind"),
        format!("expected one of {}, found {kind:?}", known.join(", ")),
    ));
    None
}

/// An array section: each element checked on its own (`sources[2]`).
fn array<T>(
    path: &str,
    value: &Value,
    errors: &mut Vec<ConfigError>,
    mut item: impl FnMut(&str, &Value, &mut Vec<ConfigError>) -> Option<T>,
) -> Vec<T> {
    let Value::Array(items) = value else {
        errors.push(err(
            path,
            format!(
                "expected an array of tables ([[{path}]]), found {}",
                value.type_str()
            ),
        ));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| item(&format!("{path}[{i}]"), v, errors))
        .collect()
}

/// serde's messages are good; drop the `in `field`` line toml appends (the path says it already).
fn clean_serde_message(message: &str) -> String {
    let message = message.trim();
    message
        .split_once("\nin `")
        .map_or(message, |(text, _)| text)
        .trim()
        .to_owned()
}

fn syntax_message(text: &str, error: &toml::de::Error) -> String {
    let detail = error.message().trim().to_owned();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("TOML syntax error at line {line}, column {column}: {detail}")
        }
        None => format!("TOML syntax error: {detail}"),
    }
}

#[cfg(test)]
mod tests;
