//! Reading the files. Each block reads one file; a failure is recorded in the round's errors and
//! the other blocks still run.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::host::HostSourceConfig;
use ooda_core::{CounterRate, Labels, Sample, SeriesKey, SharedClock};

use super::parse;

/// Samples of one round, and what could not be read.
#[derive(Debug, Default)]
pub struct Collection {
    pub samples: Vec<Sample>,
    pub errors: Vec<String>,
}

/// This host as a metric source.
pub struct HostSource {
    config: HostSourceConfig,
    host: String,
    clock: SharedClock,
    /// Counter state per series identity (`metric|labels`).
    rates: HashMap<String, CounterRate>,
}

impl std::fmt::Debug for HostSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSource")
            .field("name", &self.config.name)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

struct Round<'a> {
    time_ms: i64,
    host: &'a str,
    out: &'a mut Collection,
    rates: &'a mut HashMap<String, CounterRate>,
}

impl Round<'_> {
    fn gauge(&mut self, metric: &str, labels: &[(&str, &str)], value: f64) {
        if !value.is_finite() {
            return;
        }
        let mut set = Labels::new().with("host", self.host);
        for (k, v) in labels {
            set.insert(*k, *v);
        }
        self.out.samples.push(Sample {
            series: SeriesKey::new(metric, set),
            time_ms: self.time_ms,
            value,
        });
    }

    /// Feeds a counter; emits its per-second rate once two observations exist.
    fn counter(&mut self, metric: &str, labels: &[(&str, &str)], value: f64) -> Option<f64> {
        let mut id = String::with_capacity(64);
        id.push_str(metric);
        for (k, v) in labels {
            id.push('|');
            id.push_str(k);
            id.push('=');
            id.push_str(v);
        }
        let rate = self
            .rates
            .entry(id)
            .or_default()
            .observe(self.time_ms, value)?;
        self.gauge(metric, labels, rate);
        Some(rate)
    }

    fn read(&mut self, path: &Path) -> Option<String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                self.out.errors.push(format!("{}: {e}", path.display()));
                None
            }
        }
    }
}

impl HostSource {
    pub fn new(config: HostSourceConfig, clock: SharedClock) -> Self {
        let host = config.host_name();
        Self {
            config,
            host,
            clock,
            rates: HashMap::new(),
        }
    }

