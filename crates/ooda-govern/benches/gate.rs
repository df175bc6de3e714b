//! Governance benchmarks: one gate decision end to end (kill switch read, catalogue, Cedar policy,
//! breaker, budget increment in SQLite, change record, fsynced intent, actuator no-op, fsynced
//! outcome) with p50/p99 printed; policy evaluation alone; `audit verify` over 1 million records.
//!
//! `cargo bench -p ooda-govern --bench gate`. The million-record log is built once per run in a
//! temporary directory (about 400 MB).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use ooda_core::{
    Action, ActionId, ActionRequest, Host, IncidentId, ManualClock, Principal, SharedClock,
};
use ooda_govern::audit::checkpoint::CheckpointKey;
use ooda_govern::audit::{self, AuditEntry, VerifyOptions, CHECKPOINT_EVERY, GENESIS};
use ooda_govern::gate::GateParts;
use ooda_govern::policy::PolicyInput;
use ooda_govern::{
    Actuator, ActuatorError, ActuatorStatus, AuditLog, EmbeddedChangeRecords, ExecutionToken, Gate,
    GovernConfig, LogNotifier, OutcomeStatus, PolicyEngine, StaticFacts,
};
use ooda_store::{SqliteStore, Store};

struct Noop;

impl Actuator for Noop {
    fn execute(&self, _: ExecutionToken) -> Result<String, ActuatorError> {
        Ok(String::new())
    }
    fn status(&self, _: &str) -> ActuatorStatus {
        ActuatorStatus::NotRun
    }
}

fn request(n: u128) -> ActionRequest {
    ActionRequest {
        id: ActionId::new(),
        action: Action::RestartService {
            service: "nginx".into(),
        },
        host: Host::new("web-1"),
        // A fresh incident each time so the budget never runs out but is always incremented.
        incident: Some(IncidentId::from_u128(n)),
        confidence: 0.95,
        requested_by: Principal::Agent("bench".into()),
        reason: "benchmark".into(),
        idempotency_key: None,
        revert: false,
    }
}

