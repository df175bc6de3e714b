//! Crash safety: a scripted sequence of actions, run in a child process that is SIGKILLed at a
//! random point, then restarted to completion — 200 times. After each restart the audit chain
//! verifies, every action ran exactly once (the "world" ledger the actuator writes has each key
//! once: the actuator itself does not deduplicate, so a re-run would show), and none was lost.
//!
//! The child is this test binary itself, re-executed with `OODA_CRASH_CHILD_DIR` set, running the
//! `crash_child` test. Kill points are drawn from a seeded generator (printed) over the measured
//! duration of one uninterrupted run.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ooda_core::{Action, ActionId, ActionRequest, Host, Principal, SharedClock, SystemClock};
use ooda_govern::audit::{self, AuditEntry, KeyState};
use ooda_govern::gate::GateParts;
use ooda_govern::home::stored_head;
use ooda_govern::{
    Actuator, ActuatorError, ActuatorStatus, AuditLog, Decision, EmbeddedChangeRecords,
    ExecutionToken, Gate, GovernConfig, LogNotifier, OutcomeStatus, PolicyEngine, StaticFacts,
};
use ooda_store::{SqliteStore, Store};

const STEPS: usize = 5;
const RUNS: usize = 200;
const CHILD_ENV: &str = "OODA_CRASH_CHILD_DIR";
const CHECKPOINT_EVERY: u64 = 4;

/// The world: every execution appends its key, with no deduplication of its own.
struct Ledger {
    path: PathBuf,
}

impl Ledger {
    fn keys(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Actuator for Ledger {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| ActuatorError(e.to_string()))?;
        // One write() of one short line: a kill lands before or after it, never inside.
        file.write_all(format!("{}\n", token.idempotency_key()).as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| ActuatorError(e.to_string()))?;
        Ok("written".into())
    }

    fn status(&self, key: &str) -> ActuatorStatus {
        if Self::keys(&self.path).iter().any(|k| k == key) {
            ActuatorStatus::Done {
                succeeded: true,
                detail: "found in the ledger".into(),
            }
        } else {
            ActuatorStatus::NotRun
        }
    }
}

fn open_gate(dir: &Path) -> Gate {
    let clock: SharedClock = Arc::new(SystemClock);
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.join("ooda.sqlite")).expect("store"));
    let audit = Arc::new(
        AuditLog::open_with(dir, clock.clone(), Some(store.clone()), CHECKPOINT_EVERY)
            .expect("audit"),
    );
    Gate::new(GateParts {
        config: GovernConfig {
            autonomy: ooda_govern::autonomy::AutonomyConfig {
                default: ooda_govern::autonomy::Level::Autonomous,
                set: vec![],
            },
            ..GovernConfig::default()
        },
        store: store.clone(),
        audit,
        policy: Arc::new(PolicyEngine::with_defaults().expect("policy")),
        actuator: Arc::new(Ledger {
            path: dir.join("world.log"),
        }),
        facts: Arc::new(StaticFacts::all_clear()),
        changes: Arc::new(EmbeddedChangeRecords::new(store, clock.clone())),
        notifier: Arc::new(LogNotifier),
        clock,
    })
}

fn step_request(step: usize) -> ActionRequest {
    ActionRequest {
        id: ActionId::new(),
        action: Action::RestartService {
            service: format!("svc-{step}"),
        },
        host: Host::new("web-1"),
        incident: None,
        confidence: 0.99,
        requested_by: Principal::Agent("script".into()),
        reason: "crash test".into(),
        idempotency_key: Some(format!("step-{step}")),
        revert: false,
    }
}

/// The child: reconcile, then run every step whose key has not run yet.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return; // only meaningful when re-executed by `sigkill_at_random_points_200_times`
    };
    let dir = PathBuf::from(dir);
    let gate = open_gate(&dir);
    gate.reconcile();
    for step in 0..STEPS {
        let request = step_request(step);
        let key = request.effective_idempotency_key();
        if matches!(gate.audit().key_state(&key), Some(KeyState::Done(status)) if status != OutcomeStatus::NotRun)
        {
            continue;
        }
        match gate.submit(request) {
            Decision::Executed {
                status: OutcomeStatus::Succeeded,
                ..
            } => {}
            other => panic!("step {step}: {other:?}"),
        }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn child(dir: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "crash_child",
            "--exact",
            "--test-threads",
            "1",
            "--nocapture",
        ])
        .env(CHILD_ENV, dir)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn run_to_completion(dir: &Path) {
    let output = child(dir).output().expect("spawn child");
    assert!(
        output.status.success(),
        "restarted child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn check(dir: &Path, run: usize) {
    let ledger = Ledger::keys(&dir.join("world.log"));
    for step in 0..STEPS {
        let key = format!("step-{step}");
        let count = ledger.iter().filter(|k| **k == key).count();
        assert_eq!(
            count, 1,
            "run {run}: {key} ran {count} times (ledger {ledger:?})"
        );
    }
    assert_eq!(
        ledger.len(),
        STEPS,
        "run {run}: unexpected ledger {ledger:?}"
    );
    let store = SqliteStore::open(&dir.join("ooda.sqlite")).unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let log = AuditLog::open_with(dir, clock, None, CHECKPOINT_EVERY).unwrap();
    let options = audit::VerifyOptions {
        public_key: Some(log.public_key()),
        head: stored_head(&store).unwrap(),
        checkpoint_every: CHECKPOINT_EVERY,
    };
    audit::verify(log.path(), &options)
        .unwrap_or_else(|failure| panic!("run {run}: audit verify: {failure}"));
    let records = log.read_all().unwrap();
    for step in 0..STEPS {
        let key = format!("step-{step}");
        let succeeded = records.iter().filter(|r| matches!(&r.entry, AuditEntry::Outcome { key: k, status: OutcomeStatus::Succeeded, .. } if *k == key)).count();
        assert_eq!(
            succeeded, 1,
            "run {run}: {key} has {succeeded} success outcomes"
        );
    }
}

#[test]
fn sigkill_at_random_points_200_times() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let seed = std::env::var("OODA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0ffee_u64);
    println!("seed {seed}");
    let mut rng = Rng(seed | 1);
    let root = tempfile::tempdir().unwrap();

    // Calibrate: how long one uninterrupted run takes on this machine.
    let calibration = root.path().join("calibration");
    std::fs::create_dir(&calibration).unwrap();
    let started = Instant::now();
    run_to_completion(&calibration);
    let full = started.elapsed();
    check(&calibration, 0);
    let span_us = u64::try_from(full.as_micros()).unwrap_or(u64::MAX).max(1);

    let mut interrupted = 0;
    let mut completed_before_kill = 0;
    for run in 1..=RUNS {
        let dir = root.path().join(format!("run-{run}"));
        std::fs::create_dir(&dir).unwrap();
        let mut process = child(&dir).spawn().expect("spawn child");
        std::thread::sleep(Duration::from_micros(rng.next() % span_us));
        let _ = process.kill(); // SIGKILL on Unix
        let status = process.wait().expect("wait child");
        let ran = Ledger::keys(&dir.join("world.log")).len();
        if status.success() {
            completed_before_kill += 1;
        } else if ran < STEPS {
            interrupted += 1;
        }
        run_to_completion(&dir);
        check(&dir, run);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{RUNS} runs: {interrupted} killed mid-sequence, {completed_before_kill} finished before the kill; full run {full:?}");
}
