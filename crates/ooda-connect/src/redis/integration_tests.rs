//! Against the real Redis at 127.0.0.1:6379 (the machine runs it), each test under its own key
//! prefix: two monitor instances share it and every alert is announced exactly once.

use std::time::Duration;

use ooda_core::{AlertKind, Anomaly, Labels, SeriesKey, Severity};
use ooda_monitor::{Dedup, Fusion, FusionEvent, MonitorConfig};

use super::{RedisDedup, RedisDedupConfig};

const REDIS: &str = "127.0.0.1:6379";

fn unique_prefix(test: &str) -> String {
    format!(
        "ooda-test:{test}:{}:{}:",
        std::process::id(),
        ooda_core::EventId::new()
    )
}

fn dedup(prefix: &str) -> RedisDedup {
    let d = RedisDedup::new(RedisDedupConfig {
        address: REDIS.into(),
        key_prefix: prefix.into(),
        ..RedisDedupConfig::default()
    });
    d.ping().unwrap_or_else(|e| {
        panic!("these tests need the Redis at {REDIS} (the machine's redis-server): {e}")
    });
    d
}

fn anomaly(host: &str, metric: &str, at_ms: i64) -> Anomaly {
    Anomaly {
        series: SeriesKey::new(metric, Labels::new().with("host", host)),
        time: ooda_core::clock::from_millis(at_ms),
        value: 95.0,
        expected: 20.0,
        score: 6.0,
        severity: Severity::Warning,
        kind: AlertKind::Baseline,
        explanation: format!("{metric} on {host} far above baseline"),
        forecast: None,
    }
}

#[test]
fn two_instances_fed_the_same_anomalies_announce_each_alert_once() {
    let prefix = unique_prefix("two-instances");
    let config = MonitorConfig::default();
    let (a_store, b_store) = (dedup(&prefix), dedup(&prefix));
    let (mut a, mut b) = (Fusion::new(&config), Fusion::new(&config));
    let hosts: Vec<String> = (0..20).map(|i| format!("host-{i}")).collect();
    let mut opened = Vec::new();
    for round in 0..5i64 {
        let now = round * 60_000;
        let batch: Vec<Anomaly> = hosts.iter().map(|h| anomaly(h, "cpu", now)).collect();
        // Interleave the two workers, alternating who goes first.
        let order: [(&mut Fusion, &RedisDedup); 2] = if round % 2 == 0 {
            [(&mut a, &a_store), (&mut b, &b_store)]
        } else {
            [(&mut b, &b_store), (&mut a, &a_store)]
        };
        for (fusion, store) in order {
            for event in fusion.ingest(now, batch.clone(), store).expect("ingest") {
                if let FusionEvent::Opened(alert) = event {
                    opened.push(alert.fingerprint);
                }
            }
        }
    }
    let mut unique = opened.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), hosts.len(), "one alert per host");
    assert_eq!(
        opened.len(),
        hosts.len(),
        "no alert announced twice: {opened:?}"
    );
    assert_eq!(
        a_store.health().fallback_claims + b_store.health().fallback_claims,
        0
    );
}

#[test]
fn claims_expire_with_the_ttl_and_release_frees_them() {
    let prefix = unique_prefix("ttl");
    let d = dedup(&prefix);
    let other = dedup(&prefix);
    assert!(d.claim("fp", Duration::from_secs(60), 0).expect("claim"));
    assert!(
        !other
            .claim("fp", Duration::from_secs(60), 0)
            .expect("claim"),
        "held by the first"
    );
    d.release("fp").expect("release");
    assert!(
        other
            .claim("fp", Duration::from_millis(1), 0)
            .expect("claim"),
        "released"
    );
    // A 1 ms claim is gone by the time we ask again (Redis expires on its own clock).
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        d.claim("fp", Duration::from_secs(60), 0).expect("claim"),
        "expired"
    );
    d.release("fp").expect("cleanup");
    assert!(!d.health().degraded);
}