    /// The `host` label this source puts on its series.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    fn proc(&self, rel: &str) -> PathBuf {
        self.config.proc_path.join(rel)
    }

    /// Reads every file once.
    pub fn collect(&mut self) -> Collection {
        let mut out = Collection::default();
        let time_ms = self.clock.now_ms();
        let paths = (
            self.proc("stat"),
            self.proc("loadavg"),
            self.proc("meminfo"),
            self.proc("vmstat"),
            self.proc("diskstats"),
            self.proc("net/dev"),
            self.proc("self/mounts"),
            self.proc("sys/fs/file-nr"),
        );
        {
            let mut round = Round {
                time_ms,
                host: &self.host,
                out: &mut out,
                rates: &mut self.rates,
            };
            cpu(&mut round, &paths.0);
            if let Some(text) = round.read(&paths.1) {
                match parse::loadavg(&text) {
                    Some(l) => {
                        round.gauge("node_load1", &[], l.load1);
                        round.gauge("node_load5", &[], l.load5);
                        round.gauge("node_load15", &[], l.load15);
                        if let Some(t) = l.threads {
                            round.gauge("node_threads", &[], t);
                        }
                    }
                    None => round
                        .out
                        .errors
                        .push(format!("{}: unreadable", paths.1.display())),
                }
            }
            memory(&mut round, &paths.2);
            if let Some(text) = round.read(&paths.3) {
                let vm = parse::vmstat(&text);
                for (key, metric) in [
                    ("oom_kill", "node_vmstat_oom_kill_per_second"),
                    ("pswpin", "node_vmstat_pswpin_per_second"),
                    ("pswpout", "node_vmstat_pswpout_per_second"),
                    ("pgmajfault", "node_vmstat_pgmajfault_per_second"),
                ] {
                    if let Some(v) = vm.get(key) {
                        round.counter(metric, &[], *v);
                    }
                }
            }
            let disks = round
                .read(&paths.4)
                .map(|t| parse::diskstats(&t))
                .unwrap_or_default();
            for d in disks
                .into_iter()
                .filter(|d| !ignored(&self.config.ignore_devices, &d.device))
                .filter(|d| self.config.sys_path.join("block").join(&d.device).exists())
            {
                let l = [("device", d.device.as_str())];
                round.counter("node_disk_reads_per_second", &l, d.reads);
                round.counter("node_disk_writes_per_second", &l, d.writes);
                round.counter(
                    "node_disk_read_bytes_per_second",
                    &l,
                    d.sectors_read * 512.0,
                );
                round.counter(
                    "node_disk_written_bytes_per_second",
                    &l,
                    d.sectors_written * 512.0,
                );
                // ms of I/O per second of wall time, as a 0..1 share.
                if let Some(busy) = round.counter("node_disk_io_ms_per_second", &l, d.io_ms) {
                    round.gauge(
                        "node_disk_io_utilisation_ratio",
                        &l,
                        (busy / 1000.0).min(1.0),
                    );
                }
                round.counter("node_disk_io_weighted_ms_per_second", &l, d.weighted_io_ms);
            }
        }
        self.network(&mut out, time_ms, &paths.5);
        self.filesystems(&mut out, time_ms, &paths.6);
        let mut round = Round {
            time_ms,
            host: &self.host,
            out: &mut out,
            rates: &mut self.rates,
        };
        if let Some(text) = round.read(&paths.7) {
            if let Some((allocated, maximum)) = parse::file_nr(&text) {
                round.gauge("node_filefd_allocated", &[], allocated);
                round.gauge("node_filefd_maximum", &[], maximum);
                if maximum > 0.0 {
                    round.gauge("node_filefd_used_ratio", &[], allocated / maximum);
                }
            }
        }
        match std::fs::read_dir(&self.config.proc_path) {
            Ok(entries) => {
                let count = entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .bytes()
                            .all(|b| b.is_ascii_digit())
                    })
                    .count();
                round.gauge("node_processes", &[], count as f64);
            }
            Err(e) => round
                .out
                .errors
                .push(format!("{}: {e}", self.config.proc_path.display())),
        }
        out
    }

    fn network(&mut self, out: &mut Collection, time_ms: i64, path: &Path) {
        let mut round = Round {
            time_ms,
            host: &self.host,
            out,
            rates: &mut self.rates,
        };
        let Some(text) = round.read(path) else { return };
        for dev in parse::net_dev(&text) {
            if ignored(&self.config.ignore_devices, &dev.interface) {
                continue;
            }
            let l = [("device", dev.interface.as_str())];
            round.counter("node_network_receive_bytes_per_second", &l, dev.rx_bytes);
            round.counter("node_network_transmit_bytes_per_second", &l, dev.tx_bytes);
            let rx = round.counter(
                "node_network_receive_packets_per_second",
                &l,
                dev.rx_packets,
            );
            let tx = round.counter(
                "node_network_transmit_packets_per_second",
                &l,
                dev.tx_packets,
            );
            let errs = round.counter(
                "node_network_errors_per_second",
                &l,
                dev.rx_errors + dev.tx_errors,
            );
            let drops = round.counter(
                "node_network_drops_per_second",
                &l,
                dev.rx_drops + dev.tx_drops,
            );
            // Loss as a share of packets: the signal behind "0.8 % packet loss".
            if let (Some(rx), Some(tx), Some(errs), Some(drops)) = (rx, tx, errs, drops) {
                let packets = rx + tx;
                if packets > 0.0 {
                    round.gauge(
                        "node_network_loss_ratio",
                        &l,
                        ((errs + drops) / (packets + errs + drops)).min(1.0),
                    );
                }
            }
        }
    }

    fn filesystems(&mut self, out: &mut Collection, time_ms: i64, path: &Path) {
        let mut round = Round {
            time_ms,
            host: &self.host,
            out,
            rates: &mut self.rates,
        };
        let Some(text) = round.read(path) else { return };
        let mut seen = BTreeSet::new();
        for mount in parse::mounts(&text) {
            if self.config.ignore_filesystems.contains(&mount.fstype)
                || !seen.insert(mount.device.clone())
            {
                continue;
            }
            let stat = match rustix::fs::statvfs(mount.mountpoint.as_str()) {
                Ok(stat) => stat,
                Err(e) => {
                    round
                        .out
                        .errors
                        .push(format!("statvfs {}: {e}", mount.mountpoint));
                    continue;
                }
            };
            if stat.f_blocks == 0 {
                continue;
            }
            let frsize = stat.f_frsize as f64;
            let size = stat.f_blocks as f64 * frsize;
            let free = stat.f_bfree as f64 * frsize;
            let avail = stat.f_bavail as f64 * frsize;
            let l = [
                ("device", mount.device.as_str()),
                ("mountpoint", mount.mountpoint.as_str()),
                ("fstype", mount.fstype.as_str()),
            ];
            round.gauge("node_filesystem_size_bytes", &l, size);
            round.gauge("node_filesystem_avail_bytes", &l, avail);
            // As df computes it: used over what non-root users can have.
            let used = size - free;
            if used + avail > 0.0 {
                round.gauge("node_filesystem_used_ratio", &l, used / (used + avail));
            }
            if stat.f_files > 0 {
                let files = stat.f_files as f64;
                let files_free = stat.f_ffree as f64;
                round.gauge("node_filesystem_files", &l, files);
                round.gauge("node_filesystem_files_free", &l, files_free);
                round.gauge(
                    "node_filesystem_inodes_used_ratio",
                    &l,
                    1.0 - files_free / files,
                );
            }
        }
    }
}

