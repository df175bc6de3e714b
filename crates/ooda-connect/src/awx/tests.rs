//! Against the fake controller (`fake.rs`), which answers with AWX's documented shapes and
//! checks what AWX would: path under the configured base, token auth, prompted launch fields.

use std::collections::BTreeMap;
use std::time::Duration;

use ooda_core::value::{HttpUrl, Seconds, Secret};
use serde_json::json;

use super::fake::{FakeAwx, FakeOutcome, FakeTemplate};
use super::{AwxClient, AwxConfig, AwxError};
use crate::http::Auth;

const TOKEN: &str = "awx-t0ken";

fn config(fake: &FakeAwx, base: &str, token_file: &std::path::Path) -> AwxConfig {
    AwxConfig {
        url: HttpUrl::parse(&fake.url()).unwrap(),
        base_path: base.into(),
        auth: Auth::Bearer {
            token: Secret::File(token_file.to_path_buf()),
        },
        tls: Default::default(),
        timeout: Seconds(Duration::from_secs(5)),
        poll_interval: Seconds(Duration::from_millis(10)),
        job_timeout: Seconds(Duration::from_secs(5)),
        templates: BTreeMap::from([
            ("patch-apt".to_owned(), 10),
            ("not-prompting".to_owned(), 11),
            ("broken".to_owned(), 12),
            ("hangs".to_owned(), 13),
            ("erroring".to_owned(), 14),
        ]),
    }
}

fn templates() -> Vec<FakeTemplate> {
    let mut not_prompting = FakeTemplate::prompting(11, "not-prompting");
    not_prompting.ask_limit_on_launch = false;
    not_prompting.ask_variables_on_launch = false;
    let mut broken = FakeTemplate::prompting(12, "broken");
    broken.outcome = FakeOutcome::Failed;
    let mut hangs = FakeTemplate::prompting(13, "hangs");
    hangs.outcome = FakeOutcome::Hangs;
    let mut erroring = FakeTemplate::prompting(14, "erroring");
    erroring.launch_error = Some(500);
    vec![
        FakeTemplate::prompting(10, "patch-apt"),
        not_prompting,
        broken,
        hangs,
        erroring,
        FakeTemplate::prompting(99, "not-on-the-allowlist"),
    ]
}

struct Setup {
    fake: FakeAwx,
    client: AwxClient,
    _dir: tempfile::TempDir,
}

fn setup(base: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let fake = FakeAwx::start(base, TOKEN, templates()).unwrap();
    let client = AwxClient::new(config(&fake, base, &token)).unwrap();
    Setup {
        fake,
        client,
        _dir: dir,
    }
}

#[test]
fn launches_polls_and_reads_stdout() {
    let s = setup("/api/v2/");
    let vars = json!({"package": "openssl", "version": "3.0.15-1"});
    let outcome = s.client.run("patch-apt", "web-1", &vars).unwrap();
    assert!(outcome.stdout.contains("ok: [web-1]"), "{}", outcome.stdout);
    let (launches, completed) = s
        .fake
        .snapshot(|st| (st.launches.clone(), st.completed.clone()));
    assert_eq!(launches.len(), 1);
    assert_eq!(launches[0].0, 10);
    assert_eq!(launches[0].1, json!({"limit": "web-1", "extra_vars": vars}));
    assert_eq!(completed, vec![outcome.job]);
}

#[test]
fn aap_base_path() {
    let s = setup("/api/controller/v2/");
    assert!(s.client.run("patch-apt", "web-1", &json!({})).is_ok());
}

#[test]
fn ignored_fields_cancel_the_job_and_fail_closed() {
    let s = setup("/api/v2/");
    let err = s
        .client
        .run("not-prompting", "web-1", &json!({"package": "openssl"}))
        .unwrap_err();
    let AwxError::IgnoredFields {
        job,
        fields,
        cancel,
        ..
    } = &err
    else {
        panic!("expected IgnoredFields, found {err}");
    };
    assert_eq!(fields, "extra_vars, limit");
    assert_eq!(cancel, "cancelled");
    let (cancels, completed, status) = s.fake.snapshot(|st| {
        (
            st.cancels.clone(),
            st.completed.clone(),
            st.jobs[job].status,
        )
    });
    assert_eq!(cancels, vec![*job]);
    assert!(completed.is_empty(), "nothing ran");
    assert_eq!(status, "canceled");
}

