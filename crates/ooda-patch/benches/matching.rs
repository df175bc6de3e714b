//! Matching at fleet scale: 10 000 hosts × 1 500 packages against distro data of the full
//! tracker's size (the shared Debian advisories, extended synthetically to ~50 000 CVE × source
//! package entries for the release the fleet runs), with the fast matcher and the
//! straightforward one side by side.
//!
//! Everything is generated at bench time from real names: this machine's `dpkg-query -W`
//! (binary, source, version) and the sources and fixed versions of `advisories-fixed.tsv`.
//! Deterministic (fixed seed). Memory is read from /proc/self/status and printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};

use ooda_core::Host;
use ooda_patch::distro::Distro;
use ooda_patch::feed::import::read;
use ooda_patch::feed::store::Records;
use ooda_patch::feed::{DistroFix, FeedKind, FixOrigin, FixState};
use ooda_patch::index::{FeedSet, VulnIndex};
use ooda_patch::inventory::{self, InstalledPackage, InventoryHost, PackageFormat};
use ooda_patch::matcher::{self, baseline::Baseline};

const HOSTS: usize = 10_000;
const PACKAGES_PER_HOST: usize = 1_500;
const SYNTHETIC_ENTRIES: usize = 50_000;
const RELEASE: &str = "bookworm";

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A file of the CVE data directory named by `OODA_CVE_DATA` (real data is passed in, never
/// looked for at a machine path).
fn shared(relative: &str) -> PathBuf {
    let root = std::env::var_os("OODA_CVE_DATA").unwrap_or_else(|| {
        panic!("set OODA_CVE_DATA to the CVE data directory (kev/, nvd/, debian/ …)")
    });
    let path = PathBuf::from(root).join(relative);
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// (binary, source, version) of this machine's packages; empty where dpkg is absent.
fn machine_packages() -> Vec<(String, String, String)> {
    let Ok(output) = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Package}\t${source:Package}\t${Version}\n"])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('\t');
            let (binary, source, version) = (cells.next()?, cells.next()?, cells.next()?);
            (!version.is_empty())
                .then(|| (binary.to_owned(), source.to_owned(), version.to_owned()))
        })
        .collect()
}

struct Fixture {
    feeds: FeedSet,
    hosts: Vec<InventoryHost>,
}

/// One source package of the synthetic release: its base version and fix ladder length.
struct Source {
    name: String,
    binaries: Vec<String>,
    base: String,
    fixes: usize,
    /// Installed on this machine (real binary names and versions).
    machine: bool,
}

fn fixture() -> Fixture {
    let mut rng = Rng(0x00DA_2025_0825);
    let (parsed, _) = read(
        FeedKind::DebianFixed,
        &shared("debian/advisories-fixed.tsv"),
    )
    .expect("advisories");
    let Some(Records::Fixes(real)) = parsed.records.into_iter().next() else {
        panic!("advisories parse to fixes")
    };

    // Sources: this machine's (real binary names and versions) plus every advisory source.
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    for (binary, source, version) in machine_packages() {
        let entry = sources.entry(source.clone()).or_insert_with(|| Source {
            name: source,
            binaries: Vec::new(),
            base: version,
            fixes: 0,
            machine: true,
        });
        entry.binaries.push(binary);
    }
    for fix in &real {
        if let FixState::Fixed { version } = &fix.state {
            let entry = sources.entry(fix.source.clone()).or_insert_with(|| Source {
                name: fix.source.clone(),
                binaries: vec![fix.source.clone()],
                base: version.clone(),
                fixes: 0,
                machine: false,
            });
            // Keep the highest real fixed version as the base the release starts from.
            if !entry.machine
                && ooda_patch::version::dpkg::compare(version, &entry.base).is_ok_and(|o| o.is_gt())
            {
                entry.base = version.clone();
            }
        }
    }
    let mut sources: Vec<Source> = sources.into_values().collect();

    // Heavy-tailed CVE counts (a few packages like the kernel or chromium carry most).
    let mut synthetic = Vec::with_capacity(SYNTHETIC_ENTRIES);
    for n in 0..SYNTHETIC_ENTRIES {
        let r = rng.below(1 << 16) as f64 / f64::from(1 << 16);
        let pick = ((r * r * r) * sources.len() as f64) as usize % sources.len();
        let source = &mut sources[pick];
        let state = if rng.chance(1) {
            FixState::Open
        } else if rng.chance(2) {
            FixState::NotAffected
        } else {
            source.fixes += 1;
            FixState::Fixed {
                version: format!("{}+deb12u{}", source.base, source.fixes),
            }
        };
        synthetic.push(DistroFix {
            distro: Distro::Debian,
            release: RELEASE.to_owned(),
            source: source.name.clone(),
            cve: format!("CVE-2099-{:05}", n),
            state,
            introduced: None,
            advisory: Some(format!("DSA-9{n:04}-1")),
            published: chrono::NaiveDate::from_ymd_opt(2025, 1, 1),
            urgency: None,
            origin: FixOrigin::DebianAdvisory,
        });
    }

    // The image every host runs: this machine's binaries, then advisory sources up to 1 500.
    let mut image: Vec<(usize, String)> = Vec::new();
    for (i, source) in sources.iter().enumerate().filter(|(_, s)| s.machine) {
        image.extend(source.binaries.iter().map(|b| (i, b.clone())));
    }
    for (i, source) in sources.iter().enumerate().filter(|(_, s)| !s.machine) {
        if image.len() >= PACKAGES_PER_HOST {
            break;
        }
        image.push((i, source.binaries[0].clone()));
    }
    image.truncate(PACKAGES_PER_HOST);

    // Version variants per source: base, each ladder step. Shared Arc<str> as the inventory
    // loader interns them.
    let variants: Vec<Vec<Arc<str>>> = sources
        .iter()
        .map(|s| {
            let mut v: Vec<Arc<str>> = vec![Arc::from(s.base.as_str())];
            v.extend((1..=s.fixes).map(|k| Arc::from(format!("{}+deb12u{k}", s.base).as_str())));
            v
        })
        .collect();
    let names: Vec<(Arc<str>, Arc<str>)> = image
        .iter()
        .map(|(s, binary)| {
            (
                Arc::from(binary.as_str()),
                Arc::from(sources[*s].name.as_str()),
            )
        })
        .collect();

    let hosts = (0..HOSTS)
        .map(|h| {
            // 85 % of sources fully patched; the rest lag one to six fixes behind.
            let mut level: BTreeMap<usize, Arc<str>> = BTreeMap::new();
            let packages = image
                .iter()
                .zip(&names)
                .map(|((s, _), (binary, source))| {
                    let version = level
                        .entry(*s)
                        .or_insert_with(|| {
                            let ladder = &variants[*s];
                            let behind = if rng.chance(85) { 0 } else { 1 + rng.below(6) };
                            ladder[ladder.len().saturating_sub(1 + behind)].clone()
                        })
                        .clone();
                    InstalledPackage {
                        name: binary.clone(),
                        version: version.clone(),
                        source: Some(source.clone()),
                        source_version: Some(version),
                    }
                })
                .collect();
            InventoryHost {
                host: Host::new(format!("host-{h:05}")),
                distro: Some(Distro::Debian),
                release: RELEASE.to_owned(),
                packages,
                package_format: Some(PackageFormat::Dpkg),
            }
        })
        .collect();

    let mut fixes = real;
    fixes.extend(synthetic);
    Fixture {
        feeds: FeedSet {
            fixes,
            ..FeedSet::default()
        },
        hosts,
    }
}

