//! This host's processes from /proc: CPU share between two looks, resident memory and its growth,
//! parent and systemd unit. Incident response names the culprit of a runaway CPU or a leak from
//! these facts, so they must never come from anywhere but the kernel's own report.
//!
//! Read-only. A process that exits between listing and reading is skipped, never an error.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

/// One process as the kernel reports it now.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    /// Share of one core since the previous look (None on the first look at this process).
    pub cpu_percent: Option<f64>,
    pub rss_bytes: u64,
    /// Least-squares slope of resident memory over the kept history, bytes per hour (None with
    /// fewer than three looks spanning a minute).
    pub rss_growth_bytes_per_hour: Option<f64>,
    /// The systemd unit (`nginx.service` → `nginx`) from its cgroup, when it has one.
    pub unit: Option<String>,
}

/// One look at a process: what the next look needs to compute rates.
#[derive(Debug, Clone)]
struct Seen {
    start_ticks: u64,
    cpu_ticks: u64,
    at_ms: i64,
    /// (ms, rss bytes), oldest first, at most [`HISTORY`] long.
    rss: VecDeque<(i64, u64)>,
}

/// How much resident-memory history is kept per process.
const HISTORY_MS: i64 = 3_600_000;
const HISTORY: usize = 360;

/// The process table with memory of previous looks.
#[derive(Debug)]
pub struct ProcessTable {
    proc_root: PathBuf,
    ticks_per_second: f64,
    page_size: u64,
    seen: BTreeMap<u32, Seen>,
}

