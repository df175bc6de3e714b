//! Property tests over random event sequences (time passing, incidents opening and closing,
//! health checks failing, patches failing, humans pausing and resuming): never two production
//! hosts in flight when the batch is 1 (never more than the batch), never outside a window, never
//! on a host with an active incident, never a new patch after a failed validation.

mod rollout_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ooda_core::{Action, ActionRequest, ChangeRef, Clock, ManualClock, SharedClock};
use ooda_govern::{Decision, Notice, Notifier, OutcomeStatus, Refusal};
use ooda_patch::rollout::{
    ActionGate, ApprovalProgress, Fleet, KeyProgress, NoEvents, RolloutConfig, RolloutEngine,
    RolloutParts, RolloutStore, Stage, Wave,
};
use ooda_store::{SqliteStore, Store};
use proptest::prelude::*;
use rollout_support::*;

const NEW: &str = "3.0.15-1~deb12u1";

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Incident(usize, u32),
    Problem(usize),
    Heal(usize),
    FailNextPatch,
    Pause,
    Resume,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (5u64..360).prop_map(Op::Advance),
        1 => (0usize..5, 0u32..2).prop_map(|(h, n)| Op::Incident(h, n)),
        1 => (0usize..5).prop_map(Op::Problem),
        1 => (0usize..5).prop_map(Op::Heal),
        1 => Just(Op::FailNextPatch),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Patch { host: String, version: String },
    Halted,
}

/// A gate double that checks the invariants at the moment of each submission.
struct CheckingGate {
    fleet: Arc<TestFleet>,
    clock: SharedClock,
    rollouts: RolloutStore,
    batch: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
    done: Mutex<BTreeMap<String, OutcomeStatus>>,
    fail_next: Mutex<bool>,
    violations: Mutex<Vec<String>>,
}

impl ActionGate for CheckingGate {
    fn submit(&self, request: ActionRequest) -> Decision {
        let key = request.effective_idempotency_key();
        if let Some(status) = self.done.lock().unwrap().get(&key) {
            return Decision::Refused(Refusal::Duplicate {
                key,
                state: status.as_str().into(),
            });
        }
        let now = self.clock.now();
        let host = request.host.name.clone();
        let mut violations = Vec::new();
        if let Action::ApplyPatch { version, .. } = &request.action {
            if version == NEW {
                if !self.fleet.window_open(&request.host, now).unwrap() {
                    violations.push(format!("{host} patched outside its window at {now}"));
                }
                if self.fleet.active_incidents(&host).unwrap() > 0 {
                    violations.push(format!("{host} patched with an open incident"));
                }
                let r = self.rollouts.get("prop").unwrap();
                if r.in_flight(Wave::Production) > self.batch {
                    violations.push(format!(
                        "{} production hosts in flight",
                        r.in_flight(Wave::Production)
                    ));
                }
                let seen = self.seen.lock().unwrap();
                if seen.contains(&Seen::Halted) {
                    violations.push(format!("{host} patched after the rollout halted"));
                }
                if seen.contains(&Seen::Patch {
                    host: host.clone(),
                    version: version.clone(),
                }) {
                    violations.push(format!("{host} patched twice"));
                }
            }
            self.seen.lock().unwrap().push(Seen::Patch {
                host: host.clone(),
                version: version.clone(),
            });
        }
        self.violations.lock().unwrap().extend(violations);
        let failed = std::mem::take(&mut *self.fail_next.lock().unwrap());
        let status = if failed {
            OutcomeStatus::Failed
        } else {
            OutcomeStatus::Succeeded
        };
        self.done.lock().unwrap().insert(key, status);
        Decision::Executed {
            action: request.id,
            autonomy: ooda_govern::Autonomy::Alone,
            status,
            detail: "checked".into(),
            change: Some(ChangeRef {
                system: "test".into(),
                id: "1".into(),
                number: "T-1".into(),
            }),
        }
    }
    fn key_progress(&self, key: &str) -> KeyProgress {
        match self.done.lock().unwrap().get(key) {
            Some(status) => KeyProgress::Done(*status),
            None => KeyProgress::NeverRan,
        }
    }
    fn resume(&self, approval: u64) -> Decision {
        // Nothing is ever parked here, so there is nothing to resume.
        Decision::Refused(Refusal::Approval {
            approval,
            reason: "the checking gate parks nothing".into(),
        })
    }
    fn paused(&self) -> bool {
        false
    }
    fn approval(&self, _: u64) -> Result<ApprovalProgress, String> {
        Ok(ApprovalProgress::Pending)
    }
}