fn bench(c: &mut Criterion) {
    let rss0 = memory_kib("VmRSS:");
    let started = Instant::now();
    let Fixture { feeds, mut hosts } = fixture();
    inventory::intern(&mut hosts);
    let generated = started.elapsed();
    let rss_inventory = memory_kib("VmRSS:");
    let started = Instant::now();
    let index = VulnIndex::build(&feeds);
    let built = started.elapsed();
    let rss_index = memory_kib("VmRSS:");
    let packages: usize = hosts.iter().map(|h| h.packages.len()).sum();
    eprintln!(
        "fixture: {} hosts, {packages} packages, {} distro entries ({} for {RELEASE}); generated in {:.1?}, index built in {:.1?}",
        hosts.len(),
        feeds.fixes.len(),
        feeds.fixes.iter().filter(|f| f.release == RELEASE).count(),
        generated,
        built
    );
    eprintln!(
        "memory: fixture + inventory {} MiB, index {} MiB (VmRSS deltas)",
        (rss_inventory.saturating_sub(rss0)) / 1024,
        (rss_index.saturating_sub(rss_inventory)) / 1024
    );

    // One full fleet pass outside criterion, to report the finding count and a single timing.
    let started = Instant::now();
    let results = matcher::match_fleet(&index, &hosts, 2);
    let fleet = started.elapsed();
    let findings: usize = results.iter().map(|r| r.findings.len()).sum();
    eprintln!("fleet pass (fast, 2 threads): {fleet:.2?}, {findings} findings");
    drop(results);

    let baseline = Baseline::new(&feeds.fixes);
    let sample = &hosts[..500];
    let started = Instant::now();
    let slow: usize = sample.iter().map(|h| baseline.match_host(h).len()).sum();
    let slow_time = started.elapsed();
    eprintln!(
        "baseline: 500 hosts in {slow_time:.2?} ({slow} findings) → {:.0?} extrapolated to {HOSTS} hosts on one thread",
        slow_time * (HOSTS as u32 / 500)
    );
    eprintln!("memory: peak VmHWM {} MiB", memory_kib("VmHWM:") / 1024);

    let mut group = c.benchmark_group("match");
    group.sample_size(20);
    let host = &hosts[7];
    group.bench_function("one_host/fast", |b| {
        b.iter(|| matcher::match_host(&index, 7, host))
    });
    group.bench_function("one_host/baseline", |b| {
        b.iter(|| baseline.match_host(host))
    });
    group.finish();

    let mut group = c.benchmark_group("fleet");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(30));
    group.bench_function("10000_hosts/fast_2_threads", |b| {
        b.iter(|| matcher::match_fleet(&index, &hosts, 2))
    });
    group.bench_function("10000_hosts/fast_1_thread", |b| {
        b.iter(|| matcher::match_fleet(&index, &hosts, 1))
    });
    group.bench_function("100_hosts/baseline", |b| {
        b.iter(|| {
            hosts[..100]
                .iter()
                .map(|h| baseline.match_host(h).len())
                .sum::<usize>()
        })
    });
    group.bench_function("index_build", |b| b.iter(|| VulnIndex::build(&feeds)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
