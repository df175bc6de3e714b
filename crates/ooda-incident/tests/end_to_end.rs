//! The must-show scenarios, end to end in one process on virtual time: a real SQLite store, the
//! real Gate (Cedar policy, budget, kill switch, hash-chained audit log) and the real local
//! actuator acting on a sandbox directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ooda_bus::{MemoryBus, Subscription};
use ooda_core::{
    ActionKind, Alert, AlertId, AlertKind, AlertState, Anomaly, Clock, Event, EventKind, Labels,
    ManualClock, SeriesKey, Severity, SharedClock,
};
use ooda_govern::audit::{verify, VerifyOptions, CHECKPOINT_EVERY, HEAD_KEY};
use ooda_govern::autonomy::Level;
use ooda_govern::gate::GateParts;
use ooda_govern::{
    AuditLog, EmbeddedChangeRecords, Gate, GovernConfig, LogNotifier, PolicyEngine, StaticFacts,
};
use ooda_incident::actuator::{CommandSpec, LocalActuator, LocalConfig};
use ooda_incident::evidence::{
    CmdbRecord, DeployFileProbe, HostFacts, LogFileProbe, MetricReading, Observation, PathFact,
    Probe, ProbeFuture, ProbeQuery, ServiceHealth, StaticProbe,
};
use ooda_incident::postmortem::IncidentResult;
use ooda_incident::reasoner::{BuiltinReasoner, Report};
use ooda_incident::register::Register;
use ooda_incident::responder::{
    Notification, Notify, Responder, ResponderConfig, ResponderParts, SignalSource,
};
use ooda_incident::runbook::{library, parse, Runbook};
use ooda_incident::{Catalogue, Incident, IncidentState};
use ooda_store::{SqliteStore, Store};

const QUOTA: u64 = 100_000;

/// Disk usage of the sandbox scratch directory against a quota: the "filling disk".
struct Sandbox {
    scratch: PathBuf,
}

impl Sandbox {
    fn readings(&self) -> Vec<MetricReading> {
        let used: u64 = std::fs::read_dir(&self.scratch)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        // What the metrics backend says about the fill rate (percent per hour), when the
        // scenario has one: `rate(disk_used[1h])` in a real deployment.
        let fill_rate = self
            .scratch
            .parent()
            .and_then(|root| std::fs::read_to_string(root.join("fill_rate")).ok())
            .and_then(|text| text.trim().parse::<f64>().ok());
        let mut readings = vec![
            MetricReading {
                metric: "disk_used_pct".into(),
                value: used as f64 * 100.0 / QUOTA as f64,
                low: 0.0,
                high: 85.0,
            },
            MetricReading {
                metric: "inodes_used_pct".into(),
                value: 3.0,
                low: 0.0,
                high: 85.0,
            },
        ];
        if let Some(rate) = fill_rate {
            readings.push(MetricReading {
                metric: "disk_fill_rate_pct_per_hour".into(),
                value: rate,
                low: f64::MIN,
                high: 0.5,
            });
        }
        readings
    }
}

impl SignalSource for Sandbox {
    fn readings(&self, _: &Incident) -> Result<Vec<MetricReading>, String> {
        Ok(Sandbox::readings(self))
    }
}

impl Probe for Sandbox {
    fn name(&self) -> &str {
        "metrics"
    }
    fn probe<'a>(&'a self, _: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            Ok(Observation::Metrics {
                readings: self.readings(),
            })
        })
    }
}

/// The sandbox host's own report: its clean-up directory and what it holds (what the live
/// agent reads from its allowlist and the filesystem; runbook targets come from here).
struct SandboxHost {
    scratch: PathBuf,
}

impl Probe for SandboxHost {
    fn name(&self) -> &str {
        "host"
    }
    fn probe<'a>(&'a self, _: &'a ProbeQuery) -> ProbeFuture<'a> {
        Box::pin(async move {
            let bytes = std::fs::read_dir(&self.scratch)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .filter_map(|e| e.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0);
            Ok(Observation::Host {
                facts: HostFacts {
                    processes: vec![],
                    cleanable: vec![PathFact {
                        path: self.scratch.display().to_string(),
                        mount: "/".into(),
                        bytes,
                    }],
                },
            })
        })
    }
}

