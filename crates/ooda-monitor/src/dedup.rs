//! The dedup port: "has anyone already raised this fingerprint recently?". Shaped after Redis
//! `SET key 1 NX PX ttl` so the Redis adapter (live-monitoring issue) is one command per call and
//! two workers sharing a store never page twice. The in-memory implementation here serves a
//! single process, the lab and `ooda detect`.
//!
//! Time is passed in (`now_ms`), never read: the in-memory store expires keys on the caller's
//! clock, so replays and backtests behave as they did live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::MonitorError;

/// A store of short-lived claims.
pub trait Dedup: Send + Sync {
    /// Claims `key` for `ttl` if nobody holds it: true when this call set it (first to raise),
    /// false when it was already held and not yet expired. Same semantics as
    /// `SET key value NX PX ttl_ms`.
    fn claim(&self, key: &str, ttl: Duration, now_ms: i64) -> Result<bool, MonitorError>;

    /// Drops a claim (an alert resolved and may be raised again at once). `DEL key`.
    fn release(&self, key: &str) -> Result<(), MonitorError>;
}

/// Claims held in this process.
#[derive(Debug, Default)]
pub struct MemoryDedup {
    expiries: Mutex<HashMap<String, i64>>,
}

impl MemoryDedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Claims still held at `now_ms`.
    pub fn live(&self, now_ms: i64) -> usize {
        self.expiries
            .lock()
            .map(|m| m.values().filter(|&&e| e > now_ms).count())
            .unwrap_or(0)
    }
}

impl Dedup for MemoryDedup {
    fn claim(&self, key: &str, ttl: Duration, now_ms: i64) -> Result<bool, MonitorError> {
        let mut map = self
            .expiries
            .lock()
            .map_err(|_| MonitorError::Dedup("in-memory dedup lock poisoned".into()))?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        if map.get(key).is_some_and(|&expiry| expiry > now_ms) {
            return Ok(false);
        }
        // Expired claims are swept now and then so the map does not grow without bound.
        if map.len() > 4096 {
            map.retain(|_, &mut expiry| expiry > now_ms);
        }
        map.insert(key.to_string(), now_ms.saturating_add(ttl_ms));
        Ok(true)
    }

    fn release(&self, key: &str) -> Result<(), MonitorError> {
        let mut map = self
            .expiries
            .lock()
            .map_err(|_| MonitorError::Dedup("in-memory dedup lock poisoned".into()))?;
        map.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_nx_px_semantics() {
        let d = MemoryDedup::new();
        let ttl = Duration::from_secs(60);
        assert!(d.claim("a", ttl, 0).expect("claim"));
        assert!(!d.claim("a", ttl, 59_999).expect("claim"), "still held");
        assert!(
            d.claim("b", ttl, 1).expect("claim"),
            "other keys are independent"
        );
        assert!(d.claim("a", ttl, 60_000).expect("claim"), "expired");
        d.release("a").expect("release");
        assert!(d.claim("a", ttl, 60_001).expect("claim"), "released");
        assert_eq!(d.live(60_000), 2);
    }

    #[test]
    fn usable_as_a_trait_object() {
        let d: Box<dyn Dedup> = Box::new(MemoryDedup::new());
        assert!(d.claim("k", Duration::from_millis(1), 0).expect("claim"));
    }
}
