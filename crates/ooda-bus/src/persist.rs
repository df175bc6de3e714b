//! The consumer that appends durable events to the store's event log.
//!
//! It is an ordinary consumer group (`store`), so it inherits at-least-once delivery; the store's
//! append is idempotent on the event id, which makes redelivery harmless.

use std::sync::Arc;

use ooda_store::Store;

use crate::{Bus, BusError, Subscription};

/// The consumer group name of the persister.
pub const GROUP: &str = "store";

/// Joins the persister's group. Do this before publishing anything that must be kept: a new
/// group starts at the end of the stream.
pub async fn subscribe(bus: &dyn Bus) -> Result<Box<dyn Subscription>, BusError> {
    bus.subscribe(GROUP, "persister").await
}

/// Runs until the bus closes. Store errors are logged and the delivery left unacknowledged, so
/// it is retried after the visibility timeout instead of being lost.
pub async fn run(
    mut subscription: Box<dyn Subscription>,
    store: Arc<dyn Store>,
) -> Result<(), BusError> {
    while let Some(delivery) = subscription.next().await {
        if !delivery.event.kind.is_durable() {
            subscription.ack(&delivery).await?;
            continue;
        }
        let store = store.clone();
        let event = delivery.event.clone();
        let appended = tokio::task::spawn_blocking(move || store.append_event(&event)).await;
        match appended {
            Ok(Ok(_seq)) => subscription.ack(&delivery).await?,
            Ok(Err(error)) => {
                tracing::error!(event = %delivery.event.id, %error, "event not persisted; will retry")
            }
            Err(error) => {
                tracing::error!(event = %delivery.event.id, %error, "persist task failed; will retry")
            }
        }
    }
    Ok(())
}