fn gate(dir: &std::path::Path) -> Gate {
    let clock: SharedClock = Arc::new(ManualClock::at_ms(1_700_000_000_000));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("ooda.sqlite")).unwrap());
    let audit = Arc::new(AuditLog::open(dir, clock.clone(), Some(store.clone())).unwrap());
    let mut config = GovernConfig::default();
    config.autonomy.default = ooda_govern::autonomy::Level::Autonomous;
    config.breaker.max_rate = u32::MAX;
    Gate::new(GateParts {
        config,
        store: store.clone(),
        audit,
        policy: Arc::new(PolicyEngine::with_defaults().unwrap()),
        actuator: Arc::new(Noop),
        facts: Arc::new(StaticFacts::all_clear()),
        changes: Arc::new(EmbeddedChangeRecords::new(store, clock.clone())),
        notifier: Arc::new(LogNotifier),
        clock,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// p50/p99 of whole gate decisions, printed for BENCHMARKS.md.
fn gate_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let gate = gate(dir.path());
    let mut latencies = Vec::with_capacity(2000);
    for n in 0..2000u128 {
        let started = Instant::now();
        let decision = gate.submit(request(n));
        latencies.push(started.elapsed());
        assert!(matches!(
            decision,
            ooda_govern::Decision::Executed {
                status: OutcomeStatus::Succeeded,
                ..
            }
        ));
    }
    latencies.sort();
    println!(
        "gate decision (policy + budget + fsynced intent and outcome), 2000 runs: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
}

fn bench_gate(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let gate = gate(dir.path());
    let mut n = 1_000_000u128;
    c.bench_function("gate_submit_end_to_end", |b| {
        b.iter(|| {
            n += 1;
            gate.submit(request(n))
        })
    });
    let engine = PolicyEngine::with_defaults().unwrap();
    let input = PolicyInput {
        principal: Principal::Agent("bench".into()),
        kind: ooda_core::ActionKind::RestartService,
        host: Host::new("web-1"),
        confidence: 0.95,
        has_incident: true,
        in_maintenance_window: true,
        active_incidents: 0,
        reverting: false,
        holding: StaticFacts::all_clear().holding,
        now: ooda_core::clock::from_millis(1_700_000_000_000),
    };
    c.bench_function("policy_evaluate_alone", |b| {
        b.iter(|| engine.evaluate(&input))
    });
    // Reference: one fsynced audit append, the unit the gate pays three of.
    let reference_dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = Arc::new(ManualClock::at_ms(0));
    let log = AuditLog::open(reference_dir.path(), clock, None).unwrap();
    c.bench_function("reference_audit_append_fsync", |b| {
        b.iter(|| {
            log.append(AuditEntry::PolicyRejected {
                error: "reference".into(),
            })
            .unwrap()
        })
    });
    let low = PolicyInput {
        confidence: 0.3,
        ..input.clone()
    };
    c.bench_function("policy_evaluate_needs_approval_two_queries", |b| {
        b.iter(|| engine.evaluate(&low))
    });
}

/// Writes `records` valid records (intents and outcomes, a signed checkpoint every 256th) straight
/// to a log file, without per-record fsync.
fn build_log(dir: &std::path::Path, records: u64) -> VerifyOptions {
    let key = CheckpointKey::load_or_create(dir).unwrap();
    let file = std::fs::File::create(dir.join(audit::LOG_FILE)).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 22, file);
    let mut prev = GENESIS.to_owned();
    let time = ooda_core::clock::from_millis(1_700_000_000_000);
    let template = request(1);
    for seq in 1..=records {
        let entry = if seq % CHECKPOINT_EVERY == 0 {
            AuditEntry::Checkpoint {
                covers_seq: seq - 1,
                covers_hash: prev.clone(),
                public_key: key.public_key_hex(),
                signature: key.sign(seq - 1, &prev),
            }
        } else if seq % 2 == 1 {
            AuditEntry::Intent {
                action: template.id,
                key: format!("action-{seq}"),
                request: Box::new(template.clone()),
                autonomy: "alone".into(),
                policies: vec!["autonomy.alone".into()],
                approval: None,
                change: None,
            }
        } else {
            AuditEntry::Outcome {
                action: template.id,
                key: format!("action-{}", seq - 1),
                status: OutcomeStatus::Succeeded,
                detail: "restarted nginx".into(),
                reconciled: false,
            }
        };
        let (line, hash) = audit::encode(seq, &prev, time, &entry).unwrap();
        out.write_all(&line).unwrap();
        prev = hash;
    }
    out.flush().unwrap();
    VerifyOptions {
        public_key: Some(key.public_key()),
        head: Some((records, prev)),
        checkpoint_every: CHECKPOINT_EVERY,
    }
}

fn bench_verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let records = 1_000_000;
    let options = build_log(dir.path(), records);
    let path = dir.path().join(audit::LOG_FILE);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let started = Instant::now();
    let report = audit::verify(&path, &options).unwrap();
    println!(
        "audit verify: {} records, {} MB, first run {:?}",
        report.records,
        bytes / 1_000_000,
        started.elapsed()
    );
    // Reference: reading and hashing the same bytes in one SHA-256 pass, no parsing.
    let started = Instant::now();
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path).unwrap());
    std::io::copy(&mut file, &mut HashWriter(&mut hasher)).unwrap();
    let _ = sha2::Digest::finalize(hasher);
    println!(
        "reference: one SHA-256 pass over the same file {:?}",
        started.elapsed()
    );
    let mut group = c.benchmark_group("audit");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("verify_1m_records", |b| {
        b.iter(|| audit::verify(&path, &options).unwrap())
    });
    group.finish();
}

struct HashWriter<'a>(&'a mut sha2::Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

criterion_group!(benches, bench_gate, bench_verify);

fn main() {
    gate_percentiles();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
