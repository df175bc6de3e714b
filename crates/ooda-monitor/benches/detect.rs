//! `detect` in memory: CSV parse + engine + output, rows per second on a generated 8-series host.
//! The 10-million-row end-to-end run through the binary is `scripts/bench-detect`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ooda_monitor::{detect::detect_bytes, DetectOptions, MonitorConfig};

#[path = "../examples/gen_csv/generate.rs"]
mod generate;

fn bench_detect(c: &mut Criterion) {
    let rows = 50_000;
    let mut input = Vec::new();
    generate::write_csv(&mut input, rows, 8).expect("in-memory write");
    let config = MonitorConfig::default();
    let options = DetectOptions::default();
    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("csv_50k_rows_8_series", |b| {
        b.iter(|| black_box(detect_bytes(&input, &config, &options).map(|r| r.1.rows)))
    });
    group.finish();
}

criterion_group!(benches, bench_detect);
criterion_main!(benches);
