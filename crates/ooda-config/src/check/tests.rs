use super::*;

fn errors_of(text: &str) -> Vec<String> {
    check(text)
        .map(|_| Vec::new())
        .unwrap_or_else(|errors| errors.iter().map(ToString::to_string).collect())
}

fn assert_error(text: &str, expected_path: &str, expected_fragment: &str) {
    let errors = errors_of(text);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{expected_path}: ")) && e.contains(expected_fragment)),
        "expected an error at {expected_path} containing {expected_fragment:?}, got {errors:#?}"
    );
}

#[test]
fn the_example_is_valid() {
    let config = check(crate::EXAMPLE).expect("example config must pass its own check");
    assert_eq!(config.sources.len(), 1);
    assert!(
        config.hosts.is_empty(),
        "example hosts are comments: a copied example must not invent an inventory"
    );
}

/// The commented example inventory is itself valid once uncommented.
#[test]
fn the_commented_example_hosts_are_valid_when_uncommented() {
    let lines: Vec<&str> = crate::EXAMPLE.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "# [[hosts]]")
        .expect("the example shows [[hosts]]");
    let block: String = lines[start..]
        .iter()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim_start())
        .collect::<Vec<_>>()
        .join("\n");
    let config = check(&format!("version = 1\n{block}")).unwrap();
    assert_eq!(config.hosts.len(), 2);
    assert!(config.hosts[0].internet_facing);
}

