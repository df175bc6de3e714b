//! `ooda audit verify|export|key`: check the hash chain and its signed checkpoints (exit 1 naming
//! the first bad record), export records as JSON lines, print the checkpoint public key.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Subcommand, ValueEnum};
use ooda_core::Timestamp;
use ooda_govern::audit::{self, checkpoint};

use super::GlobalArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the chain, the signed checkpoints and the stored head.
    Verify {
        /// Trusted public key (hex); defaults to the one derived from the data directory's key.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Export records.
    Export {
        /// Only records at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00Z, or a duration
        /// back from now, e.g. 24h).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
    /// Print the hex ed25519 public key that verifies this log's checkpoints.
    Key,
}

pub fn run(command: AuditCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (_, home) = crate::cli::data_dir::load(global)?;
    match command {
        AuditCommand::Verify { public_key } => {
            let mut options = home.verify_options()?;
            if let Some(key) = public_key {
                options.public_key = Some(
                    checkpoint::parse_public_key(&key).map_err(|e| anyhow!("--public-key: {e}"))?,
                );
            }
            match audit::verify(home.audit.path(), &options) {
                Ok(report) => {
                    println!(
                        "✔ {}: {} records, {} signed checkpoints, last {} {}, {} records after the last checkpoint",
                        home.audit.path().display(),
                        report.records,
                        report.checkpoints,
                        report.last_seq,
                        &report.last_hash[..12.min(report.last_hash.len())],
                        report.unsigned_tail
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(failure) => {
                    println!("✖ {}: {failure}", home.audit.path().display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Export {
            since,
            format: ExportFormat::Jsonl,
        } => {
            let since = since
                .map(|s| parse_since(&s, home.clock.now()))
                .transpose()?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut failed = None;
            audit::for_each_record(home.audit.path(), |record| {
                if since.is_some_and(|since| record.time < since) {
                    return true;
                }
                let written = serde_json::to_writer(&mut out, &record)
                    .map_err(anyhow::Error::from)
                    .and_then(|()| out.write_all(b"\n").map_err(anyhow::Error::from));
                if let Err(e) = written {
                    failed = Some(e);
                    return false;
                }
                true
            })?;
            if let Some(e) = failed {
                return Err(e.context("writing the export"));
            }
            out.flush().context("writing the export")?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Key => {
            println!("{}", home.audit.public_key_hex());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_since(text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    let back = humantime::parse_duration(text).map_err(|_| {
        anyhow!("--since: expected an RFC 3339 time or a duration like 24h, found {text:?}")
    })?;
    let back = chrono::Duration::from_std(back)
        .map_err(|_| anyhow!("--since: duration {text:?} is too long"))?;
    now.checked_sub_signed(back)
        .ok_or_else(|| anyhow!("--since: duration {text:?} is too long"))
}
