//! The simulated fleet: hosts with a class, and the metrics a healthy host of that class shows —
//! daily and weekly seasonality, noise, slow trends, and metrics that move together (CPU, load,
//! I/O and latency all follow the same demand curve).

use crate::rng::Rng;

/// The series every simulated host reports, in engine units. The order is the row order.
pub const METRICS: [&str; 7] = [
    "cpu_busy_percent",
    "load1",
    "memory_used_percent",
    "filesystem_free_percent",
    "disk_io_busy_percent",
    "packet_loss_percent",
    "latency_ms",
];

pub const CPU: usize = 0;
pub const LOAD: usize = 1;
pub const MEMORY: usize = 2;
pub const FS_FREE: usize = 3;
pub const DISK_IO: usize = 4;
pub const LOSS: usize = 5;
pub const LATENCY: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Web,
    Database,
    Cache,
    Batch,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Web => "web",
            Class::Database => "database",
            Class::Cache => "cache",
            Class::Batch => "batch",
        }
    }
}

/// One simulated host and the parameters of its healthy behaviour.
#[derive(Debug, Clone)]
pub struct SimHost {
    pub name: String,
    pub class: Class,
    cpu_base: f64,
    cpu_swing: f64,
    memory_base: f64,
    fs_free_start: f64,
    /// Free-space loss per day (log growth), in percentage points.
    fs_trend: f64,
    io_base: f64,
    latency_base: f64,
    /// Hour of the daily peak.
    peak_hour: f64,
    rng: Rng,
}

pub fn host_name(index: usize) -> String {
    format!("host-{:03}", index + 1)
}

/// The index of `name` in a fleet of `hosts`, if it exists.
pub fn host_index(name: &str, hosts: usize) -> Option<usize> {
    let n: usize = name.strip_prefix("host-")?.parse().ok()?;
    (1..=hosts).contains(&n).then(|| n - 1)
}

impl SimHost {
    pub fn new(index: usize, seed: u64) -> Self {
        let mut rng = Rng::stream(seed, index as u64 + 1);
        let class = match rng.below(10) {
            0..=4 => Class::Web,
            5..=6 => Class::Database,
            7..=8 => Class::Cache,
            _ => Class::Batch,
        };
        let (cpu_base, cpu_swing, io_base, latency_base) = match class {
            Class::Web => (15.0, 35.0, 8.0, 40.0),
            Class::Database => (20.0, 25.0, 25.0, 8.0),
            Class::Cache => (10.0, 15.0, 3.0, 2.0),
            Class::Batch => (30.0, 20.0, 30.0, 100.0),
        };
        Self {
            name: host_name(index),
            class,
            cpu_base: cpu_base + rng.uniform() * 10.0,
            cpu_swing: cpu_swing * (0.8 + rng.uniform() * 0.4),
            memory_base: 45.0 + rng.uniform() * 25.0,
            fs_free_start: 40.0 + rng.uniform() * 40.0,
            fs_trend: 0.02 + rng.uniform() * 0.1,
            io_base,
            latency_base: latency_base * (0.8 + rng.uniform() * 0.4),
            peak_hour: 13.0 + rng.uniform() * 6.0,
            rng,
        }
    }

    /// Demand in [0, 1]: a daily curve peaking at `peak_hour`, lower at weekends (Batch the
    /// other way round: it runs at night).
    fn demand(&self, time_ms: i64) -> f64 {
        let hours = time_ms as f64 / 3_600_000.0;
        let hour_of_day = hours.rem_euclid(24.0);
        let day = (hours / 24.0).floor() as i64;
        // 1970-01-01 was a Thursday: day 3 of a Monday-first week.
        let weekday = (day + 3).rem_euclid(7);
        let weekend = weekday >= 5;
        let phase = 2.0 * std::f64::consts::PI * (hour_of_day - self.peak_hour) / 24.0;
        let daily = 0.5 + 0.5 * phase.cos();
        let d = match self.class {
            Class::Batch => 1.0 - daily,
            _ => daily,
        };
        if weekend && self.class != Class::Batch {
            d * 0.55
        } else {
            d
        }
    }

    /// The healthy values at `time_ms` (`days_in` since the simulation began drives trends).
    pub fn healthy(&mut self, time_ms: i64, days_in: f64) -> [f64; 7] {
        let d = self.demand(time_ms);
        let n = |rng: &mut Rng, sd: f64| rng.normal() * sd;
        let cpu = (self.cpu_base + self.cpu_swing * d + n(&mut self.rng, 2.5)).clamp(0.0, 100.0);
        let load = (cpu / 25.0 + n(&mut self.rng, 0.15)).max(0.0);
        let memory = (self.memory_base + 8.0 * d + n(&mut self.rng, 0.8)).clamp(0.0, 100.0);
        // Logs grow; a weekly rotation gives the space back.
        let days_in_week = days_in.rem_euclid(7.0);
        let fs_free = (self.fs_free_start - self.fs_trend * days_in_week + n(&mut self.rng, 0.05))
            .clamp(0.0, 100.0);
        let io = (self.io_base * (0.4 + d) + n(&mut self.rng, 1.5)).clamp(0.0, 100.0);
        let loss = (0.01 + n(&mut self.rng, 0.005)).abs();
        let latency =
            (self.latency_base * (0.7 + 0.6 * d) * (1.0 + n(&mut self.rng, 0.05))).max(0.1);
        [cpu, load, memory, fs_free, io, loss, latency]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(host_name(2), "host-003");
        assert_eq!(host_index("host-003", 3), Some(2));
        assert_eq!(host_index("host-004", 3), None);
        assert_eq!(host_index("web-1", 3), None);
    }

    #[test]
    fn healthy_values_are_in_range_and_deterministic() {
        let mut a = SimHost::new(4, 9);
        let mut b = SimHost::new(4, 9);
        for i in 0..2_000 {
            let t = i * 60_000;
            let va = a.healthy(t, t as f64 / 86_400_000.0);
            assert_eq!(va, b.healthy(t, t as f64 / 86_400_000.0));
            assert!(va.iter().all(|v| v.is_finite() && *v >= 0.0));
            assert!(va[CPU] <= 100.0 && va[FS_FREE] <= 100.0);
        }
    }
}
