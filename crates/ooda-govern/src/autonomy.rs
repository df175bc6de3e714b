//! Autonomy levels: how far a team lets ooda act on its own, raised one level at a time as trust
//! grows. Set per action type and server class (most specific setting wins), stored in the store
//! so a change made by `ooda autonomy set` reaches every process at its next decision, and every
//! change is written to the audit log. The gate reads the level before it asks policy.
//!
//! - L1 observe: no actions; alerts only.
//! - L2 notify: alerts and recommendations (the responder's report); no actions.
//! - L3 assisted: low-risk actions ([`low_risk`]) go on to policy; everything else is parked for
//!   a human's approval before policy is asked.
//! - L4 autonomous: policy decides (its confidence tiers, its forbids).
//!
//! Approvals at L1/L2: nothing is parked (there is no one to hand an action to at "observe"), and
//! an approval granted at L3 or L4 is refused at resume if the level was lowered meanwhile: a
//! lowered level means "stop acting", approved or not. The level never widens what policy allows.
//! It must fail closed: unreadable settings count as L1.

use std::sync::Arc;

use ooda_core::{ActionKind, SharedClock, Timestamp};
use ooda_store::Store;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditLog};
use crate::{GovernError, Result};

/// The store key of the run-time settings.
pub const KEY: &str = "govern/autonomy";

/// One level of the maturity model. Ordered: `L1 < L2 < L3 < L4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "L1", alias = "l1", alias = "observe")]
    Observe,
    #[serde(rename = "L2", alias = "l2", alias = "notify")]
    Notify,
    #[serde(rename = "L3", alias = "l3", alias = "assisted")]
    Assisted,
    #[serde(rename = "L4", alias = "l4", alias = "autonomous")]
    Autonomous,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Observe,
        Level::Notify,
        Level::Assisted,
        Level::Autonomous,
    ];

    /// `L1` … `L4`.
    pub fn code(self) -> &'static str {
        match self {
            Level::Observe => "L1",
            Level::Notify => "L2",
            Level::Assisted => "L3",
            Level::Autonomous => "L4",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Observe => "observe",
            Level::Notify => "notify",
            Level::Assisted => "assisted",
            Level::Autonomous => "autonomous",
        }
    }

    /// What the level lets ooda do, in one line.
    pub fn describe(self) -> &'static str {
        match self {
            Level::Observe => "no actions, alerts only",
            Level::Notify => "alerts and recommendations, no actions",
            Level::Assisted => "low-risk actions alone, everything else after approval",
            Level::Autonomous => "everything policy allows, confidence-gated",
        }
    }

    /// The valid spellings, for error messages.
    pub fn choices() -> String {
        Level::ALL
            .iter()
            .map(|l| format!("{} ({})", l.code(), l.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Level::ALL
            .into_iter()
            .find(|l| t == l.code().to_ascii_lowercase() || t == l.name() || t == l.code()[1..])
            .ok_or_else(|| {
                format!(
                    "unknown autonomy level {s:?}: expected one of {}",
                    Level::choices()
                )
            })
    }
}

/// Low-risk actions: what L3 lets run without a human (service restarts, log rotation, clean-up
/// of allowlisted temp paths — the allowlist itself is a catalogue precondition the gate checks).
pub fn low_risk(kind: ActionKind) -> bool {
    matches!(
        kind,
        ActionKind::RestartService
            | ActionKind::RotateLogs
            | ActionKind::CleanPath
            | ActionKind::ThrottleProcess
    )
}

/// One setting: a level for an action type and/or a server class (`None` = any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub level: Level,
}

impl Setting {
    /// How specific: action and class 3, action 2, class 1, neither 0.
    fn rank(&self) -> u8 {
        u8::from(self.action.is_some()) * 2 + u8::from(self.class.is_some())
    }

    /// Whether this setting covers the scope (`None` in the scope = any action / any class, which
    /// only settings for any action / any class cover).
    fn covers(&self, action: Option<ActionKind>, class: Option<&str>) -> bool {
        self.action.is_none_or(|a| Some(a) == action)
            && self.class.as_deref().is_none_or(|c| Some(c) == class)
    }

    fn scope(&self) -> String {
        format!(
            "action={} class={}",
            self.action.map_or("*", ActionKind::as_str),
            self.class.as_deref().unwrap_or("*")
        )
    }
}

/// `[governance.autonomy]` in the config file: the level ooda starts at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutonomyConfig {
    /// The level for every action type and server class without a more specific setting.
    pub default: Level,
    /// More specific settings (`[[autonomy.set]] action = "restart_service" level = "L4"`).
    pub set: Vec<Setting>,
}

