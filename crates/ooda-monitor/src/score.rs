//! From a z-score to a verdict: level by the class's thresholds and direction, a score in [0, 1]
//! for ranking, and the guess of a metric's class from its name. No state lives here.

use ooda_core::{MetricClass, Severity};

/// A row's or a series' verdict, as `ooda detect` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }

    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Ok => None,
            Level::Warning => Some(Severity::Warning),
            Level::Critical => Some(Severity::Critical),
        }
    }

    /// The level of an effective (direction-applied, non-negative) strength.
    pub fn of(strength: f64, warning: f64, critical: f64) -> Level {
        if strength >= critical {
            Level::Critical
        } else if strength >= warning {
            Level::Warning
        } else {
            Level::Ok
        }
    }
}

/// Maps a strength measured in units of the warning threshold to [0, 1): 0.5 exactly at the
/// warning threshold, rising with the evidence and never reaching 1. Monotone, so ranking by
/// score is ranking by evidence.
pub fn unit_score(strength: f64, warning: f64) -> f64 {
    // Written so that NaN lands here too.
    if strength.is_nan() || warning.is_nan() || strength <= 0.0 || warning <= 0.0 {
        return 0.0;
    }
    let r = strength / warning;
    let r2 = r * r;
    r2 / (1.0 + r2)
}

/// Guesses a metric's class from its name (node_exporter and common dashboard names). Anything
/// unrecognised is `Other`: two-sided, no static thresholds.
pub fn guess_class(name: &str) -> MetricClass {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["latency", "duration", "response_time", "rtt"]) {
        MetricClass::Latency
    } else if has(&["packet_loss", "drop", "loss"]) {
        MetricClass::PacketLoss
    } else if has(&["error", "fail", "5xx"]) {
        MetricClass::Errors
    } else if has(&["inode", "files_free"]) {
        MetricClass::Inodes
    } else if has(&[
        "disk_io",
        "io_time",
        "iops",
        "read_bytes",
        "write_bytes",
        "diskio",
    ]) {
        MetricClass::DiskIo
    } else if has(&["disk", "filesystem", "fs_avail", "free_space"]) {
        MetricClass::Disk
    } else if has(&["swap"]) {
        MetricClass::Swap
    } else if has(&["mem"]) {
        MetricClass::Memory
    } else if has(&["load"]) {
        MetricClass::Load
    } else if has(&["cpu"]) {
        MetricClass::Cpu
    } else if has(&["net", "rx", "tx", "bytes_in", "bytes_out"]) {
        MetricClass::Network
    } else if has(&["fd", "file_descriptor", "open_files"]) {
        MetricClass::FileDescriptors
    } else if has(&["proc", "threads"]) {
        MetricClass::Processes
    } else {
        MetricClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_scores() {
        assert_eq!(Level::of(2.79, 2.8, 4.0), Level::Ok);
        assert_eq!(Level::of(2.8, 2.8, 4.0), Level::Warning);
        assert_eq!(Level::of(4.0, 2.8, 4.0), Level::Critical);
        assert!((unit_score(2.8, 2.8) - 0.5).abs() < 1e-12);
        assert_eq!(unit_score(0.0, 2.8), 0.0);
        assert_eq!(unit_score(f64::NAN, 2.8), 0.0);
        assert!(unit_score(100.0, 2.8) < 1.0);
        assert!(unit_score(3.0, 2.8) < unit_score(3.1, 2.8));
    }

    #[test]
    fn classes_from_names() {
        assert_eq!(
            guess_class("http_request_latency_p99"),
            MetricClass::Latency
        );
        assert_eq!(
            guess_class("node_filesystem_avail_percent"),
            MetricClass::Disk
        );
        assert_eq!(guess_class("cpu_util"), MetricClass::Cpu);
        assert_eq!(guess_class("mem_used_pct"), MetricClass::Memory);
        assert_eq!(guess_class("m7"), MetricClass::Other);
    }
}
