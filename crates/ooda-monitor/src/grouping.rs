//! Who gets told, and when: Alertmanager's grouping, inhibition and silences, on alerts that
//! fusion already deduplicated. Semantics follow Alertmanager:
//! - alerts with the same `group_by` label values form a group; a new group is notified after
//!   `group_wait` (so alerts arriving together go out together);
//! - a notified group is re-checked every `group_interval` and notified again when its set of
//!   firing/resolved alerts changed;
//! - an unchanged, still-firing group is re-notified after `repeat_interval`;
//! - resolved alerts go out once in the next notification, then leave the group;
//! - a silence mutes alerts whose labels match all its matchers while it is active;
//! - an inhibition rule mutes alerts matching `target` while an alert matching `source` fires
//!   with equal values for the `equal` labels; with topology, a host's alerts are muted while a
//!   host it depends on has a critical alert firing ("inhibit dependants when upstream is down").
//!
//! Matchers support `=` and `!=` (Alertmanager's regex matchers `=~`/`!~` are not implemented).
//! Time is always passed in.

use std::collections::{BTreeMap, BTreeSet};

use ooda_core::{Alert, AlertState, Severity};

use crate::config::MonitorConfig;

/// One label matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub name: String,
    pub equal: bool,
    pub value: String,
}

impl Matcher {
    pub fn eq(name: &str, value: &str) -> Self {
        Self {
            name: name.into(),
            equal: true,
            value: value.into(),
        }
    }

    pub fn ne(name: &str, value: &str) -> Self {
        Self {
            name: name.into(),
            equal: false,
            value: value.into(),
        }
    }

    /// As in Alertmanager, a missing label has the empty value.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let actual = labels.get(&self.name).map_or("", String::as_str);
        (actual == self.value) == self.equal
    }
}

fn all_match(matchers: &[Matcher], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// A silence: mutes matching alerts between `starts_ms` and `ends_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn active(&self, now_ms: i64) -> bool {
        self.starts_ms <= now_ms && now_ms < self.ends_ms
    }
}

/// Mutes `target` alerts while a `source` alert fires with the same `equal` label values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
}

/// One notification for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub group_key: String,
    pub firing: Vec<Alert>,
    pub resolved: Vec<Alert>,
}

#[derive(Debug, Clone)]
struct Group {
    alerts: BTreeMap<String, Alert>,
    next_flush_ms: i64,
    last_notified_ms: Option<i64>,
    last_sent: BTreeSet<(String, bool)>,
}

