use std::sync::Arc;

use ooda_core::{ManualClock, SharedClock};
use ooda_store::{SqliteStore, Store};

use super::*;

fn clock() -> SharedClock {
    Arc::new(ManualClock::at_ms(1_700_000_000_000))
}

fn switch(i: u64) -> AuditEntry {
    AuditEntry::KillSwitch {
        on: i.is_multiple_of(2),
        by: format!("tester-{i}"),
        reason: "drill".into(),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    store: Arc<SqliteStore>,
    log: AuditLog,
}

fn fixture(records: u64, every: u64) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let store = Arc::new(SqliteStore::open(&dir.join("s.sqlite")).unwrap());
    let head: Arc<dyn Store> = store.clone();
    let log = AuditLog::open_with(&dir, clock(), Some(head), every).unwrap();
    for i in 0..records {
        log.append(switch(i)).unwrap();
    }
    Fixture {
        _dir: tmp,
        dir,
        store,
        log,
    }
}

fn options(f: &Fixture) -> VerifyOptions {
    let head = f.store.kv_get(HEAD_KEY).unwrap().map(|text| {
        let (seq, hash) = text.split_once(' ').unwrap();
        (seq.parse().unwrap(), hash.to_owned())
    });
    VerifyOptions {
        public_key: Some(f.log.public_key()),
        head,
        checkpoint_every: f.log.checkpoint_every(),
    }
}

