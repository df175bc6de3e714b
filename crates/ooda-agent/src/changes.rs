//! The change-record system the Gate opens and closes a record in for every action it lets
//! through (`[changes]`): the embedded one in ooda's store by default, ServiceNow or Jira when
//! configured.

use std::sync::Arc;

use anyhow::Context;
use ooda_config::ChangesConfig;
use ooda_core::{ChangeDraft, ChangeError, ChangeRecords, ChangeRef, ChangeStatus, SharedClock};
use ooda_store::Store;

/// The configured system, ready for `GateParts::changes`.
pub fn change_records(
    config: &ChangesConfig,
    store: Arc<dyn Store>,
    clock: SharedClock,
) -> anyhow::Result<Arc<dyn ChangeRecords>> {
    Ok(match config {
        ChangesConfig::Embedded => Arc::new(ooda_govern::EmbeddedChangeRecords::new(store, clock)),
        ChangesConfig::ServiceNow(c) => Arc::new(OwnThread(Some(Arc::new(
            ooda_connect::servicenow::ServiceNowChanges::new(c.clone())
                .context("changes: servicenow")?,
        )))),
        ChangesConfig::Jira(c) => Arc::new(OwnThread(Some(Arc::new(
            ooda_connect::jira::JiraChanges::new(c.clone()).context("changes: jira")?,
        )))),
    })
}

/// The ITSM clients drive their HTTP calls on a runtime of their own (`block_on`), which tokio
/// forbids on a thread that already runs async work, and the Gate is called from async workers.
/// Each call therefore runs on a short-lived thread of its own: actions are rare, and the Gate
/// waits for the answer either way (no record, no action). The client (with its runtime) is
/// dropped on a thread of its own too: the agent drops its stage inside an async task, where
/// tokio forbids dropping a runtime. `None` only while dropping.
struct OwnThread(Option<Arc<dyn ChangeRecords>>);

impl Drop for OwnThread {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            let _ = std::thread::spawn(move || drop(inner)).join();
        }
    }
}

impl OwnThread {
    fn run<T: Send>(
        &self,
        call: impl FnOnce(&dyn ChangeRecords) -> Result<T, ChangeError> + Send,
    ) -> Result<T, ChangeError> {
        let inner = self
            .0
            .clone()
            .ok_or_else(|| ChangeError::Unreachable("the change-record client is gone".into()))?;
        std::thread::scope(|scope| {
            scope
                .spawn(move || call(inner.as_ref()))
                .join()
                .unwrap_or_else(|_| {
                    Err(ChangeError::Unreachable(
                        "the change-record call panicked".into(),
                    ))
                })
        })
    }
}

impl ChangeRecords for OwnThread {
    fn open(&self, draft: &ChangeDraft) -> Result<ChangeRef, ChangeError> {
        self.run(|records| records.open(draft))
    }

    fn update(
        &self,
        change: &ChangeRef,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), ChangeError> {
        self.run(|records| records.update(change, status, note))
    }
}
