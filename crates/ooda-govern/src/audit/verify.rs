//! `ooda audit verify`: re-walks the chain and names the first record that does not fit.
//!
//! It streams the file and hashes the exact bytes of each line, parsing JSON only for checkpoint
//! records, so it stays fast on large logs. It never writes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::{checkpoint, decode_line, record_hash, split_line, AuditEntry, GENESIS};

/// What to check against besides the chain itself.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The trusted checkpoint key. Without it, checkpoint signatures are not checked.
    pub public_key: Option<VerifyingKey>,
    /// The head the store recorded (`SEQ HASH`): the log must reach it.
    pub head: Option<(u64, String)>,
    /// Where checkpoints must appear.
    pub checkpoint_every: u64,
}

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub checkpoints: u64,
    pub last_seq: u64,
    pub last_hash: String,
    /// Records after the last signed checkpoint (protected by the chain and the stored head only).
    pub unsigned_tail: u64,
}

/// The first place the log stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("record {seq} (line {line}): {reason}")]
pub struct VerifyFailure {
    /// The sequence number expected at that place.
    pub seq: u64,
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: String,
}

/// Verifies the log at `path`.
pub fn verify(path: &Path, options: &VerifyOptions) -> Result<VerifyReport, VerifyFailure> {
    let fail = |seq: u64, line: u64, reason: String| VerifyFailure { seq, line, reason };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match &options.head {
                Some((head_seq, _)) if *head_seq > 0 => Err(fail(
                    1,
                    1,
                    format!("the log is missing but the store recorded {head_seq} records"),
                )),
                _ => Ok(VerifyReport {
                    records: 0,
                    checkpoints: 0,
                    last_seq: 0,
                    last_hash: GENESIS.to_owned(),
                    unsigned_tail: 0,
                }),
            };
        }
        Err(e) => return Err(fail(0, 0, format!("cannot open {}: {e}", path.display()))),
    };
    // Only bytes present now are checked: a writer appending meanwhile holds its own lock and
    // writes whole lines, so everything before this length is complete.
    let len = file
        .metadata()
        .map_err(|e| fail(0, 0, format!("cannot stat {}: {e}", path.display())))?
        .len();
    let mut reader = BufReader::with_capacity(1 << 20, file.take(len));
    let every = options.checkpoint_every.max(2);
    let mut line = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    let mut last_hash = GENESIS.as_bytes().to_vec();
    let mut last_seq = 0u64;
    let mut checkpoints = 0u64;
    let mut last_checkpoint_seq = 0u64;
    let mut head_hash_seen: Option<Vec<u8>> = None;
    let mut digest_hex = [0u8; 64];
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| fail(last_seq + 1, line_no + 1, format!("read error: {e}")))?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let expected = last_seq + 1;
        if line.last() != Some(&b'\n') {
            return Err(fail(
                expected,
                line_no,
                "incomplete record at the end of the log (torn write: the agent repairs this at start-up, or the file was truncated mid-record)".into(),
            ));
        }
        line.pop();
        let Some((seq, kind, prev, hash, body)) = split_line(&line) else {
            return Err(fail(
                expected,
                line_no,
                "not a record: expected `SEQ KIND PREV HASH BODY`".into(),
            ));
        };
        if seq != expected {
            return Err(fail(
                expected,
                line_no,
                format!("sequence number is {seq}, expected {expected} (a record was deleted, inserted or moved)"),
            ));
        }
        if prev != last_hash.as_slice() {
            return Err(fail(
                expected,
                line_no,
                format!("does not chain to record {last_seq}: its prev hash differs (a record before it was changed, deleted or moved)"),
            ));
        }
        let prefix_len = line.len() - body.len() - hash.len() - 1;
        let digest = record_hash(&line[..prefix_len], body);
        // Encoding to hex in a fixed buffer keeps this loop allocation-free.
        hex::encode_to_slice(digest, &mut digest_hex)
            .map_err(|e| fail(expected, line_no, e.to_string()))?;
        if hash != digest_hex.as_slice() {
            return Err(fail(
                expected,
                line_no,
                "content does not match its hash (the record was edited)".into(),
            ));
        }
        let is_checkpoint = kind == b"checkpoint";
        if seq.is_multiple_of(every) && !is_checkpoint {
            return Err(fail(
                expected,
                line_no,
                format!(
                    "expected a signed checkpoint at every multiple of {every}; found `{}`",
                    String::from_utf8_lossy(kind)
                ),
            ));
        }
        if is_checkpoint {
            check_checkpoint(&line, seq, &last_hash, options)
                .map_err(|reason| fail(expected, line_no, reason))?;
            checkpoints += 1;
            last_checkpoint_seq = seq;
        }
        if let Some((head_seq, _)) = &options.head {
            if *head_seq == seq {
                head_hash_seen = Some(hash.to_vec());
            }
        }
        last_seq = seq;
        last_hash.clear();
        last_hash.extend_from_slice(hash);
    }
    if let Some((head_seq, head_hash)) = &options.head {
        if *head_seq > last_seq {
            return Err(fail(
                last_seq + 1,
                line_no + 1,
                format!("the log ends at record {last_seq} but the store recorded {head_seq}: records {}..={head_seq} are missing (truncated)", last_seq + 1),
            ));
        }
        if *head_seq > 0 && head_hash_seen.as_deref() != Some(head_hash.as_bytes()) {
            return Err(fail(
                *head_seq,
                *head_seq,
                "differs from the hash the store recorded for it (the log was rewritten)".into(),
            ));
        }
    }
    Ok(VerifyReport {
        records: last_seq,
        checkpoints,
        last_seq,
        last_hash: String::from_utf8_lossy(&last_hash).into_owned(),
        unsigned_tail: last_seq - last_checkpoint_seq,
    })
}

fn check_checkpoint(
    line: &[u8],
    seq: u64,
    prev_hash: &[u8],
    options: &VerifyOptions,
) -> Result<(), String> {
    let record = decode_line(line)?;
    let AuditEntry::Checkpoint {
        covers_seq,
        covers_hash,
        public_key,
        signature,
    } = record.entry
    else {
        return Err("marked `checkpoint` but its body is another kind of record".into());
    };
    if covers_seq + 1 != seq || covers_hash.as_bytes() != prev_hash {
        return Err(format!(
            "checkpoint covers record {covers_seq} with a hash that is not the chain's"
        ));
    }
    if let Some(trusted) = &options.public_key {
        if public_key != hex::encode(trusted.as_bytes()) {
            return Err("checkpoint was signed by a key other than the trusted one".into());
        }
        checkpoint::verify_signature(trusted, covers_seq, &covers_hash, &signature)?;
    }
    Ok(())
}
