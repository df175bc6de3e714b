//! Against a real Prometheus that scrapes a real node-exporter, both on free loopback ports.

use ooda_core::value::HttpUrl;

use super::{PromError, PrometheusClient, PrometheusConfig, QueryValue};
use crate::testkit;

#[tokio::test]
async fn queries_a_real_prometheus_after_it_scraped_node_exporter() {
    let exporter = testkit::node_exporter();
    let prometheus = testkit::prometheus_scraping(exporter.port);
    let client = PrometheusClient::new(PrometheusConfig::new(
        "local",
        HttpUrl::parse(&prometheus.url()).expect("url"),
    ))
    .expect("client");

    // Wait until Prometheus has two scrapes of node-exporter (its own schedule).
    let points = testkit::eventually("two scrapes of node-exporter in Prometheus", || async {
        let r = client
            .query("count_over_time(up{job=\"node\"}[1m])", None)
            .await
            .ok()?;
        match r.data {
            QueryValue::Vector(v)
                if v.first()
                    .and_then(|s| s.points.first())
                    .is_some_and(|p| p.1 >= 2.0) =>
            {
                Some(v)
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(points.len(), 1);

    let up = client
        .query("up{job=\"node\"}", None)
        .await
        .expect("instant query");
    let QueryValue::Vector(up) = up.data else {
        panic!("expected a vector")
    };
    assert_eq!(up[0].points[0].1, 1.0);
    assert_eq!(up[0].key("up").host(), Some("127.0.0.1"));

    let found = client
        .series(
            &[
                "node_load1",
                "{__name__=~\"node_memory_MemAvailable_bytes\"}",
            ],
            None,
            None,
        )
        .await
        .expect("series");
    assert_eq!(found.data.len(), 2, "{:?}", found.data);

    let now = chrono::Utc::now();
    let range = client
        .query_range(
            "node_memory_MemAvailable_bytes",
            now - chrono::Duration::minutes(5),
            now,
            std::time::Duration::from_secs(1),
        )
        .await
        .expect("range query");
    assert_eq!(range.data.len(), 1);
    assert!(!range.data[0].points.is_empty());

    // Backfill in many small chunks: every chunk succeeds and no timestamp repeats.
    let mut cfg = client.config().clone();
    cfg.backfill = ooda_core::value::Seconds::parse("5m").expect("span");
    cfg.backfill_step = ooda_core::value::Seconds::parse("1s").expect("step");
    cfg.backfill_chunk = ooda_core::value::Seconds::parse("30s").expect("chunk");
    let chunked = PrometheusClient::new(cfg).expect("client");
    let backfill = chunked
        .backfill(
            &[
                "node_memory_MemAvailable_bytes".to_string(),
                "rate(node_cpu_seconds_total[5s])".to_string(),
            ],
            now,
            false,
        )
        .await;
    assert!(
        backfill.failed_chunks.is_empty(),
        "{:?}",
        backfill.failed_chunks
    );
    assert_eq!(backfill.chunks, 2 * 10);
    let mem = &backfill.series[0].1[0];
    let mut times: Vec<i64> = mem.points.iter().map(|p| p.0).collect();
    let before = times.len();
    times.dedup();
    assert_eq!(
        before,
        times.len(),
        "no point twice across chunk boundaries"
    );
    assert!(backfill
        .samples()
        .any(|s| s.series.metric == "node_memory_MemAvailable_bytes"));
    assert!(
        backfill
            .samples()
            .any(|s| s.series.metric == "rate(node_cpu_seconds_total[5s])"),
        "expressions without __name__ are named by the expression"
    );

    let bad = client.query("rate(", None).await.expect_err("syntax error");
    assert!(
        matches!(bad, PromError::Api { status: 400, ref error_type, .. } if error_type == "bad_data"),
        "{bad}"
    );
}