/// Several errors in one section, and in several sections, are all reported — each once.
#[test]
fn every_error_of_a_file_is_reported() {
    let text = r#"version = 1
surprise = 1
[server]
listen = "everywhere"
port = 3
external_url = "ftp://x"
[bus]
kind = "memory"
capacity = 10
[[sources]]
kind = "host"
interval = "0s"
intervall = "5s"
[[hosts]]
name = "a"
environment = "prood"
internet_facing = "yes"
[monitor.fusion]
window = "soon"
"#;
    let errors = errors_of(text);
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    for expected in [
        "surprise",
        "server.listen",
        "server.port",
        "server.external_url",
        "bus.capacity",
        "sources[0].interval",
        "sources[0].intervall",
        "hosts[0].environment",
        "hosts[0].internet_facing",
        "monitor.fusion.window",
    ] {
        assert_eq!(
            paths.iter().filter(|p| **p == expected).count(),
            1,
            "{expected} once in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), 10, "{errors:#?}");
    assert!(errors.iter().all(|e| !e.contains("\nin `")), "{errors:#?}");
}

/// A bad required field is one error, not also "missing" once it has been taken out.
#[test]
fn a_bad_required_field_is_reported_once() {
    let errors = errors_of("version = 1\n[[hosts]]\nname = 3\nclass = 4");
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.starts_with("hosts[0].name"))
            .count(),
        1,
        "{errors:#?}"
    );
    assert!(
        !errors.iter().any(|e| e.contains("missing field `name`")),
        "{errors:#?}"
    );
}

#[test]
fn the_minimal_file_is_the_default() {
    let config = check("version = 1").unwrap();
    assert_eq!(config.sources.len(), 1, "host source by default");
    assert_eq!(config.server.listen.0.to_string(), crate::defaults::LISTEN);
}

#[test]
fn bad_configs_name_the_path() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "version", "missing"),
        ("version = 2", "version", "expected 1, found 2"),
        ("version = \"1\"", "version", "expected an integer"),
        ("version = 1\nsurprise = 1", "surprise", "unknown key"),
        ("version = 1\n[server]\nlisten = \"everywhere\"", "server.listen", "expected an address"),
        ("version = 1\n[server]\nport = 1", "server.port", "unknown field `port`"),
        ("version = 1\n[server]\napi_token = \"hunter2\"", "server.api_token", "secret reference"),
        ("version = 1\n[server]\nexternal_url = \"ftp://x\"", "server.external_url", "expected an http(s) URL, found \"ftp://x\""),
        ("version = 1\n[store]\nkind = \"mysql\"", "store.kind", "expected one of sqlite"),
        ("version = 1\n[store]\npath = \"x\"", "store.kind", "missing"),
        ("version = 1\n[bus]\nkind = \"memory\"\ncapacity = 10", "bus.capacity", "at least 1000"),
        ("version = 1\n[bus]\nkind = \"memory\"\nvisibility_timeout = \"soon\"", "bus.visibility_timeout", "expected a duration"),
        ("version = 1\n[[sources]]\nkind = \"host\"\ninterval = \"0s\"", "sources[0].interval", "above zero"),
        ("version = 1\n[[sources]]\nkind = \"host\"\n[[sources]]\nkind = \"host\"\n[[sources]]\nkind = \"kafka\"", "sources[2].kind", "expected one of host, scrape, prometheus"),
        ("version = 1\n[[sources]]\nkind = \"scrape\"\nname = \"n\"\nurl = \"ftp://x\"", "sources[0].url", "expected an http(s) URL, found \"ftp://x\""),
        ("version = 1\n[[sources]]\nkind = \"prometheus\"\nname = \"p\"", "sources[0]", "missing field `url`"),
        ("version = 1\n[[sources]]\nkind = \"host\"\n[[sources]]\nkind = \"host\"", "sources[1].name", "duplicate source name"),
        ("version = 1\n[[sources]]\nkind = \"host\"\nintervall = \"5s\"", "sources[0].intervall", "unknown field `intervall`"),
        ("version = 1\nsources = 3", "sources", "expected an array"),
        ("version = 1\n[[hosts]]\nname = \"a\"\nenvironment = \"prood\"", "hosts[0].environment", "unknown variant `prood`"),
        ("version = 1\n[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"a\"", "hosts[1].name", "duplicate host"),
        ("version = 1\n[[hosts]]\nclass = \"web\"", "hosts[0]", "missing field `name`"),
        ("version = 1\n[[hosts]]\nname = \"a\"\ninternet_facing = \"yes\"", "hosts[0].internet_facing", "expected a boolean"),
        ("version = 1\n[monitor.fusion]\nwindow = \"soon\"", "monitor.fusion.window", ""),
        ("version = 1\n[[logs]]\nkind = \"splunk\"", "logs[0].kind", "expected one of file, loki, elasticsearch"),
        ("version = 1\n[[watch]]\nmetric = \"queue depth\"\nclass = \"other\"", "watch[0].metric", "expected a metric name"),
        ("version = 1\n[[watch]]\nmetric = \"q\"\nclass = \"queues\"", "watch[0].class", "unknown variant `queues`"),
        ("version = 1\n[[watch]]\nmetric = \"q\"\nclass = \"other\"\ntransform = \"log\"", "watch[0].transform", "unknown variant `log`"),
        ("version = 1\n[[watch]]\nmetric = \"q\"\nclass = \"other\"\n[[watch]]\nmetric = \"q\"\nclass = \"latency\"", "watch[1].metric", "duplicate watched metric"),
        ("version = 1\n[[logs]]\nkind = \"loki\"\nname = \"l\"\nurl = \"nope\"", "logs[0].url", "expected an http(s) URL"),
        ("version = 1\n[enrichment]\ntop = \"five\"", "enrichment.top", "expected"),
        ("version = 1\n[alertmanager]\nname = \"am\"", "alertmanager", "missing field `url`"),
        ("version = 1\n[incident]\nprobe_timeout = \"soon\"", "incident.probe_timeout", "expected a duration"),
        ("version = 1\n[incident.actuator]\nclean_everything = true", "incident.actuator.clean_everything", "unknown field"),
        ("version = 1\n[reasoner.models.a]\nprovider = \"openai\"\nmodel = \"m\"\nurl = \"http://127.0.0.1:8080/v1\"\n[reasoner.routing]\nroot_cause = \"b\"", "reasoner.routing.root_cause", "no model named \"b\""),
        ("version = 1\n[reasoner.models.a]\nprovider = \"anthropic\"\nmodel = \"m\"\napi_key = \"sk-live\"\n[reasoner.routing]\nroot_cause = \"a\"", "reasoner.models.a.api_key", ""),
        ("version = 1\n[monitor]\nbogus = 1", "monitor.bogus", "unknown field"),
        ("version = 1\n[dedup]\nkind = \"etcd\"", "dedup.kind", "expected one of memory, redis"),
        ("version = 1\n[dedup]\nkind = \"redis\"\npassword = \"hunter2\"", "dedup.password", "secret reference"),
    ];
    for (text, path, fragment) in cases {
        assert_error(text, path, fragment);
    }
    assert!(cases.len() >= 10);
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let text = "version = 3\n[server]\nlisten = \"x\"\n[[sources]]\nkind = \"nope\"\n[[hosts]]\nenvironment = \"moon\"";
    let errors = errors_of(text);
    // hosts[0] has two problems (a bad environment and no name): both are reported.
    assert_eq!(errors.len(), 5, "{errors:#?}");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let errors = errors_of("version = 1\n[server\nlisten = 1");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("line 2"), "{errors:?}");
}

