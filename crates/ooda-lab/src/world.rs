//! The simulated world as ooda's pillars see it: probes and a signal source that read the fleet's
//! current values and logs, and the lab actuator that changes the fleet (a restart ends a memory
//! leak, a clean-up frees the disk). It never decides anything: the Gate does, and every action
//! it runs is recorded so the scorecard can check the Gate's promises from the outside.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use ooda_core::Action;
use ooda_core::{ActionId, ActionKind, ActionRequest, Alert, AlertId, IncidentId};
use ooda_govern::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken};
use ooda_incident::evidence::{
    fill_rate_reading, CmdbRecord, HostFacts, LogTemplate, MetricReading, Observation, PathFact,
    Probe, ProbeFuture, ProbeQuery, ProcessFact,
};
use ooda_incident::responder::SignalSource;
use ooda_incident::Incident;

use crate::faults::{Fault, FaultKind};
use crate::fleet::{host_index, Class, CPU, FS_FREE, MEMORY, METRICS};
use crate::rng::Rng;

/// One member of a firing alert: metric, value, expected.
pub type Member = (String, f64, f64);

/// Who made a fault go away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fixer {
    /// An action ooda ran through the Gate.
    Ooda,
    /// The simulated on-call human, after an escalation.
    Human,
}

/// One action the lab actuator ran (or tried to).
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub at_ms: i64,
    pub action: ActionId,
    pub kind: ActionKind,
    pub host: String,
    pub incident: Option<IncidentId>,
    pub succeeded: bool,
    /// A lab human voted for it.
    pub approved: bool,
    /// The lab's kill switch was on when it ran.
    pub during_kill_switch: bool,
    /// It ended a fault.
    pub fixed: bool,
}

/// Everything the pillars can observe or change, behind one lock.
#[derive(Debug)]
pub struct WorldState {
    pub now_ms: i64,
    /// Current row per host (fleet order).
    pub values: Vec<[f64; 7]>,
    /// The last hour of memory and filesystem usage per host `(ms, memory used %, fs used %)`,
    /// for the probes' fill rates (what `deriv(x[1h])` answers from Prometheus).
    history: Vec<VecDeque<(i64, f64, f64)>>,
    /// Members of the alerts open on each host: metric → (value, expected). What the monitor
    /// finds wrong right now; the probes' bands come from it, as the agent's live view does.
    pub firing: Vec<BTreeMap<AlertId, Vec<Member>>>,
    pub classes: Vec<Class>,
    pub faults: Vec<Fault>,
    pub by_host: Vec<Vec<usize>>,
    /// When (and by whom) each fault was ended early.
    pub cleared: Vec<Option<(i64, Fixer)>>,
    pub kill_switch_on: bool,
    /// Requests a lab human approved.
    pub approved: BTreeSet<ActionId>,
    pub executed: Vec<Executed>,
    results: BTreeMap<String, Result<String, String>>,
    failure_rate: f64,
    rng: Rng,
}

impl WorldState {
    /// Whether `fault` still bends the metrics at `time_ms`.
    pub fn fault_live(&self, index: usize, time_ms: i64) -> bool {
        let fault = &self.faults[index];
        fault.active(time_ms) && self.cleared[index].is_none_or(|(at, _)| time_ms < at)
    }

    /// The fault going on on `host` now, if any.
    pub fn live_fault(&self, host: usize) -> Option<usize> {
        self.by_host
            .get(host)?
            .iter()
            .copied()
            .find(|i| self.fault_live(*i, self.now_ms))
    }

    /// Records this step's rows (called once per step by the run loop).
    pub fn record(&mut self, host: usize, row: [f64; 7]) {
        self.values[host] = row;
        let now = self.now_ms;
        let history = &mut self.history[host];
        while history.front().is_some_and(|(t, _, _)| now - t > 3_600_000) {
            history.pop_front();
        }
        history.push_back((now, row[MEMORY], 100.0 - row[FS_FREE]));
    }

