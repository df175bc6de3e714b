//! Signed checkpoints: every so often the log appends a record carrying an ed25519 signature over
//! the hash of the record before it. Recomputing the chain after an edit does not reproduce those
//! signatures, so a rewrite is detectable by anyone holding the public key.
//!
//! The signing key lives in the data directory (`audit.key`, mode 0600); the public key is
//! exportable (`ooda audit key`) so it can be kept somewhere the agent cannot write.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::{GovernError, Result};

/// The file name of the signing key inside the data directory.
pub const KEY_FILE: &str = "audit.key";

/// What a checkpoint signs: domain-separated so the signature means nothing elsewhere.
pub fn message(covers_seq: u64, covers_hash: &str) -> Vec<u8> {
    format!("ooda-audit-checkpoint v1 {covers_seq} {covers_hash}").into_bytes()
}

/// The checkpoint signer.
#[derive(Debug)]
pub struct CheckpointKey {
    key: SigningKey,
}

impl CheckpointKey {
    /// Loads `dir/audit.key`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            Err(e) => Err(key_error(&path, e.to_string())),
        }
    }

    fn create(path: &PathBuf) -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| key_error(path, format!("no random source: {e}")))?;
        // Written whole to a private temporary file, then hard-linked into place: a kill -9 at
        // any point leaves either no key or a complete one (never an empty file that would stop
        // the next start), and the link fails if another process created the key first.
        let tmp = path.with_extension(format!("key.tmp.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&tmp).and_then(|mut file| {
            file.write_all(hex::encode(seed).as_bytes())?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(key_error(path, e.to_string()));
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    if let Ok(dir) = std::fs::File::open(dir) {
                        let _ = dir.sync_all();
                    }
                }
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            // Another process created it first: use theirs, so there is one key per data dir.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| key_error(path, e.to_string()))?;
                Self::parse(path, &text)
            }
            Err(e) => Err(key_error(path, e.to_string())),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim())
            .map_err(|e| key_error(path, format!("expected 64 hex digits: {e}")))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            key_error(path, format!("expected 32 bytes, found {}", b.len()))
        })?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key().as_bytes())
    }

    pub fn sign(&self, covers_seq: u64, covers_hash: &str) -> String {
        hex::encode(self.key.sign(&message(covers_seq, covers_hash)).to_bytes())
    }
}

/// Parses a hex public key (`ooda audit key` prints one).
pub fn parse_public_key(text: &str) -> std::result::Result<VerifyingKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("expected 64 hex digits: {e}"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected 32 bytes, found {}", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an ed25519 public key: {e}"))
}

/// Checks a checkpoint signature.
pub fn verify_signature(
    key: &VerifyingKey,
    covers_seq: u64,
    covers_hash: &str,
    signature_hex: &str,
) -> std::result::Result<(), String> {
    let bytes = hex::decode(signature_hex).map_err(|e| format!("signature is not hex: {e}"))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("signature has {} bytes, expected 64", b.len()))?;
    key.verify(
        &message(covers_seq, covers_hash),
        &Signature::from_bytes(&bytes),
    )
    .map_err(|_| "signature does not verify with the trusted public key".to_owned())
}

fn key_error(path: &Path, reason: String) -> GovernError {
    GovernError::Key {
        path: path.display().to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let a = CheckpointKey::load_or_create(dir.path()).unwrap();
        let b = CheckpointKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.public_key_hex(), b.public_key_hex());
        let sig = a.sign(7, "abc");
        let public = parse_public_key(&b.public_key_hex()).unwrap();
        verify_signature(&public, 7, "abc", &sig).unwrap();
        assert!(verify_signature(&public, 8, "abc", &sig).is_err());
        assert!(verify_signature(&public, 7, "abd", &sig).is_err());
        assert!(parse_public_key("zz").is_err());
    }
}
