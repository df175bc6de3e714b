//! The audit chain: an append-only file (`audit.log` in the data directory) in which every record
//! carries the SHA-256 of the one before it, so an edit, deletion, reordering or truncation is
//! detectable; every [`CHECKPOINT_EVERY`]th record is an ed25519-signed checkpoint, so a rewrite
//! that recomputes the hashes is detectable too.
//!
//! One record is one line: `SEQ KIND PREV HASH BODY`, where `HASH = SHA-256("SEQ KIND PREV " ||
//! BODY)` in lowercase hex and BODY is the compact JSON of the time and the entry. Hashing the
//! exact bytes (rather than a re-serialisation) lets `verify` check a million records without
//! parsing their JSON. Several processes (the agent, `ooda approvals approve`, `ooda kill-switch`)
//! append to the same file: each append holds an exclusive `flock` and re-reads the tail if the
//! file grew under it. Every append is fsynced before it returns: the gate writes the intent
//! record before the actuator runs.

pub mod checkpoint;
mod verify;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ooda_core::{
    ActionId, ActionKind, ActionRequest, ChangeRef, ChangeStatus, SharedClock, Timestamp,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::token::OutcomeStatus;
use crate::{GovernError, Result};
use checkpoint::CheckpointKey;

pub use verify::{verify, VerifyFailure, VerifyOptions, VerifyReport};

/// The audit log's file name inside the data directory.
pub const LOG_FILE: &str = "audit.log";
/// Every record whose sequence number is a multiple of this is a signed checkpoint.
pub const CHECKPOINT_EVERY: u64 = 256;
/// The store key holding the last appended `SEQ HASH`, which makes truncation of the tail
/// detectable.
pub const HEAD_KEY: &str = "govern/audit/head";
/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuditEntry {
    /// The gate is about to call the actuator. Fsynced before the call.
    Intent {
        action: ActionId,
        key: String,
        request: Box<ActionRequest>,
        /// `alone`, `notify` or `approved`.
        autonomy: String,
        policies: Vec<String>,
        #[serde(default)]
        approval: Option<u64>,
        /// The change record opened for it (carried here to save an fsync per action).
        #[serde(default)]
        change: Option<ChangeRef>,
    },
    /// How an intent ended (or how start-up reconciliation resolved it).
    Outcome {
        action: ActionId,
        key: String,
        status: OutcomeStatus,
        detail: String,
        #[serde(default)]
        reconciled: bool,
    },
    /// The gate said no; nothing ran.
    Refused {
        action: ActionId,
        kind: ActionKind,
        host: String,
        refusal: String,
        detail: String,
    },
    /// Waiting for a human.
    Parked {
        action: ActionId,
        approval: u64,
        kind: ActionKind,
        host: String,
        approvers_needed: u8,
        expires: Timestamp,
    },
    ApprovalVote {
        approval: u64,
        by: String,
        approve: bool,
        comment: String,
    },
    ApprovalExpired {
        approval: u64,
    },
    KillSwitch {
        on: bool,
        by: String,
        reason: String,
    },
    /// A person acknowledged, closed or reopened an incident.
    IncidentHuman {
        incident: String,
        /// `ack`, `close` or `reopen`.
        verb: String,
        by: String,
        reason: String,
    },
    /// An autonomy level was changed at run time (`ooda autonomy set`).
    AutonomySet {
        #[serde(default)]
        action: Option<ActionKind>,
        #[serde(default)]
        class: Option<String>,
        level: String,
        previous: String,
        by: String,
        reason: String,
    },
    PolicyLoaded {
        digest: String,
        policies: usize,
    },
    PolicyRejected {
        error: String,
    },
    ChangeRecord {
        action: ActionId,
        change: ChangeRef,
        status: ChangeStatus,
    },
    Checkpoint {
        covers_seq: u64,
        covers_hash: String,
        public_key: String,
        signature: String,
    },
}

impl AuditEntry {
    /// The KIND token written in the line prefix.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditEntry::Intent { .. } => "intent",
            AuditEntry::Outcome { .. } => "outcome",
            AuditEntry::Refused { .. } => "refused",
            AuditEntry::Parked { .. } => "parked",
            AuditEntry::ApprovalVote { .. } => "approval_vote",
            AuditEntry::ApprovalExpired { .. } => "approval_expired",
            AuditEntry::KillSwitch { .. } => "kill_switch",
            AuditEntry::IncidentHuman { .. } => "incident_human",
            AuditEntry::AutonomySet { .. } => "autonomy_set",
            AuditEntry::PolicyLoaded { .. } => "policy_loaded",
            AuditEntry::PolicyRejected { .. } => "policy_rejected",
            AuditEntry::ChangeRecord { .. } => "change_record",
            AuditEntry::Checkpoint { .. } => "checkpoint",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Body {
    time: Timestamp,
    entry: AuditEntry,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub prev: String,
    pub hash: String,
    pub time: Timestamp,
    pub entry: AuditEntry,
}

/// Hashes the prefix `SEQ KIND PREV ` and the body.
pub(crate) fn record_hash(prefix: &[u8], body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prefix);
    hasher.update(body);
    hasher.finalize().into()
}

/// Encodes a record as its line (with the trailing newline) and returns its hash. Public for
/// tools that build logs in bulk (benchmarks, migration); appends go through [`AuditLog`].
pub fn encode(
    seq: u64,
    prev: &str,
    time: Timestamp,
    entry: &AuditEntry,
) -> Result<(Vec<u8>, String)> {
    let body = serde_json::to_vec(&Body {
        time,
        entry: entry.clone(),
    })?;
    let prefix = format!("{seq} {} {prev} ", entry.kind());
    let hash = hex::encode(record_hash(prefix.as_bytes(), &body));
    let mut line = Vec::with_capacity(prefix.len() + hash.len() + body.len() + 2);
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(hash.as_bytes());
    line.push(b' ');
    line.extend_from_slice(&body);
    line.push(b'\n');
    Ok((line, hash))
}

/// The five fields of a record line: seq, kind, prev, hash, body.
pub(crate) type LineParts<'a> = (u64, &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// Splits a line (without newline) into its [`LineParts`].
pub(crate) fn split_line(line: &[u8]) -> Option<LineParts<'_>> {
    let mut parts = line.splitn(5, |b| *b == b' ');
    let seq = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let kind = parts.next()?;
    let prev = parts.next()?;
    let hash = parts.next()?;
    let body = parts.next()?;
    Some((seq, kind, prev, hash, body))
}