#[test]
fn only_allowlisted_templates_launch() {
    let s = setup("/api/v2/");
    let err = s.client.run("rm-rf", "web-1", &json!({})).unwrap_err();
    assert!(matches!(err, AwxError::UnknownTemplate { .. }), "{err}");
    assert!(err.to_string().contains("patch-apt"), "{err}");
    let err = s
        .client
        .runtime
        .block_on(s.client.launch(99, "web-1", &json!({})))
        .unwrap_err();
    assert!(matches!(err, AwxError::NotAllowed { id: 99 }), "{err}");
    assert!(s.fake.snapshot(|st| st.launches.is_empty()));
}

#[test]
fn awx_errors_and_failed_jobs_are_named() {
    let s = setup("/api/v2/");
    let err = s.client.run("erroring", "web-1", &json!({})).unwrap_err();
    assert!(matches!(err, AwxError::Api { status: 500, .. }), "{err}");
    let err = s.client.run("broken", "web-1", &json!({})).unwrap_err();
    let AwxError::JobFailed {
        status,
        stdout_tail,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(*status, "failed");
    assert!(stdout_tail.contains("failed=1"), "{stdout_tail}");
}

#[test]
fn a_job_that_never_ends_is_cancelled_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let fake = FakeAwx::start("/api/v2/", TOKEN, templates()).unwrap();
    let mut cfg = config(&fake, "/api/v2/", &token);
    cfg.job_timeout = Seconds(Duration::from_millis(100));
    let client = AwxClient::new(cfg).unwrap();
    let err = client.run("hangs", "web-1", &json!({})).unwrap_err();
    let AwxError::Timeout { job, cancel, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(cancel, "cancelled");
    assert_eq!(fake.snapshot(|st| st.cancels.clone()), vec![*job]);
}

#[test]
fn wrong_token_and_unreachable_controller() {
    let s = setup("/api/v2/");
    std::fs::write(s._dir.path().join("token"), "wrong").unwrap();
    let err = s.client.run("patch-apt", "web-1", &json!({})).unwrap_err();
    assert!(matches!(err, AwxError::Api { status: 401, .. }), "{err}");
    let url = s.fake.url();
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let mut cfg = AwxConfig {
        url: HttpUrl::parse(&url).unwrap(),
        base_path: "/api/v2/".into(),
        auth: Auth::Bearer {
            token: Secret::File(token),
        },
        tls: Default::default(),
        timeout: Seconds(Duration::from_secs(2)),
        poll_interval: Seconds(Duration::from_millis(10)),
        job_timeout: Seconds(Duration::from_secs(1)),
        templates: BTreeMap::from([("patch-apt".to_owned(), 10)]),
    };
    let err = AwxClient::new(cfg.clone())
        .unwrap()
        .run("patch-apt", "web-1", &json!({}))
        .unwrap_err();
    assert!(matches!(err, AwxError::Http(_)), "{err}");
    cfg.base_path = "api/v2".into();
    assert!(matches!(
        AwxClient::new(cfg).unwrap_err(),
        AwxError::BasePath(_)
    ));
}

#[test]
fn config_is_a_closed_world() {
    let ok = r#"
url = "https://awx.example.com"
base_path = "/api/controller/v2/"
auth = { kind = "bearer", token = "${env:AWX_TOKEN}" }
poll_interval = "2s"
templates = { patch-apt = 10, rollback-apt = 11 }
"#;
    let cfg: AwxConfig = toml::from_str(ok).unwrap();
    assert_eq!(cfg.templates["rollback-apt"], 11);
    assert!(toml::from_str::<AwxConfig>(&format!("{ok}\nextra = 1\n")).is_err());
}
