//! The runbook library shipped in the binary: the 20 common incident types, embedded at build
//! time so `ooda runbooks list` works with no files on disk.

use super::{parse, Runbook, RunbookProblem};

/// (file name, contents) of every shipped runbook.
pub const FILES: &[(&str, &str)] = &[
    (
        "cache_eviction_storm.toml",
        include_str!("../../runbooks/cache_eviction_storm.toml"),
    ),
    (
        "certificate_expiry.toml",
        include_str!("../../runbooks/certificate_expiry.toml"),
    ),
    (
        "clock_drift.toml",
        include_str!("../../runbooks/clock_drift.toml"),
    ),
    (
        "crash_loop.toml",
        include_str!("../../runbooks/crash_loop.toml"),
    ),
    (
        "db_connection_exhaustion.toml",
        include_str!("../../runbooks/db_connection_exhaustion.toml"),
    ),
    (
        "disk_full.toml",
        include_str!("../../runbooks/disk_full.toml"),
    ),
    (
        "dns_failure.toml",
        include_str!("../../runbooks/dns_failure.toml"),
    ),
    (
        "failed_deploy.toml",
        include_str!("../../runbooks/failed_deploy.toml"),
    ),
    (
        "fd_exhaustion.toml",
        include_str!("../../runbooks/fd_exhaustion.toml"),
    ),
    (
        "hung_service.toml",
        include_str!("../../runbooks/hung_service.toml"),
    ),
    (
        "inode_exhaustion.toml",
        include_str!("../../runbooks/inode_exhaustion.toml"),
    ),
    (
        "log_volume_explosion.toml",
        include_str!("../../runbooks/log_volume_explosion.toml"),
    ),
    (
        "memory_leak.toml",
        include_str!("../../runbooks/memory_leak.toml"),
    ),
    (
        "nic_errors.toml",
        include_str!("../../runbooks/nic_errors.toml"),
    ),
    (
        "queue_backlog.toml",
        include_str!("../../runbooks/queue_backlog.toml"),
    ),
    (
        "replication_lag.toml",
        include_str!("../../runbooks/replication_lag.toml"),
    ),
    (
        "runaway_cpu.toml",
        include_str!("../../runbooks/runaway_cpu.toml"),
    ),
    (
        "slow_upstream.toml",
        include_str!("../../runbooks/slow_upstream.toml"),
    ),
    (
        "storage_degradation.toml",
        include_str!("../../runbooks/storage_degradation.toml"),
    ),
    (
        "swap_thrashing.toml",
        include_str!("../../runbooks/swap_thrashing.toml"),
    ),
];

/// Parses every shipped runbook. The shipped files are checked by this crate's tests; an error
/// here is still returned, never a panic.
pub fn shipped() -> Result<Vec<Runbook>, Vec<RunbookProblem>> {
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in FILES {
        match parse(name, text) {
            Ok(runbook) => runbooks.push(runbook),
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() {
        Ok(runbooks)
    } else {
        Err(problems)
    }
}

/// A runbook checked against the catalogue: its cause exists and every verification signal is
/// one the catalogue knows.
pub fn check_against(
    runbook: &Runbook,
    file: &str,
    catalogue: &crate::catalogue::Catalogue,
) -> Vec<RunbookProblem> {
    let mut problems = Vec::new();
    if catalogue.cause(&runbook.cause).is_none() {
        problems.push(RunbookProblem {
            file: file.to_owned(),
            field: "cause".into(),
            reason: format!("{:?} is not in the incident catalogue", runbook.cause),
        });
    }
    let known = |signal: &str| {
        crate::catalogue::BUILT_IN_SIGNALS.contains(&signal)
            || catalogue.signals().iter().any(|s| s.id == signal)
    };
    for (i, step) in runbook.steps.iter().enumerate() {
        if !known(&step.verify.signal) {
            problems.push(RunbookProblem {
                file: file.to_owned(),
                field: format!("step[{i}].verify.signal"),
                reason: format!("unknown signal {:?}", step.verify.signal),
            });
        }
        for (j, pre) in step.preconditions.iter().enumerate() {
            if let Some(signal) = pre.strip_prefix("signal_present:") {
                if !known(signal) {
                    problems.push(RunbookProblem {
                        file: file.to_owned(),
                        field: format!("step[{i}].preconditions[{j}]"),
                        reason: format!("unknown signal {signal:?}"),
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    #[test]
    fn every_shipped_runbook_is_valid_and_every_cause_has_one() {
        let catalogue = Catalogue::embedded().unwrap();
        let runbooks = shipped().unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(runbooks.len(), 20);
        for (runbook, (file, _)) in runbooks.iter().zip(FILES) {
            assert_eq!(check_against(runbook, file, &catalogue), vec![]);
        }
        for cause in catalogue.causes() {
            assert!(
                runbooks
                    .iter()
                    .any(|r| r.id == cause.runbook && r.cause == cause.id),
                "cause {} has no runbook {}",
                cause.id,
                cause.runbook
            );
        }
    }
}