impl Default for AutonomyConfig {
    fn default() -> Self {
        Self {
            default: Level::Notify,
            set: Vec::new(),
        }
    }
}

/// The settings changed at run time, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub settings: Vec<Setting>,
    #[serde(default)]
    pub changed: Option<Timestamp>,
}

/// The level that applies to one request, and the setting it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub level: Level,
    /// `config default`, `config action=… class=…` or `run-time action=… class=…`.
    pub from: String,
}

/// Reads and changes autonomy levels. Reads the store on every call (no cache), like the kill
/// switch.
#[derive(Clone)]
pub struct Levels {
    store: Arc<dyn Store>,
    audit: Arc<AuditLog>,
    clock: SharedClock,
    config: AutonomyConfig,
}

impl std::fmt::Debug for Levels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Levels")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Levels {
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<AuditLog>,
        clock: SharedClock,
        config: AutonomyConfig,
    ) -> Self {
        Self {
            store,
            audit,
            clock,
            config,
        }
    }

    pub fn config(&self) -> &AutonomyConfig {
        &self.config
    }

    /// The run-time settings.
    pub fn stored(&self) -> Result<Stored> {
        match self.store.kv_get(KEY)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| GovernError::Invalid {
                field: KEY.into(),
                reason: format!("stored autonomy settings unreadable: {e}"),
            }),
            None => Ok(Stored::default()),
        }
    }

    /// The level for `kind` on a host of `class`: the most specific run-time setting, else the
    /// most specific configured one, else the configured default.
    pub fn resolve(&self, kind: ActionKind, class: &str) -> Result<Resolved> {
        self.resolve_scope(Some(kind), Some(class))
    }

    fn resolve_scope(&self, action: Option<ActionKind>, class: Option<&str>) -> Result<Resolved> {
        let stored = self.stored()?;
        let best = |settings: &[Setting]| {
            settings
                .iter()
                .filter(|s| s.covers(action, class))
                .max_by_key(|s| s.rank())
                .cloned()
        };
        let candidates = [
            best(&stored.settings).map(|s| (s.rank(), 1, "run-time", s)),
            best(&self.config.set).map(|s| (s.rank(), 0, "config", s)),
        ];
        // The more specific wins; at equal specificity the run-time setting does.
        let chosen = candidates
            .into_iter()
            .flatten()
            .max_by_key(|(rank, source, _, _)| (*rank, *source));
        Ok(match chosen {
            Some((_, _, source, s)) => Resolved {
                level: s.level,
                from: format!("{source} {}", s.scope()),
            },
            None => Resolved {
                level: self.config.default,
                from: "config default".into(),
            },
        })
    }

    /// Like [`Self::resolve`], failing closed: unreadable settings give L1.
    pub fn level(&self, kind: ActionKind, class: &str) -> Resolved {
        self.resolve(kind, class).unwrap_or_else(|error| Resolved {
            level: Level::Observe,
            from: format!("settings unreadable, treated as L1: {error}"),
        })
    }

    /// Sets the level for an action type and/or server class at run time, audited. Returns the
    /// level that applied before (for that exact scope, or inherited).
    pub fn set(&self, setting: Setting, by: &str, reason: &str) -> Result<Level> {
        if by.trim().is_empty() {
            return Err(GovernError::Invalid {
                field: "by".into(),
                reason: "expected who is changing the level".into(),
            });
        }
        if setting
            .class
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err(GovernError::Invalid {
                field: "class".into(),
                reason: "expected a server class name, found an empty string".into(),
            });
        }
        let previous = self
            .resolve_scope(setting.action, setting.class.as_deref())
            .map_or(Level::Observe, |r| r.level);
        let mut stored = self.stored()?;
        stored
            .settings
            .retain(|s| !(s.action == setting.action && s.class == setting.class));
        stored.settings.push(setting.clone());
        stored
            .settings
            .sort_by(|a, b| (a.action, a.class.as_deref()).cmp(&(b.action, b.class.as_deref())));
        stored.changed = Some(self.clock.now());
        // Audited first: a change that cannot be audited does not happen.
        self.audit.append(AuditEntry::AutonomySet {
            action: setting.action,
            class: setting.class.clone(),
            level: setting.level.code().to_owned(),
            previous: previous.code().to_owned(),
            by: by.to_owned(),
            reason: reason.to_owned(),
        })?;
        self.store.kv_put(KEY, &serde_json::to_string(&stored)?)?;
        tracing::warn!(scope = %setting.scope(), level = setting.level.code(), previous = previous.code(), by, "autonomy level changed");
        Ok(previous)
    }

    /// The effective level of every action type for `class` (`ooda autonomy show`).
    pub fn table(&self, class: &str) -> Vec<(ActionKind, Resolved)> {
        ActionKind::ALL
            .into_iter()
            .map(|kind| (kind, self.level(kind, class)))
            .collect()
    }
}

