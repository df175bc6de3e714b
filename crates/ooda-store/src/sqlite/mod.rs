//! The embedded store: one SQLite file in the data directory, WAL mode, versioned migrations.
//!
//! Durability: WAL with `synchronous = NORMAL` survives a process crash (kill -9) at any point —
//! a committed transaction is in the WAL before the call returns. It may lose the last
//! transactions on power loss; the audit chain, which must not, fsyncs its own file.

mod migrations;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ooda_core::{Event, EventId, Sample};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{Result, SeriesSummary, Store, StoreError, StoredEvent};

/// SQLite implementation of [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::configure(conn)
    }

    /// An in-memory store, for tests and the lab.
    pub fn in_memory() -> Result<Self> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(mut conn: Connection) -> Result<Self> {
        // Other ooda commands share the file with a running agent: wait for a writer rather than
        // fail at once.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::apply(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    /// SQLite's `quick_check`: `ok`, or the first problems it found.
    pub fn quick_check(&self) -> Result<String> {
        self.with(|c| Ok(c.query_row("PRAGMA quick_check", [], |r| r.get(0))?))
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64> {
        self.with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
    }
}

impl Store for SqliteStore {
    fn append_event(&self, event: &Event) -> Result<u64> {
        let body = serde_json::to_string(event).map_err(|e| StoreError::Corrupt {
            seq: 0,
            reason: format!("event {} does not encode: {e}", event.id),
        })?;
        let id = event.id.to_string();
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT OR IGNORE INTO events (id, time_ms, name, body) VALUES (?1, ?2, ?3, ?4)",
                params![id, event.time.timestamp_millis(), event.name(), body],
            )?;
            let seq: i64 =
                tx.query_row("SELECT seq FROM events WHERE id = ?1", [&id], |r| r.get(0))?;
            tx.commit()?;
            Ok(seq as u64)
        })
    }

    fn events_since(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_seq as i64, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            decode_rows(rows)
        })
    }

    fn events_named(&self, prefix: &str, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        // A range on the indexed name column: [prefix, prefix with its last char bumped).
        let mut upper: Vec<char> = prefix.chars().collect();
        let bumped = upper.last().and_then(|c| char::from_u32(*c as u32 + 1));
        let upper = match bumped {
            Some(b) => {
                upper.pop();
                upper.push(b);
                upper.into_iter().collect::<String>()
            }
            None => String::from(char::MAX),
        };
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, body FROM events WHERE name >= ?1 AND name < ?2 AND seq > ?3
                 ORDER BY seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(
                params![prefix, upper, after_seq as i64, limit as i64],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )?;
            decode_rows(rows)
        })
    }

    fn event_count(&self) -> Result<u64> {
        self.with(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    fn record_samples(&self, samples: &[Sample]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO series (key, metric, first_ms, last_ms, last_value, samples)
                     VALUES (?1, ?2, ?3, ?3, ?4, 1)
                     ON CONFLICT(key) DO UPDATE SET
                       last_ms = MAX(last_ms, excluded.last_ms),
                       last_value = CASE WHEN excluded.last_ms >= last_ms
                                         THEN excluded.last_value ELSE last_value END,
                       samples = samples + 1",
                )?;
                for sample in samples {
                    let value = sample.value.is_finite().then_some(sample.value);
                    stmt.execute(params![
                        sample.series.to_string(),
                        sample.series.metric,
                        sample.time_ms,
                        value
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn series_summary(&self) -> Result<SeriesSummary> {
        self.with(|c| {
            let (count, last): (i64, Option<i64>) =
                c.query_row("SELECT COUNT(*), MAX(last_ms) FROM series", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            Ok(SeriesSummary {
                series: count as u64,
                last_sample_ms: last,
            })
        })
    }

    fn kv_get(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn kv_put(&self, key: &str, value: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO kv (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    fn increment_bounded(&self, key: &str, limit: u64) -> Result<Option<u64>> {
        self.with(|c| {
            // IMMEDIATE takes the write lock before reading, so two processes cannot both read 7
            // and both write 8.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current: i64 = tx
                .query_row("SELECT value FROM counters WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            if current as u64 >= limit {
                return Ok(None);
            }
            let next = current + 1;
            tx.execute(
                "INSERT INTO counters (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, next],
            )?;
            tx.commit()?;
            Ok(Some(next as u64))
        })
    }

    fn counter(&self, key: &str) -> Result<u64> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM counters WHERE key = ?1", [key], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .unwrap_or(0) as u64,
            )
        })
    }

    fn mark_processed(&self, consumer: &str, event: EventId) -> Result<bool> {
        self.with(|c| {
            let inserted = c.execute(
                "INSERT OR IGNORE INTO processed (consumer, event_id) VALUES (?1, ?2)",
                params![consumer, event.to_string()],
            )?;
            Ok(inserted == 1)
        })
    }
}

fn decode_rows(
    rows: impl Iterator<Item = rusqlite::Result<(i64, String)>>,
) -> Result<Vec<StoredEvent>> {
    let mut out = Vec::new();
    for row in rows {
        let (seq, body) = row?;
        let event = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
            seq: seq as u64,
            reason: e.to_string(),
        })?;
        out.push(StoredEvent {
            seq: seq as u64,
            event,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
