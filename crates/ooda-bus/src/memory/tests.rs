use super::*;
use ooda_core::clock::from_millis;
use ooda_core::{EventKind, ManualClock};

fn event(n: u32) -> Event {
    Event::new(
        from_millis(0),
        "test",
        EventKind::AgentStarted {
            version: n.to_string(),
            pid: n,
            recovered: false,
        },
    )
}

fn version(d: &Delivery) -> String {
    match &d.event.kind {
        EventKind::AgentStarted { version, .. } => version.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

fn bus() -> (MemoryBus, ManualClock) {
    let clock = ManualClock::at_ms(0);
    (MemoryBus::new(Arc::new(clock.clone())), clock)
}

#[test]
fn every_group_sees_every_event_and_consumers_in_a_group_share() {
    let (bus, _) = bus();
    let mut a1 = bus.subscribe_now("a", "1").unwrap();
    let mut a2 = bus.subscribe_now("a", "2").unwrap();
    let mut b = bus.subscribe_now("b", "1").unwrap();
    for n in 0..4 {
        bus.publish_now(event(n)).unwrap();
    }
    let mut got_a = Vec::new();
    while let Some(d) = a1.try_next().or_else(|| a2.try_next()) {
        got_a.push(version(&d));
        a1.ack_now(&d);
    }
    let mut got_b = Vec::new();
    while let Some(d) = b.try_next() {
        got_b.push(version(&d));
        b.ack_now(&d);
    }
    assert_eq!(got_a, ["0", "1", "2", "3"]);
    assert_eq!(got_b, ["0", "1", "2", "3"]);
}

#[test]
fn unacknowledged_deliveries_come_back_after_the_timeout() {
    let (bus, clock) = bus();
    let mut crashed = bus.subscribe_now("g", "crashed").unwrap();
    bus.publish_now(event(1)).unwrap();
    let first = crashed.try_next().unwrap();
    assert_eq!(first.attempt, 1);
    drop(crashed); // never acks
    let mut survivor = bus.subscribe_now("g", "survivor").unwrap();
    assert!(
        survivor.try_next().is_none(),
        "still within the visibility timeout"
    );
    clock.advance(Duration::from_secs(31));
    let again = survivor.try_next().expect("redelivered");
    assert_eq!(again.offset, first.offset);
    assert_eq!(again.attempt, 2);
    survivor.ack_now(&again);
    clock.advance(Duration::from_secs(31));
    assert!(survivor.try_next().is_none(), "acked means gone");
    assert_eq!(bus.pending("g"), 0);
}

#[test]
fn a_new_group_starts_at_the_end() {
    let (bus, _) = bus();
    bus.publish_now(event(1)).unwrap();
    let mut late = bus.subscribe_now("late", "1").unwrap();
    assert!(late.try_next().is_none());
    bus.publish_now(event(2)).unwrap();
    assert_eq!(version(&late.try_next().unwrap()), "2");
}

#[test]
fn capacity_drops_the_oldest_and_counts_them() {
    let clock = ManualClock::at_ms(0);
    let bus = MemoryBus::with_options(
        Arc::new(clock),
        MemoryBusOptions {
            capacity: 3,
            ..Default::default()
        },
    );
    let mut slow = bus.subscribe_now("slow", "1").unwrap();
    for n in 0..5 {
        bus.publish_now(event(n)).unwrap();
    }
    assert_eq!(bus.dropped(), 2);
    assert_eq!(version(&slow.try_next().unwrap()), "2");
}

#[test]
fn bad_group_names_are_refused() {
    let (bus, _) = bus();
    assert!(matches!(
        bus.subscribe_now("a b", "1"),
        Err(BusError::InvalidGroup(_))
    ));
}

#[tokio::test]
async fn next_waits_for_a_publish_and_ends_when_closed() {
    let (bus, _) = bus();
    let mut sub = bus.subscribe_now("g", "1").unwrap();
    let publisher = bus.clone();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        publisher.publish_now(event(9)).unwrap();
        publisher.close();
    });
    let d = sub.next().await.unwrap();
    assert_eq!(version(&d), "9");
    sub.ack(&d).await.unwrap();
    assert!(sub.next().await.is_none());
    handle.await.unwrap();
    assert!(matches!(bus.publish_now(event(1)), Err(BusError::Closed)));
}

#[tokio::test]
async fn the_persister_keeps_durable_events_only() {
    use ooda_store::{SqliteStore, Store};
    let (bus, _) = bus();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let subscription = crate::persist::subscribe(&bus).await.unwrap();
    bus.publish_now(event(1)).unwrap();
    bus.publish_now(Event::new(
        from_millis(0),
        "test",
        EventKind::Samples {
            source: "s".into(),
            samples: Vec::new(),
        },
    ))
    .unwrap();
    bus.publish_now(event(2)).unwrap();
    bus.close();
    crate::persist::run(subscription, store.clone())
        .await
        .unwrap();
    assert_eq!(store.event_count().unwrap(), 2);
    assert_eq!(
        bus.pending(crate::persist::GROUP),
        0,
        "everything acknowledged"
    );
}
