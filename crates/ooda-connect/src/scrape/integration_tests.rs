//! The scrape client against a real node-exporter, and against local fakes for the bad cases
//! (oversized body, slow target, error status) that a real exporter will not produce on demand.

use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use ooda_core::value::{HttpUrl, Seconds};

use super::{ScrapeConfig, ScrapeError, Scraper};
use crate::http::HttpError;
use crate::testkit;

fn config(url: &str) -> ScrapeConfig {
    ScrapeConfig::new("test", HttpUrl::parse(url).expect("url"))
}

#[tokio::test]
async fn scrapes_a_real_node_exporter_twice_and_gets_rates() {
    let exporter = testkit::node_exporter();
    let mut cfg = config(&format!("{}/metrics", exporter.url()));
    cfg.host = Some("this-host".into());
    let mut scraper = Scraper::new(cfg).expect("scraper");
    let first = scraper.scrape(1_000).await.expect("first scrape");
    assert!(first.line_errors.is_empty(), "{:?}", first.line_errors);
    assert!(
        first.parsed > 50,
        "node-exporter exposes many samples, got {}",
        first.parsed
    );
    assert!(first
        .samples
        .iter()
        .any(|s| s.series.metric == "node_memory_MemAvailable_bytes" && s.value > 0.0));
    assert!(
        !first
            .samples
            .iter()
            .any(|s| s.series.metric == "node_cpu_seconds_total"),
        "a counter needs two scrapes before it has a rate"
    );
    let second = scraper.scrape(11_000).await.expect("second scrape");
    let cpu: Vec<_> = second
        .samples
        .iter()
        .filter(|s| s.series.metric == "node_cpu_seconds_total")
        .collect();
    assert!(!cpu.is_empty(), "cpu counters became rates");
    assert!(cpu
        .iter()
        .all(|s| s.value >= 0.0 && s.series.host() == Some("this-host")));
    assert_eq!(scraper.stats().failures, 0);
}

#[tokio::test]
async fn oversized_slow_and_failing_targets_are_cut_and_counted() {
    let big = "m 1\n".repeat(10_000);
    let router = Router::new()
        .route("/big", get(move || async move { big }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "m 1\n"
            }),
        )
        .route(
            "/fail",
            get(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "exporter broke",
                )
            }),
        )
        .route(
            "/om",
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0",
                    )],
                    "# TYPE a gauge\na 1 1700000000\nbad line here\n# EOF\n",
                )
            }),
        );
    let base = testkit::serve(router).await;

    let mut cfg = config(&format!("{base}/big"));
    cfg.max_body_bytes = 1024;
    let mut big = Scraper::new(cfg).expect("scraper");
    let err = big.scrape(0).await.expect_err("too large");
    assert!(
        matches!(
            err,
            ScrapeError::Http {
                error: HttpError::TooLarge { limit: 1024 },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.reason(), "too_large");
    assert_eq!((big.stats().failures, big.stats().too_large), (1, 1));

    let mut cfg = config(&format!("{base}/slow"));
    cfg.timeout = Seconds(Duration::from_millis(300));
    let mut slow = Scraper::new(cfg).expect("scraper");
    let err = slow.scrape(0).await.expect_err("timeout");
    assert_eq!(err.reason(), "timeout", "{err}");
    assert_eq!(slow.stats().timeouts, 1);

    let mut failing = Scraper::new(config(&format!("{base}/fail"))).expect("scraper");
    let err = failing.scrape(0).await.expect_err("500");
    assert!(
        matches!(err, ScrapeError::Status { status: 500, ref body, .. } if body == "exporter broke")
    );

    let mut om = Scraper::new(config(&format!("{base}/om"))).expect("scraper");
    let round = om.scrape(0).await.expect("openmetrics");
    assert_eq!(round.samples.len(), 1);
    assert_eq!(
        round.samples[0].time_ms, 1_700_000_000_000,
        "OpenMetrics seconds"
    );
    assert_eq!(round.line_errors.len(), 1);
    assert_eq!(round.line_errors[0].line, 3);
    assert_eq!(om.stats().line_errors, 1);
}
