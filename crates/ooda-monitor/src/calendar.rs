//! Calendar events: which days are not ordinary days. The baseline asks once per day (the answer
//! is cached per series), never per sample, so a long calendar costs nothing on the hot path.

use chrono::{Datelike, NaiveDate};

use crate::baseline::DayKind;
use crate::config::{CalendarEvent, CalendarMode, CalendarRule};

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
            if matches(&event.rule, date) {
                return match event.mode {
                    CalendarMode::OwnProfile => DayKind::OwnProfile,
                    CalendarMode::Exclude => DayKind::Exclude,
                };
            }
        }
        DayKind::Ordinary
    }
}

fn matches(rule: &CalendarRule, date: NaiveDate) -> bool {
    match rule {
        CalendarRule::Dates { dates } => dates.contains(&date),
        CalendarRule::MonthEnd { days } => {
            let next_month_first = if date.month() == 12 {
                NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
            };
            next_month_first
                .map(|first| (first - date).num_days() <= i64::from(*days))
                .unwrap_or(false)
        }
        CalendarRule::Yearly { days } => {
            let key = format!("{:02}-{:02}", date.month(), date.day());
            days.iter().any(|d| d == &key)
        }
    }
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
                rule: CalendarRule::MonthEnd { days: 2 },
                mode: CalendarMode::OwnProfile,
            },
            CalendarEvent {
                name: "christmas".into(),
                rule: CalendarRule::Yearly {
                    days: vec!["12-25".into()],
                },
                mode: CalendarMode::Exclude,
            },
            CalendarEvent {
                name: "launch".into(),
                rule: CalendarRule::Dates {
                    dates: vec![NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")],
                },
                mode: CalendarMode::Exclude,
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
