//! Maintenance windows: when a host may be changed. A window is a cron expression for its start
//! in a time zone, a length, and blackout dates; hosts name their window in the CMDB or are
//! listed (by name or group) under one.
//!
//! Pure computation on an injected instant: nothing here reads the wall clock. An expression that
//! does not parse is refused when the file is loaded, never treated as "always open".

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use croner::Cron;
use ooda_core::{Host, Timestamp};
use serde::{Deserialize, Serialize};

/// The version of the windows file this code reads.
pub const WINDOWS_VERSION: u32 = 1;

/// Everything that can be wrong with a window or its lookup. Each names the window or host.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WindowError {
    #[error("window {window:?}: cron expression {expression:?} cannot be parsed: {reason}")]
    Cron {
        window: String,
        expression: String,
        reason: String,
    },
    #[error("window {window:?}: unknown time zone {timezone:?} (expected an IANA name such as Europe/Berlin)")]
    TimeZone { window: String, timezone: String },
    #[error("window {window:?}: duration_minutes must be 1..=10080 (one week), found {found}")]
    Duration { window: String, found: u32 },
    #[error("window {window:?} is defined twice")]
    Duplicate { window: String },
    #[error("host {host:?} names window {window:?}, which is not defined")]
    Unknown { host: String, window: String },
    #[error("host {host:?} has no maintenance window (set maintenance_window in the CMDB or list it under a window)")]
    NoWindow { host: String },
    #[error("window {window:?}: cron search failed at {at}: {reason}")]
    Search {
        window: String,
        at: String,
        reason: String,
    },
    #[error("windows file: {0}")]
    File(String),
}

/// One window as written in the windows file (`[[window]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub name: String,
    /// When the window opens: a 5- or 6-field cron expression (`0 2 * * SAT`), in `timezone`.
    pub cron: String,
    /// IANA time zone name; UTC if absent.
    #[serde(default = "utc")]
    pub timezone: String,
    /// How long the window stays open after each start.
    pub duration_minutes: u32,
    /// Local dates (in `timezone`) on which the window stays shut (freezes, holidays).
    #[serde(default)]
    pub blackout: Vec<NaiveDate>,
    /// Hosts in this window (when their CMDB row names none).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Host groups (the host's class, or its `group` tag) in this window.
    #[serde(default)]
    pub groups: Vec<String>,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// The windows file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsFile {
    pub version: u32,
    #[serde(default, rename = "window")]
    pub windows: Vec<WindowSpec>,
}

/// A parsed window.
#[derive(Debug, Clone)]
pub struct Window {
    pub spec: WindowSpec,
    cron: Cron,
    tz: Tz,
}

/// One occurrence of a window, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Opening {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    /// Parses and checks one window.
    pub fn new(spec: WindowSpec) -> Result<Self, WindowError> {
        if spec.duration_minutes == 0 || spec.duration_minutes > 7 * 24 * 60 {
            return Err(WindowError::Duration {
                window: spec.name.clone(),
                found: spec.duration_minutes,
            });
        }
        let tz = Tz::from_str(&spec.timezone).map_err(|_| WindowError::TimeZone {
            window: spec.name.clone(),
            timezone: spec.timezone.clone(),
        })?;
        let cron = Cron::from_str(spec.cron.trim()).map_err(|e| WindowError::Cron {
            window: spec.name.clone(),
            expression: spec.cron.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self { spec, cron, tz })
    }

    fn length(&self) -> Duration {
        Duration::minutes(i64::from(self.spec.duration_minutes))
    }

    fn blacked_out(&self, at: Timestamp) -> bool {
        let local = self.tz.from_utc_datetime(&at.naive_utc()).date_naive();
        self.spec.blackout.contains(&local)
    }

    fn search_error(&self, at: Timestamp, e: impl std::fmt::Display) -> WindowError {
        WindowError::Search {
            window: self.spec.name.clone(),
            at: at.to_rfc3339(),
            reason: e.to_string(),
        }
    }

    /// The opening that contains `at`, if any. A blackout date shuts the window for the whole
    /// local day, and an opening that started on a blackout date does not count.
    pub fn opening_at(&self, at: Timestamp) -> Result<Option<Opening>, WindowError> {
        if self.blacked_out(at) {
            return Ok(None);
        }
        let local = self.tz.from_utc_datetime(&at.naive_utc());
        let start = match self.cron.find_previous_occurrence(&local, true) {
            Ok(start) => start.with_timezone(&chrono::Utc),
            // No earlier start at all (a far-future-only expression): shut.
            Err(croner::errors::CronError::TimeSearchLimitExceeded) => return Ok(None),
            Err(e) => return Err(self.search_error(at, e)),
        };
        let end = start + self.length();
        if at < end && !self.blacked_out(start) {
            Ok(Some(Opening { start, end }))
        } else {
            Ok(None)
        }
    }

    pub fn is_open(&self, at: Timestamp) -> Result<bool, WindowError> {
        Ok(self.opening_at(at)?.is_some())
    }

    /// The next `count` openings that end after `after` (an opening in progress comes first),
    /// skipping blackout dates.
    pub fn next_openings(
        &self,
        after: Timestamp,
        count: usize,
    ) -> Result<Vec<Opening>, WindowError> {
        let mut found = Vec::with_capacity(count);
        if let Some(current) = self.opening_at(after)? {
            found.push(current);
        }
        let mut cursor = self.tz.from_utc_datetime(&after.naive_utc());
        // Bounded: a window blacked out for ever must not loop for ever.
        let mut tries = 0;
        while found.len() < count && tries < count * 50 + 400 {
            tries += 1;
            let next = match self.cron.find_next_occurrence(&cursor, false) {
                Ok(next) => next,
                Err(croner::errors::CronError::TimeSearchLimitExceeded) => break,
                Err(e) => return Err(self.search_error(after, e)),
            };
            cursor = next;
            let start = next.with_timezone(&chrono::Utc);
            if self.blacked_out(start) || found.iter().any(|o: &Opening| o.start == start) {
                continue;
            }
            found.push(Opening {
                start,
                end: start + self.length(),
            });
        }
        Ok(found)
    }
}