/// Decodes a full line into a record (no hash check: that is `verify`'s job).
pub fn decode_line(line: &[u8]) -> std::result::Result<AuditRecord, String> {
    let (seq, _, prev, hash, body) =
        split_line(line).ok_or_else(|| "expected `SEQ KIND PREV HASH BODY`".to_owned())?;
    let body: Body =
        serde_json::from_slice(body).map_err(|e| format!("body is not a valid record: {e}"))?;
    Ok(AuditRecord {
        seq,
        prev: String::from_utf8_lossy(prev).into_owned(),
        hash: String::from_utf8_lossy(hash).into_owned(),
        time: body.time,
        entry: body.entry,
    })
}

struct Tail {
    file: File,
    len: u64,
    last_seq: u64,
    last_hash: String,
    /// Every idempotency key with an intent in the log, and how it ended.
    keys: HashMap<String, KeyState>,
}

/// What the log says about an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyState {
    /// An intent without an outcome: running now, or interrupted by a crash.
    Pending {
        action: ActionId,
        request: Box<ActionRequest>,
    },
    Done(OutcomeStatus),
}

impl KeyState {
    /// Whether a new intent for this key may be written: only when it never ran.
    fn blocks_new_intent(&self) -> bool {
        !matches!(self, KeyState::Done(OutcomeStatus::NotRun))
    }
}

