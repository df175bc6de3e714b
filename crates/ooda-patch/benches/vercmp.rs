//! Version comparison throughput on the shared vector pairs (real-world shapes: epochs, tildes,
//! Debian revisions, rpm carets, SemVer pre-releases), and a naive dpkg comparison that splits
//! into owned strings first, as a reference.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use ooda_patch::version::{dpkg, rpm, semver};

fn pairs(file: &str, mode: Option<&str>) -> Vec<(String, String)> {
    let path = cve_data().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let keep = mode.is_none_or(|m| cells.get(3) == Some(&m));
            (keep && cells.len() >= 3).then(|| (cells[0].to_owned(), cells[1].to_owned()))
        })
        .collect()
}

/// The CVE data directory (`vercmp-*.tsv` …), named by `OODA_CVE_DATA`: real data is passed in,
/// never looked for at a machine path.
fn cve_data() -> PathBuf {
    std::env::var_os("OODA_CVE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("set OODA_CVE_DATA to the CVE data directory (vercmp-*.tsv)"))
}

/// The obvious implementation: owned strings, char vectors, a fresh allocation per compare.
fn naive_dpkg(a: &str, b: &str) -> std::cmp::Ordering {
    fn split(v: &str) -> (u64, String, String) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) => (e.parse().unwrap_or(0), r.to_owned()),
            None => (0, v.to_owned()),
        };
        match rest.rsplit_once('-') {
            Some((u, r)) => (epoch, u.to_owned(), r.to_owned()),
            None => (epoch, rest, String::new()),
        }
    }
    fn order(c: Option<char>) -> i64 {
        match c {
            None => 0,
            Some('~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => c as i64,
            Some(c) => c as i64 + 256,
        }
    }
    fn part(a: &str, b: &str) -> std::cmp::Ordering {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit())
            {
                let (x, y) = (order(a.get(i).copied()), order(b.get(j).copied()));
                if x != y {
                    return x.cmp(&y);
                }
                i += 1;
                j += 1;
            }
            let na: String = a[i.min(a.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let nb: String = b[j.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            i += na.len();
            j += nb.len();
            let (x, y) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
            let ord = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    }
    let (x, y) = (split(a), split(b));
    x.0.cmp(&y.0)
        .then_with(|| part(&x.1, &y.1))
        .then_with(|| part(&x.2, &y.2))
}

fn bench(c: &mut Criterion) {
    let deb = pairs("vercmp-dpkg.tsv", None);
    let rpm_pairs = pairs("vercmp-rpm.tsv", Some("rpmvercmp"));
    let sem = pairs("vercmp-semver.tsv", Some("semver"));
    // The naive reference must give the same answers on the vectors it is timed on.
    for (a, b) in &deb {
        assert_eq!(naive_dpkg(a, b), dpkg::compare(a, b).unwrap(), "{a} vs {b}");
    }

    let mut group = c.benchmark_group("vercmp");
    group.throughput(criterion::Throughput::Elements(deb.len() as u64));
    group.bench_function("dpkg/116_pairs", |b| {
        b.iter(|| {
            for (x, y) in &deb {
                black_box(dpkg::compare(black_box(x), black_box(y)).ok());
            }
        })
    });
    group.bench_function("dpkg_naive/116_pairs", |b| {
        b.iter(|| {
            for (x, y) in &deb {
                black_box(naive_dpkg(black_box(x), black_box(y)));
            }
        })
    });
    group.throughput(criterion::Throughput::Elements(rpm_pairs.len() as u64));
    group.bench_function("rpmvercmp/103_pairs", |b| {
        b.iter(|| {
            for (x, y) in &rpm_pairs {
                black_box(rpm::rpmvercmp(black_box(x), black_box(y)));
            }
        })
    });
    group.throughput(criterion::Throughput::Elements(sem.len() as u64));
    group.bench_function("semver/31_pairs", |b| {
        b.iter(|| {
            for (x, y) in &sem {
                black_box(semver::compare(black_box(x), black_box(y)).ok());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
