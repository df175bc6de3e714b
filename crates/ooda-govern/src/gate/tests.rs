//! Every refusal path, each showing that the actuator was never called.

use std::collections::HashMap;
use std::sync::Mutex;

use ooda_core::{Action, HostClass, IncidentId, ManualClock};
use ooda_store::SqliteStore;

use super::*;
use crate::audit::{verify, VerifyOptions};
use crate::change::EmbeddedChangeRecords;
use crate::facts::StaticFacts;
use crate::token::ActuatorError;

/// Counts calls; remembers keys so `status` can answer reconciliation.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    fail: bool,
    statuses: Mutex<HashMap<String, ActuatorStatus>>,
}

impl Recorder {
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

impl Actuator for Recorder {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        self.calls
            .lock()
            .unwrap()
            .push(token.idempotency_key().to_owned());
        if self.fail {
            Err(ActuatorError("exit status 1".into()))
        } else {
            Ok(format!("{} done", token.request().kind()))
        }
    }
    fn status(&self, key: &str) -> ActuatorStatus {
        self.statuses
            .lock()
            .unwrap()
            .get(key)
            .cloned()
            .unwrap_or(ActuatorStatus::Unknown)
    }
}

#[derive(Default)]
struct Inbox(Mutex<Vec<Notice>>);

impl Notifier for Inbox {
    fn notify(&self, notice: &Notice) {
        self.0.lock().unwrap().push(notice.clone());
    }
}

impl Inbox {
    fn kinds(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().iter().map(|n| n.kind).collect()
    }
}

struct BrokenFacts;

