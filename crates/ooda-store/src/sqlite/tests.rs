use super::*;
use ooda_core::clock::from_millis;
use ooda_core::{EventKind, Labels, SeriesKey};

fn started(ms: i64) -> Event {
    Event::new(
        from_millis(ms),
        "test",
        EventKind::AgentStarted {
            version: "0".into(),
            pid: 1,
            recovered: false,
        },
    )
}

#[test]
fn events_append_idempotently_and_read_back_in_order() {
    let store = SqliteStore::in_memory().unwrap();
    let a = started(1);
    let b = started(2);
    let seq_a = store.append_event(&a).unwrap();
    let seq_b = store.append_event(&b).unwrap();
    assert_eq!(
        store.append_event(&a).unwrap(),
        seq_a,
        "same id, same place"
    );
    assert_eq!(store.event_count().unwrap(), 2);
    let all = store.events_since(0, 10).unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![seq_a, seq_b]
    );
    assert_eq!(all[1].event, b);
    assert_eq!(store.events_since(seq_a, 10).unwrap().len(), 1);
}

#[test]
fn series_keep_their_latest_value() {
    let store = SqliteStore::in_memory().unwrap();
    let key = SeriesKey::new("load", Labels::new().with("host", "h"));
    let s = |t, v| Sample {
        series: key.clone(),
        time_ms: t,
        value: v,
    };
    store
        .record_samples(&[s(10, 1.0), s(30, 3.0), s(20, 2.0)])
        .unwrap();
    store.record_samples(&[s(40, f64::NAN)]).unwrap();
    let summary = store.series_summary().unwrap();
    assert_eq!(summary.series, 1);
    assert_eq!(summary.last_sample_ms, Some(40));
}

#[test]
fn bounded_counter_stops_at_the_limit() {
    let store = SqliteStore::in_memory().unwrap();
    for expected in 1..=8 {
        assert_eq!(
            store.increment_bounded("budget/x", 8).unwrap(),
            Some(expected)
        );
    }
    assert_eq!(store.increment_bounded("budget/x", 8).unwrap(), None);
    assert_eq!(store.counter("budget/x").unwrap(), 8);
    assert_eq!(store.counter("budget/other").unwrap(), 0);
}

#[test]
fn bounded_counter_is_atomic_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    SqliteStore::open(&path).unwrap();
    let granted: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                scope.spawn(move || {
                    let store = SqliteStore::open(&path).unwrap();
                    (0..10)
                        .filter(|_| store.increment_bounded("k", 8).unwrap().is_some())
                        .count() as u64
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(granted, 8, "exactly eight grants across four connections");
}

#[test]
fn processed_marks_are_idempotent() {
    let store = SqliteStore::in_memory().unwrap();
    let id = EventId::new();
    assert!(store.mark_processed("c", id).unwrap());
    assert!(!store.mark_processed("c", id).unwrap());
    assert!(store.mark_processed("other", id).unwrap());
}

#[test]
fn kv_round_trip_and_reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.kv_put("k", "v1").unwrap();
        store.kv_put("k", "v2").unwrap();
        store.append_event(&started(5)).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.kv_get("k").unwrap().as_deref(), Some("v2"));
    assert_eq!(store.kv_get("missing").unwrap(), None);
    assert_eq!(store.event_count().unwrap(), 1);
    assert_eq!(store.schema_version().unwrap(), migrations::SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer than this ooda"), "{err}");
}

#[test]
fn events_can_be_read_by_type_prefix() {
    let store = SqliteStore::in_memory().unwrap();
    store.append_event(&started(1)).unwrap();
    let stopped = Event::new(
        from_millis(2),
        "test",
        EventKind::AgentStopped { reason: "x".into() },
    );
    store.append_event(&stopped).unwrap();
    let agent = store.events_named("agent.", 0, 10).unwrap();
    assert_eq!(agent.len(), 2);
    let only_stopped = store.events_named("agent.stop", 0, 10).unwrap();
    assert_eq!(only_stopped.len(), 1);
    assert_eq!(only_stopped[0].event, stopped);
    assert!(store.events_named("alert.", 0, 10).unwrap().is_empty());
}
