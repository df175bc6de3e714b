//! The source side of `ooda up`: every configured source as one task with its own interval,
//! jitter, backoff on failure and intensified rate for hosts the patch pillar is changing.
//!
//! Remote hosts arrive through a Prometheus server (queries below) or by scraping node-exporter
//! directly ([`derive_node_exporter`]); both end in the same `node_*` names the host source uses,
//! so one watch list ([`crate::pipeline::WATCH`]) serves every source.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ooda_core::{Labels, Sample, SeriesKey};

/// PromQL that yields the watched `node_*` series from node-exporter data in Prometheus.
pub const PROMETHEUS_QUERIES: &[(&str, &str)] = &[
    (
        "node_cpu_busy_ratio",
        r#"1 - sum by (instance) (rate(node_cpu_seconds_total{mode=~"idle|iowait"}[5m])) / sum by (instance) (rate(node_cpu_seconds_total[5m]))"#,
    ),
    ("node_load1", "node_load1"),
    (
        "node_memory_used_ratio",
        "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    ),
    (
        "node_swap_used_ratio",
        "(1 - node_memory_SwapFree_bytes / node_memory_SwapTotal_bytes) and node_memory_SwapTotal_bytes > 0",
    ),
    (
        "node_filesystem_used_ratio",
        r#"1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"}"#,
    ),
    (
        "node_filesystem_inodes_used_ratio",
        r#"1 - node_filesystem_files_free{fstype!~"tmpfs|overlay|squashfs|ramfs"} / node_filesystem_files{fstype!~"tmpfs|overlay|squashfs|ramfs"}"#,
    ),
    (
        "node_disk_io_utilisation_ratio",
        r#"rate(node_disk_io_time_seconds_total{device!~"loop.*|ram.*"}[5m])"#,
    ),
    (
        "node_network_errors_per_second",
        r#"rate(node_network_receive_errs_total{device!="lo"}[5m]) + rate(node_network_transmit_errs_total{device!="lo"}[5m])"#,
    ),
    (
        "node_filefd_used_ratio",
        "node_filefd_allocated / node_filefd_maximum",
    ),
];

/// Turns one node-exporter scrape (counters already per-second rates) into the watched `node_*`
/// The shipped queries plus one per configured `[[watch]]` entry (its `query`, or the metric
/// itself); a configured entry with a shipped metric's name replaces that query.
pub fn prometheus_queries(watch: &[ooda_config::WatchConfig]) -> Vec<(String, String)> {
    let mut queries: Vec<(String, String)> = PROMETHEUS_QUERIES
        .iter()
        .filter(|(name, _)| !watch.iter().any(|w| w.metric == *name))
        .map(|(name, expr)| ((*name).to_owned(), (*expr).to_owned()))
        .collect();
    queries.extend(watch.iter().map(|w| {
        (
            w.metric.clone(),
            w.query.clone().unwrap_or_else(|| w.metric.clone()),
        )
    }));
    queries
}

/// ratios, per host: the same definitions as [`PROMETHEUS_QUERIES`], computed locally.
pub fn derive_node_exporter(samples: &[Sample]) -> Vec<Sample> {
    let mut out = Vec::new();
    // (host) → (idle+iowait rate, total rate, time)
    let mut cpu: BTreeMap<&str, (f64, f64, i64)> = BTreeMap::new();
    let mut gauges: HashMap<(&str, &str), (f64, i64)> = HashMap::new();
    // (host, mountpoint, device, fstype) → (avail, size, files_free, files)
    let mut fs: BTreeMap<(&str, &str, &str), [Option<f64>; 4]> = BTreeMap::new();
    let mut fs_time: i64 = 0;
    let mut net: BTreeMap<(&str, &str), (f64, i64)> = BTreeMap::new();
    for s in samples {
        let Some(host) = s.series.host() else {
            continue;
        };
        let label = |k: &str| s.series.labels.get(k).unwrap_or("");
        match s.series.metric.as_str() {
            "node_cpu_seconds_total" => {
                let e = cpu.entry(host).or_insert((0.0, 0.0, s.time_ms));
                if matches!(label("mode"), "idle" | "iowait") {
                    e.0 += s.value;
                }
                e.1 += s.value;
                e.2 = e.2.max(s.time_ms);
            }
            "node_load1"
            | "node_memory_MemAvailable_bytes"
            | "node_memory_MemTotal_bytes"
            | "node_memory_SwapFree_bytes"
            | "node_memory_SwapTotal_bytes"
            | "node_filefd_allocated"
            | "node_filefd_maximum" => {
                gauges.insert((host, s.series.metric.as_str()), (s.value, s.time_ms));
            }
            m @ ("node_filesystem_avail_bytes"
            | "node_filesystem_size_bytes"
            | "node_filesystem_files_free"
            | "node_filesystem_files") => {
                if matches!(label("fstype"), "tmpfs" | "overlay" | "squashfs" | "ramfs") {
                    continue;
                }
                let slot = match m {
                    "node_filesystem_avail_bytes" => 0,
                    "node_filesystem_size_bytes" => 1,
                    "node_filesystem_files_free" => 2,
                    _ => 3,
                };
                fs.entry((host, label("mountpoint"), label("device")))
                    .or_default()[slot] = Some(s.value);
                fs_time = fs_time.max(s.time_ms);
            }
            "node_disk_io_time_seconds_total"
                if !label("device").starts_with("loop") && !label("device").starts_with("ram") =>
            {
                out.push(derived(
                    host,
                    "node_disk_io_utilisation_ratio",
                    &[("device", label("device"))],
                    s.time_ms,
                    s.value.min(1.0),
                ));
            }
            "node_network_receive_errs_total" | "node_network_transmit_errs_total"
                if label("device") != "lo" =>
            {
                let e = net
                    .entry((host, label("device")))
                    .or_insert((0.0, s.time_ms));
                e.0 += s.value;
            }
            _ => {}
        }
    }
    for (host, (idle, total, t)) in cpu {
        if total > 0.0 {
            out.push(derived(
                host,
                "node_cpu_busy_ratio",
                &[],
                t,
                (1.0 - idle / total).clamp(0.0, 1.0),
            ));
        }
    }
    let gauge = |host: &str, m: &str| gauges.get(&(host, m)).copied();
    let hosts: std::collections::BTreeSet<&str> = gauges.keys().map(|(h, _)| *h).collect();
    for host in hosts {
        if let Some((v, t)) = gauge(host, "node_load1") {
            out.push(derived(host, "node_load1", &[], t, v));
        }
        if let (Some((a, t)), Some((total, _))) = (
            gauge(host, "node_memory_MemAvailable_bytes"),
            gauge(host, "node_memory_MemTotal_bytes"),
        ) {
            if total > 0.0 {
                out.push(derived(
                    host,
                    "node_memory_used_ratio",
                    &[],
                    t,
                    1.0 - a / total,
                ));
            }
        }
        if let (Some((free, t)), Some((total, _))) = (
            gauge(host, "node_memory_SwapFree_bytes"),
            gauge(host, "node_memory_SwapTotal_bytes"),
        ) {
            if total > 0.0 {
                out.push(derived(
                    host,
                    "node_swap_used_ratio",
                    &[],
                    t,
                    1.0 - free / total,
                ));
            }
        }
        if let (Some((a, t)), Some((m, _))) = (
            gauge(host, "node_filefd_allocated"),
            gauge(host, "node_filefd_maximum"),
        ) {
            if m > 0.0 {
                out.push(derived(host, "node_filefd_used_ratio", &[], t, a / m));
            }
        }
    }
    for ((host, mountpoint, device), [avail, size, files_free, files]) in fs {
        let l = [("mountpoint", mountpoint), ("device", device)];
        if let (Some(a), Some(s)) = (avail, size) {
            if s > 0.0 {
                out.push(derived(
                    host,
                    "node_filesystem_used_ratio",
                    &l,
                    fs_time,
                    1.0 - a / s,
                ));
            }
        }
        if let (Some(f), Some(n)) = (files_free, files) {
            if n > 0.0 {
                out.push(derived(
                    host,
                    "node_filesystem_inodes_used_ratio",
                    &l,
                    fs_time,
                    1.0 - f / n,
                ));
            }
        }
    }
    for ((host, device), (errors, t)) in net {
        out.push(derived(
            host,
            "node_network_errors_per_second",
            &[("device", device)],
            t,
            errors,
        ));
    }
    out
}

fn derived(host: &str, metric: &str, labels: &[(&str, &str)], time_ms: i64, value: f64) -> Sample {
    let mut set = Labels::new().with("host", host);
    for (k, v) in labels {
        set.insert(*k, *v);
    }
    Sample {
        series: SeriesKey::new(metric, set),
        time_ms,
        value,
    }
}

/// Hosts scraped faster for a while (`monitoring.intensify`), shared by the source tasks.
#[derive(Debug, Clone, Default)]
pub struct Intensify {
    /// host → (interval, until epoch ms).
    inner: Arc<Mutex<HashMap<String, (Duration, i64)>>>,
}

impl Intensify {
    pub fn add(&self, hosts: &[String], interval: Duration, until_ms: i64) {
        if let Ok(mut map) = self.inner.lock() {
            for host in hosts {
                map.insert(host.clone(), (interval, until_ms));
            }
        }
    }

    /// The interval to use for `host` at `now_ms`: the intensified one while it lasts.
    pub fn interval(&self, host: &str, normal: Duration, now_ms: i64) -> Duration {
        let Ok(mut map) = self.inner.lock() else {
            return normal;
        };
        match map.get(host) {
            Some((fast, until)) if *until > now_ms => (*fast).min(normal),
            Some(_) => {
                map.remove(host);
                normal
            }
            None => normal,
        }
    }
}

/// When the next round starts: the interval, stretched by up to 10 % of deterministic jitter per
/// source (so a fleet of sources does not fire in lock-step), doubled per consecutive failure
/// up to 5 minutes (so an outage is not hammered).
pub fn next_delay(name: &str, interval: Duration, failures: u32) -> Duration {
    let jitter_share = (stable_hash(name) % 1000) as f64 / 10_000.0;
    let base = interval.mul_f64(1.0 + jitter_share);
    if failures == 0 {
        return base;
    }
    let factor = 2u32.saturating_pow(failures.min(10));
    base.saturating_mul(factor)
        .min(Duration::from_secs(300).max(interval))
}

fn stable_hash(text: &str) -> u64 {
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(metric: &str, labels: &[(&str, &str)], v: f64) -> Sample {
        derived("web-1", metric, labels, 1_000, v)
    }

    #[test]
    fn node_exporter_scrape_becomes_watched_ratios() {
        let samples = vec![
            s(
                "node_cpu_seconds_total",
                &[("cpu", "0"), ("mode", "idle")],
                0.6,
            ),
            s(
                "node_cpu_seconds_total",
                &[("cpu", "0"), ("mode", "user")],
                0.3,
            ),
            s(
                "node_cpu_seconds_total",
                &[("cpu", "0"), ("mode", "iowait")],
                0.1,
            ),
            s("node_memory_MemAvailable_bytes", &[], 250.0),
            s("node_memory_MemTotal_bytes", &[], 1000.0),
            s(
                "node_filesystem_avail_bytes",
                &[("mountpoint", "/"), ("device", "sda1"), ("fstype", "ext4")],
                10.0,
            ),
            s(
                "node_filesystem_size_bytes",
                &[("mountpoint", "/"), ("device", "sda1"), ("fstype", "ext4")],
                100.0,
            ),
            s(
                "node_filesystem_avail_bytes",
                &[
                    ("mountpoint", "/run"),
                    ("device", "tmpfs"),
                    ("fstype", "tmpfs"),
                ],
                1.0,
            ),
            s(
                "node_filesystem_size_bytes",
                &[
                    ("mountpoint", "/run"),
                    ("device", "tmpfs"),
                    ("fstype", "tmpfs"),
                ],
                100.0,
            ),
            s(
                "node_network_receive_errs_total",
                &[("device", "eth0")],
                2.0,
            ),
            s(
                "node_network_transmit_errs_total",
                &[("device", "eth0")],
                1.0,
            ),
            s("node_load1", &[], 0.7),
        ];
        let out = derive_node_exporter(&samples);
        let get = |m: &str| out.iter().find(|x| x.series.metric == m).map(|x| x.value);
        assert!((get("node_cpu_busy_ratio").unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(get("node_memory_used_ratio"), Some(0.75));
        assert_eq!(get("node_load1"), Some(0.7));
        assert_eq!(get("node_network_errors_per_second"), Some(3.0));
        let fs: Vec<_> = out
            .iter()
            .filter(|x| x.series.metric == "node_filesystem_used_ratio")
            .collect();
        assert_eq!(fs.len(), 1, "tmpfs is left out");
        assert!((fs[0].value - 0.9).abs() < 1e-9);
        assert!(out.iter().all(|x| x.series.host() == Some("web-1")));
    }

    #[test]
    fn delays_jitter_back_off_and_cap() {
        let i = Duration::from_secs(60);
        let d0 = next_delay("a", i, 0);
        assert!(d0 >= i && d0 <= i.mul_f64(1.1));
        assert_eq!(next_delay("a", i, 0), d0, "deterministic");
        assert!(next_delay("a", i, 1) > d0);
        assert_eq!(next_delay("a", i, 30), Duration::from_secs(300));
    }

    #[test]
    fn intensify_expires() {
        let x = Intensify::default();
        let normal = Duration::from_secs(60);
        x.add(&["h".to_owned()], Duration::from_secs(10), 1_000);
        assert_eq!(x.interval("h", normal, 500), Duration::from_secs(10));
        assert_eq!(x.interval("other", normal, 500), normal);
        assert_eq!(x.interval("h", normal, 1_000), normal);
    }
}