#[test]
fn secret_values_never_appear_in_errors() {
    let errors = errors_of("version = 1\n[server]\napi_token = \"sk-live-abcdef\"");
    assert!(
        errors.iter().all(|e| !e.contains("sk-live-abcdef")),
        "{errors:?}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn check_never_panics(text in ".{0,400}") {
            let _ = check(&text);
        }

        #[test]
        fn check_never_panics_on_tomlish(lines in proptest::collection::vec(
            prop_oneof![
                Just("version = 1".to_owned()),
                Just("[server]".to_owned()),
                Just("[[sources]]".to_owned()),
                Just("[[hosts]]".to_owned()),
                Just("[bus]".to_owned()),
                "[a-z_]{1,12} = \"[ -~]{0,12}\"",
                "[a-z_]{1,12} = [0-9]{1,6}",
            ], 0..12)) {
            let _ = check(&lines.join("\n"));
        }
    }
}

#[test]
fn clean_allowlists_refuse_system_trees_and_relative_paths() {
    for (dir, fragment) in [
        ("/", "system tree"),
        ("/etc", "system tree"),
        ("/var/lib/", "system tree"),
        ("/usr/share/doc", "inside the system tree /usr"),
        ("scratch", "absolute"),
        ("/var/tmp/../etc", "'..'"),
    ] {
        assert_error(
            &format!(
                "version = 1\n[incident.actuator]\nclean_allowlist = [\"/var/tmp/app\", {dir:?}]\n"
            ),
            "incident.actuator.clean_allowlist[1]",
            fragment,
        );
    }
    assert!(errors_of("version = 1\n[incident.actuator]\nclean_allowlist = [\"/var/tmp/app\", \"/srv/app/scratch\"]\n").is_empty());
}

#[test]
fn supervised_services_need_a_name_and_a_command() {
    assert_error(
        "version = 1\n[[incident.actuator.supervise]]\nname = \"-x\"\ncommand = [\"sleep\", \"1\"]\n",
        "incident.actuator.supervise[0].name",
        "service name",
    );
    assert_error(
        "version = 1\n[[incident.actuator.supervise]]\nname = \"app\"\ncommand = []\n",
        "incident.actuator.supervise[0].command",
        "non-empty argv",
    );
}

#[test]
fn governance_changes_notify_and_executors_are_sections_of_the_one_file() {
    let config = check(
        r#"version = 1
[governance.autonomy]
default = "L3"
[governance.approvals]
approvers = { alice = ["sre"] }
[changes]
kind = "jira"
url = "https://jira.example.com"
project = "OPS"
[[notify]]
kind = "webhook"
name = "ops"
url = "http://127.0.0.1:9/hook"
[[notify]]
kind = "pagerduty"
name = "on-call"
routing_key = "${env:PD_KEY}"
[executors.awx]
url = "https://awx.example.com"
templates = { restart-nginx = 12 }
"#,
    )
    .unwrap();
    assert_eq!(config.governance.autonomy.default.code(), "L3");
    assert_eq!(config.governance.approvals.approvers.len(), 1);
    assert_eq!(config.changes.kind(), "jira");
    assert_eq!(config.notify.len(), 2);
    assert_eq!(
        config.executors.awx.unwrap().templates.get("restart-nginx"),
        Some(&12)
    );
    let defaults = check("version = 1").unwrap();
    assert_eq!(defaults.changes.kind(), "embedded");
    assert_eq!(defaults.governance, ooda_govern::GovernConfig::default());
}