#[derive(Default)]
struct Inbox(Mutex<Vec<Notification>>);

impl Notify for Inbox {
    fn notify(&self, n: &Notification) {
        self.0.lock().unwrap().push(n.clone());
    }
}

impl Inbox {
    fn kinds(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.kind.clone())
            .collect()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    scratch: PathBuf,
    clock: ManualClock,
    store: Arc<dyn Store>,
    gate: Arc<Gate>,
    responder: Responder,
    inbox: Arc<Inbox>,
}

/// The scenarios are about what ooda does when it may act: L4 unless a test says otherwise.
fn fixture(budget: u64, runbook_override: Option<Runbook>) -> Fixture {
    fixture_at(Level::Autonomous, budget, runbook_override)
}

fn fixture_at(level: Level, budget: u64, runbook_override: Option<Runbook>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let scratch = root.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(root.join("deploys.jsonl"), "").unwrap();
    std::fs::write(root.join("app.log"), "started\n").unwrap();
    let clock = ManualClock::at_ms(1_780_000_000_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&root.join("ooda.sqlite")).unwrap());
    let audit =
        Arc::new(AuditLog::open(&root.join("audit"), shared.clone(), Some(store.clone())).unwrap());
    let mut config = GovernConfig::default();
    config.autonomy.default = level;
    config.budget.per_incident = budget;
    config
        .approvals
        .approvers
        .insert("alice".into(), vec!["sre".into()]);
    let mut local = LocalConfig {
        clean_allowlist: vec![scratch.clone()],
        timeout: Duration::from_secs(30),
        ..LocalConfig::default()
    };
    local.commands.extend([
        CommandSpec {
            kind: ActionKind::RotateLogs,
            argv: vec!["echo".into(), "rotated".into(), "{service}".into()],
        },
        CommandSpec {
            kind: ActionKind::RestartService,
            argv: vec!["echo".into(), "restarted".into(), "{service}".into()],
        },
        // Scaling is the step that fails in the rollback scenario.
        CommandSpec {
            kind: ActionKind::Scale,
            argv: vec!["false".into()],
        },
    ]);
    let gate = Arc::new(Gate::new(GateParts {
        config,
        store: store.clone(),
        audit,
        policy: Arc::new(PolicyEngine::with_defaults().unwrap()),
        actuator: Arc::new(LocalActuator::new(local)),
        facts: Arc::new(StaticFacts::all_clear()),
        changes: Arc::new(EmbeddedChangeRecords::new(store.clone(), shared.clone())),
        notifier: Arc::new(LogNotifier),
        clock: shared.clone(),
    }));
    let sandbox = Arc::new(Sandbox {
        scratch: scratch.clone(),
    });
    let probes: Vec<Arc<dyn Probe>> = vec![
        sandbox.clone(),
        Arc::new(SandboxHost {
            scratch: scratch.clone(),
        }),
        Arc::new(LogFileProbe {
            path: root.join("app.log"),
            max_templates: 20,
        }),
        Arc::new(DeployFileProbe {
            path: root.join("deploys.jsonl"),
        }),
        Arc::new(StaticProbe::new(
            "cmdb",
            Observation::Cmdb {
                record: CmdbRecord {
                    host: "sandbox-1".into(),
                    class: "web".into(),
                    environment: "prod".into(),
                    services: vec!["app".into()],
                    owner: "sre".into(),
                },
            },
        )),
        Arc::new(StaticProbe::new(
            "topology",
            Observation::Topology {
                upstream: vec![ServiceHealth {
                    service: "db".into(),
                    healthy: true,
                }],
                downstream: vec![],
            },
        )),
    ];
    let mut runbooks = library::shipped().unwrap();
    if let Some(custom) = runbook_override {
        runbooks.retain(|r| r.id != custom.id);
        runbooks.push(custom);
    }
    let catalogue = Catalogue::embedded().unwrap();
    let inbox = Arc::new(Inbox::default());
    let responder = Responder::new(ResponderParts {
        register: Register::new(store.clone(), shared.clone()),
        catalogue: catalogue.clone(),
        runbooks,
        reasoner: Arc::new(BuiltinReasoner::new(catalogue)),
        index: ooda_incident::triage::default_index().unwrap(),
        probes,
        gate: gate.clone(),
        facts: Arc::new(StaticFacts::all_clear()),
        signals: sandbox,
        notifier: inbox.clone(),
        clock: shared,
        config: ResponderConfig::default(),
    })
    .unwrap();
    Fixture {
        _dir: dir,
        root,
        scratch,
        clock,
        store,
        gate,
        responder,
        inbox,
    }
}

