use std::sync::Arc;
use std::time::Duration;

use crate::host::HostSourceConfig;
use ooda_core::ManualClock;
use proptest::prelude::*;

use super::parse;
use super::HostSource;

const STAT_1: &str = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\nctxt 1000\nprocs_running 3\nprocs_blocked 1\n";
const STAT_2: &str = "cpu  200 0 100 1600 100 0 0 0 0 0\ncpu0 200 0 100 1600 100 0 0 0 0 0\nctxt 3000\nprocs_running 2\nprocs_blocked 0\n";

fn fixture(dir: &std::path::Path, stat: &str, disk_reads: u64, rx: u64) {
    std::fs::create_dir_all(dir.join("proc/sys/fs")).unwrap();
    std::fs::create_dir_all(dir.join("proc/sys/kernel")).unwrap();
    std::fs::create_dir_all(dir.join("proc/net")).unwrap();
    std::fs::create_dir_all(dir.join("proc/self")).unwrap();
    std::fs::create_dir_all(dir.join("proc/123")).unwrap();
    std::fs::create_dir_all(dir.join("sys/block/sda")).unwrap();
    std::fs::write(dir.join("proc/stat"), stat).unwrap();
    std::fs::write(dir.join("proc/loadavg"), "0.50 0.40 0.30 2/345 6789\n").unwrap();
    std::fs::write(
        dir.join("proc/meminfo"),
        "MemTotal:       1000 kB\nMemAvailable:    250 kB\nSwapTotal:       0 kB\nSwapFree:        0 kB\n",
    )
    .unwrap();
    std::fs::write(dir.join("proc/vmstat"), "oom_kill 2\npswpin 0\npswpout 0\n").unwrap();
    std::fs::write(
        dir.join("proc/diskstats"),
        format!("   8       0 sda {disk_reads} 0 800 0 50 0 400 0 0 500 600 0 0 0 0\n   7       0 loop0 5 0 5 0 0 0 0 0 0 0 0\n   8       1 sda1 1 0 1 0 1 0 1 0 0 1 1 0 0 0 0\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("proc/net/dev"),
        format!("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: {rx} {} 0 {} 0 0 0 0 2000 1000 0 0 0 0 0 0\n", rx / 10, rx / 1000),
    )
    .unwrap();
    std::fs::write(dir.join("proc/self/mounts"), "proc /proc proc rw 0 0\n").unwrap();
    std::fs::write(dir.join("proc/sys/fs/file-nr"), "512\t0\t1024\n").unwrap();
    std::fs::write(dir.join("proc/sys/kernel/hostname"), "fixture-host\n").unwrap();
}

fn value(c: &super::Collection, metric: &str, label: Option<(&str, &str)>) -> Option<f64> {
    c.samples
        .iter()
        .find(|s| {
            s.series.metric == metric
                && label.is_none_or(|(k, v)| s.series.labels.get(k) == Some(v))
        })
        .map(|s| s.value)
}

#[test]
fn collects_gauges_then_rates_from_a_fixture() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), STAT_1, 100, 10_000);
    let clock = ManualClock::at_ms(1_000_000);
    let config = HostSourceConfig {
        proc_path: dir.path().join("proc"),
        sys_path: dir.path().join("sys"),
        ..HostSourceConfig::default()
    };
    let mut source = HostSource::new(config, Arc::new(clock.clone()));
    assert_eq!(source.host(), "fixture-host");

    let first = source.collect();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(value(&first, "node_load1", None), Some(0.5));
    assert_eq!(value(&first, "node_threads", None), Some(345.0));
    assert_eq!(value(&first, "node_memory_used_ratio", None), Some(0.75));
    assert_eq!(value(&first, "node_filefd_used_ratio", None), Some(0.5));
    assert_eq!(value(&first, "node_processes", None), Some(1.0));
    assert_eq!(
        value(&first, "node_cpu_busy_ratio", None),
        None,
        "rates need two rounds"
    );
    assert!(first
        .samples
        .iter()
        .all(|s| s.series.labels.get("host") == Some("fixture-host")));

    clock.advance(Duration::from_secs(10));
    fixture(dir.path(), STAT_2, 300, 20_000);
    let second = source.collect();
    // CPU: +100 user +50 system +800 idle +50 iowait = 1000 jiffies; busy = 150/1000.
    let busy = value(&second, "node_cpu_busy_ratio", None).unwrap();
    assert!((busy - 0.15).abs() < 1e-9, "{busy}");
    assert_eq!(
        value(&second, "node_context_switches_per_second", None),
        Some(200.0)
    );
    assert_eq!(
        value(
            &second,
            "node_disk_reads_per_second",
            Some(("device", "sda"))
        ),
        Some(20.0)
    );
    assert_eq!(
        value(
            &second,
            "node_disk_reads_per_second",
            Some(("device", "loop0"))
        ),
        None,
        "loop devices ignored"
    );
    assert_eq!(
        value(
            &second,
            "node_disk_reads_per_second",
            Some(("device", "sda1"))
        ),
        None,
        "partitions ignored"
    );
    assert_eq!(
        value(
            &second,
            "node_network_receive_bytes_per_second",
            Some(("device", "eth0"))
        ),
        Some(1000.0)
    );
    assert_eq!(
        value(
            &second,
            "node_network_receive_bytes_per_second",
            Some(("device", "lo"))
        ),
        None
    );
    let loss = value(&second, "node_network_loss_ratio", Some(("device", "eth0"))).unwrap();
    // 100 packets/s received, 1 drop/s: loss = 1 / 101.
    assert!((loss - 1.0 / 101.0).abs() < 1e-9, "{loss}");
}

