//! Must show: kill -9 in the middle of a rollout, restart, it resumes exactly where it was and
//! nothing is patched twice. "Kill -9" is every in-process object dropped (or a panic unwinding
//! out of the step) with only what was on disk kept: the SQLite store, the audit log and the
//! actuator's own record of what it ran.

mod rollout_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ooda_core::{ActionRequest, ManualClock};
use ooda_govern::{Decision, Gate};
use ooda_patch::rollout::{ActionGate, ApprovalProgress, HostPhase, KeyProgress, Stage};
use rollout_support::*;

const HOSTS: [&str; 3] = ["web-1", "web-2", "web-3"];

fn start(dir: &std::path::Path, clock: &ManualClock, fleet: Arc<TestFleet>) {
    let agent = open_agent(dir, clock, fleet);
    agent.engine.start(plan("crashy", &[], &HOSTS)).unwrap();
}

/// Ticks every ten minutes until the rollout is final; returns the number of ticks.
fn run_to_end(agent: &Agent, clock: &ManualClock) -> usize {
    for n in 0..500 {
        let r = agent.engine.tick_rollout("crashy").unwrap();
        if r.stage.is_final() {
            return n;
        }
        clock.advance(Duration::from_secs(600));
    }
    panic!("rollout did not finish");
}

fn assert_each_patched_once(dir: &std::path::Path) {
    let runs = RecordingActuator::executions(&executions_path(dir));
    let mut hosts: Vec<&str> = runs.iter().map(|e| e.host.as_str()).collect();
    hosts.sort();
    assert_eq!(hosts, HOSTS, "each host exactly once: {runs:?}");
}

#[test]
fn drop_everything_mid_rollout_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T00:50:00Z"));
    let fleet = TestFleet::new(&[], &HOSTS);
    start(dir.path(), &clock, fleet.clone());
    {
        let agent = open_agent(dir.path(), &clock, fleet.clone());
        loop {
            let r = agent.engine.tick_rollout("crashy").unwrap();
            if matches!(r.host("web-2").unwrap().phase, HostPhase::Validating { .. }) {
                break;
            }
            clock.advance(Duration::from_secs(600));
        }
        // Dropped here without any shutdown: the kill.
    }
    let agent = open_agent(dir.path(), &clock, fleet);
    let before = agent.engine.repo().get("crashy").unwrap();
    assert!(matches!(
        before.host("web-1").unwrap().phase,
        HostPhase::Validated { .. }
    ));
    assert!(matches!(
        before.host("web-2").unwrap().phase,
        HostPhase::Validating { .. }
    ));
    assert!(matches!(
        before.host("web-3").unwrap().phase,
        HostPhase::Pending
    ));
    run_to_end(&agent, &clock);
    let r = agent.engine.repo().get("crashy").unwrap();
    assert!(matches!(r.stage, Stage::Completed { .. }), "{:?}", r.stage);
    assert_each_patched_once(dir.path());
    verify_audit(&agent);
}

#[test]
fn killed_while_the_actuator_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T00:50:00Z"));
    let fleet = TestFleet::new(&[], &HOSTS);
    start(dir.path(), &clock, fleet.clone());
    {
        // The actuator records web-2's patch, then the process dies before the gate writes the
        // outcome and before the rollout learns of it.
        let agent = open_agent_with(dir.path(), &clock, fleet.clone(), Some("web-2"), |g| g);
        let crashed = loop {
            let tick = catch_unwind(AssertUnwindSafe(|| agent.engine.tick_rollout("crashy")));
            if tick.is_err() {
                break true;
            }
            clock.advance(Duration::from_secs(600));
        };
        assert!(crashed);
    }
    let agent = open_agent(dir.path(), &clock, fleet);
    // Start-up reconciliation asked the actuator and wrote the outcome.
    let reconciled = agent.gate.audit().read_all().unwrap().into_iter().any(|r| {
        matches!(
            r.entry,
            ooda_govern::AuditEntry::Outcome {
                reconciled: true,
                ..
            }
        )
    });
    assert!(reconciled);
    let r = agent.engine.repo().get("crashy").unwrap();
    assert!(matches!(
        r.host("web-2").unwrap().phase,
        HostPhase::Patching { .. }
    ));
    run_to_end(&agent, &clock);
    let r = agent.engine.repo().get("crashy").unwrap();
    assert!(matches!(r.stage, Stage::Completed { .. }), "{:?}", r.stage);
    assert!(r
        .journal
        .iter()
        .any(|e| e.what.contains("found in the audit log")));
    assert_each_patched_once(dir.path());
    verify_audit(&agent);
}

/// Dies once, on `host`, either just before the gate sees the step or just after it ran.
struct CrashingGate {
    inner: Arc<Gate>,
    host: &'static str,
    before: bool,
    fired: AtomicBool,
}

impl ActionGate for CrashingGate {
    fn submit(&self, request: ActionRequest) -> Decision {
        let mine = request.host.name == self.host && !self.fired.load(Ordering::SeqCst);
        if mine && self.before {
            self.fired.store(true, Ordering::SeqCst);
            panic!("simulated kill -9 after saving the step, before submitting it");
        }
        let decision = self.inner.submit(request);
        if mine {
            self.fired.store(true, Ordering::SeqCst);
            panic!("simulated kill -9 after the step ran, before saving its outcome");
        }
        decision
    }
    fn resume(&self, approval: u64) -> Decision {
        ActionGate::resume(self.inner.as_ref(), approval)
    }
    fn paused(&self) -> bool {
        ActionGate::paused(self.inner.as_ref())
    }
    fn key_progress(&self, key: &str) -> KeyProgress {
        ActionGate::key_progress(self.inner.as_ref(), key)
    }
    fn approval(&self, id: u64) -> Result<ApprovalProgress, String> {
        ActionGate::approval(self.inner.as_ref(), id)
    }
}

fn crash_around_submit(before: bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T00:50:00Z"));
    let fleet = TestFleet::new(&[], &HOSTS);
    start(dir.path(), &clock, fleet.clone());
    {
        let agent = open_agent_with(dir.path(), &clock, fleet.clone(), None, |inner| {
            Arc::new(CrashingGate {
                inner,
                host: "web-2",
                before,
                fired: AtomicBool::new(false),
            })
        });
        loop {
            let tick = catch_unwind(AssertUnwindSafe(|| agent.engine.tick_rollout("crashy")));
            if tick.is_err() {
                break;
            }
            clock.advance(Duration::from_secs(600));
        }
    }
    let ran = RecordingActuator::executions(&executions_path(dir.path()));
    assert_eq!(ran.iter().any(|e| e.host == "web-2"), !before);
    let agent = open_agent(dir.path(), &clock, fleet);
    run_to_end(&agent, &clock);
    let r = agent.engine.repo().get("crashy").unwrap();
    assert!(matches!(r.stage, Stage::Completed { .. }), "{:?}", r.stage);
    assert_each_patched_once(dir.path());
    verify_audit(&agent);
}

#[test]
fn killed_after_saving_the_step_before_submitting_it() {
    crash_around_submit(true);
}

#[test]
fn killed_after_the_step_ran_before_saving_its_outcome() {
    crash_around_submit(false);
}