    /// Follows the monitor's alerts: open and updated ones fire, resolved ones stop.
    pub fn follow(&mut self, alert: &Alert, open: bool) {
        let Some(host) = host_of(alert.host.as_deref(), self.values.len()) else {
            return;
        };
        if open {
            let members = alert
                .members
                .iter()
                .map(|m| (m.series.metric.clone(), m.value, m.expected))
                .collect();
            self.firing[host].insert(alert.id, members);
        } else {
            self.firing[host].remove(&alert.id);
        }
    }

    /// Ends the fault going on on `host` now, if any; returns whether there was one.
    pub fn clear(&mut self, host: usize, by: Fixer) -> bool {
        match self.live_fault(host) {
            Some(index) => {
                self.cleared[index] = Some((self.now_ms, by));
                true
            }
            None => false,
        }
    }

    /// The host's current values; series the monitor finds wrong carry the band it expected,
    /// the others read as in band, as the agent's live view does.
    /// `disk_io_busy_percent` is reported under node_exporter's name for the same quantity.
    fn readings(&self, host: usize) -> Vec<MetricReading> {
        let mut expected: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for members in self.firing[host].values() {
            for (metric, value, exp) in members {
                expected.insert(metric.as_str(), (*value, *exp));
            }
        }
        let values = &self.values[host];
        METRICS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let value = values[i];
                // The band edge is what the detector expected when it fired; the value is today's,
                // so a series back where it should be reads in band (as the agent's live
                // metrics probe does).
                let (low, high) = match expected.get(name) {
                    Some((v, exp)) if v > exp => (f64::MIN, *exp),
                    Some((_, exp)) => (*exp, f64::MAX),
                    None => (f64::MIN, f64::MAX),
                };
                let metric = if *name == "disk_io_busy_percent" {
                    "disk_io_time_percent".to_owned()
                } else {
                    (*name).to_owned()
                };
                MetricReading {
                    metric,
                    value,
                    low,
                    high,
                }
                .in_catalogue_terms()
            })
            .chain(std::iter::once(self.restarts(host)))
            .chain(self.fill_rates(host))
            .collect()
    }

    /// Fill rates of the host's memory and filesystem over the last hour.
    fn fill_rates(&self, host: usize) -> impl Iterator<Item = MetricReading> {
        let history = &self.history[host];
        let memory: Vec<(i64, f64)> = history.iter().map(|(t, m, _)| (*t, *m)).collect();
        let fs: Vec<(i64, f64)> = history.iter().map(|(t, _, f)| (*t, *f)).collect();
        [
            fill_rate_reading("memory_used_percent", &memory),
            fill_rate_reading("filesystem_used_percent", &fs),
        ]
        .into_iter()
        .flatten()
    }

    /// The service's restarts over the last ten minutes, as a probe reads systemd's counter
    /// (node-exporter's `node_systemd_service_restart_total`). The monitor does not watch it (a
    /// counter of rare events has no useful baseline); more than three in ten minutes is a loop.
    fn restarts(&self, host: usize) -> MetricReading {
        let looping = self
            .live_fault(host)
            .is_some_and(|i| self.faults[i].kind == FaultKind::CrashLoop);
        MetricReading {
            metric: "unit_restarts_10m".to_owned(),
            value: if looping { 20.0 } else { 0.0 },
            low: f64::MIN,
            high: 3.0,
        }
    }

    /// What the host's kernel would list: the service's worker (its memory is the host's
    /// application memory, its growth the last hour's trend), a runaway job while one runs, and
    /// the scratch directory on the root filesystem (full of junk while the disk fills). What a
    /// live agent reads from /proc and its allowlist, nothing it could not know.
    fn host_facts(&self, host: usize) -> HostFacts {
        let values = &self.values[host];
        let live = self.live_fault(host).map(|i| self.faults[i].kind);
        let history = &self.history[host];
        let memory: Vec<(i64, f64)> = history.iter().map(|(t, m, _)| (*t, *m)).collect();
        let growth = fill_rate_reading("memory_used_percent", &memory)
            .map(|r| r.value * LAB_MEMORY_BYTES as f64 / 100.0);
        let runaway = live == Some(FaultKind::CpuRunaway);
        let worker_cpu = if runaway { 5.0 } else { values[CPU] * 0.8 };
        let mut processes = vec![ProcessFact {
            pid: worker_pid(host),
            name: LAB_WORKER.into(),
            cpu_percent: worker_cpu,
            rss_bytes: (values[MEMORY].clamp(0.0, 100.0) * 0.6 * LAB_MEMORY_BYTES as f64 / 100.0)
                as u64,
            rss_growth_bytes_per_hour: growth,
            service: Some(LAB_SERVICE.into()),
        }];
        if runaway {
            processes.insert(
                0,
                ProcessFact {
                    pid: runaway_pid(host),
                    name: LAB_RUNAWAY.into(),
                    cpu_percent: 98.0,
                    rss_bytes: 64 << 20,
                    rss_growth_bytes_per_hour: None,
                    service: None,
                },
            );
        }
        let scratch = if live == Some(FaultKind::DiskFull) {
            40 << 30
        } else {
            64 << 20
        };
        HostFacts {
            processes,
            cleanable: vec![PathFact {
                path: LAB_SCRATCH.into(),
                mount: "/".into(),
                bytes: scratch,
            }],
        }
    }

    /// What the host's logs say now: the fault's own messages, counted over the last minutes.
    fn logs(&self, host: usize) -> Vec<LogTemplate> {
        let Some(index) = self.live_fault(host) else {
            return Vec::new();
        };
        let fault = &self.faults[index];
        let impact = self.now_ms >= fault.impact_ms;
        let minutes_in = ((self.now_ms - fault.start_ms) / 60_000).max(1) as u64;
        let line = |template: &str, count: u64| LogTemplate {
            template: template.to_owned(),
            count,
        };
        match (fault.kind, impact) {
            (FaultKind::DiskFull, true) => vec![line(
                "ERROR write <*>: No space left on device",
                minutes_in * 4,
            )],
            (FaultKind::MemoryLeak, true) => vec![line(
                "Out of memory: Killed process <*> (app) total-vm:<*>",
                1,
            )],
            // A degrading controller logs I/O errors from the start, more and more.
            (FaultKind::StorageController, _) => vec![line(
                "blk_update_request: I/O error, dev sda, sector <*>",
                minutes_in,
            )],
            (FaultKind::NicErrors, true) => vec![line("eth0: NIC Link is Down", 3)],
            (FaultKind::CrashLoop, _) => vec![
                line(
                    "app.service: Main process exited, code=dumped, status=11/SEGV",
                    minutes_in * 2,
                ),
                line(
                    "app.service: Start request repeated too quickly.",
                    minutes_in / 5,
                ),
            ],
            _ => Vec::new(),
        }
    }
}

