use super::*;
use proptest::prelude::*;

const GOOD: &str = r#"
id = "t"
title = "T"
cause = "disk_full"

[[step]]
id = "a"
action = { type = "clean_path", path = "${clean_path}" }
preconditions = ["path_allowlisted"]
timeout_secs = 10
expect = {}
verify = { signal = "metric.disk_used.high" }
rollback = { type = "none", reason = "gone" }

[[step]]
id = "b"
action = { type = "restart_service", service = "${service}" }
preconditions = []
timeout_secs = 10
expect = {}
verify = { signal = "metric.disk_used.high" }
rollback = { type = "restart_service", service = "${service}" }
"#;

fn problems(text: &str) -> Vec<String> {
    parse("rb.toml", text)
        .unwrap_err()
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_good_runbook_parses_and_renders() {
    let runbook = parse("rb.toml", GOOD).unwrap();
    assert_eq!(runbook.order(), vec![0, 1]);
    let vars: BTreeMap<String, String> = [("clean_path".to_owned(), "/tmp/x".to_owned())].into();
    assert_eq!(
        runbook.steps[0].action.render(&vars).unwrap(),
        Action::CleanPath {
            path: "/tmp/x".into()
        }
    );
    let err = runbook.steps[1].action.render(&vars).unwrap_err();
    assert!(err.contains("${service}"), "{err}");
}

#[test]
fn unknown_actions_name_file_and_field() {
    let text = GOOD.replace("restart_service\", service", "format_disk\", service");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("rb.toml: step[1].action.type: unknown action")),
        "{found:?}"
    );
}

#[test]
fn wrong_parameters_and_unknown_variables_are_reported() {
    let found = problems(&GOOD.replace("path = \"${clean_path}\"", "dir = \"/tmp\""));
    assert!(
        found
            .iter()
            .any(|p| p.contains("step[0].action: does not fit")),
        "{found:?}"
    );
    let found = problems(&GOOD.replace("${clean_path}", "${nope}"));
    assert!(
        found.iter().any(|p| p.contains("unknown variable ${nope}")),
        "{found:?}"
    );
}

#[test]
fn missing_fields_are_each_named() {
    let text = GOOD
        .replacen("timeout_secs = 10\n", "", 1)
        .replacen("rollback = { type = \"none\", reason = \"gone\" }", "", 1)
        .replacen("preconditions = [\"path_allowlisted\"]", "", 1);
    let found = problems(&text);
    for field in [
        "step[0].timeout_secs",
        "step[0].rollback",
        "step[0].preconditions",
    ] {
        assert!(
            found.iter().any(|p| p.contains(field)),
            "{field} not in {found:?}"
        );
    }
}

#[test]
fn cycles_and_dangling_next_are_refused() {
    let text = GOOD.replace(
        "rollback = { type = \"restart_service\", service = \"${service}\" }",
        "rollback = { type = \"none\", reason = \"r\" }\nnext = \"a\"",
    );
    let found = problems(&text);
    assert!(found.iter().any(|p| p.contains("cycle")), "{found:?}");
    let text = GOOD.replace(
        "rollback = { type = \"restart_service\", service = \"${service}\" }",
        "rollback = { type = \"none\", reason = \"r\" }\nnext = \"zzz\"",
    );
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.contains("step[1].next: no step with id")),
        "{found:?}"
    );
}

#[test]
fn not_toml_and_unknown_preconditions() {
    assert!(problems("[[[")[0].contains("(file)"));
    let found = problems(&GOOD.replace("\"path_allowlisted\"", "\"moon_is_full\""));
    assert!(
        found.iter().any(|p| p.contains("step[0].preconditions[0]")),
        "{found:?}"
    );
}

#[test]
fn check_dir_reports_every_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        GOOD.replace("clean_path\", path", "rm_rf\", path"),
    )
    .unwrap();
    let causes: BTreeSet<String> = ["disk_full".to_owned()].into();
    let (ok, problems) = check_dir(dir.path(), Some(&causes)).unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].file.ends_with("bad.toml"));
}

proptest! {
    /// Whatever the file holds, validation returns runbooks or problems; it never panics, and a
    /// runbook that passes has a finite run order covering no step twice.
    #[test]
    fn parsing_never_panics(text in ".{0,400}") {
        if let Ok(runbook) = parse("p.toml", &text) {
            prop_assert!(runbook.order().len() <= runbook.steps.len());
        }
    }

    #[test]
    fn mutated_good_runbooks_never_panic(cut in 0usize..GOOD.len(), insert in "[a-z_\\[\\]{}=\" ]{0,12}") {
        let mut text = GOOD.to_owned();
        if text.is_char_boundary(cut) {
            text.insert_str(cut, &insert);
        }
        if let Ok(runbook) = parse("p.toml", &text) {
            let order = runbook.order();
            let unique: BTreeSet<_> = order.iter().collect();
            prop_assert_eq!(unique.len(), order.len());
        }
    }
}
