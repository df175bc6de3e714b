//! Must show: the AWX `ignored_fields` case. A patch routed to an AWX job template that does not
//! prompt for `limit` would run against the template's whole inventory; AWX launches it anyway
//! and reports the dropped field. ooda cancels the job at once, the gate records the failure,
//! the rollout halts and escalates, and nothing else runs. Plus the AWX bad inputs: an unknown
//! template, an AWX error.

mod rollout_support;

use std::sync::Arc;
use std::time::Duration;

use ooda_connect::awx::fake::{FakeAwx, FakeTemplate};
use ooda_connect::awx::{AwxClient, AwxConfig};
use ooda_connect::http::Auth;
use ooda_core::value::{HttpUrl, Seconds, Secret};
use ooda_core::{Action, ActionId, ActionRequest, Host, ManualClock, Principal};
use ooda_govern::{Decision, OutcomeStatus};
use ooda_patch::rollout::executor::{PatchActuator, PatchVia};
use ooda_patch::rollout::{HostPhase, Stage};
use ooda_store::{SqliteStore, Store};
use rollout_support::*;

const TOKEN: &str = "s3cret-awx-token";

struct Setup {
    dir: tempfile::TempDir,
    fake: FakeAwx,
    agent: Agent,
    clock: ManualClock,
}

fn setup(templates: Vec<FakeTemplate>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("awx-token");
    std::fs::write(&token, TOKEN).unwrap();
    let fake = FakeAwx::start("/api/controller/v2/", TOKEN, templates).unwrap();
    let client = AwxClient::new(AwxConfig {
        url: HttpUrl::parse(&fake.url()).unwrap(),
        base_path: "/api/controller/v2/".into(),
        auth: Auth::Bearer {
            token: Secret::File(token),
        },
        tls: Default::default(),
        timeout: Seconds(Duration::from_secs(5)),
        poll_interval: Seconds(Duration::from_millis(10)),
        job_timeout: Seconds(Duration::from_secs(5)),
        templates: [
            ("patch-apt".to_owned(), 20),
            ("reboot-safely".to_owned(), 21),
        ]
        .into_iter()
        .collect(),
    })
    .unwrap();
    // The actuator's ledger lives in its own store file, as an executor's state would.
    let ledger: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("actuator.sqlite")).unwrap());
    let actuator = Arc::new(PatchActuator::new(
        ledger,
        None,
        Some(Arc::new(client)),
        PatchVia::Awx {
            patch_template: "patch-apt".into(),
        },
    ));
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&[], &["web-1", "web-2"]);
    let agent = open_agent_acting(dir.path(), &clock, fleet, actuator, |g| g);
    Setup {
        dir,
        fake,
        agent,
        clock,
    }
}

#[test]
fn ignored_fields_cancel_the_job_and_nothing_else_runs() {
    let mut patch = FakeTemplate::prompting(20, "patch-apt");
    patch.ask_limit_on_launch = false;
    let s = setup(vec![patch]);
    s.agent
        .engine
        .start(plan("awx-ignored", &[], &["web-1", "web-2"]))
        .unwrap();
    let r = s.agent.engine.tick_rollout("awx-ignored").unwrap();

    let Stage::Halted { reason, .. } = &r.stage else {
        panic!("expected halted, found {:?}", r.stage);
    };
    assert!(reason.contains("ignored limit"), "{reason}");
    assert!(reason.contains("cancelled"), "{reason}");
    let HostPhase::Failed { .. } = &r.host("web-1").unwrap().phase else {
        panic!("{:?}", r.host("web-1"));
    };
    assert_eq!(r.host("web-2").unwrap().phase, HostPhase::Pending);

    // Later ticks, even inside the window, start nothing.
    for _ in 0..6 {
        s.clock.advance(Duration::from_secs(600));
        s.agent.engine.tick_rollout("awx-ignored").unwrap();
    }
    let (launches, cancels, completed) = s.fake.snapshot(|st| {
        (
            st.launches.clone(),
            st.cancels.clone(),
            st.completed.clone(),
        )
    });
    assert_eq!(launches.len(), 1, "one launch: {launches:?}");
    assert_eq!(launches[0].1["limit"], "web-1");
    assert_eq!(cancels.len(), 1, "the job was cancelled");
    assert!(completed.is_empty(), "no job ran to the end");

    // The gate recorded one intent and one failed outcome; escalated; the chain verifies.
    let records = s.agent.gate.audit().read_all().unwrap();
    let outcomes: Vec<OutcomeStatus> = records
        .iter()
        .filter_map(|r| match &r.entry {
            ooda_govern::AuditEntry::Outcome { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, vec![OutcomeStatus::Failed]);
    assert!(s
        .agent
        .inbox
        .messages()
        .iter()
        .any(|m| m.starts_with("escalation") && m.contains("halted")));
    verify_audit(&s.agent);
    drop(s.dir);
}

fn template_request(template: &str) -> ActionRequest {
    let mut host = Host::new("web-1");
    host.class = ooda_core::HostClass::new("web");
    ActionRequest {
        id: ActionId::new(),
        action: Action::RunTemplate {
            template: template.into(),
        },
        host,
        incident: None,
        confidence: 0.95,
        requested_by: Principal::Agent("patch".into()),
        reason: "test".into(),
        idempotency_key: None,
        revert: false,
    }
}

#[test]
fn unknown_template_is_refused_before_awx_is_called() {
    let s = setup(vec![FakeTemplate::prompting(20, "patch-apt")]);
    let decision = s.agent.gate.submit(template_request("format-all-disks"));
    let Decision::Executed { status, detail, .. } = decision else {
        panic!("{decision:?}");
    };
    assert_eq!(status, OutcomeStatus::Failed);
    assert!(detail.contains("allowlist"), "{detail}");
    assert!(s.fake.snapshot(|st| st.launches.is_empty()));
}

#[test]
fn awx_error_stops_the_step_with_a_named_error() {
    let mut patch = FakeTemplate::prompting(20, "patch-apt");
    patch.launch_error = Some(503);
    let s = setup(vec![patch]);
    s.agent
        .engine
        .start(plan("awx-down", &[], &["web-1", "web-2"]))
        .unwrap();
    let r = s.agent.engine.tick_rollout("awx-down").unwrap();
    let Stage::Halted { reason, .. } = &r.stage else {
        panic!("{:?}", r.stage);
    };
    assert!(reason.contains("awx answered 503"), "{reason}");
    assert_eq!(r.host("web-2").unwrap().phase, HostPhase::Pending);
}