fn index_entry(keys: &mut HashMap<String, KeyState>, entry: &AuditEntry) {
    match entry {
        AuditEntry::Intent {
            action,
            key,
            request,
            ..
        } => {
            keys.insert(
                key.clone(),
                KeyState::Pending {
                    action: *action,
                    request: request.clone(),
                },
            );
        }
        AuditEntry::Outcome { key, status, .. } => {
            keys.insert(key.clone(), KeyState::Done(*status));
        }
        _ => {}
    }
}

/// Indexes the intents and outcomes in bytes `from..to` of the log (whole lines only).
fn index_range(
    path: &Path,
    file: &File,
    from: u64,
    to: u64,
    keys: &mut HashMap<String, KeyState>,
) -> Result<()> {
    let mut reader = file.try_clone().map_err(|e| io_error(path, e))?;
    reader
        .seek(SeekFrom::Start(from))
        .map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, reader.take(to.saturating_sub(from)));
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, e))?;
        if read == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        line.pop();
        let Some((seq, kind, ..)) = split_line(&line) else {
            continue;
        };
        if kind != b"intent" && kind != b"outcome" {
            continue;
        }
        let record = decode_line(&line).map_err(|reason| GovernError::AuditCorrupt {
            path: path.display().to_string(),
            seq,
            reason,
        })?;
        index_entry(keys, &record.entry);
    }
}

