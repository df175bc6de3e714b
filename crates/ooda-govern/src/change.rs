//! The embedded change-record system: the default when no ITSM is configured. Records live in
//! the store (key/value plus an atomic counter for numbers), so every autonomous action has a
//! change record even on a laptop.

use std::sync::Arc;

use ooda_core::{
    ChangeDraft, ChangeError, ChangeRecords, ChangeRef, ChangeStatus, SharedClock, Timestamp,
};
use ooda_store::Store;
use serde::{Deserialize, Serialize};

const SEQ_KEY: &str = "govern/change/seq";

/// A change record as the embedded system keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddedChange {
    pub number: String,
    pub draft: ChangeDraft,
    pub status: ChangeStatus,
    pub notes: Vec<(Timestamp, String)>,
}

pub struct EmbeddedChangeRecords {
    store: Arc<dyn Store>,
    clock: SharedClock,
}

impl EmbeddedChangeRecords {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    fn key(number: &str) -> String {
        format!("govern/change/{number}")
    }

    pub fn get(&self, number: &str) -> Result<Option<EmbeddedChange>, ChangeError> {
        let Some(text) = self
            .store
            .kv_get(&Self::key(number))
            .map_err(|e| ChangeError::Unreachable(e.to_string()))?
        else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ChangeError::Malformed(e.to_string()))
    }

    fn put(&self, change: &EmbeddedChange) -> Result<(), ChangeError> {
        let text =
            serde_json::to_string(change).map_err(|e| ChangeError::Malformed(e.to_string()))?;
        self.store
            .kv_put(&Self::key(&change.number), &text)
            .map_err(|e| ChangeError::Unreachable(e.to_string()))
    }
}

impl ChangeRecords for EmbeddedChangeRecords {
    fn open(&self, draft: &ChangeDraft) -> Result<ChangeRef, ChangeError> {
        let n = self
            .store
            .increment_bounded(SEQ_KEY, u64::MAX)
            .map_err(|e| ChangeError::Unreachable(e.to_string()))?
            .ok_or_else(|| ChangeError::Malformed("change numbers exhausted".into()))?;
        let number = format!("OODA-CHG-{n:06}");
        self.put(&EmbeddedChange {
            number: number.clone(),
            draft: draft.clone(),
            status: ChangeStatus::Implementing,
            notes: vec![(self.clock.now(), "opened".into())],
        })?;
        Ok(ChangeRef {
            system: "embedded".into(),
            id: number.clone(),
            number,
        })
    }

    fn update(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), ChangeError> {
        // Only the gate updates a record, once per action, so read-modify-write cannot race here.
        let mut record = self
            .get(&change.number)?
            .ok_or_else(|| ChangeError::Rejected {
                status: 404,
                body: format!("no change {}", change.number),
            })?;
        record.status = status;
        record.notes.push((self.clock.now(), note.to_owned()));
        self.put(&record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::{ActionId, ManualClock, RiskClass};
    use ooda_store::SqliteStore;

    #[test]
    fn open_then_update() {
        let changes = EmbeddedChangeRecords::new(
            Arc::new(SqliteStore::in_memory().unwrap()),
            Arc::new(ManualClock::at_ms(0)),
        );
        let draft = ChangeDraft {
            action: ActionId::from_u128(1),
            summary: "restart nginx".into(),
            description: "d".into(),
            host: "web-1".into(),
            risk: RiskClass::Medium,
            fields: Default::default(),
        };
        let change = changes.open(&draft).unwrap();
        assert_eq!(change.number, "OODA-CHG-000001");
        changes
            .update(&change, ChangeStatus::Succeeded, "done")
            .unwrap();
        let stored = changes.get(&change.number).unwrap().unwrap();
        assert_eq!(stored.status, ChangeStatus::Succeeded);
        assert_eq!(stored.notes.len(), 2);
        assert_eq!(changes.open(&draft).unwrap().number, "OODA-CHG-000002");
    }
}
