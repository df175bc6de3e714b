//! Triage latency with 10 000 past incidents indexed, and concurrent evidence gathering from 8
//! probes with injected latencies (should take about the slowest probe, not the sum).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ooda_core::clock::from_millis;
use ooda_core::{IncidentId, Severity};
use ooda_incident::evidence::{gather, Observation, Probe, ProbeQuery, StaticProbe};
use ooda_incident::triage::{self, Bm25Index, PastIncident, SimilarIndex};
use ooda_incident::{Catalogue, Incident};

fn history(catalogue: &Catalogue, n: usize) -> Vec<PastIncident> {
    let causes = catalogue.causes();
    (0..n)
        .map(|i| {
            let cause = &causes[i % causes.len()];
            let words: Vec<&str> = cause.keywords.iter().map(String::as_str).collect();
            PastIncident {
                id: format!("past-{i}"),
                cause: Some(cause.id.clone()),
                text: format!(
                    "host web-{} {} alert {} metric {}_{} template error code {} at /var/lib/app{}",
                    i % 300,
                    cause.title,
                    words.join(" "),
                    words.first().unwrap_or(&"x"),
                    i % 17,
                    i % 97,
                    i % 13
                ),
                resolved: i % 5 != 0,
            }
        })
        .collect()
}

fn incident() -> Incident {
    let mut incident = Incident::open(
        IncidentId::from_u128(1),
        Some("web-7".into()),
        "disk".into(),
        Severity::Warning,
        from_millis(0),
    );
    incident
        .text
        .push("disk_used_pct 97% on web-7 filesystem /var full: No space left on device".into());
    incident
}

fn triage_bench(c: &mut Criterion) {
    let catalogue = Catalogue::embedded().unwrap();
    let past = history(&catalogue, 10_000);
    let incident = incident();
    let mut group = c.benchmark_group("triage_10k");
    let mut bm25 = Bm25Index::default();
    bm25.add(&past).unwrap();
    group.bench_function("bm25_in_crate", |b| {
        b.iter(|| triage::triage(&incident, &catalogue, &bm25).unwrap())
    });
    #[cfg(feature = "tantivy")]
    {
        let started = Instant::now();
        let mut tantivy = triage::tantivy_index::TantivyIndex::new().unwrap();
        tantivy.add(&past).unwrap();
        eprintln!(
            "tantivy: indexed 10000 incidents in {:?}",
            started.elapsed()
        );
        group.bench_function("tantivy", |b| {
            b.iter(|| triage::triage(&incident, &catalogue, &tantivy).unwrap())
        });
    }
    group.finish();
}

fn evidence_bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    // 8 probes: 5, 10, 20, 30, 40, 50, 60, 80 ms. Sum 295 ms, slowest 80 ms.
    let delays = [5u64, 10, 20, 30, 40, 50, 60, 80];
    let probes: Vec<Arc<dyn Probe>> = delays
        .iter()
        .map(|ms| {
            Arc::new(
                StaticProbe::new(format!("p{ms}"), Observation::Logs { templates: vec![] })
                    .delayed(Duration::from_millis(*ms)),
            ) as Arc<dyn Probe>
        })
        .collect();
    let query = ProbeQuery {
        incident: IncidentId::from_u128(1),
        host: Some("web-1".into()),
        labels: Default::default(),
        at: from_millis(0),
        look_back: Duration::from_secs(4 * 3600),
    };
    let mut group = c.benchmark_group("evidence_8_probes");
    group.sample_size(20);
    group.bench_function("slowest_80ms_sum_295ms", |b| {
        b.iter(|| runtime.block_on(gather(&probes, &query, Duration::from_secs(1))))
    });
    group.finish();
}

criterion_group!(benches, triage_bench, evidence_bench);
criterion_main!(benches);