/// Groups, times, silences and inhibits alerts.
#[derive(Debug, Clone)]
pub struct Grouper {
    group_by: Vec<String>,
    group_wait_ms: i64,
    group_interval_ms: i64,
    repeat_ms: i64,
    topology: BTreeMap<String, Vec<String>>,
    groups: BTreeMap<String, Group>,
    silences: Vec<Silence>,
    rules: Vec<InhibitRule>,
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Grouper {
    pub fn new(config: &MonitorConfig) -> Self {
        Self {
            group_by: config.grouping.group_by.clone(),
            group_wait_ms: ms(config.grouping.group_wait),
            group_interval_ms: ms(config.grouping.group_interval),
            repeat_ms: ms(config.grouping.repeat_interval),
            topology: config.fusion.topology.clone(),
            groups: BTreeMap::new(),
            silences: Vec::new(),
            rules: Vec::new(),
        }
    }

    pub fn add_silence(&mut self, silence: Silence) {
        self.silences.push(silence);
    }

    pub fn add_inhibit_rule(&mut self, rule: InhibitRule) {
        self.rules.push(rule);
    }

    fn group_key(&self, alert: &Alert) -> String {
        self.group_by
            .iter()
            .map(|l| format!("{l}={}", alert.labels.get(l).map_or("", String::as_str)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Takes a firing or resolved alert (by fingerprint; a later version replaces an earlier).
    pub fn receive(&mut self, alert: Alert, now_ms: i64) {
        let key = self.group_key(&alert);
        let wait = self.group_wait_ms;
        let group = self.groups.entry(key).or_insert_with(|| Group {
            alerts: BTreeMap::new(),
            next_flush_ms: now_ms.saturating_add(wait),
            last_notified_ms: None,
            last_sent: BTreeSet::new(),
        });
        group.alerts.insert(alert.fingerprint.clone(), alert);
    }

    /// Whether an alert is muted now by a silence, a rule or a down upstream.
    pub fn muted(&self, alert: &Alert, now_ms: i64) -> bool {
        if self
            .silences
            .iter()
            .any(|s| s.active(now_ms) && all_match(&s.matchers, &alert.labels))
        {
            return true;
        }
        let firing = || {
            self.groups
                .values()
                .flat_map(|g| g.alerts.values())
                .filter(|a| a.state == AlertState::Firing && a.fingerprint != alert.fingerprint)
        };
        for rule in &self.rules {
            if !all_match(&rule.target, &alert.labels) {
                continue;
            }
            let inhibited = firing().any(|source| {
                all_match(&rule.source, &source.labels)
                    && rule
                        .equal
                        .iter()
                        .all(|l| source.labels.get(l) == alert.labels.get(l))
            });
            if inhibited {
                return true;
            }
        }
        if let Some(upstreams) = alert.host.as_ref().and_then(|h| self.topology.get(h)) {
            let down = firing().any(|a| {
                a.severity == Severity::Critical
                    && a.host.as_ref().is_some_and(|h| upstreams.contains(h))
            });
            if down {
                return true;
            }
        }
        false
    }

    /// Sends what is due at `now_ms`.
    pub fn flush(&mut self, now_ms: i64) -> Vec<Notification> {
        let mut due: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, g)| g.next_flush_ms <= now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        due.sort();
        let mut notifications = Vec::new();
        for key in due {
            let Some(group) = self.groups.get(&key) else {
                continue;
            };
            let visible: Vec<&Alert> = group
                .alerts
                .values()
                .filter(|a| !self.muted(a, now_ms))
                .collect();
            let sent: BTreeSet<(String, bool)> = visible
                .iter()
                .map(|a| (a.fingerprint.clone(), a.state == AlertState::Firing))
                .collect();
            let any_firing = visible.iter().any(|a| a.state == AlertState::Firing);
            let changed = sent != group.last_sent;
            let repeat_due = group
                .last_notified_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= self.repeat_ms)
                && any_firing;
            let notify = !visible.is_empty() && (changed || repeat_due);
            let notification = notify.then(|| Notification {
                group_key: key.clone(),
                firing: visible
                    .iter()
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| (*a).clone())
                    .collect(),
                resolved: visible
                    .iter()
                    .filter(|a| a.state == AlertState::Resolved)
                    .map(|a| (*a).clone())
                    .collect(),
            });
            let interval = self.group_interval_ms;
            let Some(group) = self.groups.get_mut(&key) else {
                continue;
            };
            if let Some(n) = notification {
                group.last_notified_ms = Some(now_ms);
                // Resolved alerts leave the group now, so they leave the remembered set too.
                group.last_sent = sent.into_iter().filter(|(_, firing)| *firing).collect();
                // Resolved alerts go out once.
                for r in &n.resolved {
                    group.alerts.remove(&r.fingerprint);
                }
                notifications.push(n);
            }
            group.next_flush_ms = now_ms.saturating_add(interval);
            if group.alerts.is_empty() {
                self.groups.remove(&key);
            }
        }
        notifications
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::{AlertId, AlertKind};

    fn alert(fp: &str, host: &str, severity: Severity, state: AlertState) -> Alert {
        Alert {
            id: AlertId::from_u128(1),
            fingerprint: fp.into(),
            host: Some(host.into()),
            kind: AlertKind::Baseline,
            severity,
            state,
            summary: String::new(),
            probable_cause: None,
            members: Vec::new(),
            labels: BTreeMap::from([
                ("host".to_string(), host.to_string()),
                ("kind".to_string(), "baseline".to_string()),
                ("severity".to_string(), severity.as_str().to_string()),
            ]),
            opened_at: ooda_core::clock::from_millis(0),
            updated_at: ooda_core::clock::from_millis(0),
            enrichment: Vec::new(),
        }
    }

    const S: i64 = 1000;

    #[test]
    fn group_wait_interval_and_repeat() {
        let mut g = Grouper::new(&MonitorConfig::default());
        g.receive(alert("a", "h", Severity::Warning, AlertState::Firing), 0);
        assert!(g.flush(29 * S).is_empty(), "group_wait not over");
        g.receive(
            alert("b", "h", Severity::Warning, AlertState::Firing),
            10 * S,
        );
        let n = g.flush(30 * S);
        assert_eq!(n.len(), 1);
        assert_eq!(
            n[0].firing.len(),
            2,
            "alerts arriving together go out together"
        );
        assert!(g.flush(31 * S).is_empty());
        assert!(g.flush(330 * S).is_empty(), "unchanged at group_interval");
        g.receive(
            alert("a", "h", Severity::Warning, AlertState::Resolved),
            400 * S,
        );
        assert!(
            g.flush(500 * S).is_empty(),
            "waits for the next group_interval"
        );
        let n = g.flush(630 * S);
        assert_eq!((n[0].firing.len(), n[0].resolved.len()), (1, 1));
        assert!(g.flush(930 * S).is_empty());
        let repeat = g.flush(630 * S + 4 * 3600 * S);
        assert_eq!(repeat.len(), 1, "repeat_interval re-notifies");
        assert_eq!(repeat[0].resolved.len(), 0, "resolved went out once");
    }

    #[test]
    fn silences_mute_until_they_expire() {
        let mut g = Grouper::new(&MonitorConfig::default());
        g.add_silence(Silence {
            id: "s1".into(),
            matchers: vec![
                Matcher::eq("host", "h"),
                Matcher::ne("severity", "critical"),
            ],
            starts_ms: 0,
            ends_ms: 100 * S,
            created_by: "ops".into(),
            comment: "maintenance".into(),
        });
        g.receive(alert("a", "h", Severity::Warning, AlertState::Firing), 0);
        assert!(g.flush(30 * S).is_empty(), "silenced");
        let n = g.flush(330 * S);
        assert_eq!(n.len(), 1, "silence expired");
        let critical = alert("c", "h", Severity::Critical, AlertState::Firing);
        assert!(!g.muted(&critical, 10 * S), "!= matcher spares criticals");
    }

    #[test]
    fn inhibition_by_rule_and_by_topology() {
        let mut config = MonitorConfig::default();
        config
            .fusion
            .topology
            .insert("app".into(), vec!["db".into()]);
        let mut g = Grouper::new(&config);
        g.add_inhibit_rule(InhibitRule {
            source: vec![Matcher::eq("severity", "critical")],
            target: vec![Matcher::eq("severity", "warning")],
            equal: vec!["host".into()],
        });
        g.receive(
            alert("db-down", "db", Severity::Critical, AlertState::Firing),
            0,
        );
        let app = alert("app-slow", "app", Severity::Critical, AlertState::Firing);
        assert!(g.muted(&app, 0), "upstream down mutes dependants");
        let db_warning = alert("db-warn", "db", Severity::Warning, AlertState::Firing);
        assert!(
            g.muted(&db_warning, 0),
            "rule: critical inhibits warning on the same host"
        );
        let other_warning = alert("x-warn", "x", Severity::Warning, AlertState::Firing);
        assert!(!g.muted(&other_warning, 0), "equal labels differ");
    }
}
