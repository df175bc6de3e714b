//! Must show, end to end on virtual time: plan → staging → 48 h validation → three production
//! hosts in their windows → one fails validation → it is rolled back, the rollout halts and
//! escalates; the audit log verifies and the change records tell the story.

mod rollout_support;

use std::time::Duration;

use ooda_bus::Subscription;
use ooda_core::{Action, ChangeStatus, EventKind, ManualClock};
use ooda_patch::rollout::{HostPhase, Stage, Wave};
use rollout_support::*;

#[test]
fn staging_validation_production_failure_rollback_halt() {
    let dir = tempfile::tempdir().unwrap();
    // Monday 10:00 UTC.
    let clock = ManualClock::new(at("2026-11-23T10:00:00Z"));
    let fleet = TestFleet::new(&["stage-1"], &["web-1", "web-2", "web-3"]);
    let agent = open_agent(dir.path(), &clock, fleet.clone());
    let mut intensify = agent.bus.subscribe_now("monitor", "m1").unwrap();

    let rollout = agent
        .engine
        .start(plan(
            "openssl-nov",
            &["stage-1"],
            &["web-1", "web-2", "web-3"],
        ))
        .unwrap();
    assert_eq!(rollout.stage, Stage::Staging);

    // Staging wave: the staging window is always open, so the first tick patches stage-1.
    let r = agent.engine.tick_rollout("openssl-nov").unwrap();
    assert!(
        matches!(r.stage, Stage::StagingValidation { .. }),
        "{:?}",
        r.stage
    );
    let until = match r.stage {
        Stage::StagingValidation { until, .. } => until,
        _ => unreachable!(),
    };
    assert_eq!(until, at("2026-11-25T10:00:00Z"), "48 h by default");

    // Ten-minute ticks until the rollout stops moving; web-3 goes bad as soon as it is patched.
    let windows = &fleet.windows;
    let mut ticks = 0;
    loop {
        clock.advance(Duration::from_secs(600));
        ticks += 1;
        let r = agent.engine.tick_rollout("openssl-nov").unwrap();
        let web3 = r.host("web-3").unwrap();
        if matches!(web3.phase, HostPhase::Validating { .. })
            && fleet.state.lock().unwrap().problems.is_empty()
        {
            fleet.set_problem("web-3", "http check https://web-3/health failed: 502");
        }
        // Never two production hosts in flight with batch 1.
        assert!(r.in_flight(Wave::Production) <= 1);
        if r.stage.is_final() && r.hosts.iter().all(|h| !h.phase.in_flight()) {
            break;
        }
        assert!(ticks < 24 * 6 * 5, "rollout did not finish: {:?}", r.stage);
    }

    let r = agent.engine.repo().get("openssl-nov").unwrap();
    for entry in &r.journal {
        println!(
            "{}  {:<8} {}",
            entry.at.to_rfc3339(),
            entry.host.as_deref().unwrap_or("-"),
            entry.what
        );
    }
    let Stage::Halted { reason, .. } = &r.stage else {
        panic!("expected halted, found {:?}", r.stage)
    };
    assert!(reason.contains("validation of web-3 failed"), "{reason}");
    assert!(matches!(
        r.host("stage-1").unwrap().phase,
        HostPhase::Validated { .. }
    ));
    assert!(matches!(
        r.host("web-1").unwrap().phase,
        HostPhase::Validated { .. }
    ));
    assert!(matches!(
        r.host("web-2").unwrap().phase,
        HostPhase::Validated { .. }
    ));
    assert!(matches!(
        r.host("web-3").unwrap().phase,
        HostPhase::RolledBack { .. }
    ));

    // What ran, in order, and when: every patch inside its host's window, production only after
    // the 48 h staging validation, each host once, and the rollback last.
    let runs = RecordingActuator::executions(&executions_path(dir.path()));
    let summary: Vec<(String, String)> = runs
        .iter()
        .map(|e| match &e.action {
            Action::ApplyPatch { version, .. } => (e.host.clone(), version.clone()),
            other => (e.host.clone(), format!("{other:?}")),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("stage-1".into(), "3.0.15-1~deb12u1".into()),
            ("web-1".into(), "3.0.15-1~deb12u1".into()),
            ("web-2".into(), "3.0.15-1~deb12u1".into()),
            ("web-3".into(), "3.0.15-1~deb12u1".into()),
            ("web-3".into(), "3.0.13-1~deb12u1".into()),
        ]
    );
    for run in &runs {
        let host = fleet.state.lock().unwrap().hosts[&run.host].clone();
        assert!(
            windows.is_open(&host, run.at).unwrap(),
            "{run:?} outside its window"
        );
    }
    assert!(runs[1].at >= at("2026-11-25T10:00:00Z"));
    // 02:00 Berlin on Thursday is 01:00 UTC: the first production window after validation.
    assert_eq!(runs[1].at, at("2026-11-26T01:00:00Z"));

    // Escalated.
    let messages = agent.inbox.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("escalation") && m.contains("halted")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("web-3 was rolled back")),
        "{messages:?}"
    );

    // The monitor was asked to watch each changed host closely.
    let mut intensified = Vec::new();
    while let Some(delivery) = intensify.try_next() {
        if let EventKind::MonitoringIntensify {
            hosts,
            interval_secs,
            duration_secs,
        } = &delivery.event.kind
        {
            assert_eq!((interval_secs, duration_secs), (&10, &1800));
            intensified.extend(hosts.clone());
        }
    }
    for host in ["stage-1", "web-1", "web-2", "web-3"] {
        assert!(
            intensified.iter().any(|h| h == host),
            "{host}: {intensified:?}"
        );
    }

    // The audit chain verifies and holds one intent and one outcome per execution.
    assert!(verify_audit(&agent) > 0);
    let kinds: Vec<String> = agent
        .gate
        .audit()
        .read_all()
        .unwrap()
        .iter()
        .map(|r| r.entry.kind().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "intent").count(), 5);
    assert_eq!(kinds.iter().filter(|k| *k == "outcome").count(), 5);
    assert_eq!(kinds.iter().filter(|k| *k == "refused").count(), 0);

    // Change records: one per wave (staging succeeded, production failed) and one per host step.
    let staging = agent
        .changes
        .get(&r.wave_changes[&Wave::Staging].number)
        .unwrap()
        .unwrap();
    assert_eq!(staging.status, ChangeStatus::Succeeded);
    let production = agent
        .changes
        .get(&r.wave_changes[&Wave::Production].number)
        .unwrap()
        .unwrap();
    assert_eq!(production.status, ChangeStatus::Failed);
    assert!(
        production.notes.last().unwrap().1.contains("web-3"),
        "{:?}",
        production.notes
    );
    let mut per_host = 0;
    for n in 1..=20 {
        let Some(change) = agent.changes.get(&format!("OODA-CHG-{n:06}")).unwrap() else {
            break;
        };
        println!(
            "{} {:?} {} — {:?}",
            change.number,
            change.status,
            change.draft.summary,
            change.notes.last()
        );
        if change.draft.summary.starts_with("ooda: apply_patch") {
            per_host += 1;
            assert_eq!(change.status, ChangeStatus::Succeeded);
        }
    }
    assert_eq!(per_host, 5, "four patches and one rollback");
}