struct HaltWatcher(Arc<Mutex<Vec<Seen>>>);

impl Notifier for HaltWatcher {
    fn notify(&self, notice: &Notice) {
        if notice.message.contains(" halted: ") {
            self.0.lock().unwrap().push(Seen::Halted);
        }
    }
}

const STAGING: [&str; 1] = ["stage-1"];
const PRODUCTION: [&str; 4] = ["web-1", "web-2", "web-3", "web-4"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn rollout_invariants_hold(batch in 1u32..4, start_min in 0i64..(7 * 24 * 60), ops in proptest::collection::vec(op(), 1..80)) {
        let clock = ManualClock::new(at("2026-11-23T00:00:00Z") + chrono::Duration::minutes(start_min));
        let shared: SharedClock = Arc::new(clock.clone());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        let fleet = TestFleet::new(&STAGING, &PRODUCTION);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(CheckingGate {
            fleet: fleet.clone(),
            clock: shared.clone(),
            rollouts: RolloutStore::new(store.clone()),
            batch: batch as usize,
            seen: seen.clone(),
            done: Mutex::new(BTreeMap::new()),
            fail_next: Mutex::new(false),
            violations: Mutex::new(Vec::new()),
        });
        let engine = RolloutEngine::new(RolloutParts {
            store: store.clone(),
            gate: gate.clone(),
            fleet: fleet.clone(),
            events: Arc::new(NoEvents),
            changes: Arc::new(ooda_govern::EmbeddedChangeRecords::new(store.clone(), shared.clone())),
            notifier: Arc::new(HaltWatcher(seen.clone())),
            clock: shared,
            config: RolloutConfig {
                staging_validation_secs: 2 * 3600,
                host_validation_secs: 20 * 60,
                ..RolloutConfig::default()
            },
        });
        let mut p = plan("prop", &STAGING, &PRODUCTION);
        p.batch = Some(batch);
        engine.start(p).unwrap();
        let hosts: Vec<&str> = STAGING.iter().chain(PRODUCTION.iter()).copied().collect();
        for op in ops {
            match op {
                Op::Advance(minutes) => clock.advance(Duration::from_secs(minutes * 60)),
                Op::Incident(h, n) => fleet.set_incidents(hosts[h], n),
                Op::Problem(h) => fleet.set_problem(hosts[h], "service check failed"),
                Op::Heal(h) => { fleet.state.lock().unwrap().problems.remove(hosts[h]); }
                Op::FailNextPatch => *gate.fail_next.lock().unwrap() = true,
                Op::Pause => {
                    engine.repo().update_control("prop", |c| c.pause = Some(ooda_patch::rollout::ControlRequest {
                        by: "alice".into(), reason: "look".into(), at: clock.now(),
                    })).unwrap();
                }
                Op::Resume => {
                    engine.repo().update_control("prop", |c| { c.pause = None; c.resumes += 1; }).unwrap();
                }
            }
            let r = engine.tick_rollout("prop").unwrap();
            prop_assert!(r.in_flight(Wave::Production) <= batch as usize);
            if batch == 1 {
                prop_assert!(r.in_flight(Wave::Production) <= 1);
            }
            // Production never starts before the staging wave is validated.
            if matches!(r.stage, Stage::Staging | Stage::StagingValidation { .. }) {
                prop_assert!(r.hosts.iter().filter(|h| h.wave == Wave::Production).all(|h| !h.phase.touched()));
            }
            let violations = gate.violations.lock().unwrap().clone();
            prop_assert!(violations.is_empty(), "{violations:?}");
        }
    }
}
