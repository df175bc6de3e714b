//! Verification: after the runbook, the triggering signals are watched for a window (5–15 min,
//! virtual time in tests). Signals lag a fix (rates over minutes, an alert's keep-firing time), so
//! during the first half of the window they may still read out of band; once back in band they
//! must stay there, and they must be back by half the window and in band for at least its second
//! half. Anything else fails — and a failed verification escalates. Fail closed: a signal that
//! cannot be read is not "in band".

use std::time::Duration;

use ooda_core::Timestamp;
use serde::{Deserialize, Serialize};

/// How long to watch; clamped to 5–15 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyWindow(Duration);

impl VerifyWindow {
    pub const MIN: Duration = Duration::from_secs(60);
    pub const MAX: Duration = Duration::from_secs(15 * 60);

    pub fn new(window: Duration) -> Self {
        Self(window.clamp(Self::MIN, Self::MAX))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for VerifyWindow {
    fn default() -> Self {
        Self(Duration::from_secs(10 * 60))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Watching,
    Passed,
    Failed,
}

/// One verification in progress (persisted with the incident between ticks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub started: Timestamp,
    pub window: VerifyWindow,
    pub looks: u32,
    pub verdict: Verdict,
    pub reason: String,
    /// The first look that found the signals back in band.
    #[serde(default)]
    pub in_band_since: Option<Timestamp>,
}

impl Verification {
    pub fn start(at: Timestamp, window: VerifyWindow) -> Self {
        Self {
            started: at,
            window,
            looks: 0,
            verdict: Verdict::Watching,
            reason: String::new(),
            in_band_since: None,
        }
    }

    /// Records one look at `now`: `Some(true)` in band, `Some(false)` out of band, `None`
    /// unreadable. A decided verification does not change.
    pub fn observe(&mut self, now: Timestamp, in_band: Option<bool>) -> Verdict {
        if self.verdict != Verdict::Watching {
            return self.verdict;
        }
        let window =
            chrono::Duration::from_std(self.window.duration()).unwrap_or(chrono::Duration::MAX);
        let settle = window / 2;
        match in_band {
            Some(true) => {
                self.looks += 1;
                self.in_band_since.get_or_insert(now);
            }
            Some(false) if self.in_band_since.is_some() => {
                self.verdict = Verdict::Failed;
                self.reason = format!("signal back out of band at {now}");
                return self.verdict;
            }
            Some(false) if now - self.started > settle => {
                self.verdict = Verdict::Failed;
                self.reason = format!(
                    "signal still out of band at {now}, {} s after the fix",
                    (now - self.started).num_seconds()
                );
                return self.verdict;
            }
            // Still settling: the fix may not show yet.
            Some(false) => return self.verdict,
            None => {
                self.verdict = Verdict::Failed;
                self.reason = format!("signal unreadable at {now}: cannot confirm the fix");
                return self.verdict;
            }
        }
        let back_for = self
            .in_band_since
            .map_or(chrono::Duration::zero(), |t| now - t);
        if now - self.started >= window && back_for >= settle {
            self.verdict = Verdict::Passed;
            self.reason = format!(
                "in band for {} looks over {} s",
                self.looks,
                back_for.num_seconds()
            );
        }
        self.verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_core::clock::from_millis;
    use proptest::prelude::*;

    #[test]
    fn passes_only_after_the_whole_window_in_band() {
        let mut v = Verification::start(from_millis(0), VerifyWindow::default());
        for minute in 1..10 {
            assert_eq!(
                v.observe(from_millis(minute * 60_000), Some(true)),
                Verdict::Watching
            );
        }
        assert_eq!(v.observe(from_millis(600_000), Some(true)), Verdict::Passed);
        assert_eq!(
            v.observe(from_millis(660_000), Some(false)),
            Verdict::Passed,
            "decided"
        );
    }

    #[test]
    fn the_window_is_clamped() {
        assert_eq!(
            VerifyWindow::new(Duration::from_secs(1)).duration(),
            VerifyWindow::MIN
        );
        assert_eq!(
            VerifyWindow::new(Duration::from_secs(99_999)).duration(),
            VerifyWindow::MAX
        );
    }

    #[test]
    fn a_signal_may_settle_in_the_first_half_then_must_stay_in_band() {
        let window = VerifyWindow::default();
        // Out of band for two looks (the alert still fires), then in band: passes.
        let mut v = Verification::start(from_millis(0), window);
        for minute in 1..=2 {
            assert_eq!(
                v.observe(from_millis(minute * 60_000), Some(false)),
                Verdict::Watching
            );
        }
        for minute in 3..10 {
            assert_eq!(
                v.observe(from_millis(minute * 60_000), Some(true)),
                Verdict::Watching
            );
        }
        assert_eq!(v.observe(from_millis(600_000), Some(true)), Verdict::Passed);
        // Back in band, then out again: fails.
        let mut v = Verification::start(from_millis(0), window);
        v.observe(from_millis(60_000), Some(true));
        assert_eq!(
            v.observe(from_millis(120_000), Some(false)),
            Verdict::Failed
        );
        // Never back by half the window: fails.
        let mut v = Verification::start(from_millis(0), window);
        for minute in 1..=5 {
            assert_eq!(
                v.observe(from_millis(minute * 60_000), Some(false)),
                Verdict::Watching
            );
        }
        assert_eq!(
            v.observe(from_millis(6 * 60_000), Some(false)),
            Verdict::Failed
        );
        // Back just before half the window: passes only once in band for half the window.
        let mut v = Verification::start(from_millis(0), window);
        v.observe(from_millis(4 * 60_000), Some(false));
        v.observe(from_millis(5 * 60_000), Some(true));
        assert_eq!(
            v.observe(from_millis(10 * 60_000), Some(true)),
            Verdict::Passed
        );
    }

    proptest! {
        /// Passed implies the window elapsed, the signal came back by half of it and no look was
        /// out of band (or unreadable) after it came back; an unreadable look always fails.
        #[test]
        fn verdicts_follow_the_looks(looks in proptest::collection::vec(proptest::option::of(any::<bool>()), 1..30)) {
            let window_min = 5;
            let mut v = Verification::start(from_millis(0), VerifyWindow::new(Duration::from_secs(window_min * 60)));
            let mut back: Option<usize> = None;
            let mut broken = false;
            for (i, look) in looks.iter().enumerate() {
                let minute = i as i64 + 1;
                let now = from_millis(minute * 60_000);
                let before = v.verdict;
                let verdict = v.observe(now, *look);
                if before != Verdict::Watching {
                    prop_assert_eq!(verdict, before, "decided verdicts stay");
                    continue;
                }
                match look {
                    Some(true) => { back.get_or_insert(i); }
                    Some(false) if back.is_some() => broken = true,
                    Some(false) if minute as f64 > window_min as f64 * 60.0 / 2.0 / 60.0 => broken = true,
                    Some(false) => {}
                    None => broken = true,
                }
                if broken {
                    prop_assert_eq!(verdict, Verdict::Failed);
                } else if verdict == Verdict::Passed {
                    prop_assert!(minute >= window_min as i64);
                    prop_assert!(back.is_some());
                }
            }
        }
    }
}
