use super::*;
use crate::facts::StaticFacts;
use ooda_core::HostClass;

fn input(kind: ActionKind, class: &str, confidence: f64) -> PolicyInput {
    let mut host = Host::new("h1");
    host.class = HostClass::new(class);
    PolicyInput {
        principal: Principal::Agent("incident".into()),
        kind,
        host,
        confidence,
        has_incident: true,
        in_maintenance_window: true,
        active_incidents: 0,
        reverting: false,
        holding: StaticFacts::all_clear().holding,
        now: ooda_core::clock::from_millis(1_700_000_000_000),
    }
}

fn engine() -> PolicyEngine {
    PolicyEngine::with_defaults().expect("shipped policies compile")
}

#[test]
fn confidence_tiers() {
    let e = engine();
    let high = e.evaluate(&input(ActionKind::RestartService, "web", 0.9));
    assert_eq!(high.autonomy, Autonomy::Alone, "{high:?}");
    assert_eq!(high.determining_ids(), vec!["autonomy.alone"]);
    let mid = e.evaluate(&input(ActionKind::RestartService, "web", 0.85));
    assert_eq!(
        mid.autonomy,
        Autonomy::Notify,
        "0.85 is not > 0.85: {mid:?}"
    );
    let mid = e.evaluate(&input(ActionKind::RestartService, "web", 0.65));
    assert_eq!(mid.autonomy, Autonomy::Notify);
    let low = e.evaluate(&input(ActionKind::RestartService, "web", 0.6499));
    assert_eq!(low.autonomy, Autonomy::NeedsApproval, "{low:?}");
    let nan = e.evaluate(&input(ActionKind::RestartService, "web", f64::NAN));
    assert_eq!(nan.autonomy, Autonomy::NeedsApproval, "NaN counts as zero");
}

#[test]
fn database_restart_without_replication_check_is_denied_even_with_approval() {
    let e = engine();
    let mut request = input(ActionKind::RestartService, "database", 0.99);
    request.holding.remove(&Precondition::ReplicationHealthy);
    let decision = e.evaluate(&request);
    assert_eq!(decision.autonomy, Autonomy::Deny);
    assert_eq!(
        decision.determining_ids(),
        vec!["database.replication-check"]
    );
    assert!(
        decision.determining[0].location.starts_with(DEFAULTS_NAME),
        "{decision:?}"
    );
    // A web server restart does not need it.
    let mut web = input(ActionKind::RestartService, "web", 0.99);
    web.holding.remove(&Precondition::ReplicationHealthy);
    assert_eq!(e.evaluate(&web).autonomy, Autonomy::Alone);
}

#[test]
fn destructive_and_critical_actions_need_a_human() {
    let e = engine();
    let kill = e.evaluate(&input(ActionKind::KillProcess, "web", 0.99));
    assert_eq!(kill.autonomy, Autonomy::NeedsApproval, "{kill:?}");
    assert!(kill
        .determining_ids()
        .contains(&"destructive.needs-human".to_owned()));
    let failover = e.evaluate(&input(ActionKind::FailoverDatabase, "database", 0.99));
    assert_eq!(failover.autonomy, Autonomy::NeedsApproval);
}

#[test]
fn patches_only_in_window_and_never_during_an_incident() {
    let e = engine();
    let mut outside = input(ActionKind::ApplyPatch, "web", 0.99);
    outside.in_maintenance_window = false;
    let decision = e.evaluate(&outside);
    assert_eq!(decision.autonomy, Autonomy::Deny);
    assert_eq!(decision.determining_ids(), vec!["patch.maintenance-window"]);
    let mut busy = input(ActionKind::ApplyPatch, "web", 0.99);
    busy.active_incidents = 1;
    assert_eq!(e.evaluate(&busy).autonomy, Autonomy::Deny);
    // The rollback of a patch that broke the host may run while the incident it caused is open,
    // still only inside the window.
    let mut revert = busy.clone();
    revert.reverting = true;
    assert_eq!(e.evaluate(&revert).autonomy, Autonomy::Alone);
    revert.in_maintenance_window = false;
    assert_eq!(e.evaluate(&revert).autonomy, Autonomy::Deny);
    assert_eq!(
        e.evaluate(&input(ActionKind::ApplyPatch, "web", 0.99))
            .autonomy,
        Autonomy::Alone
    );
}

#[test]
fn a_directory_adds_per_class_rules_that_tighten() {
    let e = engine();
    let rule = r#"
// Caches are cheap to restart but reboots of any production db host need a human.
@id("site.db-reboot-human")
forbid (principal is Agent, action == Action::"reboot", resource)
when { resource.class == "database" && !context.approved };
"#;
    e.reload_sources(&[("site.cedar".into(), rule.into())])
        .unwrap();
    let decision = e.evaluate(&input(ActionKind::Reboot, "database", 0.99));
    assert_eq!(decision.autonomy, Autonomy::NeedsApproval);
    let site = decision
        .determining
        .iter()
        .find(|d| d.id == "site.db-reboot-human")
        .unwrap();
    assert_eq!(site.location, "site.cedar:3");
}

#[test]
fn invalid_policies_name_file_and_line_and_never_replace_the_loaded_set() {
    let e = engine();
    let before = e.summary();
    let broken = "permit (principal, action, resource);\n\nforbid (principal, action, resource)\n  when { resource.clas == \"db\" };\n";
    let problems = e
        .reload_sources(&[("bad.cedar".into(), broken.into())])
        .unwrap_err();
    assert_eq!(problems[0].file, "bad.cedar");
    assert_eq!(problems[0].line, 4, "{problems:?}");
    assert!(problems[0].message.contains("clas"), "{problems:?}");
    assert_eq!(e.summary(), before, "last good set stays");

    let syntax = "permit (principal, action, resource)\nwhen { context.confidence > };";
    let problems = e
        .reload_sources(&[("syntax.cedar".into(), syntax.into())])
        .unwrap_err();
    assert_eq!(problems[0].file, "syntax.cedar");
    assert_eq!(problems[0].line, 2, "{problems:?}");
}

#[test]
fn check_dir_reads_only_cedar_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.cedar"),
        "@id(\"x\") forbid (principal, action == Action::\"reboot\", resource);",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
    let summary = check_dir(dir.path()).unwrap();
    assert_eq!(summary.files, 2);
    std::fs::write(
        dir.path().join("b.cedar"),
        "permit (principal, action, resource) when { nope };",
    )
    .unwrap();
    let problems = check_dir(dir.path()).unwrap_err();
    assert!(problems[0].file.ends_with("b.cedar"), "{problems:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Arbitrary policy text is rejected or accepted, never a panic.
    #[test]
    fn compiling_never_panics(text in ".{0,200}") {
        let e = engine();
        let _ = e.reload_sources(&[("fuzz.cedar".into(), text)]);
    }

    #[test]
    fn evaluating_never_panics_and_low_confidence_never_acts_alone(
        confidence in proptest::num::f64::ANY,
        name in ".{0,20}",
        class in ".{0,10}",
    ) {
        let e = engine();
        let mut request = input(ActionKind::RestartService, &class, confidence);
        request.host.name = name;
        let decision = e.evaluate(&request);
        if confidence.is_nan() || confidence < 0.65 {
            proptest::prop_assert!(matches!(decision.autonomy, Autonomy::NeedsApproval | Autonomy::Deny));
        }
    }
}
