//! Calendar events: which days are not ordinary days. The baseline asks once per day (the answer
//! is cached per series), never per sample, so a long calendar costs nothing on the hot path.

use chrono::{Datelike, NaiveDate};

use crate::baseline::DayKind;
use crate::config::{CalendarEvent, CalendarMode};

const MS_PER_DAY: i64 = 86_400_000;

/// The configured events, compiled for lookup.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    events: Vec<CalendarEvent>,
}

impl Calendar {
    pub fn new(events: &[CalendarEvent]) -> Self {
        Self {
            events: events.to_vec(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How the day holding `time_ms` (UTC) counts. The first matching event wins.
    pub fn classify(&self, time_ms: i64) -> DayKind {
        if self.events.is_empty() {
            return DayKind::Ordinary;
        }
        let Some(date) = NaiveDate::from_num_days_from_ce_opt(
            i32::try_from(time_ms.div_euclid(MS_PER_DAY) + 719_163).unwrap_or(i32::MAX),
        ) else {
            return DayKind::Ordinary;
        };
        for event in &self.events {
            if matches(event, date) {
                return match event.mode {
                    CalendarMode::OwnProfile => DayKind::OwnProfile,
                    CalendarMode::Exclude => DayKind::Exclude,
                };
            }
        }
        DayKind::Ordinary
    }
}

fn matches(event: &CalendarEvent, date: NaiveDate) -> bool {
    if event.dates.contains(&date) {
        return true;
    }
    if let Some(days) = event.month_end_days {
        let next_month_first = if date.month() == 12 {
            NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
        };
        if next_month_first.is_some_and(|first| (first - date).num_days() <= i64::from(days)) {
            return true;
        }
    }
    if !event.yearly.is_empty() {
        let key = format!("{:02}-{:02}", date.month(), date.day());
        return event.yearly.iter().any(|d| d == &key);
    }
    false
}

/// Remembers the last day asked about, so a series asks the calendar once per day.
#[derive(Debug, Clone, Copy)]
pub struct DayCache {
    day: i64,
    kind: DayKind,
}

impl Default for DayCache {
    fn default() -> Self {
        Self {
            day: i64::MIN,
            kind: DayKind::Ordinary,
        }
    }
}

impl DayCache {
    pub fn kind(&mut self, calendar: &Calendar, time_ms: i64) -> DayKind {
        if calendar.is_empty() {
            return DayKind::Ordinary;
        }
        let day = time_ms.div_euclid(MS_PER_DAY);
        if day != self.day {
            self.day = day;
            self.kind = calendar.classify(time_ms);
        }
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn ms(y: i32, m: u32, d: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .expect("valid date")
            .timestamp_millis()
    }

    #[test]
    fn rules_match_their_days() {
        let calendar = Calendar::new(&[
            CalendarEvent {
                name: "month end".into(),
                mode: CalendarMode::OwnProfile,
                dates: Vec::new(),
                month_end_days: Some(2),
                yearly: Vec::new(),
            },
            CalendarEvent {
                name: "christmas".into(),
                mode: CalendarMode::Exclude,
                dates: Vec::new(),
                month_end_days: None,
                yearly: vec!["12-25".into()],
            },
            CalendarEvent {
                name: "launch".into(),
                mode: CalendarMode::Exclude,
                dates: vec![NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")],
                month_end_days: None,
                yearly: Vec::new(),
            },
        ]);
        assert_eq!(calendar.classify(ms(2026, 1, 31)), DayKind::OwnProfile);
        assert_eq!(calendar.classify(ms(2026, 1, 30)), DayKind::OwnProfile);
        assert_eq!(calendar.classify(ms(2026, 1, 29)), DayKind::Ordinary);
        assert_eq!(calendar.classify(ms(2026, 2, 27)), DayKind::OwnProfile);
        assert_eq!(calendar.classify(ms(2025, 12, 25)), DayKind::Exclude);
        assert_eq!(calendar.classify(ms(2026, 3, 3)), DayKind::Exclude);
        assert_eq!(calendar.classify(ms(2026, 3, 4)), DayKind::Ordinary);
    }
}