fn fill_disk(f: &Fixture, percent: u64) {
    for i in 0..percent {
        std::fs::write(
            f.scratch.join(format!("chunk-{i}.bin")),
            vec![0u8; (QUOTA / 100) as usize],
        )
        .unwrap();
    }
    let mut log = String::from("started\n");
    for i in 0..5 {
        log.push_str(&format!("ERROR write {i}: No space left on device\n"));
    }
    std::fs::write(f.root.join("app.log"), log).unwrap();
}

fn disk_alert(f: &Fixture, value: f64, metric: &str, summary: &str) -> Alert {
    let now = f.clock.now();
    // Labels from outside are evidence, never targets: a path here must change nothing.
    let labels: BTreeMap<String, String> = [
        ("service".to_owned(), "sshd".to_owned()),
        ("clean_path".to_owned(), "/etc".to_owned()),
        ("replicas".to_owned(), "3".to_owned()),
    ]
    .into();
    Alert {
        id: AlertId::new(),
        fingerprint: "sandbox-disk".into(),
        host: Some("sandbox-1".into()),
        kind: AlertKind::Threshold,
        severity: Severity::Warning,
        state: AlertState::Firing,
        summary: summary.into(),
        probable_cause: None,
        members: vec![Anomaly {
            series: SeriesKey::new(metric, Labels::new().with("host", "sandbox-1")),
            time: now,
            value,
            expected: 85.0,
            score: value / 85.0,
            severity: Severity::Warning,
            kind: AlertKind::Threshold,
            explanation: format!("{metric} {value} above 85"),
            forecast: None,
        }],
        labels,
        opened_at: now,
        updated_at: now,
        enrichment: vec![],
    }
}

/// Alert → bus → responder, as the agent wires it.
async fn deliver(f: &Fixture, alert: Alert) -> ooda_core::IncidentId {
    let bus = MemoryBus::new(Arc::new(f.clock.clone()));
    let mut sub = bus.subscribe_now("incident", "test").unwrap();
    let event = Event::new(
        f.clock.now(),
        "monitor",
        EventKind::AlertOpened(Box::new(alert)),
    );
    bus.publish_now(event).unwrap();
    let delivery = sub.try_next().expect("the alert is on the bus");
    let id = f
        .responder
        .handle_event(&delivery.event)
        .await
        .unwrap()
        .expect("an incident");
    // Redelivery is harmless: the consumer is idempotent.
    assert_eq!(
        f.responder.handle_event(&delivery.event).await.unwrap(),
        None
    );
    sub.ack_now(&delivery);
    id
}

fn audit_verifies(f: &Fixture) -> Vec<String> {
    let head = f.store.kv_get(HEAD_KEY).unwrap().map(|t| {
        let (s, h) = t.split_once(' ').unwrap();
        (s.parse().unwrap(), h.to_owned())
    });
    let options = VerifyOptions {
        public_key: Some(f.gate.audit().public_key()),
        head,
        checkpoint_every: CHECKPOINT_EVERY,
    };
    verify(f.gate.audit().path(), &options).expect("audit chain verifies");
    f.gate
        .audit()
        .read_all()
        .unwrap()
        .iter()
        .map(|r| r.entry.kind().to_owned())
        .collect()
}

