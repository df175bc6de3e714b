//! The simulated fleet as the rollout engine's ports see it: hosts and maintenance windows, open
//! alerts as active incidents and as failed health gates (the same reading as ooda-patch's
//! `InventoryFleet`, but from the lab's monitor instead of the store), and the patch actuator the
//! Gate runs, which patches simulated hosts and sometimes breaks them or fails outright.
//!
//! Nothing here decides: the engine and the Gate do. The actuator only records what it did, so
//! the scorecard can tell a patch that closed a finding from one that was rolled back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use ooda_core::{Action, AlertId, Host, Timestamp};
use ooda_govern::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken};
use ooda_patch::rollout::{Fleet, Health};
use ooda_patch::windows::Windows;

use crate::fleet::host_index;
use crate::rng::Rng;

/// One alert on a host as the health gates read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenAlert {
    pub id: AlertId,
    pub opened_ms: i64,
    pub resolved_ms: Option<i64>,
}

/// The fleet port: hosts, windows and the monitor's alerts.
pub struct LabFleet {
    hosts: BTreeMap<String, Host>,
    windows: Windows,
    alerts: Mutex<Vec<Vec<SeenAlert>>>,
}

impl LabFleet {
    pub fn new(hosts: Vec<Host>, windows: Windows) -> Self {
        let count = hosts.len();
        Self {
            hosts: hosts.into_iter().map(|h| (h.name.clone(), h)).collect(),
            windows,
            alerts: Mutex::new(vec![Vec::new(); count]),
        }
    }

    fn alerts(&self) -> MutexGuard<'_, Vec<Vec<SeenAlert>>> {
        // Plain data: a panic elsewhere already failed the run, the list is still readable.
        self.alerts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Follows the monitor: an alert opened (or updated, the first time it is seen) on `host`.
    pub fn opened(&self, host: usize, id: AlertId, opened_ms: i64) {
        let mut alerts = self.alerts();
        let Some(list) = alerts.get_mut(host) else {
            return;
        };
        if !list.iter().any(|a| a.id == id) {
            list.push(SeenAlert {
                id,
                opened_ms,
                resolved_ms: None,
            });
        }
    }

    pub fn resolved(&self, host: usize, id: AlertId, at_ms: i64) {
        let mut alerts = self.alerts();
        if let Some(alert) = alerts
            .get_mut(host)
            .and_then(|list| list.iter_mut().find(|a| a.id == id))
        {
            alert.resolved_ms.get_or_insert(at_ms);
        }
    }

    fn index(&self, name: &str) -> Result<usize, String> {
        host_index(name, self.hosts.len()).ok_or_else(|| format!("no simulated host {name:?}"))
    }
}

impl Fleet for LabFleet {
    fn host(&self, name: &str) -> Result<Option<Host>, String> {
        Ok(self.hosts.get(name).cloned())
    }

    fn window_open(&self, host: &Host, at: Timestamp) -> Result<bool, String> {
        self.windows.is_open(host, at).map_err(|e| e.to_string())
    }

    /// Alerts still open count as active incidents, as ooda-patch's `InventoryFleet` counts them.
    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        let index = self.index(host)?;
        Ok(self.alerts()[index]
            .iter()
            .filter(|a| a.resolved_ms.is_none())
            .count() as u32)
    }

    /// An alert opened on the host in `[since, now]` fails the health gate.
    fn health(&self, host: &str, since: Timestamp, now: Timestamp) -> Result<Health, String> {
        let index = self.index(host)?;
        let (since, now) = (since.timestamp_millis(), now.timestamp_millis());
        let problems = self.alerts()[index]
            .iter()
            .filter(|a| (since..=now).contains(&a.opened_ms))
            .map(|a| format!("alert {} opened at {} ms", a.id, a.opened_ms))
            .collect();
        Ok(Health {
            problems,
            reboot_required: false,
        })
    }
}

/// What the actuator did to a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The patch went on; `bad` when it broke the host (latency and CPU up until rolled back).
    Applied { bad: bool },
    /// The rollout's rollback ran.
    RolledBack,
    /// The executor failed before changing anything (a flaky AWX job).
    ExecutorFailed,
    /// The simulated on-call human reverted a broken patch by hand.
    RevertedByHuman,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchEvent {
    pub at_ms: i64,
    pub host: usize,
    pub rollout: String,
    pub change: Change,
}

