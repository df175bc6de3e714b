//! Runbook targets bound from facts. What a runbook acts on (a process, a service, a directory)
//! is resolved from what the host itself reported when the incident was investigated (its busiest
//! processes, its allowlisted clean-up directories) and from the inventory: never from alert
//! labels, which anyone who can post to the webhook controls.
//!
//! A variable that cannot be bound says why; the responder then treats the runbook as not
//! applicable instead of starting it and stopping half-way.

use std::collections::BTreeMap;

use ooda_core::Alert;

use crate::evidence::{Evidence, HostFacts, Observation, ProcessFact};

/// A process counts as a runaway when it keeps at least this share of one core busy.
pub const RUNAWAY_CPU_PERCENT: f64 = 50.0;

/// The variables a runbook may use, as far as the facts allow, and why the others have none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    pub vars: BTreeMap<String, String>,
    /// Variable → the fact it was bound from (shown in the incident's timeline).
    pub from: BTreeMap<String, String>,
    /// Variable → why no value could be found.
    pub unresolved: BTreeMap<String, String>,
}

impl Bindings {
    fn bind(&mut self, var: &str, value: String, from: String) {
        self.vars.insert(var.to_owned(), value);
        self.from.insert(var.to_owned(), from);
    }

    fn miss(&mut self, var: &str, why: impl Into<String>) {
        self.unresolved.insert(var.to_owned(), why.into());
    }

    /// Why `var` has no value, if it has none.
    pub fn why_missing(&self, var: &str) -> Option<String> {
        if self.vars.contains_key(var) {
            return None;
        }
        Some(
            self.unresolved
                .get(var)
                .cloned()
                .unwrap_or_else(|| format!("nothing ooda observes can supply ${{{var}}}")),
        )
    }
}

/// What binding looks at.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub host: Option<&'a str>,
    /// The diagnosed cause (a catalogue id such as `runaway_cpu`).
    pub cause: Option<&'a str>,
    /// The alert that opened (or last updated) the incident: its members' series say which
    /// filesystem or interface is in trouble.
    pub alert: Option<&'a Alert>,
    pub evidence: &'a Evidence,
    /// Where `notify` steps post (the configured on-call channel).
    pub channel: &'a str,
}

/// Which resource a cause is about, for choosing the process it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cpu,
    Memory,
}

fn resource_of(cause: &str) -> Option<Resource> {
    if cause.contains("cpu") {
        Some(Resource::Cpu)
    } else if ["memory", "swap", "oom", "leak"]
        .iter()
        .any(|w| cause.contains(w))
    {
        Some(Resource::Memory)
    } else {
        None
    }
}