fn state(f: &Fixture, id: ooda_core::IncidentId) -> IncidentState {
    f.responder.register.get(id).unwrap().state
}

#[tokio::test]
async fn a_filling_disk_is_cleaned_through_the_gate_verified_and_closed() {
    let f = fixture(8, None);
    fill_disk(&f, 95);
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;

    let report: Report = f.responder.register.doc(id, "report").unwrap().unwrap();
    assert_eq!(report.root_cause.as_deref(), Some("disk_full"));
    assert!(report.confidence > 0.85, "confidence {}", report.confidence);
    // Cleaning the allowlisted scratch path is not destructive (the operator declared it
    // disposable; anything off the allowlist is refused): above 0.85 it runs alone at L4.
    assert_eq!(state(&f, id), IncidentState::Verifying);
    assert!(
        f.gate.approvals().list().unwrap().is_empty(),
        "no human needed"
    );
    assert_eq!(
        std::fs::read_dir(&f.scratch).unwrap().count(),
        0,
        "the local actuator cleaned it"
    );

    // Verification on virtual time: ten one-minute looks in band.
    let mut changed = vec![];
    for _ in 0..10 {
        f.clock.advance(Duration::from_secs(60));
        changed = f.responder.tick().unwrap();
    }
    assert_eq!(changed, vec![(id, IncidentState::Closed)]);
    let result: IncidentResult = f.responder.register.doc(id, "result").unwrap().unwrap();
    assert_eq!(result.status, "closed");
    assert_eq!(result.root_cause.as_deref(), Some("disk_full"));
    assert!(result.post_mortem.contains("# Incident"));
    assert!(result.post_mortem.contains("clean_path"));
    assert!(!result.evidence.is_empty());
    assert_eq!(
        f.responder
            .register
            .runbook_stats("disk_full")
            .unwrap()
            .resolved,
        1
    );
    assert_eq!(f.responder.register.history().unwrap().len(), 1, "learned");
    let audit = audit_verifies(&f);
    assert!(audit.iter().any(|k| k == "intent"), "{audit:?}");
    assert!(audit.iter().any(|k| k == "outcome"), "{audit:?}");
    assert!(f.inbox.kinds().contains(&"resolved".to_owned()));
    // `OODA_E2E_KEEP=1` keeps the data directory for a look with `ooda --data-dir … incidents`.
    if std::env::var_os("OODA_E2E_KEEP").is_some() {
        let Fixture { _dir: dir, .. } = f;
        eprintln!("kept data directory {}", dir.keep().display());
    }
}

#[tokio::test]
async fn low_confidence_escalates_with_the_report_and_takes_no_action() {
    let f = fixture(8, None);
    // A latency alert with nothing else to go on.
    let id = deliver(
        &f,
        disk_alert(
            &f,
            3.0,
            "request_latency_seconds",
            "slow responses on sandbox-1",
        ),
    )
    .await;
    let report: Report = f.responder.register.doc(id, "report").unwrap().unwrap();
    assert!(report.confidence < 0.65, "confidence {}", report.confidence);
    // Below the band, it first waits for the evidence to develop: the on-call hears at once
    // that ooda is still looking, then it looks again every 5 minutes, three times.
    assert_eq!(state(&f, id), IncidentState::Investigating);
    assert_eq!(f.inbox.kinds(), vec!["investigating".to_owned()]);
    assert!(
        f.responder.relook().await.unwrap().is_empty(),
        "not due yet"
    );
    for look in 1..=3 {
        f.clock.advance(Duration::from_secs(5 * 60));
        let changed = f.responder.relook().await.unwrap();
        if look < 3 {
            assert!(changed.is_empty(), "look {look}: {changed:?}");
            assert_eq!(state(&f, id), IncidentState::Investigating);
        } else {
            assert_eq!(changed, vec![(id, IncidentState::Escalated)]);
        }
    }
    assert_eq!(state(&f, id), IncidentState::Escalated);
    let result: IncidentResult = f.responder.register.doc(id, "result").unwrap().unwrap();
    assert!(result.actions_taken.is_empty());
    assert!(
        !result.hypotheses.is_empty(),
        "the report carries the hypotheses"
    );
    let audit = audit_verifies(&f);
    assert!(
        !audit.iter().any(|k| k == "intent"),
        "no action reached the gate: {audit:?}"
    );
    let text = &f.inbox.0.lock().unwrap()[1].text;
    assert!(
        text.contains("below 0.65 after 4 looks") && text.contains("## Hypotheses"),
        "{text}"
    );
}

