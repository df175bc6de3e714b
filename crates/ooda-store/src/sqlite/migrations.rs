//! Versioned schema migrations. Each entry runs once, in order, in its own transaction; the
//! database's `user_version` records the last applied. Never edit a released migration: append.

use rusqlite::Connection;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: event log, series index, key/value, counters, consumer bookkeeping.
    "CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        id      TEXT NOT NULL UNIQUE,
        time_ms INTEGER NOT NULL,
        name    TEXT NOT NULL,
        body    TEXT NOT NULL
     );
     CREATE INDEX events_name ON events (name, seq);
     CREATE TABLE series (
        key        TEXT PRIMARY KEY,
        metric     TEXT NOT NULL,
        first_ms   INTEGER NOT NULL,
        last_ms    INTEGER NOT NULL,
        last_value REAL,
        samples    INTEGER NOT NULL
     );
     CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
     CREATE TABLE processed (
        consumer TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (consumer, event_id)
     );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn apply(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the write lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "store migrated");
    }
    Ok(())
}