fn ignored(prefixes: &[String], device: &str) -> bool {
    prefixes.iter().any(|p| device.starts_with(p.as_str()))
}

fn cpu(round: &mut Round<'_>, path: &Path) {
    let Some(text) = round.read(path) else { return };
    let stat = parse::stat(&text);
    let mut rates = Vec::with_capacity(stat.cpu.len());
    for (mode, jiffies) in &stat.cpu {
        let id = format!("cpu|{mode}");
        if let Some(rate) = round
            .rates
            .entry(id)
            .or_default()
            .observe(round.time_ms, *jiffies)
        {
            rates.push((*mode, rate));
        }
    }
    let total: f64 = rates.iter().map(|(_, r)| r).sum();
    if total > 0.0 {
        let mut idle = 0.0;
        for (mode, rate) in &rates {
            let share = rate / total;
            if matches!(*mode, "idle" | "iowait") {
                idle += share;
            }
            round.gauge("node_cpu_mode_ratio", &[("mode", mode)], share);
        }
        round.gauge("node_cpu_busy_ratio", &[], (1.0 - idle).clamp(0.0, 1.0));
    }
    if let Some(v) = stat.context_switches {
        round.counter("node_context_switches_per_second", &[], v);
    }
    if let Some(v) = stat.procs_running {
        round.gauge("node_procs_running", &[], v);
    }
    if let Some(v) = stat.procs_blocked {
        round.gauge("node_procs_blocked", &[], v);
    }
}

fn memory(round: &mut Round<'_>, path: &Path) {
    let Some(text) = round.read(path) else { return };
    let mem = parse::meminfo(&text);
    let get = |k: &str| mem.get(k).copied();
    if let (Some(total), Some(avail)) = (get("MemTotal"), get("MemAvailable")) {
        round.gauge("node_memory_MemTotal_bytes", &[], total);
        round.gauge("node_memory_MemAvailable_bytes", &[], avail);
        if total > 0.0 {
            round.gauge("node_memory_used_ratio", &[], 1.0 - avail / total);
        }
    }
    if let (Some(total), Some(free)) = (get("SwapTotal"), get("SwapFree")) {
        round.gauge("node_memory_SwapTotal_bytes", &[], total);
        round.gauge("node_memory_SwapFree_bytes", &[], free);
        if total > 0.0 {
            round.gauge("node_swap_used_ratio", &[], 1.0 - free / total);
        }
    }
}