#[test]
fn a_missing_file_costs_only_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), STAT_1, 1, 1);
    std::fs::remove_file(dir.path().join("proc/meminfo")).unwrap();
    let config = HostSourceConfig {
        proc_path: dir.path().join("proc"),
        sys_path: dir.path().join("sys"),
        host_label: Some("h".into()),
        ..HostSourceConfig::default()
    };
    let mut source = HostSource::new(config, Arc::new(ManualClock::at_ms(0)));
    let c = source.collect();
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(c.errors[0].contains("meminfo"));
    assert_eq!(value(&c, "node_load5", None), Some(0.4));
}

#[test]
fn reads_this_host() {
    // The real /proc of the machine running the tests.
    let clock = ManualClock::at_ms(0);
    let mut source = HostSource::new(HostSourceConfig::default(), Arc::new(clock.clone()));
    let first = source.collect();
    assert!(
        value(&first, "node_load1", None).is_some(),
        "{:?}",
        first.errors
    );
    assert!(value(&first, "node_memory_used_ratio", None).is_some());
    assert!(first
        .samples
        .iter()
        .any(|s| s.series.metric == "node_filesystem_used_ratio"));
    clock.advance(Duration::from_secs(1));
    // The kernel's CPU counters tick at USER_HZ (100/s per CPU): let some real time pass so the
    // second read differs from the first (the rate itself is computed on the manual clock).
    std::thread::sleep(Duration::from_millis(200));
    let second = source.collect();
    assert!(value(&second, "node_cpu_busy_ratio", None).is_some());
}

#[test]
fn mount_points_are_unescaped() {
    let m = parse::mounts("/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\nbad\n");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].mountpoint, "/mnt/my disk");
}

proptest! {
    #[test]
    fn parsers_never_panic(text in "(?s).{0,300}") {
        let _ = parse::stat(&text);
        let _ = parse::loadavg(&text);
        let _ = parse::meminfo(&text);
        let _ = parse::vmstat(&text);
        let _ = parse::diskstats(&text);
        let _ = parse::net_dev(&text);
        let _ = parse::mounts(&text);
        let _ = parse::file_nr(&text);
    }

    #[test]
    fn mounts_never_panic_on_escapes(field in "[\\\\0-9a-z ]{0,40}") {
        let _ = parse::mounts(&format!("dev {field} ext4 rw 0 0"));
    }
}
