//! The fleet as the CLI and the agent see it without the incident pillar: hosts from the CMDB,
//! windows from the windows file, and health from the alerts in the store's event log (an alert
//! opened on a host since the change is a failed health gate; an alert still open counts as an
//! active incident). Reads the event log on each question: fine for a rollout's few questions a
//! minute, not for a hot loop.

use std::collections::BTreeMap;
use std::sync::Arc;

use ooda_core::{EventKind, Host, Timestamp};
use ooda_store::Store;

use super::ports::{Fleet, Health};
use crate::windows::Windows;

pub struct InventoryFleet {
    hosts: BTreeMap<String, Host>,
    windows: Windows,
    store: Option<Arc<dyn Store>>,
}

impl InventoryFleet {
    pub fn new(hosts: Vec<Host>, windows: Windows, store: Option<Arc<dyn Store>>) -> Self {
        Self {
            hosts: hosts.into_iter().map(|h| (h.name.clone(), h)).collect(),
            windows,
            store,
        }
    }

    pub fn windows(&self) -> &Windows {
        &self.windows
    }

    /// Alerts on `host`: `(opened_at, summary, still open)`, oldest first.
    fn alerts(&self, host: &str) -> Result<Vec<(Timestamp, String, bool)>, String> {
        let Some(store) = &self.store else {
            return Ok(Vec::new());
        };
        let mut alerts: BTreeMap<String, (Timestamp, String, bool)> = BTreeMap::new();
        let mut after = 0;
        loop {
            let batch = store
                .events_named("alert.", after, 1000)
                .map_err(|e| format!("reading alerts: {e}"))?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for stored in batch {
                match &stored.event.kind {
                    EventKind::AlertOpened(alert) | EventKind::AlertUpdated(alert)
                        if alert.host.as_deref() == Some(host) =>
                    {
                        alerts.entry(alert.id.to_string()).or_insert((
                            alert.opened_at,
                            alert.summary.clone(),
                            true,
                        ));
                    }
                    EventKind::AlertResolved(alert) if alert.host.as_deref() == Some(host) => {
                        if let Some(entry) = alerts.get_mut(&alert.id.to_string()) {
                            entry.2 = false;
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut list: Vec<_> = alerts.into_values().collect();
        list.sort_by_key(|a| a.0);
        Ok(list)
    }
}

impl Fleet for InventoryFleet {
    fn host(&self, name: &str) -> Result<Option<Host>, String> {
        Ok(self.hosts.get(name).cloned())
    }

    fn window_open(&self, host: &Host, at: Timestamp) -> Result<bool, String> {
        self.windows.is_open(host, at).map_err(|e| e.to_string())
    }

    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        Ok(self.alerts(host)?.iter().filter(|a| a.2).count() as u32)
    }

    fn health(&self, host: &str, since: Timestamp, now: Timestamp) -> Result<Health, String> {
        let problems = self
            .alerts(host)?
            .into_iter()
            .filter(|(at, _, _)| *at >= since && *at <= now)
            .map(|(at, summary, _)| format!("alert at {}: {summary}", at.to_rfc3339()))
            .collect();
        Ok(Health {
            problems,
            reboot_required: false,
        })
    }
}
