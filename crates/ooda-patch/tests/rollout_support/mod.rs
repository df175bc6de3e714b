//! What the rollout tests share: a real SQLite store, the real Gate (Cedar policy, hash-chained
//! audit, embedded change records) over an actuator that records every execution in a file (so
//! it survives a simulated kill -9), a scripted fleet with real maintenance windows, and a bus.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ooda_bus::MemoryBus;
use ooda_core::{Action, Host, HostClass, ManualClock, SharedClock, Timestamp};
use ooda_govern::audit::{verify, VerifyOptions, CHECKPOINT_EVERY, HEAD_KEY};
use ooda_govern::gate::GateParts;
use ooda_govern::{
    Actuator, ActuatorError, ActuatorStatus, AuditLog, EmbeddedChangeRecords, ExecutionToken, Gate,
    GovernConfig, Notice, Notifier, PolicyEngine, StaticFacts,
};
use ooda_patch::rollout::{
    ActionGate, Fleet, FleetFacts, Health, RolloutConfig, RolloutEngine, RolloutParts, RolloutPlan,
};
use ooda_patch::windows::Windows;
use ooda_store::{SqliteStore, Store};
use serde::{Deserialize, Serialize};

/// One execution as the actuator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub key: String,
    pub host: String,
    pub action: Action,
    pub at: Timestamp,
}

/// Appends every execution to a file before answering: what a real host would remember.
pub struct RecordingActuator {
    pub path: PathBuf,
    pub clock: SharedClock,
    /// Panic right after recording an execution on this host: a kill -9 while the actuator runs.
    pub crash_on: Option<String>,
}

impl RecordingActuator {
    pub fn executions(path: &Path) -> Vec<Execution> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Actuator for RecordingActuator {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let request = token.request();
        let execution = Execution {
            key: token.idempotency_key().to_owned(),
            host: request.host.name.clone(),
            action: request.action.clone(),
            at: ooda_core::Clock::now(self.clock.as_ref()),
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| ActuatorError(e.to_string()))?;
        writeln!(file, "{}", serde_json::to_string(&execution).unwrap())
            .map_err(|e| ActuatorError(e.to_string()))?;
        file.sync_all().map_err(|e| ActuatorError(e.to_string()))?;
        if self.crash_on.as_deref() == Some(request.host.name.as_str()) {
            panic!("simulated kill -9 while patching {}", request.host.name);
        }
        Ok(format!("{} on {}", request.kind(), request.host.name))
    }

    fn status(&self, key: &str) -> ActuatorStatus {
        if Self::executions(&self.path).iter().any(|e| e.key == key) {
            ActuatorStatus::Done {
                succeeded: true,
                detail: "recorded".into(),
            }
        } else {
            ActuatorStatus::NotRun
        }
    }
}

#[derive(Default)]
pub struct FleetState {
    pub hosts: BTreeMap<String, Host>,
    pub incidents: BTreeMap<String, u32>,
    pub problems: BTreeMap<String, Vec<String>>,
    pub reboot_required: BTreeSet<String>,
}

/// A fleet whose answers the test scripts; windows are real.
pub struct TestFleet {
    pub windows: Windows,
    pub state: Mutex<FleetState>,
}

pub const WINDOWS: &str = r#"
version = 1

[[window]]
name = "staging-any-time"
cron = "0 * * * *"
duration_minutes = 60
groups = ["staging"]

# 02:00-05:00 Berlin, i.e. 01:00-04:00 UTC in winter.
[[window]]
name = "web-nights"
cron = "0 2 * * *"
timezone = "Europe/Berlin"
duration_minutes = 180
groups = ["web"]
blackout = ["2026-12-24"]
"#;

impl TestFleet {
    pub fn new(staging: &[&str], production: &[&str]) -> Arc<Self> {
        let mut hosts = BTreeMap::new();
        for (names, class) in [(staging, "staging"), (production, "web")] {
            for name in names {
                let mut host = Host::new(*name);
                host.class = HostClass::new(class);
                host.internet_facing = true;
                hosts.insert((*name).to_owned(), host);
            }
        }
        Arc::new(Self {
            windows: Windows::from_toml(WINDOWS).unwrap(),
            state: Mutex::new(FleetState {
                hosts,
                ..Default::default()
            }),
        })
    }

    pub fn set_problem(&self, host: &str, problem: &str) {
        self.state
            .lock()
            .unwrap()
            .problems
            .entry(host.into())
            .or_default()
            .push(problem.into());
    }

    pub fn set_incidents(&self, host: &str, n: u32) {
        self.state.lock().unwrap().incidents.insert(host.into(), n);
    }

    pub fn remove(&self, host: &str) {
        self.state.lock().unwrap().hosts.remove(host);
    }
}

impl Fleet for TestFleet {
    fn host(&self, name: &str) -> Result<Option<Host>, String> {
        Ok(self.state.lock().unwrap().hosts.get(name).cloned())
    }
    fn window_open(&self, host: &Host, at: Timestamp) -> Result<bool, String> {
        self.windows.is_open(host, at).map_err(|e| e.to_string())
    }
    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        Ok(*self.state.lock().unwrap().incidents.get(host).unwrap_or(&0))
    }
    fn health(&self, host: &str, _: Timestamp, _: Timestamp) -> Result<Health, String> {
        let state = self.state.lock().unwrap();
        Ok(Health {
            problems: state.problems.get(host).cloned().unwrap_or_default(),
            reboot_required: state.reboot_required.contains(host),
        })
    }
}

