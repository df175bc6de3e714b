//! Reading the tails of local files, and journald through `journalctl`. Only reads; a missing
//! file or journalctl costs a warning, not the batch.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

use super::config::LogFileConfig;
use super::parse;
use crate::logs::{is_error_line, LogBatch, LogError, LogLine, LogQuery};

#[derive(Debug, Clone)]
pub struct LogFileSource {
    config: LogFileConfig,
}

impl LogFileSource {
    pub fn new(config: LogFileConfig) -> Self {
        Self { config }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Blocking: call it from a blocking task in async code.
    pub fn fetch(&self, query: &LogQuery) -> Result<LogBatch, LogError> {
        let mut batch = LogBatch::default();
        if let (Some(wanted), Some(ours)) = (&query.host, &self.config.host) {
            if wanted != ours {
                return Ok(batch);
            }
        }
        for path in &self.config.paths {
            if let Err(reason) = self.read_file(path, query, &mut batch) {
                batch.warnings.push(format!("{}: {reason}", path.display()));
                batch.partial = true;
            }
        }
        if self.config.journald {
            if let Err(reason) = self.read_journal(query, &mut batch) {
                batch.warnings.push(format!("journald: {reason}"));
            }
        }
        batch.lines.sort_by_key(|l| std::cmp::Reverse(l.time));
        if batch.lines.len() > query.limit {
            batch.lines.truncate(query.limit);
            batch.partial = true;
        }
        if batch.lines.is_empty()
            && !batch.warnings.is_empty()
            && self.config.paths.len() + usize::from(self.config.journald) == batch.warnings.len()
        {
            return Err(LogError::Io {
                source_name: self.config.name.clone(),
                reason: batch.warnings.join("; "),
            });
        }
        Ok(batch)
    }

    fn read_file(&self, path: &Path, query: &LogQuery, batch: &mut LogBatch) -> Result<(), String> {
        let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let from = len.saturating_sub(self.config.tail_bytes);
        file.seek(SeekFrom::Start(from))
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        file.take(self.config.tail_bytes)
            .read_to_end(&mut raw)
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&raw);
        let mut lines = text.split('\n');
        if from > 0 {
            // The first line is probably cut in the middle.
            lines.next();
        }
        let year = parse::year_of(query.end);
        let label = path.display().to_string();
        // Continuation lines (stack traces) carry the time of the line they continue.
        let mut current = None;
        for line in lines {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if let Some(t) = parse::line_time(line, year) {
                current = Some(t);
            }
            let Some(time) = current else { continue };
            if time < query.start || time > query.end {
                continue;
            }
            if query.errors_only && !is_error_line(line) {
                continue;
            }
            batch.lines.push(LogLine {
                time,
                line: line.to_owned(),
                labels: [("file".to_owned(), label.clone())].into_iter().collect(),
            });
        }
        Ok(())
    }

    fn read_journal(&self, query: &LogQuery, batch: &mut LogBatch) -> Result<(), String> {
        let mut command = Command::new("journalctl");
        command
            .arg("-o")
            .arg("json")
            .arg("--no-pager")
            .arg("-r")
            .arg(format!("--since=@{}", query.start.timestamp()))
            .arg(format!("--until=@{}", query.end.timestamp()))
            .arg("-n")
            .arg(query.limit.to_string());
        if query.errors_only {
            command.arg("-p").arg("err");
        }
        if let Some(service) = &query.service {
            command.arg("-u").arg(service);
        }
        let output = command
            .output()
            .map_err(|e| format!("running journalctl: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "journalctl exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        for record in text.lines().filter_map(parse::journal_record) {
            batch.lines.push(record);
        }
        Ok(())
    }
}