/// What the actuator and the pillar share.
#[derive(Debug)]
pub struct PatchState {
    pub now_ms: i64,
    /// Per host, the rollouts whose bad patch degrades it now.
    pub broken: Vec<BTreeSet<String>>,
    pub events: Vec<PatchEvent>,
    results: BTreeMap<String, Result<String, String>>,
    bad_rate: f64,
    failure_rate: f64,
    rng: Rng,
}

impl PatchState {
    pub fn new(hosts: usize, bad_rate: f64, failure_rate: f64, rng: Rng) -> Self {
        Self {
            now_ms: 0,
            broken: vec![BTreeSet::new(); hosts],
            events: Vec::new(),
            results: BTreeMap::new(),
            bad_rate,
            failure_rate,
            rng,
        }
    }

    /// The human reverts `rollout`'s broken patch on `host`; returns whether there was one.
    pub fn revert_by_hand(&mut self, host: usize, rollout: &str) -> bool {
        let reverted = self.broken.get_mut(host).is_some_and(|b| b.remove(rollout));
        if reverted {
            self.events.push(PatchEvent {
                at_ms: self.now_ms,
                host,
                rollout: rollout.to_owned(),
                change: Change::RevertedByHuman,
            });
        }
        reverted
    }
}

/// The rollout's `patch/<rollout>/<host>/<step>` idempotency key, split.
fn parse_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix("patch/")?;
    let (rollout, rest) = rest.split_once('/')?;
    let (host, step) = rest.split_once('/')?;
    Some((rollout, host, step))
}

/// The executor behind the patch Gate.
#[derive(Debug, Clone)]
pub struct PatchActuator {
    pub state: Arc<Mutex<PatchState>>,
    pub hosts: usize,
}

impl PatchActuator {
    fn lock(&self) -> MutexGuard<'_, PatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Actuator for PatchActuator {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let mut state = self.lock();
        let key = token.idempotency_key().to_owned();
        if let Some(done) = state.results.get(&key) {
            return done.clone().map_err(ActuatorError);
        }
        let request = token.request();
        let host = host_index(&request.host.name, self.hosts);
        let (rollout, step) = match parse_key(&key) {
            Some((rollout, _, step)) => (rollout.to_owned(), step.to_owned()),
            None => (String::new(), String::new()),
        };
        let at_ms = state.now_ms;
        let result = match (host, &request.action) {
            (None, _) => Err(format!("no simulated host {:?}", request.host.name)),
            (Some(h), Action::ApplyPatch { package, version }) if step == "apply" => {
                if state.rng.uniform() < state.failure_rate {
                    state.events.push(PatchEvent {
                        at_ms,
                        host: h,
                        rollout,
                        change: Change::ExecutorFailed,
                    });
                    Err(format!("lab: the patch job for {package} failed to start"))
                } else {
                    let bad = state.rng.uniform() < state.bad_rate;
                    if bad {
                        state.broken[h].insert(rollout.clone());
                    }
                    state.events.push(PatchEvent {
                        at_ms,
                        host: h,
                        rollout,
                        change: Change::Applied { bad },
                    });
                    Ok(format!("{package} {version} installed"))
                }
            }
            (Some(h), Action::ApplyPatch { .. } | Action::RunTemplate { .. })
                if step == "rollback" =>
            {
                // A rollback is not drawn against the failure rate: the lab measures whether the
                // rollout asks for it, not how flaky downgrades are.
                state.broken[h].remove(&rollout);
                state.events.push(PatchEvent {
                    at_ms,
                    host: h,
                    rollout,
                    change: Change::RolledBack,
                });
                Ok("previous version reinstalled".to_owned())
            }
            (Some(_), action) => Ok(format!("{} done", action.kind())),
        };
        state.results.insert(key, result.clone());
        result.map_err(ActuatorError)
    }

    fn status(&self, idempotency_key: &str) -> ActuatorStatus {
        crate::world::status_of(&self.lock().results, idempotency_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_rollout_host_and_step() {
        assert_eq!(
            parse_key("patch/CVE-2022-0185-1/host-003/apply"),
            Some(("CVE-2022-0185-1", "host-003", "apply"))
        );
        assert_eq!(parse_key("lab/other"), None);
    }
}
