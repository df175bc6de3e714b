//! Bad input stops the step with a named error and a safe state, never a half-applied wave: a
//! host that leaves the inventory, a host whose window is undefined, an emergency request that
//! does not qualify, an incident on a patched host.

mod rollout_support;

use std::time::Duration;

use ooda_core::{ManualClock, Severity};
use ooda_patch::rollout::{EmergencyRequest, HostPhase, RolloutError, Stage};
use rollout_support::*;

#[test]
fn a_host_that_leaves_the_inventory_pauses_the_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&[], &["web-1", "web-2", "web-3"]);
    let agent = open_agent(dir.path(), &clock, fleet.clone());
    agent
        .engine
        .start(plan("gone", &[], &["web-1", "web-2", "web-3"]))
        .unwrap();
    agent.engine.tick_rollout("gone").unwrap();
    fleet.remove("web-2");
    clock.advance(Duration::from_secs(1800));
    let r = agent.engine.tick_rollout("gone").unwrap();
    assert!(matches!(
        r.host("web-1").unwrap().phase,
        HostPhase::Validated { .. }
    ));
    assert_eq!(r.host("web-2").unwrap().phase, HostPhase::Pending);
    assert_eq!(r.host("web-3").unwrap().phase, HostPhase::Pending);
    let paused = r.paused.clone().expect("paused");
    assert!(
        paused.contains("host \"web-2\" is not in the inventory"),
        "{paused}"
    );
    // Only web-1 ran.
    let runs = RecordingActuator::executions(&executions_path(dir.path()));
    assert_eq!(runs.len(), 1);
    // Still paused on later ticks; a human resume with the host still gone pauses again.
    agent
        .engine
        .repo()
        .update_control("gone", |c| c.resumes += 1)
        .unwrap();
    clock.advance(Duration::from_secs(600));
    let r = agent.engine.tick_rollout("gone").unwrap();
    assert!(r.paused.is_some());
    assert_eq!(
        RecordingActuator::executions(&executions_path(dir.path())).len(),
        1
    );
}

#[test]
fn plans_naming_unknown_hosts_or_windows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&[], &["web-1"]);
    let agent = open_agent(dir.path(), &clock, fleet.clone());
    let err = agent
        .engine
        .start(plan("x", &[], &["web-1", "ghost"]))
        .unwrap_err();
    assert!(matches!(err, RolloutError::HostGone { .. }), "{err}");
    fleet
        .state
        .lock()
        .unwrap()
        .hosts
        .get_mut("web-1")
        .unwrap()
        .maintenance_window = Some("never-defined".into());
    let err = agent.engine.start(plan("y", &[], &["web-1"])).unwrap_err();
    assert!(err.to_string().contains("never-defined"), "{err}");
    assert!(
        agent.engine.repo().ids().unwrap().is_empty(),
        "nothing stored"
    );
}

#[test]
fn emergency_patches_must_qualify_and_need_approval() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&["stage-1"], &["web-1"]);
    let agent = open_agent(dir.path(), &clock, fleet.clone());
    let mut p = plan("emergency", &["stage-1"], &["web-1"]);
    p.emergency = Some(EmergencyRequest {
        cve: "CVE-2026-9999".into(),
        severity: Severity::Warning,
        kev: true,
        requested_by: "incident 42".into(),
    });
    let err = agent.engine.start(p.clone()).unwrap_err();
    assert!(
        matches!(err, RolloutError::EmergencyNotEligible { .. }),
        "{err}"
    );
    p.emergency.as_mut().unwrap().severity = Severity::Critical;
    let r = agent.engine.start(p).unwrap();
    assert!(r.emergency);
    assert_eq!(r.staging_validation_secs, 4 * 3600, "shortened validation");
    // Each emergency step waits for a human.
    let r = agent.engine.tick_rollout("emergency").unwrap();
    let HostPhase::AwaitingApproval { approval, .. } = r.host("stage-1").unwrap().phase.clone()
    else {
        panic!("{:?}", r.host("stage-1"));
    };
    assert!(RecordingActuator::executions(&executions_path(dir.path())).is_empty());
    // Approved: the gate runs it at its next tick, and the rollout sees it ran.
    agent
        .gate
        .approvals()
        .vote(approval, "alice", true, "go")
        .unwrap();
    agent.gate.tick();
    let r = agent.engine.tick_rollout("emergency").unwrap();
    assert!(
        matches!(r.stage, Stage::StagingValidation { .. }),
        "{:?} {:?}",
        r.stage,
        r.host("stage-1")
    );
    assert_eq!(
        RecordingActuator::executions(&executions_path(dir.path())).len(),
        1
    );
}

#[test]
fn an_incident_on_a_patched_host_pauses_and_blocks_patching() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&[], &["web-1", "web-2"]);
    let agent = open_agent(dir.path(), &clock, fleet.clone());
    agent
        .engine
        .start(plan("incident", &[], &["web-1", "web-2"]))
        .unwrap();
    agent.engine.tick_rollout("incident").unwrap();
    fleet.set_incidents("web-1", 1);
    clock.advance(Duration::from_secs(1800));
    let r = agent.engine.tick_rollout("incident").unwrap();
    assert!(
        r.paused.as_deref().unwrap_or_default().contains("incident"),
        "{:?}",
        r.paused
    );
    assert_eq!(r.host("web-2").unwrap().phase, HostPhase::Pending);
    // Incident closed, human resumes: web-2 goes on.
    fleet.set_incidents("web-1", 0);
    agent
        .engine
        .repo()
        .update_control("incident", |c| c.resumes += 1)
        .unwrap();
    let r = agent.engine.tick_rollout("incident").unwrap();
    assert!(r.paused.is_none());
    assert!(matches!(
        r.host("web-2").unwrap().phase,
        HostPhase::Validating { .. }
    ));
    assert!(!matches!(r.stage, Stage::Halted { .. }));
}
