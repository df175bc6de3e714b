//! The incident register: incidents, their evidence, reports and runbook statistics persisted in
//! the [`Store`] (key/value for projections, the event log for every transition).
//!
//! Alerts that belong together attach to one incident: an alert on a host that already has an
//! active incident opened within the grouping window joins it. The register never decides
//! anything else.

use std::sync::Arc;
use std::time::Duration;

use ooda_core::{Alert, Event, EventKind, IncidentId, SharedClock};
use ooda_store::Store;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::evidence::{EvidenceItem, EvidenceRef};
use crate::lifecycle::{Incident, IncidentState, Transition};
use crate::triage::PastIncident;
use crate::{IncidentError, Result};

const INDEX: &str = "incident/index";
/// Ids of incidents not yet closed: what the responder's tick walks, so its cost follows the open
/// incidents rather than the whole history. A superset on disk (an incident closed by a crash
/// between its save and the index update stays listed until the next close); readers filter.
const OPEN_INDEX: &str = "incident/open";
const HISTORY: &str = "incident/history";

/// Per-runbook outcomes: the learning the next decision can read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunbookStats {
    pub runs: u64,
    pub resolved: u64,
    pub escalated: u64,
}

impl RunbookStats {
    pub fn success_rate(&self) -> Option<f64> {
        (self.runs > 0).then(|| self.resolved as f64 / self.runs as f64)
    }
}

/// Whether an alert opened an incident or joined one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Opened(IncidentId),
    Joined(IncidentId),
    /// The same alert again (at-least-once delivery): nothing changed.
    Duplicate(IncidentId),
}

impl Attached {
    pub fn incident(self) -> IncidentId {
        match self {
            Attached::Opened(id) | Attached::Joined(id) | Attached::Duplicate(id) => id,
        }
    }
}

#[derive(Clone)]
pub struct Register {
    store: Arc<dyn Store>,
    clock: SharedClock,
    grouping_window: Duration,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("grouping_window", &self.grouping_window)
            .finish_non_exhaustive()
    }
}

