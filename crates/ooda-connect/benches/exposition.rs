//! Exposition parsing, samples per second on one core, ours beside `prometheus-parse` on the same
//! body (a node-exporter-like mix: labelled counters, gauges, a histogram, HELP/TYPE lines).
//! The ratio of the two is the number BENCHMARKS.md reports; the machine is shared and noisy.

use std::fmt::Write;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ooda_connect::scrape::parse::{parse, Format};
use ooda_connect::scrape::{ScrapeConfig, Scraper};
use ooda_core::value::HttpUrl;

fn body() -> (String, u64) {
    let mut out = String::new();
    let mut samples = 0u64;
    out.push_str("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n# TYPE node_cpu_seconds_total counter\n");
    for cpu in 0..64 {
        for mode in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ] {
            let _ = writeln!(
                out,
                "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {}.{}",
                12345 + cpu * 7,
                cpu
            );
            samples += 1;
        }
    }
    out.push_str("# HELP node_network_receive_bytes_total Network device statistic receive_bytes.\n# TYPE node_network_receive_bytes_total counter\n");
    for dev in 0..200 {
        let _ = writeln!(
            out,
            "node_network_receive_bytes_total{{device=\"veth{dev:04x}\"}} {}",
            9_876_543_210u64 + dev
        );
        samples += 1;
    }
    out.push_str("# TYPE node_filesystem_avail_bytes gauge\n");
    for fs in 0..100 {
        let _ = writeln!(out, "node_filesystem_avail_bytes{{device=\"/dev/sd{fs}\",fstype=\"ext4\",mountpoint=\"/mnt/disk{fs}\"}} 1.23456789e+11");
        samples += 1;
    }
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for route in 0..20 {
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
        ] {
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{handler=\"/api/v1/r{route}\",method=\"GET\",le=\"{le}\"}} {}", route * 100);
            samples += 1;
        }
        let _ = writeln!(out, "http_request_duration_seconds_sum{{handler=\"/api/v1/r{route}\",method=\"GET\"}} 53.25");
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{handler=\"/api/v1/r{route}\",method=\"GET\"}} {}",
            route * 100
        );
        samples += 2;
    }
    for i in 0..100 {
        let _ = writeln!(out, "go_memstats_gauge_{i} {}", i as f64 * 1.5);
        samples += 1;
    }
    (out, samples)
}

fn bench(c: &mut Criterion) {
    let (text, samples) = body();
    // Both parsers must agree on the sample count, or the comparison means nothing.
    assert_eq!(
        parse(&text, Format::Prometheus).samples().len() as u64,
        samples
    );
    let mut group = c.benchmark_group("exposition");
    group.throughput(Throughput::Elements(samples));
    group.bench_function("ooda", |b| {
        b.iter(|| {
            let e = parse(black_box(&text), Format::Prometheus);
            black_box(e.samples().len())
        })
    });
    group.bench_function("prometheus-parse", |b| {
        b.iter(|| {
            let lines = black_box(&text).lines().map(|l| Ok(l.to_owned()));
            let scrape = prometheus_parse::Scrape::parse(lines).expect("valid body");
            black_box(scrape.samples.len())
        })
    });
    group.finish();

    // The whole scrape path after the fetch: parse, labels into ooda's owned `SeriesKey`,
    // counters into rates, staleness. This is what a 10 s scrape of 100 000 series costs.
    let mut ingest = c.benchmark_group("scrape_ingest");
    ingest.throughput(Throughput::Elements(samples));
    let config = ScrapeConfig::new(
        "bench",
        HttpUrl::parse("http://127.0.0.1:9100/metrics").expect("url"),
    );
    let mut scraper = Scraper::new(config).expect("scraper");
    let mut now = 0i64;
    ingest.bench_function("ooda", |b| {
        b.iter(|| {
            now += 10_000;
            let round = scraper.ingest(black_box(&text), Format::Prometheus, now);
            black_box(round.samples.len())
        })
    });
    ingest.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