#[test]
fn governance_errors_name_their_path() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "version = 1\n[governance.budget]\nper_incidnet = 3",
            "governance.budget.per_incidnet",
            "unknown field",
        ),
        (
            "version = 1\n[governance.autonomy]\ndefault = \"L5\"",
            "governance.autonomy.default",
            "L5",
        ),
        (
            "version = 1\n[governance.breaker]\nfailures = 0",
            "governance.breaker.failures",
            "at least 1",
        ),
        (
            "version = 1\n[governance.approvals]\napprovers = { alice = [] }",
            "governance.approvals.approvers.alice",
            "at least one role",
        ),
        (
            "version = 1\n[governance]\npolicy_dir = \"/nonexistent/ooda-policies\"",
            "governance.policy_dir",
            "nonexistent",
        ),
        ("version = 1\n[changes]\nkind = \"remedy\"", "changes.kind", "embedded, servicenow, jira"),
        (
            "version = 1\n[changes]\nkind = \"servicenow\"",
            "changes",
            "url",
        ),
        (
            "version = 1\n[[notify]]\nkind = \"slack\"\nname = \"s\"\nurl = \"https://hooks.slack.com/services/T/B/X\"",
            "notify[0].url",
            "secret reference",
        ),
        (
            "version = 1\n[[notify]]\nkind = \"webhook\"\nname = \"a\"\nurl = \"http://x\"\n[[notify]]\nkind = \"webhook\"\nname = \"a\"\nurl = \"http://y\"",
            "notify[1].name",
            "duplicate",
        ),
        (
            "version = 1\n[executors.awx]\nurl = \"https://awx\"\ntemplates = {}",
            "executors.awx.templates",
            "allowlisted",
        ),
    ];
    for (text, path, fragment) in cases {
        assert_error(text, path, fragment);
    }
}

#[test]
fn rollouts_are_a_section_of_the_one_file() {
    let config = check(
        r#"version = 1
[rollouts]
windows = "/etc/ooda/windows.toml"
tick = "5s"
assume_drained = true
[rollouts.ansible]
connection = "local"
check = true
[rollouts.rollout]
staging_validation_secs = 60
"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let rollouts = config.rollouts.expect("[rollouts] was read");
    assert_eq!(
        rollouts.windows,
        std::path::Path::new("/etc/ooda/windows.toml")
    );
    assert_eq!(rollouts.tick.get(), std::time::Duration::from_secs(5));
    assert!(rollouts.assume_drained);
    assert_eq!(
        rollouts.ansible.unwrap().connection.as_deref(),
        Some("local")
    );
    assert_eq!(rollouts.rollout.staging_validation_secs, 60);
    assert_eq!(
        rollouts.rollout.batch, 1,
        "unset timings keep their defaults"
    );
    assert!(check("version = 1").unwrap().rollouts.is_none());
}

#[test]
fn rollouts_errors_name_their_path() {
    assert_error(
        "version = 1\n[rollouts]\ntick = \"5s\"",
        "rollouts",
        "windows",
    );
    assert_error(
        "version = 1\n[rollouts]\nwindows = \"w.toml\"\ntick = \"0s\"",
        "rollouts.tick",
        "above zero",
    );
    assert_error(
        "version = 1\n[rollouts]\nwindows = \"w.toml\"\n[rollouts.rollout]\nsoak = 3",
        "rollouts.rollout.soak",
        "unknown field `soak`",
    );
}
