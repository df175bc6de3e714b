//! The `Dedup` port on Redis. One `SET prefix+fingerprint 1 NX PX ttl` per claim: the first
//! worker to claim a fingerprint announces the alert, every other worker within the TTL (the
//! repeat interval) stays quiet.
//!
//! When Redis cannot be reached, claims fall back to an in-process store and the outage is
//! reported ([`RedisDedup::take_change`], [`RedisDedup::health`]), never swallowed: the caller
//! raises a self-alert and counts it. A fallback claim can page twice across workers; it never
//! drops an alert.

use std::sync::Mutex;
use std::time::Duration;

use ooda_monitor::{Dedup, MemoryDedup, MonitorError};

use super::client::{Connection, Reply, RespError};
use super::config::RedisDedupConfig;

/// Where claims are going, as the self-observability metrics and self-alerts need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DedupHealth {
    /// True while claims are answered by the local fallback.
    pub degraded: bool,
    /// Claims answered by Redis.
    pub redis_claims: u64,
    /// Claims answered locally because Redis was unreachable.
    pub fallback_claims: u64,
    /// Times Redis went from reachable to unreachable.
    pub outages: u64,
    pub last_error: Option<String>,
}

/// A change the caller turns into a self-alert (opened or resolved) and a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupChange {
    /// Redis became unreachable; dedup is local to this process until it returns.
    WentLocal { error: String },
    /// Redis answers again.
    Recovered,
}

#[derive(Debug, Default)]
struct State {
    connection: Option<Connection>,
    /// While degraded: do not try Redis again before this time (caller's clock, ms).
    retry_at_ms: i64,
    health: DedupHealth,
    change: Option<DedupChange>,
}

#[derive(Debug)]
pub struct RedisDedup {
    config: RedisDedupConfig,
    fallback: MemoryDedup,
    state: Mutex<State>,
}

fn lock_error() -> MonitorError {
    MonitorError::Dedup("redis dedup state lock poisoned".into())
}

impl RedisDedup {
    /// Does not connect: the first claim does, so start-up never waits on Redis.
    pub fn new(config: RedisDedupConfig) -> Self {
        Self {
            config,
            fallback: MemoryDedup::new(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn health(&self) -> DedupHealth {
        self.state
            .lock()
            .map(|s| s.health.clone())
            .unwrap_or_default()
    }

    /// The last state change not yet taken (went local / recovered).
    pub fn take_change(&self) -> Option<DedupChange> {
        self.state.lock().ok().and_then(|mut s| s.change.take())
    }

    /// Connects and checks Redis now (for `ooda doctor` and start-up logs).
    pub fn ping(&self) -> Result<(), MonitorError> {
        let mut conn = self
            .open()
            .map_err(|e| MonitorError::Dedup(e.to_string()))?;
        match conn.command(&[b"PING"]) {
            Ok(Reply::Simple(pong)) if pong == "PONG" => Ok(()),
            Ok(other) => Err(MonitorError::Dedup(format!(
                "expected PONG, found {other:?}"
            ))),
            Err(e) => Err(MonitorError::Dedup(e.to_string())),
        }
    }

    fn open(&self) -> Result<Connection, RespError> {
        let mut conn = Connection::connect(&self.config.address, self.config.timeout.get())?;
        if let Some(password) = &self.config.password {
            let password = password
                .reveal()
                .map_err(|e| RespError::Protocol(format!("redis password: {e}")))?;
            match &self.config.username {
                Some(user) => conn.command(&[b"AUTH", user.as_bytes(), password.as_bytes()])?,
                None => conn.command(&[b"AUTH", password.as_bytes()])?,
            };
        }
        if self.config.db != 0 {
            conn.command(&[b"SELECT", self.config.db.to_string().as_bytes()])?;
        }
        Ok(conn)
    }

    /// Runs one command on Redis if it is usable now; `None` means "use the fallback".
    fn with_redis(&self, state: &mut State, now_ms: i64, args: &[&[u8]]) -> Option<Reply> {
        if state.health.degraded && now_ms < state.retry_at_ms {
            return None;
        }
        let result = match state.connection.as_mut() {
            Some(conn) => conn.command(args),
            None => Err(RespError::Protocol("not connected".into())),
        };
        // A kept connection may have gone stale (Redis restarted): reconnect once.
        let result = match result {
            Ok(reply) => Ok(reply),
            Err(RespError::Server(e)) => Err(RespError::Server(e)),
            Err(_) => self.open().and_then(|mut conn| {
                let reply = conn.command(args);
                state.connection = Some(conn);
                reply
            }),
        };
        match result {
            Ok(reply) => {
                if state.health.degraded {
                    state.health.degraded = false;
                    state.change = Some(DedupChange::Recovered);
                    tracing::info!(address = %self.config.address, "redis dedup recovered");
                }
                Some(reply)
            }
            Err(error) => {
                let text = error.to_string();
                state.connection = None;
                state.retry_at_ms = now_ms.saturating_add(
                    i64::try_from(self.config.retry_after.get().as_millis()).unwrap_or(i64::MAX),
                );
                if !state.health.degraded {
                    state.health.degraded = true;
                    state.health.outages += 1;
                    state.change = Some(DedupChange::WentLocal {
                        error: text.clone(),
                    });
                    tracing::warn!(address = %self.config.address, error = %text, "redis dedup unreachable; deduplicating locally");
                }
                state.health.last_error = Some(text);
                None
            }
        }
    }
}

impl Dedup for RedisDedup {
    fn claim(&self, key: &str, ttl: Duration, now_ms: i64) -> Result<bool, MonitorError> {
        let ttl_ms = ttl.as_millis().max(1).to_string();
        let full = format!("{}{key}", self.config.key_prefix);
        let mut state = self.state.lock().map_err(|_| lock_error())?;
        let reply = self.with_redis(
            &mut state,
            now_ms,
            &[
                b"SET",
                full.as_bytes(),
                b"1",
                b"NX",
                b"PX",
                ttl_ms.as_bytes(),
            ],
        );
        match reply {
            Some(reply) => {
                state.health.redis_claims += 1;
                drop(state);
                // Mirror every answer locally: if Redis goes away within the TTL, the fallback
                // already knows this fingerprint was announced (here or elsewhere).
                let _ = self.fallback.claim(key, ttl, now_ms);
                match reply {
                    Reply::Simple(ok) if ok == "OK" => Ok(true),
                    Reply::Bulk(None) => Ok(false),
                    other => Err(MonitorError::Dedup(format!(
                        "expected OK or nil from SET NX PX, found {other:?}"
                    ))),
                }
            }
            None => {
                state.health.fallback_claims += 1;
                drop(state);
                self.fallback.claim(key, ttl, now_ms)
            }
        }
    }

    fn release(&self, key: &str) -> Result<(), MonitorError> {
        let full = format!("{}{key}", self.config.key_prefix);
        self.fallback.release(key)?;
        let mut state = self.state.lock().map_err(|_| lock_error())?;
        // Release has no clock; a degraded store retries on the next claim instead.
        if state.health.degraded {
            return Ok(());
        }
        let _ = self.with_redis(&mut state, i64::MIN, &[b"DEL", full.as_bytes()]);
        Ok(())
    }
}