/// The fields of `/proc/<pid>/stat` ooda uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub name: String,
    pub ppid: u32,
    pub cpu_ticks: u64,
    pub start_ticks: u64,
    pub rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`. The command name may hold spaces and parentheses: it runs from the
/// first `(` to the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let name = text[open + 1..close].to_owned();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field N is rest[N - 3].
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        name,
        ppid: u32::try_from(field(4)?).ok()?,
        cpu_ticks: field(14)?.checked_add(field(15)?)?,
        start_ticks: field(22)?,
        rss_pages: field(24)?,
    })
}

/// The systemd unit in `/proc/<pid>/cgroup` (`0::/system.slice/nginx.service` → `nginx`).
pub fn parse_unit(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.rsplit(':').next()?;
        let last = path.rsplit('/').find(|part| part.ends_with(".service"))?;
        let unit = last.strip_suffix(".service")?;
        (!unit.is_empty()).then(|| unit.to_owned())
    })
}

fn slope_per_hour(points: &VecDeque<(i64, u64)>) -> Option<f64> {
    let (first, last) = (points.front()?, points.back()?);
    if points.len() < 3 || last.0 - first.0 < 60_000 {
        return None;
    }
    let n = points.len() as f64;
    let t = |ms: i64| (ms - first.0) as f64 / 3_600_000.0;
    let mean_t = points.iter().map(|(ms, _)| t(*ms)).sum::<f64>() / n;
    let mean_v = points.iter().map(|(_, v)| *v as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (ms, v) in points {
        let dt = t(*ms) - mean_t;
        num += dt * (*v as f64 - mean_v);
        den += dt * dt;
    }
    let slope = num / den;
    slope.is_finite().then_some(slope)
}

impl ProcessTable {
    pub fn new(proc_root: impl Into<PathBuf>) -> Self {
        Self {
            proc_root: proc_root.into(),
            ticks_per_second: rustix::param::clock_ticks_per_second() as f64,
            page_size: rustix::param::page_size() as u64,
            seen: BTreeMap::new(),
        }
    }

    fn read(&self, pid: u32, file: &str) -> Option<String> {
        std::fs::read_to_string(self.proc_root.join(pid.to_string()).join(file)).ok()
    }

    /// Looks at every process now (`now_ms` on the caller's clock) and returns them all.
    pub fn look(&mut self, now_ms: i64) -> Vec<ProcessInfo> {
        let Ok(entries) = std::fs::read_dir(&self.proc_root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut alive = BTreeMap::new();
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(stat) = self.read(pid, "stat").as_deref().and_then(parse_stat) else {
                continue;
            };
            let rss_bytes = stat.rss_pages.saturating_mul(self.page_size);
            // A pid reused by another program starts a new history.
            let mut seen = match self.seen.remove(&pid) {
                Some(s) if s.start_ticks == stat.start_ticks => s,
                _ => Seen {
                    start_ticks: stat.start_ticks,
                    cpu_ticks: stat.cpu_ticks,
                    at_ms: now_ms,
                    rss: VecDeque::new(),
                },
            };
            let elapsed_s = (now_ms - seen.at_ms) as f64 / 1000.0;
            let cpu_percent = (elapsed_s > 0.0).then(|| {
                let ticks = stat.cpu_ticks.saturating_sub(seen.cpu_ticks) as f64;
                100.0 * ticks / self.ticks_per_second / elapsed_s
            });
            seen.cpu_ticks = stat.cpu_ticks;
            seen.at_ms = now_ms;
            while seen
                .rss
                .front()
                .is_some_and(|(t, _)| now_ms - t > HISTORY_MS)
                || seen.rss.len() >= HISTORY
            {
                seen.rss.pop_front();
            }
            seen.rss.push_back((now_ms, rss_bytes));
            out.push(ProcessInfo {
                pid,
                ppid: stat.ppid,
                name: stat.name,
                cpu_percent,
                rss_bytes,
                rss_growth_bytes_per_hour: slope_per_hour(&seen.rss),
                unit: self.read(pid, "cgroup").as_deref().and_then(parse_unit),
            });
            alive.insert(pid, seen);
        }
        self.seen = alive;
        out
    }

    pub fn proc_root(&self) -> &Path {
        &self.proc_root
    }
}

/// The busiest `n` processes by CPU and the largest `n` by memory (and the fastest growing),
/// each once, busiest CPU first.
pub fn busiest(mut all: Vec<ProcessInfo>, n: usize) -> Vec<ProcessInfo> {
    let mut keep = std::collections::BTreeSet::new();
    all.sort_by(|a, b| {
        b.cpu_percent
            .unwrap_or(0.0)
            .total_cmp(&a.cpu_percent.unwrap_or(0.0))
    });
    keep.extend(all.iter().take(n).map(|p| p.pid));
    all.sort_by_key(|p| std::cmp::Reverse(p.rss_bytes));
    keep.extend(all.iter().take(n).map(|p| p.pid));
    all.sort_by(|a, b| {
        b.rss_growth_bytes_per_hour
            .unwrap_or(0.0)
            .total_cmp(&a.rss_growth_bytes_per_hour.unwrap_or(0.0))
    });
    keep.extend(all.iter().take(n).map(|p| p.pid));
    all.retain(|p| keep.contains(&p.pid));
    all.sort_by(|a, b| {
        b.cpu_percent
            .unwrap_or(0.0)
            .total_cmp(&a.cpu_percent.unwrap_or(0.0))
            .then(a.pid.cmp(&b.pid))
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let text = "4242 (my (odd) proc) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 12345 100000000 2560 18446744073709551615";
        let stat = parse_stat(text).unwrap();
        assert_eq!(stat.name, "my (odd) proc");
        assert_eq!(stat.ppid, 1);
        assert_eq!(stat.cpu_ticks, 300);
        assert_eq!(stat.start_ticks, 12345);
        assert_eq!(stat.rss_pages, 2560);
    }

    #[test]
    fn units_from_cgroup_v1_and_v2() {
        assert_eq!(
            parse_unit("0::/system.slice/nginx.service\n").as_deref(),
            Some("nginx")
        );
        assert_eq!(
            parse_unit("12:cpu,cpuacct:/system.slice/postgresql@15-main.service/x").as_deref(),
            Some("postgresql@15-main")
        );
        assert_eq!(parse_unit("0::/user.slice/session-1.scope"), None);
    }

    #[test]
    fn this_process_is_seen_with_a_cpu_share_on_the_second_look() {
        let mut table = ProcessTable::new("/proc");
        let me = std::process::id();
        let first = table.look(0);
        assert!(first.iter().any(|p| p.pid == me && p.cpu_percent.is_none()));
        // Burn a little CPU so the share is measurable.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(100) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let second = table.look(1_000);
        let mine = second.iter().find(|p| p.pid == me).unwrap();
        assert!(mine.cpu_percent.unwrap() > 0.0);
        assert!(mine.rss_bytes > 0);
    }

    proptest! {
        #[test]
        fn stat_parsing_never_panics(text in ".{0,300}") {
            let _ = parse_stat(&text);
            let _ = parse_unit(&text);
        }
    }
}
