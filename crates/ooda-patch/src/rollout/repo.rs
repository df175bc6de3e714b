//! Rollouts in the store: one key per rollout (the whole state, written atomically), one per
//! rollout for the humans' control requests, and an index of rollout ids.

use std::sync::Arc;

use ooda_store::Store;

use super::state::{Control, Rollout};
use super::RolloutError;

const INDEX_KEY: &str = "patch/rollouts";

fn rollout_key(id: &str) -> String {
    format!("patch/rollout/{id}")
}

fn control_key(id: &str) -> String {
    format!("patch/rollout/{id}/control")
}

/// Reads and writes rollouts. Cheap to clone.
#[derive(Clone)]
pub struct RolloutStore {
    store: Arc<dyn Store>,
}

impl RolloutStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, RolloutError> {
        let Some(text) = self.store.kv_get(key)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RolloutError::Corrupt {
                key: key.to_owned(),
                reason: e.to_string(),
            })
    }

    fn put_json<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), RolloutError> {
        let text = serde_json::to_string(value).map_err(|e| RolloutError::Corrupt {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        self.store.kv_put(key, &text)?;
        Ok(())
    }

    /// Every rollout id, oldest first.
    pub fn ids(&self) -> Result<Vec<String>, RolloutError> {
        Ok(self.get_json(INDEX_KEY)?.unwrap_or_default())
    }

    pub fn load(&self, id: &str) -> Result<Option<Rollout>, RolloutError> {
        self.get_json(&rollout_key(id))
    }

    pub fn get(&self, id: &str) -> Result<Rollout, RolloutError> {
        self.load(id)?
            .ok_or_else(|| RolloutError::NotFound { id: id.to_owned() })
    }

    /// Writes a new rollout; refuses an id that exists.
    pub fn create(&self, rollout: &Rollout) -> Result<(), RolloutError> {
        let id = rollout.id().to_owned();
        if self.load(&id)?.is_some() {
            return Err(RolloutError::Exists { id });
        }
        self.put_json(&rollout_key(&id), rollout)?;
        let mut ids = self.ids()?;
        if !ids.contains(&id) {
            ids.push(id);
            self.put_json(INDEX_KEY, &ids)?;
        }
        Ok(())
    }

    /// Writes the rollout's new state (one atomic store write) and bumps its revision.
    pub fn save(&self, rollout: &mut Rollout) -> Result<(), RolloutError> {
        rollout.revision += 1;
        self.put_json(&rollout_key(rollout.id()), rollout)
    }

    pub fn control(&self, id: &str) -> Result<Control, RolloutError> {
        Ok(self.get_json(&control_key(id))?.unwrap_or_default())
    }

    /// Changes the control requests of an existing rollout.
    pub fn update_control(
        &self,
        id: &str,
        change: impl FnOnce(&mut Control),
    ) -> Result<Control, RolloutError> {
        self.get(id)?;
        let mut control = self.control(id)?;
        change(&mut control);
        self.put_json(&control_key(id), &control)?;
        Ok(control)
    }
}