/// All windows, and which host is in which.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    windows: BTreeMap<String, Window>,
}

impl Windows {
    /// Parses a windows TOML file; every window must parse or none is loaded.
    pub fn from_toml(text: &str) -> Result<Self, WindowError> {
        let file: WindowsFile =
            toml::from_str(text).map_err(|e| WindowError::File(e.to_string()))?;
        if file.version != WINDOWS_VERSION {
            return Err(WindowError::File(format!(
                "version: expected {WINDOWS_VERSION}, found {}",
                file.version
            )));
        }
        Self::new(file.windows)
    }

    pub fn new(specs: Vec<WindowSpec>) -> Result<Self, WindowError> {
        let mut windows = BTreeMap::new();
        for spec in specs {
            let name = spec.name.clone();
            if windows.insert(name.clone(), Window::new(spec)?).is_some() {
                return Err(WindowError::Duplicate { window: name });
            }
        }
        Ok(Self { windows })
    }

    pub fn get(&self, name: &str) -> Option<&Window> {
        self.windows.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Window> {
        self.windows.values()
    }

    /// The window `host` is in: its own `maintenance_window` first, then a window listing it by
    /// name, then one listing its group (class or `group` tag).
    pub fn window_for(&self, host: &Host) -> Result<&Window, WindowError> {
        if let Some(name) = &host.maintenance_window {
            return self.windows.get(name).ok_or_else(|| WindowError::Unknown {
                host: host.name.clone(),
                window: name.clone(),
            });
        }
        if let Some(window) = self
            .windows
            .values()
            .find(|w| w.spec.hosts.iter().any(|h| h == &host.name))
        {
            return Ok(window);
        }
        let group = host.tags.get("group").map(String::as_str);
        self.windows
            .values()
            .find(|w| {
                w.spec
                    .groups
                    .iter()
                    .any(|g| g == host.class.as_str() || Some(g.as_str()) == group)
            })
            .ok_or_else(|| WindowError::NoWindow {
                host: host.name.clone(),
            })
    }

    /// Whether `host` may be changed at `at`. A host without a window is never open.
    pub fn is_open(&self, host: &Host, at: Timestamp) -> Result<bool, WindowError> {
        self.window_for(host)?.is_open(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn spec(cron: &str, tz: &str, minutes: u32) -> WindowSpec {
        WindowSpec {
            name: "w".into(),
            cron: cron.into(),
            timezone: tz.into(),
            duration_minutes: minutes,
            blackout: vec![],
            hosts: vec![],
            groups: vec![],
        }
    }

    #[test]
    fn saturday_night_in_berlin() {
        // 02:00 Berlin in November is 01:00 UTC.
        let w = Window::new(spec("0 2 * * SAT", "Europe/Berlin", 240)).unwrap();
        assert!(!w.is_open(at("2026-11-28T00:59:00Z")).unwrap());
        assert!(w.is_open(at("2026-11-28T01:00:00Z")).unwrap());
        assert!(w.is_open(at("2026-11-28T04:59:00Z")).unwrap());
        assert!(!w.is_open(at("2026-11-28T05:00:00Z")).unwrap());
        assert!(!w.is_open(at("2026-11-27T02:00:00Z")).unwrap());
        let next = w.next_openings(at("2026-11-26T10:00:00Z"), 2).unwrap();
        assert_eq!(next[0].start, at("2026-11-28T01:00:00Z"));
        assert_eq!(next[1].start, at("2026-12-05T01:00:00Z"));
        // Summer time: 02:00 Berlin is 00:00 UTC.
        assert!(w.is_open(at("2026-06-27T00:30:00Z")).unwrap());
    }

    #[test]
    fn blackout_dates_shut_the_window() {
        let mut s = spec("0 22 * * *", "UTC", 180);
        s.blackout = vec![NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()];
        let w = Window::new(s).unwrap();
        assert!(w.is_open(at("2026-12-23T22:30:00Z")).unwrap());
        assert!(!w.is_open(at("2026-12-24T22:30:00Z")).unwrap());
        // The opening that started on the 24th does not spill into the 25th.
        assert!(!w.is_open(at("2026-12-25T00:30:00Z")).unwrap());
        let next = w.next_openings(at("2026-12-24T00:00:00Z"), 1).unwrap();
        assert_eq!(next[0].start, at("2026-12-25T22:00:00Z"));
    }

    #[test]
    fn bad_windows_are_named_errors() {
        let err = Window::new(spec("0 25 * * *", "UTC", 60)).unwrap_err();
        assert!(matches!(err, WindowError::Cron { .. }), "{err}");
        assert!(err.to_string().contains("0 25 * * *"), "{err}");
        let err = Window::new(spec("every sunday", "UTC", 60)).unwrap_err();
        assert!(matches!(err, WindowError::Cron { .. }), "{err}");
        let err = Window::new(spec("0 2 * * *", "Mars/Olympus", 60)).unwrap_err();
        assert!(matches!(err, WindowError::TimeZone { .. }), "{err}");
        let err = Window::new(spec("0 2 * * *", "UTC", 0)).unwrap_err();
        assert!(matches!(err, WindowError::Duration { .. }), "{err}");
        let text = "version = 1\n[[window]]\nname = \"a\"\ncron = \"0 2 * * *\"\nduration_minutes = 60\nfrobnicate = 1\n";
        assert!(matches!(
            Windows::from_toml(text).unwrap_err(),
            WindowError::File(_)
        ));
    }

    #[test]
    fn hosts_find_their_window() {
        let text = r#"
version = 1
[[window]]
name = "web-nights"
cron = "0 1 * * *"
duration_minutes = 120
groups = ["web"]

[[window]]
name = "db-sundays"
cron = "0 3 * * SUN"
timezone = "America/New_York"
duration_minutes = 60
hosts = ["db-1"]
"#;
        let windows = Windows::from_toml(text).unwrap();
        let mut web = Host::new("web-7");
        web.class = ooda_core::HostClass::new("web");
        assert_eq!(windows.window_for(&web).unwrap().spec.name, "web-nights");
        assert_eq!(
            windows.window_for(&Host::new("db-1")).unwrap().spec.name,
            "db-sundays"
        );
        let lost = Host::new("cache-1");
        assert!(matches!(
            windows.window_for(&lost).unwrap_err(),
            WindowError::NoWindow { .. }
        ));
        let mut named = Host::new("x");
        named.maintenance_window = Some("nope".into());
        assert!(matches!(
            windows
                .is_open(&named, at("2026-01-01T01:00:00Z"))
                .unwrap_err(),
            WindowError::Unknown { .. }
        ));
    }

    proptest! {
        #[test]
        fn open_means_inside_an_opening(offset_min in 0i64..(60 * 24 * 30), hour in 0u32..24, minutes in 1u32..600) {
            let w = Window::new(spec(&format!("0 {hour} * * *"), "Europe/London", minutes)).unwrap();
            let t = at("2026-03-01T00:00:00Z") + Duration::minutes(offset_min);
            match w.opening_at(t).unwrap() {
                Some(o) => prop_assert!(o.start <= t && t < o.end),
                None => {
                    let next = w.next_openings(t, 1).unwrap();
                    prop_assert!(next.is_empty() || next[0].start > t);
                }
            }
        }

        #[test]
        fn arbitrary_expressions_never_panic(expr in "[0-9*/,\\- A-Z#L?]{0,24}") {
            if let Ok(w) = Window::new(spec(&expr, "UTC", 60)) {
                let _ = w.is_open(at("2026-03-01T00:00:00Z"));
            }
        }
    }
}