/// A runbook of autonomous (non-destructive) steps: the budget counts autonomous actions only;
/// an action a human approved is the human's.
fn rotate_only() -> Runbook {
    parse(
        "disk_full.toml",
        r#"
id = "disk_full"
title = "test: rotate logs"
cause = "disk_full"
[[step]]
id = "rotate"
action = { type = "rotate_logs", service = "${service}" }
preconditions = []
timeout_secs = 30
expect = { output_contains = "rotated app" }
verify = { signal = "metric.disk_used.high" }
rollback = { type = "none", reason = "nothing to undo" }
"#,
    )
    .unwrap()
}

#[tokio::test]
async fn an_exhausted_budget_escalates() {
    let f = fixture(0, Some(rotate_only()));
    fill_disk(&f, 95);
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;
    assert_eq!(state(&f, id), IncidentState::Escalated);
    let result: IncidentResult = f.responder.register.doc(id, "result").unwrap().unwrap();
    assert!(
        result.post_mortem.contains("budget"),
        "{}",
        result.post_mortem
    );
    let audit = audit_verifies(&f);
    assert!(!audit.iter().any(|k| k == "intent"), "{audit:?}");

    // The same runbook with budget left runs alone (confidence above 0.85, not destructive).
    let f = fixture(8, Some(rotate_only()));
    fill_disk(&f, 95);
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;
    assert_eq!(state(&f, id), IncidentState::Verifying);
    assert!(
        f.gate.approvals().list().unwrap().is_empty(),
        "no human needed"
    );
}

#[tokio::test]
async fn kill_switch_on_pauses_and_off_resumes() {
    let f = fixture(8, None);
    fill_disk(&f, 95);
    f.gate
        .kill_switch()
        .set(true, "alice", "change freeze")
        .unwrap();
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;
    assert_eq!(state(&f, id), IncidentState::Paused);
    assert!(
        f.gate.approvals().list().unwrap().is_empty(),
        "nothing was even submitted"
    );
    // Still on: resume does nothing.
    assert_eq!(f.responder.resume(id).unwrap(), IncidentState::Paused);
    f.gate
        .kill_switch()
        .set(false, "alice", "freeze over")
        .unwrap();
    assert_eq!(
        f.responder.resume(id).unwrap(),
        IncidentState::Verifying,
        "resumed and cleaned"
    );
    assert_eq!(std::fs::read_dir(&f.scratch).unwrap().count(), 0);
    audit_verifies(&f);
}

