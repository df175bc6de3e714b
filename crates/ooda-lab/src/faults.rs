//! Faults drawn from the incident catalogue. Each has an optional precursor phase (what the
//! metrics look like before the failure) and an impact phase (the failure itself); the lab scores
//! detection against the moment of impact.

use serde::{Deserialize, Serialize};

use crate::fleet::{CPU, DISK_IO, FS_FREE, LATENCY, LOAD, LOSS, MEMORY};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A log or data directory fills the filesystem over hours.
    DiskFull,
    /// A process leaks memory for hours, then the OOM killer strikes.
    MemoryLeak,
    /// A degrading storage controller: I/O latency climbs for an hour, then it fails.
    StorageController,
    /// A runaway process pins the CPU, with no warning.
    CpuRunaway,
    /// A failing NIC drops a few packets, then many.
    NicErrors,
    /// The service crashes on start and systemd restarts it over and over (a bad state file, a
    /// poisoned cache): no warning; a restart with a clean start clears it.
    CrashLoop,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::DiskFull,
        FaultKind::MemoryLeak,
        FaultKind::StorageController,
        FaultKind::CpuRunaway,
        FaultKind::NicErrors,
        FaultKind::CrashLoop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::DiskFull => "disk_full",
            FaultKind::MemoryLeak => "memory_leak",
            FaultKind::StorageController => "storage_controller",
            FaultKind::CpuRunaway => "cpu_runaway",
            FaultKind::NicErrors => "nic_errors",
            FaultKind::CrashLoop => "crash_loop",
        }
    }

    /// Routine: the catalogue's runbook for it repairs the host (clean, restart, kill) rather
    /// than page a person (a failing controller or NIC needs hands on hardware). The claims
    /// about autonomy are about routine incidents.
    pub fn routine(self) -> bool {
        !matches!(self, FaultKind::StorageController | FaultKind::NicErrors)
    }

    /// Minutes of precursor before impact (0: no warning exists).
    pub fn precursor_minutes(self) -> i64 {
        match self {
            FaultKind::DiskFull => 8 * 60,
            FaultKind::MemoryLeak => 6 * 60,
            FaultKind::StorageController => 60,
            FaultKind::CpuRunaway => 0,
            FaultKind::NicErrors => 40,
            FaultKind::CrashLoop => 0,
        }
    }

    /// Minutes the failure lasts if nobody acts.
    pub fn impact_minutes(self) -> i64 {
        match self {
            FaultKind::DiskFull => 60,
            FaultKind::MemoryLeak => 20,
            FaultKind::StorageController => 30,
            FaultKind::CpuRunaway => 45,
            FaultKind::NicErrors => 30,
            FaultKind::CrashLoop => 40,
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub host: usize,
    pub kind: FaultKind,
    /// Precursor start (= impact for faults without one).
    pub start_ms: i64,
    pub impact_ms: i64,
    pub end_ms: i64,
}

impl Fault {
    pub fn new(host: usize, kind: FaultKind, impact_ms: i64) -> Self {
        Self {
            host,
            kind,
            start_ms: impact_ms - kind.precursor_minutes() * 60_000,
            impact_ms,
            end_ms: impact_ms + kind.impact_minutes() * 60_000,
        }
    }

    pub fn active(&self, time_ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&time_ms)
    }

    /// Bends healthy values into what this fault looks like at `time_ms`.
    pub fn apply(&self, time_ms: i64, v: &mut [f64; 7]) {
        if !self.active(time_ms) {
            return;
        }
        let impact = time_ms >= self.impact_ms;
        // 0 → 1 across the precursor.
        let progress = if self.impact_ms > self.start_ms {
            ((time_ms - self.start_ms) as f64 / (self.impact_ms - self.start_ms) as f64)
                .clamp(0.0, 1.0)
        } else {
            1.0
        };
        match self.kind {
            FaultKind::DiskFull => {
                v[FS_FREE] = if impact {
                    0.2
                } else {
                    v[FS_FREE] * (1.0 - progress) + 0.5 * progress
                };
                if impact {
                    v[LATENCY] *= 3.0;
                }
            }
            FaultKind::MemoryLeak => {
                v[MEMORY] = if impact {
                    99.5
                } else {
                    v[MEMORY] + (99.0 - v[MEMORY]) * progress.powf(1.5)
                };
                if impact {
                    v[CPU] = (v[CPU] + 25.0).min(100.0);
                    v[LATENCY] *= 4.0;
                }
            }
            FaultKind::StorageController => {
                if impact {
                    // The seed's example: CPU 78 % + disk I/O 3× expected + 0.8 % packet loss.
                    v[DISK_IO] = 100.0;
                    v[CPU] = 78.0;
                    v[LOSS] = 0.8;
                    v[LATENCY] *= 6.0;
                } else {
                    v[DISK_IO] = (v[DISK_IO] * (1.0 + 2.0 * progress)).min(100.0);
                    v[LATENCY] *= 1.0 + 0.8 * progress;
                }
            }
            FaultKind::CpuRunaway => {
                v[CPU] = 99.0;
                v[LOAD] *= 4.0;
                v[LATENCY] *= 2.0;
            }
            FaultKind::CrashLoop => {
                // The service is down most of the time: requests queue in the load balancer's
                // retries (latency up), the host itself goes quiet.
                v[CPU] *= 0.4;
                v[LOAD] *= 0.5;
                v[LATENCY] *= 3.5;
            }
            FaultKind::NicErrors => {
                if impact {
                    v[LOSS] = 5.0;
                    v[LATENCY] *= 2.5;
                } else {
                    v[LOSS] = 0.3 + 0.5 * progress;
                }
            }
        }
    }
}