impl Register {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        Self {
            store,
            clock,
            grouping_window: Duration::from_secs(30 * 60),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.store.kv_get(key)? {
            None => Ok(None),
            Some(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| IncidentError::Corrupt {
                        what: key.to_owned(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|e| IncidentError::Corrupt {
            what: key.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(self.store.kv_put(key, &text)?)
    }

    pub fn ids(&self) -> Result<Vec<IncidentId>> {
        Ok(self.get_json(INDEX)?.unwrap_or_default())
    }

    pub fn get(&self, id: IncidentId) -> Result<Incident> {
        self.get_json(&format!("incident/{id}"))?
            .ok_or_else(|| IncidentError::NotFound(id.to_string()))
    }

    /// Finds an incident by full id or unique prefix (the CLI's convenience).
    pub fn find(&self, prefix: &str) -> Result<Incident> {
        let matches: Vec<IncidentId> = self
            .ids()?
            .into_iter()
            .filter(|id| id.to_string().starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [one] => self.get(*one),
            [] => Err(IncidentError::NotFound(prefix.to_owned())),
            _ => Err(IncidentError::NotFound(format!(
                "{prefix} is ambiguous ({} incidents match)",
                matches.len()
            ))),
        }
    }

    pub fn list(&self) -> Result<Vec<Incident>> {
        self.ids()?.into_iter().map(|id| self.get(id)).collect()
    }

    /// Incidents not closed, oldest first.
    pub fn list_unclosed(&self) -> Result<Vec<Incident>> {
        let ids = self.open_ids()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.get(id) {
                Ok(incident) if incident.state != IncidentState::Closed => out.push(incident),
                // Listed but never saved (a crash while opening it) or already closed.
                Ok(_) | Err(IncidentError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The open index; a register written before it existed is indexed on first use.
    fn open_ids(&self) -> Result<Vec<IncidentId>> {
        if let Some(ids) = self.get_json(OPEN_INDEX)? {
            return Ok(ids);
        }
        let ids: Vec<IncidentId> = self
            .list()?
            .into_iter()
            .filter(|i| i.state != IncidentState::Closed)
            .map(|i| i.id)
            .collect();
        self.put_json(OPEN_INDEX, &ids)?;
        Ok(ids)
    }

    fn set_open(&self, id: IncidentId, open: bool) -> Result<()> {
        let mut ids = self.open_ids()?;
        ids.retain(|i| *i != id);
        if open {
            ids.push(id);
        }
        self.put_json(OPEN_INDEX, &ids)
    }

    pub fn save(&self, incident: &Incident) -> Result<()> {
        self.put_json(&format!("incident/{}", incident.id), incident)
    }

    /// Moves `incident` to `to`, saves it and appends the event.
    pub fn transition(
        &self,
        incident: &mut Incident,
        to: IncidentState,
        reason: impl Into<String>,
    ) -> Result<Transition> {
        let transition = incident.transition(to, reason, self.clock.now())?;
        self.save(incident)?;
        if to == IncidentState::Closed {
            self.set_open(incident.id, false)?;
        } else if transition.from == IncidentState::Closed {
            // Reopened by a person: back on the open index the tick walks.
            self.set_open(incident.id, true)?;
        }
        if let Some(host) = &incident.host {
            if !to.is_active() {
                self.store.kv_put(&format!("incident/active/{host}"), "")?;
            }
        }
        self.store.append_event(&Event::new(
            transition.at,
            "incident",
            EventKind::IncidentTransition {
                incident: incident.id,
                from: transition.from.as_str().to_owned(),
                to: transition.to.as_str().to_owned(),
                reason: transition.reason.clone(),
            },
        ))?;
        tracing::info!(incident = %incident.id, from = %transition.from, to = %transition.to, "{}", transition.reason);
        Ok(transition)
    }

    /// Attaches `alert` to the host's active incident, or opens a new one.
    pub fn attach(&self, alert: &Alert) -> Result<(Attached, Incident)> {
        if alert.summary.trim().is_empty() && alert.members.is_empty() {
            return Err(IncidentError::BadAlert {
                field: "summary".into(),
                reason: "expected a summary or at least one anomaly, found neither".into(),
            });
        }
        let now = self.clock.now();
        // An alert belongs to one incident for its whole life: its updates never open another,
        // whatever state that incident is in now.
        let alert_key = format!("incident/alert/{}", alert.id);
        if let Some(id) = self
            .store
            .kv_get(&alert_key)?
            .and_then(|text| text.parse::<IncidentId>().ok())
        {
            if let Ok(incident) = self.get(id) {
                // ...unless that incident is over and the alert now carries a symptom the
                // incident never saw: a host's alert that stayed open past a fixed fault and
                // then gained a new one is a new fault, and gets an incident of its own.
                if incident.state != IncidentState::Closed || !self.new_symptom(id, alert)? {
                    return Ok((Attached::Duplicate(id), incident));
                }
            }
        }
        let active_key = alert
            .host
            .as_ref()
            .map(|host| format!("incident/active/{host}"));
        if let Some(key) = &active_key {
            if let Some(text) = self.store.kv_get(key)? {
                if let Ok(id) = text.parse::<IncidentId>() {
                    let mut incident = self.get(id)?;
                    let window = chrono::Duration::from_std(self.grouping_window)
                        .unwrap_or(chrono::Duration::MAX);
                    if incident.state.takes_new_alerts() && now - incident.opened_at <= window {
                        if incident.alerts.contains(&alert.id) {
                            return Ok((Attached::Duplicate(id), incident));
                        }
                        add_alert(&mut incident, alert);
                        incident.note(format!("alert {} joined: {}", alert.id, alert.summary), now);
                        self.save(&incident)?;
                        self.store.kv_put(&alert_key, &id.to_string())?;
                        self.attached_event(id, alert)?;
                        return Ok((Attached::Joined(id), incident));
                    }
                }
            }
        }
        let id = IncidentId::new();
        let mut incident = Incident::open(
            id,
            alert.host.clone(),
            alert.summary.clone(),
            alert.severity,
            now,
        );
        add_alert(&mut incident, alert);
        incident.note(
            format!("opened by alert {}: {}", alert.id, alert.summary),
            now,
        );
        // Listed as open before it exists, so a crash in between leaves a dangling id (skipped)
        // rather than an open incident the tick never sees.
        self.set_open(id, true)?;
        self.save(&incident)?;
        let mut ids = self.ids()?;
        ids.push(id);
        self.put_json(INDEX, &ids)?;
        if let Some(key) = &active_key {
            self.store.kv_put(key, &id.to_string())?;
        }
        self.store.kv_put(&alert_key, &id.to_string())?;
        self.attached_event(id, alert)?;
        Ok((Attached::Opened(id), incident))
    }

    /// Whether `alert` has a symptom (a member at warning or above) that the alert stored with
    /// incident `id` lacked.
    fn new_symptom(&self, id: IncidentId, alert: &Alert) -> Result<bool> {
        let stored: Option<Alert> = self.doc(id, "alert")?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        // Context members (below warning) are corroboration, not symptoms.
        let symptom = |m: &&ooda_core::Anomaly| m.severity >= ooda_core::Severity::Warning;
        Ok(alert.members.iter().filter(symptom).any(|m| {
            !stored
                .members
                .iter()
                .filter(symptom)
                .any(|s| s.series.metric == m.series.metric)
        }))
    }

    fn attached_event(&self, incident: IncidentId, alert: &Alert) -> Result<()> {
        self.store.append_event(&Event::new(
            self.clock.now(),
            "incident",
            EventKind::IncidentAlertAttached {
                incident,
                alert: alert.id,
            },
        ))?;
        Ok(())
    }

    /// Stores an evidence item under its content address.
    pub fn put_evidence(&self, item: &EvidenceItem) -> Result<()> {
        self.put_json(&format!("evidence/{}", item.id), item)
    }

    pub fn evidence(&self, id: &EvidenceRef) -> Result<Option<EvidenceItem>> {
        self.get_json(&format!("evidence/{id}"))
    }

    /// Any per-incident document (report, run progress, result).
    pub fn put_doc<T: Serialize>(&self, id: IncidentId, name: &str, value: &T) -> Result<()> {
        self.put_json(&format!("incident/{id}/{name}"), value)
    }

    pub fn doc<T: DeserializeOwned>(&self, id: IncidentId, name: &str) -> Result<Option<T>> {
        self.get_json(&format!("incident/{id}/{name}"))
    }

    pub fn runbook_stats(&self, runbook: &str) -> Result<RunbookStats> {
        Ok(self
            .get_json(&format!("runbook/stats/{runbook}"))?
            .unwrap_or_default())
    }

    pub fn record_runbook(&self, runbook: &str, resolved: bool) -> Result<RunbookStats> {
        let mut stats = self.runbook_stats(runbook)?;
        stats.runs += 1;
        if resolved {
            stats.resolved += 1;
        } else {
            stats.escalated += 1;
        }
        self.put_json(&format!("runbook/stats/{runbook}"), &stats)?;
        Ok(stats)
    }

    /// Adds a finished incident to the similar-incident history.
    pub fn learn(&self, past: PastIncident) -> Result<()> {
        let mut history: Vec<PastIncident> = self.get_json(HISTORY)?.unwrap_or_default();
        history.retain(|p| p.id != past.id);
        history.push(past);
        self.put_json(HISTORY, &history)
    }

    pub fn history(&self) -> Result<Vec<PastIncident>> {
        Ok(self.get_json(HISTORY)?.unwrap_or_default())
    }
}

fn add_alert(incident: &mut Incident, alert: &Alert) {
    incident.alerts.push(alert.id);
    incident.severity = incident.severity.max(alert.severity);
    let mut text = vec![alert.summary.clone()];
    if let Some(cause) = &alert.probable_cause {
        text.push(cause.clone());
    }
    for member in &alert.members {
        text.push(member.series.metric.clone());
        text.push(member.explanation.clone());
    }
    for line in &alert.enrichment {
        text.push(line.template.clone());
    }
    incident.text.push(text.join(" "));
    for (k, v) in &alert.labels {
        incident
            .labels
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
}

/// What a person can say about an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanVerb {
    Ack,
    Close,
    Reopen,
}

impl Register {
    /// A person's word on an incident: acknowledge it (they are on it), close it, or reopen a
    /// closed one. Recorded in its timeline with who and why; `by` comes from the caller's
    /// authenticated identity, never from the request body.
    pub fn human(
        &self,
        id: IncidentId,
        verb: HumanVerb,
        by: &str,
        reason: &str,
    ) -> Result<IncidentState> {
        let mut incident = self.get(id)?;
        let now = self.clock.now();
        match verb {
            HumanVerb::Ack => {
                incident.note(format!("acknowledged by {by}: {reason}"), now);
                self.save(&incident)?;
            }
            HumanVerb::Close => {
                if incident.state.is_terminal() {
                    return Ok(incident.state);
                }
                if incident.state != IncidentState::Escalated
                    && incident.state != IncidentState::Resolved
                {
                    self.transition(
                        &mut incident,
                        IncidentState::Escalated,
                        format!("taken over by {by}"),
                    )?;
                }
                self.transition(
                    &mut incident,
                    IncidentState::Closed,
                    format!("closed by {by}: {reason}"),
                )?;
                let report: Option<crate::reasoner::Report> = self.doc(id, "report")?;
                let actions: Vec<crate::runbook::engine::StepRecord> =
                    self.doc(id, "actions")?.unwrap_or_default();
                let refs: Vec<EvidenceRef> = self.doc(id, "evidence")?.unwrap_or_default();
                let result = crate::postmortem::write(&incident, report.as_ref(), &actions, &refs);
                self.put_doc(id, "result", &result)?;
            }
            HumanVerb::Reopen => {
                self.transition(
                    &mut incident,
                    IncidentState::Escalated,
                    format!("reopened by {by}: {reason}"),
                )?;
            }
        }
        Ok(incident.state)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ooda_core::{AlertId, AlertKind, AlertState, ManualClock, Severity};
    use ooda_store::SqliteStore;

    pub(crate) fn alert(id: u128, host: Option<&str>, summary: &str) -> Alert {
        Alert {
            id: AlertId::from_u128(id),
            fingerprint: format!("f{id}"),
            host: host.map(str::to_owned),
            kind: AlertKind::Threshold,
            severity: Severity::Warning,
            state: AlertState::Firing,
            summary: summary.into(),
            probable_cause: None,
            members: vec![],
            labels: Default::default(),
            opened_at: ooda_core::clock::from_millis(0),
            updated_at: ooda_core::clock::from_millis(0),
            enrichment: vec![],
        }
    }

    fn register() -> (Register, ManualClock) {
        let clock = ManualClock::at_ms(1_700_000_000_000);
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        (Register::new(store, Arc::new(clock.clone())), clock)
    }

    #[test]
    fn the_open_index_follows_opens_and_closes() {
        let (r, _) = register();
        let (_, mut a) = r.attach(&alert(1, Some("web-1"), "disk")).unwrap();
        let (_, b) = r.attach(&alert(2, Some("web-2"), "cpu")).unwrap();
        let open = |r: &Register| {
            r.list_unclosed()
                .unwrap()
                .iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(open(&r), vec![a.id, b.id]);
        r.transition(&mut a, IncidentState::Escalated, "t").unwrap();
        r.transition(&mut a, IncidentState::Closed, "t").unwrap();
        assert_eq!(open(&r), vec![b.id]);
        assert_eq!(r.list().unwrap().len(), 2, "the full history stays");
    }

    #[test]
    fn alerts_on_one_host_group_and_duplicates_are_ignored() {
        let (reg, clock) = register();
        let (a, _) = reg.attach(&alert(1, Some("web-1"), "disk 97%")).unwrap();
        let (b, inc) = reg
            .attach(&alert(2, Some("web-1"), "write errors"))
            .unwrap();
        let (c, _) = reg
            .attach(&alert(2, Some("web-1"), "write errors"))
            .unwrap();
        assert!(matches!(a, Attached::Opened(_)));
        assert_eq!(b, Attached::Joined(a.incident()));
        assert_eq!(c, Attached::Duplicate(a.incident()));
        assert_eq!(inc.alerts.len(), 2);
        let (d, _) = reg.attach(&alert(3, Some("db-1"), "lag")).unwrap();
        assert!(matches!(d, Attached::Opened(_)));
        clock.advance(Duration::from_secs(3600));
        let (e, _) = reg.attach(&alert(4, Some("web-1"), "disk again")).unwrap();
        assert!(matches!(e, Attached::Opened(_)), "outside the window");
        assert_eq!(reg.list().unwrap().len(), 3);
    }

    fn with_member(mut a: Alert, metric: &str) -> Alert {
        a.members.push(ooda_core::Anomaly {
            series: ooda_core::SeriesKey::new(metric, ooda_core::Labels::new()),
            time: ooda_core::clock::from_millis(0),
            value: 1.0,
            expected: 0.0,
            score: 5.0,
            severity: Severity::Warning,
            kind: AlertKind::Baseline,
            explanation: format!("{metric} deviates"),
            forecast: None,
        });
        a
    }

    #[test]
    fn a_closed_incidents_alert_that_gains_a_new_symptom_opens_a_new_incident() {
        let (reg, _) = register();
        let disk = with_member(alert(1, Some("web-1"), "disk"), "disk_free_pct");
        let (first, mut inc) = reg.attach(&disk).unwrap();
        reg.put_doc(first.incident(), "alert", &disk).unwrap();
        // An update of the same symptoms, before and after the incident ends: the same incident.
        let (again, _) = reg.attach(&disk).unwrap();
        assert_eq!(again, Attached::Duplicate(first.incident()));
        reg.transition(&mut inc, IncidentState::Escalated, "t")
            .unwrap();
        reg.transition(&mut inc, IncidentState::Closed, "t")
            .unwrap();
        let (after, _) = reg.attach(&disk).unwrap();
        assert_eq!(after, Attached::Duplicate(first.incident()), "nothing new");
        // The alert, still open, now also carries a CPU fault.
        let both = with_member(disk.clone(), "cpu_busy_pct");
        let (new, _) = reg.attach(&both).unwrap();
        assert!(
            matches!(new, Attached::Opened(id) if id != first.incident()),
            "{new:?}"
        );
        // From now on the alert belongs to the new incident.
        let (next, _) = reg.attach(&both).unwrap();
        assert_eq!(next, Attached::Duplicate(new.incident()));
    }

    #[test]
    fn transitions_persist_and_are_events() {
        let (reg, _) = register();
        let (a, mut inc) = reg.attach(&alert(1, Some("web-1"), "disk")).unwrap();
        reg.transition(&mut inc, IncidentState::Triaged, "triaged")
            .unwrap();
        let back = reg.get(a.incident()).unwrap();
        assert_eq!(back.state, IncidentState::Triaged);
        let events = reg.store().events_since(0, 10).unwrap();
        let names: Vec<_> = events.iter().map(|e| e.event.name()).collect();
        assert_eq!(
            names,
            vec!["incident.alert_attached", "incident.transition"]
        );
        assert!(reg
            .transition(&mut inc, IncidentState::Closed, "skip")
            .is_err());
        let found = reg.find(&a.incident().to_string()[..8]).unwrap();
        assert_eq!(found.id, a.incident());
    }

    #[test]
    fn empty_alerts_are_refused_with_the_field() {
        let (reg, _) = register();
        let err = reg
            .attach(&alert(1, Some("h"), " "))
            .unwrap_err()
            .to_string();
        assert!(err.contains("summary"), "{err}");
    }

    #[test]
    fn runbook_stats_count() {
        let (reg, _) = register();
        reg.record_runbook("disk_full", true).unwrap();
        let stats = reg.record_runbook("disk_full", false).unwrap();
        assert_eq!(stats.success_rate(), Some(0.5));
    }
}