/// What the level says about one request, before policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// L1/L2: nothing runs.
    Refuse,
    /// L3 and not low-risk: a human approves first.
    NeedsApproval,
    /// L3 low-risk, or L4: policy decides.
    AskPolicy,
}

pub fn verdict(level: Level, kind: ActionKind) -> Verdict {
    match level {
        Level::Observe | Level::Notify => Verdict::Refuse,
        Level::Assisted if !low_risk(kind) => Verdict::NeedsApproval,
        Level::Assisted | Level::Autonomous => Verdict::AskPolicy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::ManualClock;
    use ooda_store::SqliteStore;

    fn autonomy(config: AutonomyConfig) -> (tempfile::TempDir, Levels) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("s.sqlite")).expect("store"));
        let clock: SharedClock = Arc::new(ManualClock::at_ms(1_780_000_000_000));
        let audit = Arc::new(
            AuditLog::open(
                &dir.path().join("audit"),
                clock.clone(),
                Some(store.clone()),
            )
            .expect("audit"),
        );
        let a = Levels::new(store, audit, clock, config);
        (dir, a)
    }

    #[test]
    fn levels_parse_in_every_spelling_and_reject_the_rest_with_the_choices() {
        for text in ["L3", "l3", "3", "assisted", " Assisted "] {
            assert_eq!(text.parse::<Level>(), Ok(Level::Assisted), "{text}");
        }
        let err = "L5".parse::<Level>().unwrap_err();
        assert!(
            err.contains("L1 (observe)") && err.contains("L4 (autonomous)"),
            "{err}"
        );
    }

    #[test]
    fn the_default_is_l2_and_the_most_specific_setting_wins() {
        let (_dir, a) = autonomy(AutonomyConfig::default());
        let r = a.level(ActionKind::RestartService, "web");
        assert_eq!(
            (r.level, r.from.as_str()),
            (Level::Notify, "config default")
        );
        let set = |action, class: Option<&str>, level| Setting {
            action,
            class: class.map(str::to_owned),
            level,
        };
        a.set(set(None, None, Level::Assisted), "alice", "trial")
            .unwrap();
        a.set(
            set(Some(ActionKind::RestartService), None, Level::Autonomous),
            "alice",
            "restarts proved safe",
        )
        .unwrap();
        a.set(set(None, Some("database"), Level::Observe), "alice", "dbs")
            .unwrap();
        a.set(
            set(
                Some(ActionKind::RestartService),
                Some("database"),
                Level::Notify,
            ),
            "alice",
            "db restarts need eyes",
        )
        .unwrap();
        let level = |k, c| a.level(k, c).level;
        assert_eq!(level(ActionKind::RestartService, "web"), Level::Autonomous);
        assert_eq!(level(ActionKind::RotateLogs, "web"), Level::Assisted);
        assert_eq!(level(ActionKind::RotateLogs, "database"), Level::Observe);
        assert_eq!(level(ActionKind::RestartService, "database"), Level::Notify);
        // Every change is in the audit log, with what it replaced.
        let records = a.audit.read_all().unwrap();
        let changes: Vec<_> = records
            .iter()
            .filter_map(|r| match &r.entry {
                AuditEntry::AutonomySet {
                    level, previous, ..
                } => Some((previous.as_str(), level.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            changes,
            // The last one replaced the action-wide L4, more specific than the class-wide L1.
            vec![("L2", "L3"), ("L3", "L4"), ("L3", "L1"), ("L4", "L2")]
        );
    }

    #[test]
    fn unreadable_settings_fail_closed_at_l1() {
        let (_dir, a) = autonomy(AutonomyConfig {
            default: Level::Autonomous,
            set: vec![],
        });
        a.store.kv_put(KEY, "not json").unwrap();
        assert_eq!(a.level(ActionKind::RotateLogs, "web").level, Level::Observe);
    }

    #[test]
    fn what_each_level_lets_through() {
        use ActionKind as K;
        for kind in ActionKind::ALL {
            assert_eq!(verdict(Level::Observe, kind), Verdict::Refuse);
            assert_eq!(verdict(Level::Notify, kind), Verdict::Refuse);
            assert_eq!(verdict(Level::Autonomous, kind), Verdict::AskPolicy);
        }
        assert_eq!(verdict(Level::Assisted, K::CleanPath), Verdict::AskPolicy);
        assert_eq!(verdict(Level::Assisted, K::Reboot), Verdict::NeedsApproval);
        assert_eq!(
            verdict(Level::Assisted, K::KillProcess),
            Verdict::NeedsApproval
        );
    }
}