#[tokio::test]
async fn a_failing_second_step_stops_rolls_back_the_first_and_escalates() {
    let runbook = parse(
        "disk_full.toml",
        r#"
id = "disk_full"
title = "test: restart, then scale (which fails)"
cause = "disk_full"
[[step]]
id = "restart"
action = { type = "restart_service", service = "${service}" }
preconditions = []
timeout_secs = 30
expect = { output_contains = "restarted" }
verify = { signal = "metric.disk_used.high" }
rollback = { type = "rotate_logs", service = "${service}" }
[[step]]
id = "scale"
action = { type = "scale", service = "${service}", replicas = 3 }
preconditions = []
timeout_secs = 30
expect = {}
verify = { signal = "metric.disk_used.high" }
rollback = { type = "none", reason = "nothing to undo" }
[[step]]
id = "never"
action = { type = "rotate_logs", service = "${service}" }
preconditions = []
timeout_secs = 30
expect = {}
verify = { signal = "metric.disk_used.high" }
rollback = { type = "none", reason = "nothing to undo" }
"#,
    )
    .unwrap();
    let f = fixture(8, Some(runbook));
    fill_disk(&f, 95);
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;
    // Step one ran; its signal is watched before step two is tried.
    assert_eq!(state(&f, id), IncidentState::Verifying);
    for _ in 0..20 {
        f.clock.advance(Duration::from_secs(60));
        f.responder.tick().unwrap();
        if state(&f, id) != IncidentState::Verifying {
            break;
        }
    }
    assert_eq!(state(&f, id), IncidentState::Escalated);
    let result: IncidentResult = f.responder.register.doc(id, "result").unwrap().unwrap();
    let steps: Vec<(String, bool)> = result
        .actions_taken
        .iter()
        .map(|a| (a.step.clone(), a.rollback))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("restart".into(), false),
            ("scale".into(), false),
            ("restart".into(), true)
        ],
        "stopped at the failure, rolled back step one, never ran step three"
    );
    assert!(matches!(
        result.actions_taken[2].answer,
        ooda_incident::gate::GateAnswer::Succeeded { .. }
    ));
    assert_eq!(
        f.responder
            .register
            .runbook_stats("disk_full")
            .unwrap()
            .escalated,
        1
    );
    let audit = audit_verifies(&f);
    assert_eq!(
        audit.iter().filter(|k| *k == "intent").count(),
        3,
        "{audit:?}"
    );
}

#[tokio::test]
async fn garbage_and_hostless_alerts_never_act() {
    let f = fixture(8, None);
    fill_disk(&f, 95);
    std::fs::write(f.root.join("deploys.jsonl"), "not json\n").unwrap();
    let mut alert = disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95%");
    alert.host = None;
    let id = f.responder.handle_alert(&alert).await.unwrap();
    assert_eq!(state(&f, id), IncidentState::Escalated);
    let gaps: Vec<ooda_incident::evidence::Gap> =
        f.responder.register.doc(id, "gaps").unwrap().unwrap();
    assert!(gaps.iter().any(|g| g.probe == "deploys"), "{gaps:?}");
    let mut empty = disk_alert(&f, 1.0, "x", " ");
    empty.members.clear();
    assert!(f.responder.handle_alert(&empty).await.is_err());
    let audit = audit_verifies(&f);
    assert!(!audit.iter().any(|k| k == "intent"));
}

#[tokio::test]
async fn at_the_shipped_l2_the_disk_alert_is_a_recommendation_and_nothing_runs() {
    let f = fixture_at(Level::Notify, 8, None);
    fill_disk(&f, 95);
    let id = deliver(
        &f,
        disk_alert(&f, 95.0, "disk_used_pct", "disk_used_pct 95% on sandbox-1"),
    )
    .await;
    let report: Report = f.responder.register.doc(id, "report").unwrap().unwrap();
    assert_eq!(report.root_cause.as_deref(), Some("disk_full"));
    assert_eq!(
        std::fs::read_dir(&f.scratch).unwrap().count(),
        95,
        "nothing was deleted"
    );
    assert!(f.gate.approvals().list().unwrap().is_empty());
    let audit = audit_verifies(&f);
    assert!(
        !audit.iter().any(|k| k == "intent"),
        "no action reached the actuator: {audit:?}"
    );
    let refusals: Vec<String> = f
        .gate
        .audit()
        .read_all()
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.entry {
            ooda_govern::AuditEntry::Refused { refusal, .. } => Some(refusal),
            _ => None,
        })
        .collect();
    assert!(
        !refusals.is_empty() && refusals.iter().all(|r| r == "autonomy"),
        "{refusals:?}"
    );
    assert_ne!(state(&f, id), IncidentState::Verifying);
}

