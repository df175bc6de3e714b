//! The local executor with real `ansible-playbook` (scripts/test installs ansible) against this
//! machine over a local connection, in check mode: the shipped apt playbook runs `apt-get
//! --simulate`, so nothing on this machine changes. The package is `base-files` at the version
//! already installed (a change-free state), and a version that does not exist must fail.

mod rollout_support;

use std::path::Path;
use std::sync::Arc;

use ooda_core::{Action, ActionId, ActionRequest, Host, ManualClock, Principal};
use ooda_govern::{Actuator, ActuatorStatus, Decision, OutcomeStatus};
use ooda_patch::rollout::executor::{AnsibleConfig, AnsibleExecutor, PatchActuator, PatchVia};
use ooda_store::{SqliteStore, Store};
use rollout_support::*;

fn require_ansible() {
    let found = std::process::Command::new("ansible-playbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "ansible-playbook is not installed: this test needs the Debian package ansible \
         (scripts/test installs it; by hand: apt-get install ansible)"
    );
}

fn installed_version(package: &str) -> String {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .expect("dpkg-query (this test runs on Debian)");
    String::from_utf8(out.stdout).unwrap()
}

fn executor(dir: &Path) -> AnsibleExecutor {
    AnsibleExecutor::new(AnsibleConfig {
        connection: Some("local".into()),
        check: true,
        timeout_secs: 300,
        state_dir: Some(dir.join("state").display().to_string()),
        work_dir: Some(dir.join("playbooks")),
        ..AnsibleConfig::default()
    })
    .unwrap()
}

fn request(version: &str, key: &str) -> ActionRequest {
    let mut host = Host::new("localhost");
    host.class = ooda_core::HostClass::new("web");
    ActionRequest {
        id: ActionId::new(),
        action: Action::ApplyPatch {
            package: "base-files".into(),
            version: version.into(),
        },
        host,
        incident: None,
        confidence: 0.95,
        requested_by: Principal::Agent("patch".into()),
        reason: "check-mode patch against localhost".into(),
        idempotency_key: Some(key.into()),
        revert: false,
    }
}

#[test]
fn shipped_apt_playbooks_in_check_mode_through_the_gate() {
    require_ansible();
    let dir = tempfile::tempdir().unwrap();
    let ledger: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("ledger.sqlite")).unwrap());
    let actuator = Arc::new(PatchActuator::new(
        ledger,
        Some(executor(dir.path())),
        None,
        PatchVia::Local,
    ));
    let clock = ManualClock::new(at("2026-11-26T01:00:00Z"));
    let fleet = TestFleet::new(&[], &["localhost"]);
    let agent = open_agent_acting(dir.path(), &clock, fleet, actuator.clone(), |g| g);

    let version = installed_version("base-files");
    let decision = agent.gate.submit(request(&version, "ansible-ok"));
    let Decision::Executed { status, detail, .. } = &decision else {
        panic!("{decision:?}");
    };
    assert_eq!(*status, OutcomeStatus::Succeeded, "{detail}");
    assert!(detail.contains("ooda-patch-apt on localhost"), "{detail}");
    assert!(matches!(
        actuator.status("ansible-ok"),
        ActuatorStatus::Done {
            succeeded: true,
            ..
        }
    ));
    // Nothing changed on this machine.
    assert_eq!(installed_version("base-files"), version);

    let decision = agent
        .gate
        .submit(request("0.0-does-not-exist", "ansible-bad"));
    let Decision::Executed { status, detail, .. } = &decision else {
        panic!("{decision:?}");
    };
    assert_eq!(*status, OutcomeStatus::Failed);
    assert!(
        detail.contains("ooda-patch-apt on localhost failed"),
        "{detail}"
    );
    assert!(detail.contains("was not found"), "{detail}");

    // The shipped rollback playbook, as a template, reads recorded versions and simulates.
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::write(dir.path().join("state/base-files"), format!("{version}\n")).unwrap();
    let mut rollback = request(&version, "ansible-rollback");
    rollback.action = Action::RunTemplate {
        template: "ooda-rollback-apt".into(),
    };
    let decision = agent.gate.submit(rollback);
    let Decision::Executed { status, detail, .. } = &decision else {
        panic!("{decision:?}");
    };
    assert_eq!(*status, OutcomeStatus::Succeeded, "{detail}");
    // Check mode keeps the record.
    assert!(dir.path().join("state/base-files").exists());
}

#[test]
fn unknown_playbook_template_is_a_named_error() {
    require_ansible();
    let dir = tempfile::tempdir().unwrap();
    let err = executor(dir.path())
        .run("ooda-wipe", "localhost", &serde_json::json!({}))
        .unwrap_err();
    assert!(err.to_string().contains("not on the allowlist"), "{err}");
    assert!(err.to_string().contains("ooda-patch-apt"), "{err}");
}