fn lines(f: &Fixture) -> Vec<String> {
    std::fs::read_to_string(f.log.path())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(f: &Fixture, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(f.log.path(), text).unwrap();
}

#[test]
fn a_fresh_log_verifies_with_checkpoints_and_head() {
    let f = fixture(20, 8);
    let report = verify(f.log.path(), &options(&f)).unwrap();
    // 20 entries plus a checkpoint at 8, 16 and 24 (24 > 22, so two):
    assert_eq!(report.checkpoints, 2);
    assert_eq!(report.records, 22);
    assert_eq!(report.last_seq, f.log.last_seq());
    let records = f.log.read_all().unwrap();
    assert_eq!(records.len(), 22);
    assert!(matches!(
        records[7].entry,
        AuditEntry::Checkpoint { covers_seq: 7, .. }
    ));
}

#[test]
fn an_edited_record_is_named() {
    let f = fixture(10, 100);
    let mut all = lines(&f);
    all[4] = all[4].replace("tester-4", "tester-X");
    write_lines(&f, &all);
    let failure = verify(f.log.path(), &options(&f)).unwrap_err();
    assert_eq!(failure.seq, 5);
    assert_eq!(failure.line, 5);
    assert!(failure.reason.contains("edited"), "{failure}");
}

#[test]
fn a_deleted_record_is_named() {
    let f = fixture(10, 100);
    let mut all = lines(&f);
    all.remove(3);
    write_lines(&f, &all);
    let failure = verify(f.log.path(), &options(&f)).unwrap_err();
    assert_eq!(failure.seq, 4, "{failure}");
    assert!(failure.reason.contains("sequence number is 5"), "{failure}");
}

#[test]
fn reordered_records_are_named() {
    let f = fixture(10, 100);
    let mut all = lines(&f);
    all.swap(2, 6);
    write_lines(&f, &all);
    let failure = verify(f.log.path(), &options(&f)).unwrap_err();
    assert_eq!(failure.seq, 3);
    assert_eq!(failure.line, 3);
}

#[test]
fn truncation_is_detected_through_the_stored_head() {
    let f = fixture(10, 100);
    let mut all = lines(&f);
    all.truncate(7);
    write_lines(&f, &all);
    let failure = verify(f.log.path(), &options(&f)).unwrap_err();
    assert_eq!(failure.seq, 8);
    assert!(failure.reason.contains("truncated"), "{failure}");
}

#[test]
fn truncation_mid_record_is_named() {
    let f = fixture(10, 100);
    let text = std::fs::read(f.log.path()).unwrap();
    std::fs::write(f.log.path(), &text[..text.len() - 10]).unwrap();
    let failure = verify(f.log.path(), &options(&f)).unwrap_err();
    assert_eq!(failure.seq, 10);
    assert!(failure.reason.contains("incomplete"), "{failure}");
}

#[test]
fn a_rewritten_chain_fails_on_its_checkpoint_signature() {
    // Recompute every hash after an edit, as an attacker without the key would: the chain is
    // consistent again but the checkpoint no longer covers it.
    let f = fixture(10, 4);
    let records = f.log.read_all().unwrap();
    let mut prev = GENESIS.to_owned();
    let mut out = Vec::new();
    for mut record in records {
        if let AuditEntry::KillSwitch { by, .. } = &mut record.entry {
            if by == "tester-1" {
                *by = "mallory".into();
            }
        }
        if let AuditEntry::Checkpoint { covers_hash, .. } = &mut record.entry {
            *covers_hash = prev.clone();
        }
        let (line, hash) = encode(record.seq, &prev, record.time, &record.entry).unwrap();
        out.push(String::from_utf8(line).unwrap().trim_end().to_owned());
        prev = hash;
    }
    write_lines(&f, &out);
    let mut opts = options(&f);
    opts.head = None; // the attacker also rewrote the store
    let failure = verify(f.log.path(), &opts).unwrap_err();
    assert_eq!(failure.seq, 4);
    assert!(failure.reason.contains("signature"), "{failure}");
}

#[test]
fn a_missing_checkpoint_is_named() {
    let f = fixture(6, 4);
    let mut all = lines(&f);
    // Replace the checkpoint with an ordinary record correctly chained: still refused.
    all.truncate(3);
    write_lines(&f, &all);
    let log = AuditLog::open_with(&f.dir, clock(), None, 1000).unwrap();
    log.append(switch(99)).unwrap();
    let mut opts = options(&f);
    opts.head = None;
    let failure = verify(f.log.path(), &opts).unwrap_err();
    assert_eq!(failure.seq, 4);
    assert!(failure.reason.contains("checkpoint"), "{failure}");
}

#[test]
fn a_torn_tail_is_repaired_on_open_and_appends_continue() {
    let f = fixture(5, 100);
    let mut file = OpenOptions::new().append(true).open(f.log.path()).unwrap();
    file.write_all(b"6 kill_switch 00ab").unwrap();
    drop(file);
    let reopened = AuditLog::open_with(&f.dir, clock(), None, 100).unwrap();
    assert_eq!(reopened.last_seq(), 5);
    reopened.append(switch(6)).unwrap();
    let mut opts = options(&f);
    opts.head = None;
    assert_eq!(verify(f.log.path(), &opts).unwrap().records, 6);
}

#[test]
fn two_writers_on_one_file_keep_one_chain() {
    let f = fixture(0, 16);
    let other = AuditLog::open_with(&f.dir, clock(), None, 16).unwrap();
    for i in 0..20 {
        f.log.append(switch(i)).unwrap();
        other.append(switch(i + 100)).unwrap();
    }
    let mut opts = options(&f);
    opts.head = None;
    let report = verify(f.log.path(), &opts).unwrap();
    assert_eq!(report.records, 40 + 2);
}

#[test]
fn an_empty_or_missing_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let opts = VerifyOptions {
        public_key: None,
        head: None,
        checkpoint_every: CHECKPOINT_EVERY,
    };
    assert_eq!(
        verify(&dir.path().join(LOG_FILE), &opts).unwrap().records,
        0
    );
}

proptest::proptest! {
    /// Verification never panics, whatever bytes the file holds.
    #[test]
    fn verify_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        std::fs::write(&path, &bytes).unwrap();
        let opts = VerifyOptions { public_key: None, head: None, checkpoint_every: 4 };
        let _ = verify(&path, &opts);
        let _ = decode_line(&bytes);
    }
}