/// The monitoring engine's forecast, driven by a filesystem filling at a steady rate with a daily
/// swing: its forecast alert goes through the bus to the responder, whose disk runbook cleans the
/// allowlisted path through the gate (L4) hours before the disk would have been full.
#[tokio::test]
async fn a_forecast_alert_gets_the_disk_cleaned_before_it_saturates() {
    use ooda_monitor::fusion::FusionEvent;
    use ooda_monitor::{Fusion, HostMonitor, MemoryDedup, MonitorConfig};

    const STEP: i64 = 300_000;
    let usage = |t: i64| {
        let hours = t as f64 / 3_600_000.0;
        let swing = 1.5 * (hours / 24.0 * std::f64::consts::TAU).sin();
        let noise = ((t / STEP * 7919) % 11) as f64 / 10.0 - 0.5;
        40.0 + 1.0 * hours + swing + noise
    };
    let truth = (0..)
        .map(|i| i * STEP)
        .find(|t| usage(*t) >= 100.0)
        .expect("saturates");
    let config = MonitorConfig::default();
    let mut monitor = HostMonitor::new("sandbox-1", vec!["disk_used_pct".into()], &config);
    let mut fusion = Fusion::new(&config);
    let dedup = MemoryDedup::new();
    let mut forecast = None;
    let mut t = 0;
    while t < truth && forecast.is_none() {
        let verdict = monitor.observe_row(t, &[Some(usage(t))]);
        let anomalies = monitor.anomalies(t, &verdict);
        for event in fusion.ingest(t, anomalies, &dedup).unwrap() {
            if let FusionEvent::Opened(alert) = event {
                if alert.kind == AlertKind::Forecast {
                    forecast = Some((t, alert));
                }
            }
        }
        t += STEP;
    }
    let (fired_at, mut alert) = forecast.expect("a forecast alert before saturation");
    let lead_hours = (truth - fired_at) as f64 / 3_600_000.0;
    assert!(lead_hours >= 3.0, "only {lead_hours:.1} h ahead");
    let saturation = alert
        .forecast()
        .and_then(|f| f.saturation.clone())
        .expect("the predicted time and band");
    let true_time = ooda_core::clock::from_millis(truth);
    assert!(
        saturation.earliest <= true_time && true_time <= saturation.latest,
        "band {} .. {} misses {true_time}",
        saturation.earliest,
        saturation.latest
    );

    // The sandbox disk at the forecast's moment; the labels the agent's enrichment would add.
    let f = fixture(8, None);
    let used = usage(fired_at).round() as u64;
    for i in 0..used {
        std::fs::write(
            f.scratch.join(format!("chunk-{i}.bin")),
            vec![0u8; (QUOTA / 100) as usize],
        )
        .unwrap();
    }
    // No fill rate from the metrics probe here: the forecast member's own trend is the evidence
    // that the disk is filling (it used to take the probe's rate to reach the act band).
    alert.labels.extend([
        ("service".to_owned(), "app".to_owned()),
        ("clean_path".to_owned(), f.scratch.display().to_string()),
    ]);
    let id = deliver(&f, alert).await;
    let report: Report = f.responder.register.doc(id, "report").unwrap().unwrap();
    assert_eq!(
        report.root_cause.as_deref(),
        Some("disk_full"),
        "{report:?}"
    );
    let why = || {
        let result: Option<IncidentResult> = f.responder.register.doc(id, "result").unwrap();
        format!(
            "confidence {:.2}, used {used} %: {}",
            report.confidence,
            result.map(|r| r.post_mortem).unwrap_or_default()
        )
    };
    assert_eq!(state(&f, id), IncidentState::Verifying, "{}", why());
    assert_eq!(
        std::fs::read_dir(&f.scratch).unwrap().count(),
        0,
        "cleaned {lead_hours:.1} h before saturation"
    );
    assert!(f.gate.approvals().list().unwrap().is_empty());
    // The writer's scratch data is gone and it stopped.
    let mut changed = vec![];
    for _ in 0..10 {
        f.clock.advance(Duration::from_secs(60));
        changed = f.responder.tick().unwrap();
    }
    assert_eq!(changed, vec![(id, IncidentState::Closed)]);
    audit_verifies(&f);
}