/// The lab hosts' application: one service with one worker process.
pub const LAB_SERVICE: &str = "app";
pub const LAB_WORKER: &str = "app-worker";
/// A job that runs away with a core (not a service: nothing restarts it).
pub const LAB_RUNAWAY: &str = "batch-job";
/// The one clean-up directory the lab's operator allowlisted.
pub const LAB_SCRATCH: &str = "/var/tmp/app";
const LAB_MEMORY_BYTES: u64 = 8 << 30;

fn worker_pid(host: usize) -> u32 {
    4_000 + host as u32
}

fn runaway_pid(host: usize) -> u32 {
    70_000 + host as u32
}

/// The shared world handle the run loop, the probes and the actuator hold.
#[derive(Debug, Clone)]
pub struct World(Arc<Mutex<WorldState>>);

impl World {
    pub fn new(classes: Vec<Class>, faults: Vec<Fault>, failure_rate: f64, seed: u64) -> Self {
        let hosts = classes.len();
        let mut by_host = vec![Vec::new(); hosts];
        for (i, f) in faults.iter().enumerate() {
            if f.host < hosts {
                by_host[f.host].push(i);
            }
        }
        let cleared = vec![None; faults.len()];
        Self(Arc::new(Mutex::new(WorldState {
            now_ms: 0,
            values: vec![[0.0; 7]; hosts],
            history: vec![VecDeque::new(); hosts],
            firing: vec![BTreeMap::new(); hosts],
            classes,
            faults,
            by_host,
            cleared,
            kill_switch_on: false,
            approved: BTreeSet::new(),
            executed: Vec::new(),
            results: BTreeMap::new(),
            failure_rate,
            rng: Rng::stream(seed, 7_000_000),
        })))
    }

