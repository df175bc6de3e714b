//! Pure parsers for the /proc files the host source reads. They take text and never panic:
//! a line they cannot read is skipped and reported, the rest is kept.

use std::collections::BTreeMap;

/// Jiffies per CPU mode, summed over all CPUs (the `cpu ` line of /proc/stat).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stat {
    pub cpu: Vec<(&'static str, f64)>,
    pub context_switches: Option<f64>,
    pub procs_running: Option<f64>,
    pub procs_blocked: Option<f64>,
}

const CPU_MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];

pub fn stat(text: &str) -> Stat {
    let mut out = Stat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        match fields.next() {
            Some("cpu") => {
                out.cpu = CPU_MODES
                    .iter()
                    .zip(fields)
                    .filter_map(|(mode, v)| v.parse::<f64>().ok().map(|v| (*mode, v)))
                    .collect();
            }
            Some("ctxt") => out.context_switches = fields.next().and_then(|v| v.parse().ok()),
            Some("procs_running") => out.procs_running = fields.next().and_then(|v| v.parse().ok()),
            Some("procs_blocked") => out.procs_blocked = fields.next().and_then(|v| v.parse().ok()),
            _ => {}
        }
    }
    out
}

/// /proc/loadavg: `0.10 0.20 0.30 1/234 5678`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadAvg {
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    pub threads: Option<f64>,
}

pub fn loadavg(text: &str) -> Option<LoadAvg> {
    let mut fields = text.split_ascii_whitespace();
    let load1 = fields.next()?.parse().ok()?;
    let load5 = fields.next()?.parse().ok()?;
    let load15 = fields.next()?.parse().ok()?;
    let threads = fields
        .next()
        .and_then(|f| f.split('/').nth(1))
        .and_then(|t| t.parse().ok());
    Some(LoadAvg {
        load1,
        load5,
        load15,
        threads,
    })
}

/// /proc/meminfo as bytes (`kB` values multiplied out).
pub fn meminfo(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let mut parts = rest.split_ascii_whitespace();
            let value: f64 = parts.next()?.parse().ok()?;
            let scale = match parts.next() {
                Some("kB") => 1024.0,
                None => 1.0,
                Some(_) => return None,
            };
            Some((key.trim().to_owned(), value * scale))
        })
        .collect()
}

/// /proc/vmstat: `name value` per line.
pub fn vmstat(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// One device line of /proc/diskstats (fields per Documentation/admin-guide/iostats.rst).
#[derive(Debug, Clone, PartialEq)]
pub struct DiskStats {
    pub device: String,
    pub reads: f64,
    pub sectors_read: f64,
    pub writes: f64,
    pub sectors_written: f64,
    pub io_ms: f64,
    pub weighted_io_ms: f64,
}

pub fn diskstats(text: &str) -> Vec<DiskStats> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            if f.len() < 14 {
                return None;
            }
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
            Some(DiskStats {
                device: f[2].to_owned(),
                reads: n(3)?,
                sectors_read: n(5)?,
                writes: n(7)?,
                sectors_written: n(9)?,
                io_ms: n(12)?,
                weighted_io_ms: n(13)?,
            })
        })
        .collect()
}

/// One interface of /proc/net/dev.
#[derive(Debug, Clone, PartialEq)]
pub struct NetDev {
    pub interface: String,
    pub rx_bytes: f64,
    pub rx_packets: f64,
    pub rx_errors: f64,
    pub rx_drops: f64,
    pub tx_bytes: f64,
    pub tx_packets: f64,
    pub tx_errors: f64,
    pub tx_drops: f64,
}

pub fn net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let f: Vec<f64> = rest
                .split_ascii_whitespace()
                .map(|v| v.parse::<f64>())
                .collect::<Result<_, _>>()
                .ok()?;
            if f.len() < 16 {
                return None;
            }
            Some(NetDev {
                interface: name.trim().to_owned(),
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_drops: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_drops: f[11],
            })
        })
        .collect()
}

/// One line of /proc/self/mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub mountpoint: String,
    pub fstype: String,
}

pub fn mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            Some(Mount {
                device: f.next()?.to_owned(),
                mountpoint: unescape_octal(f.next()?),
                fstype: f.next()?.to_owned(),
            })
        })
        .collect()
}

/// The kernel escapes space, tab, newline and backslash in mount points as `\ooo`.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let Some(d) = escape {
            let value = (u32::from(d[0] - b'0') << 6)
                | (u32::from(d[1] - b'0') << 3)
                | u32::from(d[2] - b'0');
            if let Ok(byte) = u8::try_from(value) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// /proc/sys/fs/file-nr: `allocated unused maximum`.
pub fn file_nr(text: &str) -> Option<(f64, f64)> {
    let mut f = text.split_ascii_whitespace();
    let allocated = f.next()?.parse().ok()?;
    let _unused = f.next()?;
    let maximum = f.next()?.parse().ok()?;
    Some((allocated, maximum))
}
