//! A lab run end to end (fleet, engine, fusion, and with `respond` the incident and governance
//! pillars on a temporary store), host-rows per second. The 200-host × 30-day scorecard run
//! through the binary is in BENCHMARKS.md ("Lab").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ooda_lab::{run, Scenario};
use ooda_monitor::MonitorConfig;

fn scenario(respond: bool) -> Scenario {
    let mut s = Scenario::from_toml(
        "hosts = 10\ndays = 1\nwarmup_days = 3\nseed = 7\nfaults_per_host_month = 15.0\n",
    )
    .expect("bench scenario");
    s.respond = respond;
    s
}

fn bench_lab(c: &mut Criterion) {
    let config = MonitorConfig::default();
    let mut group = c.benchmark_group("lab");
    group.sample_size(10);
    for respond in [false, true] {
        let s = scenario(respond);
        let rows = s.hosts as u64 * u64::from(s.days + s.warmup_days) * 86_400 / s.step_secs;
        group.throughput(Throughput::Elements(rows));
        let name = if respond { "detect+respond" } else { "detect" };
        group.bench_function(name, |b| {
            b.iter(|| run(&s, &config, &mut |_, _| {}).expect("lab run"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_lab);
criterion_main!(benches);