/// Binds every variable the facts support.
pub fn bind(inputs: Inputs<'_>) -> Bindings {
    let mut out = Bindings::default();
    match inputs.host {
        Some(host) => out.bind("host", host.to_owned(), "the incident's host".into()),
        None => out.miss("host", "the alert names no host"),
    }
    out.bind(
        "channel",
        inputs.channel.to_owned(),
        "the configured on-call channel".into(),
    );

    let mut facts: Option<&HostFacts> = None;
    let mut services: Vec<String> = Vec::new();
    for item in &inputs.evidence.items {
        match &item.observation {
            Observation::Host { facts: f } => facts = Some(f),
            Observation::Cmdb { record } => services.clone_from(&record.services),
            Observation::Deploys { deploys } => {
                if let Some(d) = deploys.last() {
                    if let Some(previous) = &d.previous_version {
                        out.bind(
                            "previous_version",
                            previous.clone(),
                            format!("the deploy of {} {} at {}", d.service, d.version, d.at),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    if !out.vars.contains_key("previous_version") {
        out.miss(
            "previous_version",
            "no deploy with a previous version in the look-back window",
        );
    }

    bind_process_and_service(&mut out, inputs.cause, facts, &services);
    bind_clean_path(&mut out, inputs.alert, facts);
    for var in ["replicas", "cluster", "template"] {
        out.miss(
            var,
            format!(
                "the inventory holds no {var} for this host; ooda never takes it from alert labels"
            ),
        );
    }
    out
}

fn bind_process_and_service(
    out: &mut Bindings,
    cause: Option<&str>,
    facts: Option<&HostFacts>,
    services: &[String],
) {
    let resource = cause.and_then(resource_of);
    let chosen: Option<&ProcessFact> = match (resource, facts) {
        (_, None) => {
            out.miss(
                "process",
                "no process list for this host (ooda reads processes only on the host it runs on)",
            );
            None
        }
        (None, Some(_)) => {
            out.miss(
                "process",
                format!(
                    "the cause {} is not about one process",
                    cause.unwrap_or("(none)")
                ),
            );
            None
        }
        (Some(Resource::Cpu), Some(facts)) => {
            let top = facts
                .processes
                .iter()
                .filter(|p| p.cpu_percent.is_finite())
                .max_by(|a, b| {
                    a.cpu_percent
                        .total_cmp(&b.cpu_percent)
                        .then(b.pid.cmp(&a.pid))
                });
            match top {
                Some(p) if p.cpu_percent >= RUNAWAY_CPU_PERCENT => Some(p),
                Some(p) => {
                    out.miss(
                        "process",
                        format!(
                            "the busiest process ({} pid {}) uses {:.0} % of a core, below the {RUNAWAY_CPU_PERCENT:.0} % of a runaway",
                            p.name, p.pid, p.cpu_percent
                        ),
                    );
                    None
                }
                None => {
                    out.miss("process", "the host reported no processes");
                    None
                }
            }
        }
        (Some(Resource::Memory), Some(facts)) => {
            // A growing process is the leak; without growth history, the largest one.
            let growing = facts
                .processes
                .iter()
                .filter(|p| p.rss_growth_bytes_per_hour.is_some_and(|g| g > 0.0))
                .max_by(|a, b| {
                    let (ga, gb) = (
                        a.rss_growth_bytes_per_hour.unwrap_or(0.0),
                        b.rss_growth_bytes_per_hour.unwrap_or(0.0),
                    );
                    ga.total_cmp(&gb).then(b.pid.cmp(&a.pid))
                });
            let top = growing.or_else(|| {
                facts
                    .processes
                    .iter()
                    .max_by(|a, b| a.rss_bytes.cmp(&b.rss_bytes).then(b.pid.cmp(&a.pid)))
            });
            if top.is_none() {
                out.miss("process", "the host reported no processes");
            }
            top
        }
    };
    if let Some(p) = chosen {
        let what = match resource {
            Some(Resource::Cpu) => format!("{:.0} % of a core", p.cpu_percent),
            _ => match p.rss_growth_bytes_per_hour {
                Some(g) if g > 0.0 => format!(
                    "{} MiB resident, growing {:.0} MiB/h",
                    p.rss_bytes >> 20,
                    g / 1_048_576.0
                ),
                _ => format!("{} MiB resident", p.rss_bytes >> 20),
            },
        };
        // name:pid, so the actuator can refuse a pid that was reused by another program.
        out.bind(
            "process",
            format!("{}:{}", p.name, p.pid),
            format!("the busiest process: {} pid {} ({what})", p.name, p.pid),
        );
        match &p.service {
            Some(service) => out.bind(
                "service",
                service.clone(),
                format!("the service that owns {} pid {}", p.name, p.pid),
            ),
            None => out.miss(
                "service",
                format!(
                    "{} pid {} belongs to no known service (no systemd unit, supervisor entry or inventory service)",
                    p.name, p.pid
                ),
            ),
        }
        return;
    }
    // Not about one process: the inventory's only service on the host, if it has exactly one.
    match services {
        [only] => out.bind(
            "service",
            only.clone(),
            "the only service the inventory lists on this host".into(),
        ),
        [] => out.miss("service", "the inventory lists no service on this host"),
        many => out.miss(
            "service",
            format!(
                "the inventory lists {} services on this host ({}) and no fact says which one",
                many.len(),
                many.join(", ")
            ),
        ),
    }
}

/// The mount points of the alert's filesystem series.
fn alert_mounts(alert: Option<&Alert>) -> Vec<String> {
    let Some(alert) = alert else {
        return Vec::new();
    };
    let mut mounts: Vec<String> = alert
        .members
        .iter()
        .filter_map(|m| m.series.labels.get("mountpoint").map(str::to_owned))
        .collect();
    mounts.sort();
    mounts.dedup();
    mounts
}

fn bind_clean_path(out: &mut Bindings, alert: Option<&Alert>, facts: Option<&HostFacts>) {
    let Some(facts) = facts else {
        out.miss(
            "clean_path",
            "no directory listing for this host (ooda reads it only on the host it runs on)",
        );
        return;
    };
    if facts.cleanable.is_empty() {
        out.miss(
            "clean_path",
            "no clean-up directory is allowlisted on this host (incident.actuator.clean_allowlist)",
        );
        return;
    }
    let mounts = alert_mounts(alert);
    let candidates: Vec<_> = facts
        .cleanable
        .iter()
        .filter(|p| mounts.is_empty() || mounts.contains(&p.mount))
        .collect();
    let best = candidates
        .iter()
        .filter(|p| p.bytes > 0)
        .max_by(|a, b| a.bytes.cmp(&b.bytes).then(b.path.cmp(&a.path)));
    match best {
        Some(p) => out.bind(
            "clean_path",
            p.path.clone(),
            format!(
                "the fullest allowlisted directory on {} ({} MiB)",
                p.mount,
                p.bytes >> 20
            ),
        ),
        None if candidates.is_empty() => out.miss(
            "clean_path",
            format!(
                "no allowlisted clean-up directory is on the alerting filesystem ({})",
                mounts.join(", ")
            ),
        ),
        None => out.miss(
            "clean_path",
            "the allowlisted clean-up directories on the alerting filesystem are empty",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{EvidenceItem, PathFact};
    use ooda_core::{AlertKind, Anomaly, Labels, SeriesKey, Severity};

    fn disk_alert(mount: &str) -> Alert {
        let mut labels = Labels::new();
        labels.insert("mountpoint", mount);
        let mut alert = crate::register::tests::alert(1, Some("web-1"), "disk");
        alert.members.push(Anomaly {
            series: SeriesKey::new("node_filesystem_free_percent", labels),
            time: ooda_core::clock::from_millis(0),
            value: 2.0,
            expected: 40.0,
            score: -9.0,
            severity: Severity::Critical,
            kind: AlertKind::Threshold,
            explanation: String::new(),
            forecast: None,
        });
        alert
    }

    fn evidence(facts: HostFacts) -> Evidence {
        let mut e = Evidence::default();
        e.push(EvidenceItem::new("host", Observation::Host { facts }));
        e
    }

    fn process(pid: u32, name: &str, cpu: f64, rss_mib: u64, service: Option<&str>) -> ProcessFact {
        ProcessFact {
            pid,
            name: name.into(),
            cpu_percent: cpu,
            rss_bytes: rss_mib << 20,
            rss_growth_bytes_per_hour: None,
            service: service.map(Into::into),
        }
    }

    fn inputs<'a>(cause: &'a str, e: &'a Evidence, alert: Option<&'a Alert>) -> Inputs<'a> {
        Inputs {
            host: Some("web-1"),
            cause: Some(cause),
            alert,
            evidence: e,
            channel: "#ops",
        }
    }

    #[test]
    fn the_runaway_is_the_busiest_process_and_its_service_follows() {
        let e = evidence(HostFacts {
            processes: vec![
                process(10, "nginx", 3.0, 50, Some("nginx")),
                process(42, "stress", 99.0, 5, Some("batch")),
            ],
            cleanable: vec![],
        });
        let b = bind(inputs("runaway_cpu", &e, None));
        assert_eq!(b.vars["process"], "stress:42");
        assert_eq!(b.vars["service"], "batch");
        assert_eq!(b.vars["host"], "web-1");
    }

    #[test]
    fn a_busy_but_not_runaway_process_is_no_target() {
        let e = evidence(HostFacts {
            processes: vec![process(10, "nginx", 20.0, 50, Some("nginx"))],
            cleanable: vec![],
        });
        let b = bind(inputs("runaway_cpu", &e, None));
        assert!(!b.vars.contains_key("process"));
        assert!(b.why_missing("process").unwrap().contains("below"));
    }

    #[test]
    fn the_leak_is_the_growing_process_not_the_largest() {
        let mut leaking = process(7, "java", 1.0, 300, Some("app"));
        leaking.rss_growth_bytes_per_hour = Some(2e9);
        let e = evidence(HostFacts {
            processes: vec![process(3, "postgres", 1.0, 2000, Some("db")), leaking],
            cleanable: vec![],
        });
        let b = bind(inputs("memory_leak", &e, None));
        assert_eq!(b.vars["process"], "java:7");
        assert_eq!(b.vars["service"], "app");
    }

    #[test]
    fn clean_path_is_an_allowlisted_directory_on_the_alerting_filesystem() {
        let e = evidence(HostFacts {
            processes: vec![],
            cleanable: vec![
                PathFact {
                    path: "/var/tmp/big".into(),
                    mount: "/".into(),
                    bytes: 9 << 30,
                },
                PathFact {
                    path: "/mnt/data/scratch".into(),
                    mount: "/mnt/data".into(),
                    bytes: 1 << 20,
                },
            ],
        });
        let alert = disk_alert("/mnt/data");
        let b = bind(inputs("disk_full", &e, Some(&alert)));
        assert_eq!(b.vars["clean_path"], "/mnt/data/scratch");
    }

    #[test]
    fn labels_never_bind_targets() {
        let e = Evidence::default();
        let mut alert = disk_alert("/");
        alert.labels.insert("clean_path".into(), "/etc".into());
        alert.labels.insert("process".into(), "sshd".into());
        let b = bind(inputs("disk_full", &e, Some(&alert)));
        assert!(!b.vars.contains_key("clean_path"));
        assert!(!b.vars.contains_key("process"));
        assert!(b.why_missing("clean_path").is_some());
    }
}