    /// The lock. A poisoned lock means a panic elsewhere already failed the run; the state is
    /// plain data and still readable.
    pub fn lock(&self) -> MutexGuard<'_, WorldState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn host_of(name: Option<&str>, hosts: usize) -> Option<usize> {
    host_index(name?, hosts)
}

/// Current metrics of the incident's host.
#[derive(Debug, Clone)]
pub struct MetricsProbe(pub World);

impl Probe for MetricsProbe {
    fn name(&self) -> &str {
        "metrics"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let world = self.0.lock();
            let host = host_of(query.host.as_deref(), world.values.len())
                .ok_or_else(|| probe_error(query))?;
            Ok(Observation::Metrics {
                readings: world.readings(host),
            })
        })
    }
}

/// Recent log templates of the incident's host.
#[derive(Debug, Clone)]
pub struct LogsProbe(pub World);

impl Probe for LogsProbe {
    fn name(&self) -> &str {
        "logs"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let world = self.0.lock();
            let host = host_of(query.host.as_deref(), world.values.len())
                .ok_or_else(|| probe_error(query))?;
            Ok(Observation::Logs {
                templates: world.logs(host),
            })
        })
    }
}

/// The inventory record of the incident's host.
#[derive(Debug, Clone)]
pub struct CmdbProbe(pub World);

impl Probe for CmdbProbe {
    fn name(&self) -> &str {
        "cmdb"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let world = self.0.lock();
            let name = query.host.clone().unwrap_or_default();
            let host =
                host_of(Some(&name), world.classes.len()).ok_or_else(|| probe_error(query))?;
            Ok(Observation::Cmdb {
                record: CmdbRecord {
                    host: name,
                    class: world.classes[host].as_str().to_owned(),
                    environment: "prod".into(),
                    services: vec![LAB_SERVICE.into()],
                    owner: "sre".into(),
                },
            })
        })
    }
}

/// The host's processes and clean-up directories (see [`WorldState::host_facts`]).
#[derive(Debug, Clone)]
pub struct HostFactsProbe(pub World);

impl Probe for HostFactsProbe {
    fn name(&self) -> &str {
        "host"
    }
    fn probe<'a>(&'a self, query: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let world = self.0.lock();
            let host = host_of(query.host.as_deref(), world.values.len())
                .ok_or_else(|| probe_error(query))?;
            Ok(Observation::Host {
                facts: world.host_facts(host),
            })
        })
    }
}

fn probe_error(query: &ProbeQuery) -> ooda_incident::evidence::ProbeError {
    ooda_incident::evidence::ProbeError::Failed(format!(
        "no simulated host {:?}",
        query.host.as_deref().unwrap_or("")
    ))
}

impl SignalSource for World {
    fn readings(&self, incident: &Incident) -> Result<Vec<MetricReading>, String> {
        let world = self.lock();
        let host = host_of(incident.host.as_deref(), world.values.len())
            .ok_or_else(|| format!("no simulated host {:?}", incident.host))?;
        Ok(world.readings(host))
    }
}

/// The actuator: changes the simulated world, fails at the configured rate, and records every
/// call.
#[derive(Debug, Clone)]
pub struct LabActuator(pub World);