/// The append side of the audit chain. Cheap to share behind an `Arc`.
pub struct AuditLog {
    path: PathBuf,
    tail: Mutex<Tail>,
    key: CheckpointKey,
    clock: SharedClock,
    head: Option<Arc<dyn ooda_store::Store>>,
    checkpoint_every: u64,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

/// Holds the cross-process lock on the log file for one append.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File, path: &Path) -> Result<Self> {
        file.lock().map_err(|source| io_error(path, source))?;
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn io_error(path: &Path, source: std::io::Error) -> GovernError {
    GovernError::AuditIo {
        path: path.display().to_string(),
        source,
    }
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir`, with the signing key beside it. `head`, when
    /// given, receives the last `SEQ HASH` after every append so `verify` can detect truncation.
    pub fn open(
        dir: &Path,
        clock: SharedClock,
        head: Option<Arc<dyn ooda_store::Store>>,
    ) -> Result<Self> {
        Self::open_with(dir, clock, head, CHECKPOINT_EVERY)
    }

    /// Like [`open`](Self::open) with a custom checkpoint interval (tests, benches).
    pub fn open_with(
        dir: &Path,
        clock: SharedClock,
        head: Option<Arc<dyn ooda_store::Store>>,
        checkpoint_every: u64,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let key = CheckpointKey::load_or_create(dir)?;
        let path = dir.join(LOG_FILE);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        let mut tail = Tail {
            file,
            len: u64::MAX,
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
            keys: HashMap::new(),
        };
        {
            let lock_file = tail.file.try_clone().map_err(|e| io_error(&path, e))?;
            let _lock = FileLock::exclusive(&lock_file, &path)?;
            refresh_tail(&path, &mut tail)?;
            let mut keys = HashMap::new();
            index_range(&path, &tail.file, 0, tail.len, &mut keys)?;
            tail.keys = keys;
        }
        Ok(Self {
            path,
            tail: Mutex::new(tail),
            key,
            clock,
            head,
            checkpoint_every: checkpoint_every.max(2),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn checkpoint_every(&self) -> u64 {
        self.checkpoint_every
    }

    /// The hex ed25519 public key that verifies this log's checkpoints.
    pub fn public_key_hex(&self) -> String {
        self.key.public_key_hex()
    }

    pub fn public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.public_key()
    }

    /// Appends `entry`, fsyncs, and returns its sequence number. Appends a signed checkpoint
    /// after it when one is due.
    pub fn append(&self, entry: AuditEntry) -> Result<u64> {
        self.append_if(entry, |_| true).map(|seq| seq.unwrap_or(0))
    }

    /// Appends an intent unless its idempotency key already has one that ran (or may have).
    /// The check and the append happen under the cross-process file lock, so two processes
    /// cannot both write an intent for one key. `None` means the key was taken.
    pub fn append_intent(&self, entry: AuditEntry) -> Result<Option<u64>> {
        let AuditEntry::Intent { key, .. } = &entry else {
            return Err(GovernError::Invalid {
                field: "entry".into(),
                reason: format!("expected an intent, found {}", entry.kind()),
            });
        };
        let key = key.clone();
        self.append_if(entry, |keys| {
            !keys.get(&key).is_some_and(KeyState::blocks_new_intent)
        })
    }

    /// What the log says about `key`.
    pub fn key_state(&self, key: &str) -> Option<KeyState> {
        self.tail.lock().ok().and_then(|t| t.keys.get(key).cloned())
    }

    /// Intents without an outcome (reconciled at start-up).
    pub fn pending_intents(&self) -> Vec<(String, ActionId, ActionRequest)> {
        let Ok(tail) = self.tail.lock() else {
            return Vec::new();
        };
        let mut pending: Vec<_> = tail
            .keys
            .iter()
            .filter_map(|(key, state)| match state {
                KeyState::Pending { action, request } => {
                    Some((key.clone(), *action, (**request).clone()))
                }
                KeyState::Done(_) => None,
            })
            .collect();
        pending.sort_by_key(|(_, action, _)| *action);
        pending
    }

    fn append_if(
        &self,
        entry: AuditEntry,
        allowed: impl FnOnce(&HashMap<String, KeyState>) -> bool,
    ) -> Result<Option<u64>> {
        let mut tail = self.tail.lock().map_err(|_| GovernError::AuditCorrupt {
            path: self.path.display().to_string(),
            seq: 0,
            reason: "audit writer poisoned by a panic".into(),
        })?;
        let lock_file = tail.file.try_clone().map_err(|e| io_error(&self.path, e))?;
        let _lock = FileLock::exclusive(&lock_file, &self.path)?;
        let len = tail
            .file
            .metadata()
            .map_err(|e| io_error(&self.path, e))?
            .len();
        if len != tail.len {
            // Another process appended (or a crash left a torn line): re-read the tail and index
            // what it wrote.
            let known = tail.len;
            refresh_tail(&self.path, &mut tail)?;
            if tail.len >= known {
                let mut keys = std::mem::take(&mut tail.keys);
                index_range(&self.path, &tail.file, known, tail.len, &mut keys)?;
                tail.keys = keys;
            } else {
                let mut keys = HashMap::new();
                index_range(&self.path, &tail.file, 0, tail.len, &mut keys)?;
                tail.keys = keys;
            }
        }
        if !allowed(&tail.keys) {
            return Ok(None);
        }
        // A crash between a record and its checkpoint leaves the checkpoint owed: pay it first.
        self.checkpoint_if_due(&mut tail)?;
        let seq = self.write_one(&mut tail, &entry)?;
        index_entry(&mut tail.keys, &entry);
        self.checkpoint_if_due(&mut tail)?;
        if let Some(store) = &self.head {
            // Written under the file lock so the head never runs ahead of the file or backwards.
            let head = format!("{} {}", tail.last_seq, tail.last_hash);
            if let Err(error) = store.kv_put(HEAD_KEY, &head) {
                tracing::warn!(%error, "audit head not recorded in the store; truncation of the newest records would go unnoticed until it is");
            }
        }
        Ok(Some(seq))
    }

    /// Writes a signed checkpoint if the next sequence number is a checkpoint position.
    fn checkpoint_if_due(&self, tail: &mut Tail) -> Result<()> {
        if !(tail.last_seq + 1).is_multiple_of(self.checkpoint_every) {
            return Ok(());
        }
        let covers_seq = tail.last_seq;
        let covers_hash = tail.last_hash.clone();
        let checkpoint = AuditEntry::Checkpoint {
            covers_seq,
            signature: self.key.sign(covers_seq, &covers_hash),
            covers_hash,
            public_key: self.key.public_key_hex(),
        };
        self.write_one(tail, &checkpoint)?;
        Ok(())
    }

    fn write_one(&self, tail: &mut Tail, entry: &AuditEntry) -> Result<u64> {
        let seq = tail.last_seq + 1;
        let (line, hash) = encode(seq, &tail.last_hash, self.clock.now(), entry)?;
        tail.file
            .write_all(&line)
            .and_then(|()| tail.file.sync_data())
            .map_err(|e| io_error(&self.path, e))?;
        tail.len += line.len() as u64;
        tail.last_seq = seq;
        tail.last_hash = hash;
        Ok(seq)
    }

    /// The last sequence number written (0 for an empty log).
    pub fn last_seq(&self) -> u64 {
        self.tail.lock().map(|t| t.last_seq).unwrap_or(0)
    }

    /// Every record, oldest first, decoded. Use [`verify`] to check integrity.
    pub fn read_all(&self) -> Result<Vec<AuditRecord>> {
        read_records(&self.path)
    }
}

/// Reads every complete record of the log at `path`.
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>> {
    let mut records = Vec::new();
    for_each_record(path, |record| {
        records.push(record);
        true
    })?;
    Ok(records)
}

/// Calls `visit` for each complete record until it returns `false`.
pub fn for_each_record(path: &Path, mut visit: impl FnMut(AuditRecord) -> bool) -> Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path, e)),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, e))?;
        if read == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        number += 1;
        line.pop();
        let record = decode_line(&line).map_err(|reason| GovernError::AuditCorrupt {
            path: path.display().to_string(),
            seq: number,
            reason,
        })?;
        if !visit(record) {
            return Ok(());
        }
    }
}

/// Under the file lock: truncates a torn final line (a crash mid-append; the record was never
/// complete, so no actuator ran on it) and reloads the last sequence number and hash.
fn refresh_tail(path: &Path, tail: &mut Tail) -> Result<()> {
    let len = tail.file.metadata().map_err(|e| io_error(path, e))?.len();
    let (complete_len, last_line) =
        last_complete_line(&mut tail.file, len).map_err(|e| io_error(path, e))?;
    if complete_len != len {
        tracing::warn!(
            path = %path.display(),
            torn_bytes = len - complete_len,
            "audit log ended in a torn record (crash during append); truncating it"
        );
        tail.file
            .set_len(complete_len)
            .and_then(|()| tail.file.sync_all())
            .map_err(|e| io_error(path, e))?;
    }
    match last_line {
        None => {
            tail.last_seq = 0;
            tail.last_hash = GENESIS.to_owned();
        }
        Some(line) => {
            let (seq, _, _, hash, _) =
                split_line(&line).ok_or_else(|| GovernError::AuditCorrupt {
                    path: path.display().to_string(),
                    seq: 0,
                    reason: "the last record is not `SEQ KIND PREV HASH BODY`".into(),
                })?;
            tail.last_seq = seq;
            tail.last_hash = String::from_utf8_lossy(hash).into_owned();
        }
    }
    tail.len = complete_len;
    Ok(())
}

/// The length up to the end of the last complete line, and that line (without its newline).
fn last_complete_line(file: &mut File, len: u64) -> std::io::Result<(u64, Option<Vec<u8>>)> {
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        file.take(len - start).read_to_end(&mut buf)?;
        let Some(last_newline) = buf.iter().rposition(|b| *b == b'\n') else {
            if start == 0 {
                return Ok((0, None));
            }
            window *= 4;
            continue;
        };
        let complete_len = start + last_newline as u64 + 1;
        let before = &buf[..last_newline];
        match before.iter().rposition(|b| *b == b'\n') {
            Some(prev_newline) => {
                return Ok((complete_len, Some(before[prev_newline + 1..].to_vec())));
            }
            None if start == 0 => return Ok((complete_len, Some(before.to_vec()))),
            None => window *= 4,
        }
    }
}

#[cfg(test)]
mod tests;
