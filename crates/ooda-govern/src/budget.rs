//! The per-incident action budget: at most N autonomous actions per incident, counted in the
//! store with an atomic bounded increment so two processes can never both take the last one.
//!
//! A slot is taken before the action runs and never given back: a failed action still spent it,
//! which is the conservative reading of "at most N".

use std::sync::Arc;

use ooda_core::IncidentId;
use ooda_store::Store;

use crate::Result;

#[derive(Clone)]
pub struct Budget {
    store: Arc<dyn Store>,
    per_incident: u64,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("per_incident", &self.per_incident)
            .finish()
    }
}

fn key(incident: IncidentId) -> String {
    format!("govern/budget/{incident}")
}

impl Budget {
    pub fn new(store: Arc<dyn Store>, per_incident: u64) -> Self {
        Self {
            store,
            per_incident,
        }
    }

    pub fn limit(&self) -> u64 {
        self.per_incident
    }

    /// Takes one slot. `Some(n)` is the n-th action of the incident; `None` means spent.
    pub fn take(&self, incident: IncidentId) -> Result<Option<u64>> {
        Ok(self
            .store
            .increment_bounded(&key(incident), self.per_incident)?)
    }

    /// Slots used so far.
    pub fn used(&self, incident: IncidentId) -> Result<u64> {
        Ok(self.store.counter(&key(incident))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_store::SqliteStore;

    #[test]
    fn the_ninth_action_is_refused() {
        let budget = Budget::new(Arc::new(SqliteStore::in_memory().unwrap()), 8);
        let incident = IncidentId::from_u128(1);
        for n in 1..=8 {
            assert_eq!(budget.take(incident).unwrap(), Some(n));
        }
        assert_eq!(budget.take(incident).unwrap(), None);
        assert_eq!(budget.used(incident).unwrap(), 8);
        assert_eq!(budget.take(IncidentId::from_u128(2)).unwrap(), Some(1));
    }

    #[test]
    fn two_stores_on_one_file_never_both_take_the_last_slot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let a = Budget::new(Arc::new(SqliteStore::open(&path).unwrap()), 8);
        let b = Budget::new(Arc::new(SqliteStore::open(&path).unwrap()), 8);
        let incident = IncidentId::from_u128(3);
        let taken = std::thread::scope(|s| {
            let ha = s.spawn(|| {
                (0..8)
                    .filter(|_| a.take(incident).unwrap().is_some())
                    .count()
            });
            let hb = s.spawn(|| {
                (0..8)
                    .filter(|_| b.take(incident).unwrap().is_some())
                    .count()
            });
            ha.join().unwrap() + hb.join().unwrap()
        });
        assert_eq!(taken, 8);
    }
}