/// Whether an action, aimed at what it names, ends a fault of this kind on host `h`: a restart
/// of another service, a cap on another process or a clean-up of another directory changes
/// nothing, as on a real host.
fn fixes(action: &Action, fault: FaultKind, h: usize) -> bool {
    let runaway = format!("{LAB_RUNAWAY}:{}", runaway_pid(h));
    match (action, fault) {
        (Action::RestartService { service }, FaultKind::MemoryLeak | FaultKind::CrashLoop) => {
            service == LAB_SERVICE
        }
        (Action::RollbackDeploy { service, .. }, FaultKind::CrashLoop) => service == LAB_SERVICE,
        (Action::KillProcess { process }, FaultKind::CpuRunaway) => *process == runaway,
        (
            Action::ThrottleProcess {
                process,
                cpu_percent,
            },
            FaultKind::CpuRunaway,
        ) => *process == runaway && *cpu_percent > 0 && *cpu_percent <= 50,
        (Action::CleanPath { path }, FaultKind::DiskFull) => path == LAB_SCRATCH,
        (Action::RotateLogs { service }, FaultKind::DiskFull) => service == LAB_SERVICE,
        _ => false,
    }
}

impl Actuator for LabActuator {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let mut world = self.0.lock();
        let key = token.idempotency_key().to_owned();
        if let Some(done) = world.results.get(&key) {
            return done.clone().map_err(ActuatorError);
        }
        let request: &ActionRequest = token.request();
        let kind = request.action.kind();
        let host = host_of(Some(&request.host.name), world.values.len());
        let failed = world.rng.uniform() < world.failure_rate;
        let mut fixed = false;
        let result = match host {
            None => Err(format!("no simulated host {:?}", request.host.name)),
            Some(_) if failed => Err(format!("lab: simulated {kind} failure")),
            Some(h) => {
                let live = world.live_fault(h).map(|i| world.faults[i].kind);
                if live.is_some_and(|fault| fixes(&request.action, fault, h)) {
                    fixed = world.clear(h, Fixer::Ooda);
                }
                // What the live actuator prints for the same action.
                Ok(match &request.action {
                    Action::CleanPath { path } => format!("removed 1234 entries from {path}"),
                    Action::RotateLogs { service } => format!("rotated {service}"),
                    Action::RestartService { service } => format!("restarted {service}"),
                    Action::ThrottleProcess {
                        process,
                        cpu_percent: 0,
                    } => format!("lifted the cap on {process}"),
                    Action::ThrottleProcess {
                        process,
                        cpu_percent,
                    } => format!("capped {process} to {cpu_percent} % of a core"),
                    Action::KillProcess { process } => format!("stopped {process} with SIGTERM"),
                    _ => format!("{kind} done"),
                })
            }
        };
        if std::env::var_os("OODA_LAB_TRACE").is_some() {
            eprintln!(
                "lab trace: {} action {:?} -> {:?} (fixed: {fixed})",
                request.host.name, request.action, result
            );
        }
        let record = Executed {
            at_ms: world.now_ms,
            action: request.id,
            kind,
            host: request.host.name.clone(),
            incident: request.incident,
            succeeded: result.is_ok(),
            approved: world.approved.contains(&request.id),
            during_kill_switch: world.kill_switch_on,
            fixed,
        };
        world.executed.push(record);
        world.results.insert(key, result.clone());
        result.map_err(ActuatorError)
    }

    fn status(&self, idempotency_key: &str) -> ActuatorStatus {
        status_of(&self.0.lock().results, idempotency_key)
    }
}

/// What a lab actuator reports for a key from the results it recorded (idempotency keys).
pub fn status_of(
    results: &BTreeMap<String, Result<String, String>>,
    idempotency_key: &str,
) -> ActuatorStatus {
    match results.get(idempotency_key) {
        Some(Ok(detail)) => ActuatorStatus::Done {
            succeeded: true,
            detail: detail.clone(),
        },
        Some(Err(detail)) => ActuatorStatus::Done {
            succeeded: false,
            detail: detail.clone(),
        },
        None => ActuatorStatus::NotRun,
    }
}