impl Facts for BrokenFacts {
    fn precondition(&self, _: Precondition, _: &ActionRequest) -> Result<bool, String> {
        Err("probe timed out".into())
    }
    fn maintenance_window_open(&self, _: &str, _: Timestamp) -> Result<bool, String> {
        Err("cmdb down".into())
    }
    fn active_incidents(&self, _: &str) -> Result<u32, String> {
        Err("cmdb down".into())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    actuator: Arc<Recorder>,
    inbox: Arc<Inbox>,
    clock: ManualClock,
    gate: Gate,
}

fn config() -> GovernConfig {
    let mut config = GovernConfig::default();
    // These tests are about what policy, budget and breakers decide: ooda at L4.
    config.autonomy.default = crate::autonomy::Level::Autonomous;
    config.budget.per_incident = 2;
    config.breaker.failures = 2;
    config
        .approvals
        .approvers
        .insert("alice".into(), vec!["sre".into()]);
    config
        .approvals
        .approvers
        .insert("bob".into(), vec!["sre".into()]);
    config
}

fn fixture_with(actuator: Recorder, facts: Arc<dyn Facts>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_ms(1_700_000_000_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let store = Arc::new(SqliteStore::open(&dir.path().join("ooda.sqlite")).unwrap());
    let dyn_store: Arc<dyn Store> = store.clone();
    let audit =
        Arc::new(AuditLog::open(dir.path(), shared.clone(), Some(dyn_store.clone())).unwrap());
    let actuator = Arc::new(actuator);
    let inbox = Arc::new(Inbox::default());
    let gate = Gate::new(GateParts {
        config: config(),
        store: dyn_store.clone(),
        audit,
        policy: Arc::new(PolicyEngine::with_defaults().unwrap()),
        actuator: actuator.clone(),
        facts,
        changes: Arc::new(EmbeddedChangeRecords::new(dyn_store, shared.clone())),
        notifier: inbox.clone(),
        clock: shared,
    });
    Fixture {
        dir,
        store,
        actuator,
        inbox,
        clock,
        gate,
    }
}

fn fixture() -> Fixture {
    fixture_with(Recorder::default(), Arc::new(StaticFacts::all_clear()))
}

fn request(action: Action, class: &str, confidence: f64) -> ActionRequest {
    let mut host = ooda_core::Host::new("h1");
    host.class = HostClass::new(class);
    ActionRequest {
        id: ActionId::new(),
        action,
        host,
        incident: Some(IncidentId::from_u128(1)),
        confidence,
        requested_by: Principal::Agent("incident".into()),
        reason: "nginx is down".into(),
        idempotency_key: None,
        revert: false,
    }
}

fn restart() -> Action {
    Action::RestartService {
        service: "nginx".into(),
    }
}

fn refusal(decision: Decision) -> Refusal {
    match decision {
        Decision::Refused(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn verify_ok(f: &Fixture) {
    let head = f.store.kv_get(crate::audit::HEAD_KEY).unwrap().map(|t| {
        let (s, h) = t.split_once(' ').unwrap();
        (s.parse().unwrap(), h.to_owned())
    });
    let options = VerifyOptions {
        public_key: Some(f.gate.audit().public_key()),
        head,
        checkpoint_every: crate::audit::CHECKPOINT_EVERY,
    };
    verify(f.gate.audit().path(), &options).unwrap();
}

#[test]
fn a_confident_agent_acts_alone_with_intent_outcome_and_change_record() {
    let f = fixture();
    let decision = f.gate.submit(request(restart(), "web", 0.95));
    let Decision::Executed {
        status,
        autonomy,
        change,
        ..
    } = decision
    else {
        panic!("{decision:?}")
    };
    assert_eq!(
        (status, autonomy),
        (OutcomeStatus::Succeeded, Autonomy::Alone)
    );
    assert_eq!(change.unwrap().system, "embedded");
    assert_eq!(f.actuator.calls(), 1);
    let kinds: Vec<_> = f
        .gate
        .audit()
        .read_all()
        .unwrap()
        .iter()
        .map(|r| r.entry.kind())
        .collect();
    assert_eq!(kinds, vec!["intent", "outcome"]);
    assert!(f.inbox.kinds().is_empty(), "acting alone notifies nobody");
    verify_ok(&f);
}

#[test]
fn medium_confidence_acts_and_notifies() {
    let f = fixture();
    let decision = f.gate.submit(request(restart(), "web", 0.7));
    assert!(
        matches!(
            decision,
            Decision::Executed {
                autonomy: Autonomy::Notify,
                ..
            }
        ),
        "{decision:?}"
    );
    assert_eq!(f.inbox.kinds(), vec!["acted"]);
}

#[test]
fn kill_switch_refuses_and_nothing_runs() {
    let f = fixture();
    f.gate.kill_switch().set(true, "alice", "drill").unwrap();
    let r = refusal(f.gate.submit(request(restart(), "web", 0.99)));
    assert_eq!(r.code(), "kill_switch");
    assert!(f.gate.paused());
    assert_eq!(f.actuator.calls(), 0);
    // A second process (another gate on the same data dir) sees it at its next decision.
    let other = fixture();
    drop(other);
    f.gate
        .kill_switch()
        .set(false, "alice", "drill over")
        .unwrap();
    assert!(matches!(
        f.gate.submit(request(restart(), "web", 0.99)),
        Decision::Executed { .. }
    ));
    verify_ok(&f);
}

#[test]
fn the_kill_switch_is_shared_through_the_store() {
    let f = fixture();
    let clock: SharedClock = Arc::new(f.clock.clone());
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&f.dir.path().join("ooda.sqlite")).unwrap());
    let audit = Arc::new(AuditLog::open(f.dir.path(), clock.clone(), None).unwrap());
    let cli = KillSwitch::new(store, audit, clock);
    cli.set(true, "bob", "cli").unwrap();
    assert_eq!(
        refusal(f.gate.submit(request(restart(), "web", 0.99))).code(),
        "kill_switch"
    );
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn policy_deny_refuses_and_nothing_runs() {
    let mut facts = StaticFacts::all_clear();
    facts.holding.remove(&Precondition::ReplicationHealthy);
    let f = fixture_with(Recorder::default(), Arc::new(facts));
    let r = refusal(f.gate.submit(request(restart(), "database", 0.99)));
    let Refusal::Policy { determining, .. } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(determining, &vec!["database.replication-check".to_owned()]);
    assert_eq!(f.actuator.calls(), 0);
    let last = f.gate.audit().read_all().unwrap().pop().unwrap();
    assert!(matches!(last.entry, AuditEntry::Refused { ref refusal, .. } if refusal == "policy"));
}

#[test]
fn budget_refuses_the_third_action_of_an_incident_and_escalates() {
    let f = fixture();
    for _ in 0..2 {
        assert!(matches!(
            f.gate.submit(request(restart(), "web", 0.99)),
            Decision::Executed { .. }
        ));
    }
    let r = refusal(f.gate.submit(request(restart(), "web", 0.99)));
    assert_eq!(r, Refusal::Budget { used: 2, limit: 2 });
    assert_eq!(f.actuator.calls(), 2);
    assert_eq!(f.inbox.kinds(), vec!["escalation"]);
}

#[test]
fn breaker_opens_after_failures_and_refuses() {
    let f = fixture_with(
        Recorder {
            fail: true,
            ..Default::default()
        },
        Arc::new(StaticFacts::all_clear()),
    );
    let mut r = request(restart(), "web", 0.99);
    r.incident = None; // no budget in the way
    for _ in 0..2 {
        let mut again = r.clone();
        again.id = ActionId::new();
        assert!(matches!(
            f.gate.submit(again),
            Decision::Executed {
                status: OutcomeStatus::Failed,
                ..
            }
        ));
    }
    let refused = refusal(f.gate.submit(r));
    assert_eq!(refused.code(), "breaker");
    assert_eq!(f.actuator.calls(), 2);
    assert_eq!(
        f.gate
            .breakers()
            .state(ooda_core::ActionKind::RestartService),
        "open"
    );
}

#[test]
fn low_confidence_parks_and_missing_approval_runs_nothing() {
    let f = fixture();
    let decision = f.gate.submit(request(restart(), "web", 0.3));
    let Decision::Parked { approval, .. } = decision else {
        panic!("{decision:?}")
    };
    assert_eq!(f.inbox.kinds(), vec!["approval_needed"]);
    let r = refusal(f.gate.resume(approval));
    assert_eq!(r.code(), "approval");
    assert!(f.gate.tick().is_empty());
    assert_eq!(f.actuator.calls(), 0);
    f.gate
        .approvals()
        .vote(approval, "alice", true, "go")
        .unwrap();
    let ran = f.gate.tick();
    assert!(
        matches!(
            ran.as_slice(),
            [Decision::Executed {
                status: OutcomeStatus::Succeeded,
                ..
            }]
        ),
        "{ran:?}"
    );
    assert_eq!(f.actuator.calls(), 1);
    assert!(f.gate.tick().is_empty(), "an approval runs once");
    assert_eq!(refusal(f.gate.resume(approval)).code(), "approval");
    assert_eq!(f.actuator.calls(), 1);
    verify_ok(&f);
}

#[test]
fn self_approval_is_refused_and_nothing_runs() {
    let f = fixture();
    let mut r = request(
        Action::KillProcess {
            process: "java".into(),
        },
        "web",
        0.99,
    );
    r.requested_by = Principal::Human("alice".into());
    let Decision::Parked { approval, .. } = f.gate.submit(r) else {
        panic!()
    };
    let err = f
        .gate
        .approvals()
        .vote(approval, "alice", true, "me")
        .unwrap_err();
    assert!(err.to_string().contains("four-eyes"), "{err}");
    assert_eq!(refusal(f.gate.resume(approval)).code(), "approval");
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn expired_approvals_escalate_and_never_run() {
    let f = fixture();
    let Decision::Parked { approval, .. } = f.gate.submit(request(restart(), "web", 0.1)) else {
        panic!()
    };
    f.clock.advance(std::time::Duration::from_secs(3600));
    assert!(f.gate.tick().is_empty());
    assert_eq!(f.inbox.kinds(), vec!["approval_needed", "escalation"]);
    assert!(f
        .gate
        .approvals()
        .vote(approval, "alice", true, "")
        .is_err());
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn a_repeated_idempotency_key_never_runs_twice() {
    let f = fixture();
    let mut r = request(restart(), "web", 0.99);
    r.idempotency_key = Some("runbook-7/step-1".into());
    assert!(matches!(
        f.gate.submit(r.clone()),
        Decision::Executed { .. }
    ));
    r.id = ActionId::new();
    assert_eq!(refusal(f.gate.submit(r)).code(), "duplicate");
    assert_eq!(f.actuator.calls(), 1);
}

#[test]
fn malformed_requests_are_refused_naming_the_field() {
    let f = fixture();
    let r = refusal(f.gate.submit(request(restart(), "web", 1.5)));
    assert!(
        matches!(&r, Refusal::Invalid { field, .. } if field == "confidence"),
        "{r:?}"
    );
    let mut empty = request(restart(), "web", 0.9);
    empty.host.name = " ".into();
    assert!(
        matches!(refusal(f.gate.submit(empty)), Refusal::Invalid { field, .. } if field == "host.name")
    );
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn unmet_hard_preconditions_refuse() {
    let mut facts = StaticFacts::all_clear();
    facts.holding.remove(&Precondition::PathAllowlisted);
    let f = fixture_with(Recorder::default(), Arc::new(facts));
    let r = refusal(
        f.gate
            .submit(request(Action::CleanPath { path: "/".into() }, "web", 0.99)),
    );
    assert_eq!(
        r,
        Refusal::Precondition {
            precondition: Precondition::PathAllowlisted
        }
    );
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn internal_errors_fail_closed() {
    let f = fixture_with(Recorder::default(), Arc::new(BrokenFacts));
    assert_eq!(
        refusal(f.gate.submit(request(restart(), "web", 0.99))).code(),
        "internal"
    );
    assert_eq!(f.actuator.calls(), 0);
}

#[test]
fn reconciliation_asks_the_actuator_and_never_reruns() {
    let f = fixture();
    let mut requests = Vec::new();
    for (key, status) in [
        (
            "k-done",
            ActuatorStatus::Done {
                succeeded: true,
                detail: "ran before the crash".into(),
            },
        ),
        ("k-notrun", ActuatorStatus::NotRun),
        ("k-unknown", ActuatorStatus::Unknown),
    ] {
        let mut r = request(restart(), "web", 0.99);
        r.idempotency_key = Some(key.into());
        f.gate
            .audit()
            .append_intent(AuditEntry::Intent {
                action: r.id,
                key: key.into(),
                request: Box::new(r.clone()),
                autonomy: "alone".into(),
                policies: vec![],
                approval: None,
                change: None,
            })
            .unwrap()
            .unwrap();
        f.actuator
            .statuses
            .lock()
            .unwrap()
            .insert(key.into(), status);
        requests.push(r);
    }
    let reconciled = f.gate.reconcile();
    let statuses: Vec<_> = reconciled.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        statuses,
        vec![
            OutcomeStatus::Succeeded,
            OutcomeStatus::NotRun,
            OutcomeStatus::Unknown
        ]
    );
    assert_eq!(f.actuator.calls(), 0, "reconciliation never executes");
    assert_eq!(f.inbox.kinds(), vec!["escalation"]);
    assert!(f.gate.reconcile().is_empty(), "idempotent");
    // Only the one that never ran may be submitted again.
    assert_eq!(
        refusal(f.gate.submit(requests[0].clone())).code(),
        "duplicate"
    );
    assert_eq!(
        refusal(f.gate.submit(requests[2].clone())).code(),
        "duplicate"
    );
    let again = f.gate.submit(requests[1].clone());
    assert!(matches!(again, Decision::Executed { .. }), "{again:?}");
    assert_eq!(f.actuator.calls(), 1);
    verify_ok(&f);
}

#[test]
fn an_invalid_policy_reload_keeps_the_last_good_set_and_raises_a_self_alert() {
    let f = fixture();
    let dir = f.dir.path().join("policies");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("bad.cedar"),
        "permit (principal, action, resource) when { resource.nope };",
    )
    .unwrap();
    let problems = f.gate.reload_policies(&dir).unwrap_err();
    assert!(problems[0].file.ends_with("bad.cedar"));
    let events = f.store.events_since(0, 10).unwrap();
    assert!(events.iter().any(
        |e| matches!(&e.event.kind, EventKind::SelfAlert { component, .. } if component == "policy")
    ));
    assert!(
        matches!(
            f.gate.submit(request(restart(), "web", 0.99)),
            Decision::Executed { .. }
        ),
        "defaults still decide"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    /// Requests decoded from arbitrary JSON never panic the gate and never run when malformed.
    #[test]
    fn arbitrary_request_json_never_panics(text in ".{0,200}") {
        if let Ok(request) = serde_json::from_str::<ActionRequest>(&text) {
            let f = fixture();
            let _ = f.gate.submit(request);
        }
    }
}

/// The gate is shared by every pillar's tasks; it must be usable across threads.
#[test]
fn the_gate_and_policy_engine_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gate>();
    assert_send_sync::<PolicyEngine>();
    assert_send_sync::<AuditLog>();
}

mod levels {
    //! Autonomy levels at the gate: L1/L2 nothing reaches the actuator, L3 only low-risk actions
    //! do, L4 policy decides; every change of level is audited.

    use super::*;
    use crate::autonomy::{Level, Setting};
    use ooda_core::ActionKind;

    fn at(level: Level) -> Fixture {
        let f = fixture();
        f.gate
            .autonomy()
            .set(
                Setting {
                    action: None,
                    class: None,
                    level,
                },
                "alice",
                "test",
            )
            .unwrap();
        f
    }

    /// One of every action type, confident, on a web host where every precondition holds.
    fn every_action() -> Vec<Action> {
        vec![
            restart(),
            Action::RotateLogs {
                service: "nginx".into(),
            },
            Action::CleanPath {
                path: "/var/tmp/scratch".into(),
            },
            Action::KillProcess {
                process: "runaway".into(),
            },
            Action::Scale {
                service: "api".into(),
                replicas: 4,
            },
            Action::Reboot {},
        ]
    }

    #[test]
    fn at_l1_and_l2_no_action_reaches_the_actuator() {
        for level in [Level::Observe, Level::Notify] {
            let f = at(level);
            for action in every_action() {
                let r = refusal(f.gate.submit(request(action, "web", 0.99)));
                assert_eq!(r.code(), "autonomy", "{level}: {r}");
            }
            assert_eq!(f.actuator.calls(), 0, "{level}");
            assert!(
                f.gate.approvals().list().unwrap().is_empty(),
                "nothing parked"
            );
            let kinds: Vec<&str> = f.inbox.0.lock().unwrap().iter().map(|n| n.kind).collect();
            assert!(kinds.iter().all(|k| *k == "recommendation"), "{kinds:?}");
            verify_ok(&f);
        }
    }

    #[test]
    fn at_l3_only_low_risk_actions_run_alone() {
        let f = at(Level::Assisted);
        let mut executed = Vec::new();
        let mut parked = Vec::new();
        for action in every_action() {
            let kind = action.kind();
            // Outside an incident, so the per-incident budget does not stop the third.
            let mut r = request(action, "web", 0.99);
            r.incident = None;
            match f.gate.submit(r) {
                Decision::Executed { .. } => executed.push(kind),
                Decision::Parked { .. } => parked.push(kind),
                other => panic!("{kind}: {other:?}"),
            }
        }
        assert_eq!(
            executed,
            vec![
                ActionKind::RestartService,
                ActionKind::RotateLogs,
                ActionKind::CleanPath
            ]
        );
        assert_eq!(
            parked,
            vec![
                ActionKind::KillProcess,
                ActionKind::Scale,
                ActionKind::Reboot
            ]
        );
        assert_eq!(f.actuator.calls(), 3);
        // The parked scale runs once approved (policy then has its say).
        let (scale, _) = f
            .gate
            .approvals()
            .list()
            .unwrap()
            .into_iter()
            .find(|(a, _)| a.request.kind() == ActionKind::Scale)
            .unwrap();
        f.gate
            .approvals()
            .vote(scale.id, "alice", true, "ok")
            .unwrap();
        assert!(matches!(f.gate.resume(scale.id), Decision::Executed { .. }));
        assert_eq!(f.actuator.calls(), 4);
    }

    #[test]
    fn at_l4_policy_decides() {
        let f = at(Level::Autonomous);
        // Confident restart: alone. Kill a process: destructive, policy parks it. Low
        // confidence: policy escalates.
        assert!(matches!(
            f.gate.submit(request(restart(), "web", 0.99)),
            Decision::Executed { .. }
        ));
        let kill = Action::KillProcess {
            process: "x".into(),
        };
        assert!(matches!(
            f.gate.submit(request(kill, "web", 0.99)),
            Decision::Parked { .. }
        ));
        assert!(matches!(
            f.gate.submit(request(
                Action::Scale {
                    service: "api".into(),
                    replicas: 2
                },
                "web",
                0.3
            )),
            Decision::Parked { .. }
        ));
        assert_eq!(f.actuator.calls(), 1);
    }

    #[test]
    fn the_level_is_per_action_type_and_class_and_lowering_it_stops_approved_actions() {
        let f = at(Level::Notify);
        f.gate
            .autonomy()
            .set(
                Setting {
                    action: Some(ActionKind::RestartService),
                    class: Some("web".into()),
                    level: Level::Autonomous,
                },
                "alice",
                "restarts on web proved safe",
            )
            .unwrap();
        assert!(matches!(
            f.gate.submit(request(restart(), "web", 0.99)),
            Decision::Executed { .. }
        ));
        assert_eq!(
            refusal(f.gate.submit(request(restart(), "cache", 0.99))).code(),
            "autonomy"
        );
        // An approval granted at L3 is refused if the level drops to L2 before it runs.
        f.gate
            .autonomy()
            .set(
                Setting {
                    action: None,
                    class: None,
                    level: Level::Assisted,
                },
                "alice",
                "trial",
            )
            .unwrap();
        let Decision::Parked { approval, .. } =
            f.gate.submit(request(Action::Reboot {}, "cache", 0.99))
        else {
            panic!("parked at L3")
        };
        f.gate
            .approvals()
            .vote(approval, "bob", true, "ok")
            .unwrap();
        f.gate
            .autonomy()
            .set(
                Setting {
                    action: None,
                    class: None,
                    level: Level::Notify,
                },
                "alice",
                "incident review",
            )
            .unwrap();
        assert_eq!(refusal(f.gate.resume(approval)).code(), "autonomy");
        assert_eq!(f.actuator.calls(), 1);
        // Every change is on the hash chain with who, why and what it replaced.
        let changes: Vec<(String, String, String)> = f
            .gate
            .audit()
            .read_all()
            .unwrap()
            .into_iter()
            .filter_map(|r| match r.entry {
                AuditEntry::AutonomySet {
                    previous,
                    level,
                    reason,
                    ..
                } => Some((previous, level, reason)),
                _ => None,
            })
            .collect();
        assert_eq!(changes.len(), 4, "{changes:?}");
        assert_eq!(
            changes[1],
            (
                "L2".into(),
                "L4".into(),
                "restarts on web proved safe".into()
            )
        );
        verify_ok(&f);
    }
}