#[derive(Default)]
pub struct Inbox(pub Mutex<Vec<Notice>>);

impl Notifier for Inbox {
    fn notify(&self, notice: &Notice) {
        self.0.lock().unwrap().push(notice.clone());
    }
}

impl Inbox {
    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|n| format!("{}: {}", n.kind, n.message))
            .collect()
    }
}

/// Everything a running agent holds; dropping it is the simulated kill -9.
pub struct Agent {
    pub store: Arc<dyn Store>,
    pub gate: Arc<Gate>,
    pub engine: RolloutEngine,
    pub changes: Arc<EmbeddedChangeRecords>,
    pub inbox: Arc<Inbox>,
    pub bus: Arc<MemoryBus>,
}

pub fn executions_path(dir: &Path) -> PathBuf {
    dir.join("executions.jsonl")
}

/// Opens (or reopens) the agent's state in `dir`, as a restarted process would.
pub fn open_agent(dir: &Path, clock: &ManualClock, fleet: Arc<TestFleet>) -> Agent {
    open_agent_with(dir, clock, fleet, None, |gate| gate)
}

/// [`open_agent`] with an actuator that dies on `crash_on` and the gate port wrapped by `wrap`.
pub fn open_agent_with(
    dir: &Path,
    clock: &ManualClock,
    fleet: Arc<TestFleet>,
    crash_on: Option<&str>,
    wrap: impl FnOnce(Arc<Gate>) -> Arc<dyn ActionGate>,
) -> Agent {
    let clock_handle: SharedClock = Arc::new(clock.clone());
    let actuator = Arc::new(RecordingActuator {
        path: executions_path(dir),
        clock: clock_handle,
        crash_on: crash_on.map(str::to_owned),
    });
    open_agent_acting(dir, clock, fleet, actuator, wrap)
}

/// [`open_agent`] with the gate calling `actuator`.
pub fn open_agent_acting(
    dir: &Path,
    clock: &ManualClock,
    fleet: Arc<TestFleet>,
    actuator: Arc<dyn Actuator>,
    wrap: impl FnOnce(Arc<Gate>) -> Arc<dyn ActionGate>,
) -> Agent {
    let shared: SharedClock = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("ooda.sqlite")).unwrap());
    let audit =
        Arc::new(AuditLog::open(&dir.join("audit"), shared.clone(), Some(store.clone())).unwrap());
    let changes = Arc::new(EmbeddedChangeRecords::new(store.clone(), shared.clone()));
    let inbox = Arc::new(Inbox::default());
    let gate = Arc::new(Gate::new(GateParts {
        config: {
            let mut config = GovernConfig {
                autonomy: ooda_govern::autonomy::AutonomyConfig {
                    default: ooda_govern::autonomy::Level::Autonomous,
                    set: vec![],
                },
                ..GovernConfig::default()
            };
            config
                .approvals
                .approvers
                .insert("alice".into(), vec!["sre".into()]);
            config
        },
        store: store.clone(),
        audit,
        policy: Arc::new(PolicyEngine::with_defaults().unwrap()),
        actuator,
        facts: Arc::new(FleetFacts {
            fleet: fleet.clone(),
            inner: Arc::new(StaticFacts::all_clear()),
        }),
        changes: changes.clone(),
        notifier: inbox.clone(),
        clock: shared.clone(),
    }));
    // Start-up: intents interrupted by the crash are reconciled before anything else runs.
    gate.reconcile();
    let bus = Arc::new(MemoryBus::new(shared.clone()));
    let engine = RolloutEngine::new(RolloutParts {
        store: store.clone(),
        gate: wrap(gate.clone()),
        fleet,
        events: bus.clone(),
        changes: changes.clone(),
        notifier: inbox.clone(),
        clock: shared,
        config: RolloutConfig::default(),
    });
    Agent {
        store,
        gate,
        engine,
        changes,
        inbox,
        bus,
    }
}

pub fn verify_audit(agent: &Agent) -> u64 {
    let head = agent.store.kv_get(HEAD_KEY).unwrap().map(|t| {
        let (s, h) = t.split_once(' ').unwrap();
        (s.parse().unwrap(), h.to_owned())
    });
    let options = VerifyOptions {
        public_key: Some(agent.gate.audit().public_key()),
        head,
        checkpoint_every: CHECKPOINT_EVERY,
    };
    verify(agent.gate.audit().path(), &options)
        .expect("audit chain verifies")
        .records
}

pub fn plan(id: &str, staging: &[&str], production: &[&str]) -> RolloutPlan {
    RolloutPlan {
        id: id.into(),
        package: "openssl".into(),
        version: "3.0.15-1~deb12u1".into(),
        staging: staging.iter().map(|s| s.to_string()).collect(),
        production: production.iter().map(|s| s.to_string()).collect(),
        previous: staging
            .iter()
            .chain(production)
            .map(|h| (h.to_string(), "3.0.13-1~deb12u1".to_string()))
            .collect(),
        batch: None,
        emergency: None,
        reason: "CVE-2026-0001 (high)".into(),
    }
}

pub fn at(text: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}
