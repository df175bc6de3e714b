//! Verification: after the runbook, the triggering signals are watched for a window (5–15 min,
//! virtual time in tests). Resolved only when every look in the window found them back in band;
//! one look out of band, or a window with no look at all, fails — and a failed verification
//! escalates. Fail closed: a signal that cannot be read is not "in band".

use std::time::Duration;

use ooda_core::Timestamp;
use serde::{Deserialize, Serialize};

/// How long to watch; clamped to 5–15 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyWindow(Duration);

impl VerifyWindow {
    pub const MIN: Duration = Duration::from_secs(5 * 60);
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
}

impl Verification {
    pub fn start(at: Timestamp, window: VerifyWindow) -> Self {
        Self {
            started: at,
            window,
            looks: 0,
            verdict: Verdict::Watching,
            reason: String::new(),
        }
    }

    /// Records one look at `now`: `Some(true)` in band, `Some(false)` out of band, `None`
    /// unreadable. A decided verification does not change.
    pub fn observe(&mut self, now: Timestamp, in_band: Option<bool>) -> Verdict {
        if self.verdict != Verdict::Watching {
            return self.verdict;
        }
        match in_band {
            Some(true) => self.looks += 1,
            Some(false) => {
                self.verdict = Verdict::Failed;
                self.reason = format!("signal out of band at {now}");
                return self.verdict;
            }
            None => {
                self.verdict = Verdict::Failed;
                self.reason = format!("signal unreadable at {now}: cannot confirm the fix");
                return self.verdict;
            }
        }
        let window =
            chrono::Duration::from_std(self.window.duration()).unwrap_or(chrono::Duration::MAX);
        if now - self.started >= window {
            self.verdict = Verdict::Passed;
            self.reason = format!(
                "in band for {} looks over {} s",
                self.looks,
                self.window.duration().as_secs()
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

    proptest! {
        /// Passed implies every look was in band and the window elapsed; any out-of-band or
        /// unreadable look before that fails.
        #[test]
        fn verdicts_follow_the_looks(looks in proptest::collection::vec(proptest::option::of(any::<bool>()), 1..30)) {
            let mut v = Verification::start(from_millis(0), VerifyWindow::new(Duration::from_secs(300)));
            let mut clean = true;
            for (i, look) in looks.iter().enumerate() {
                let now = from_millis((i as i64 + 1) * 60_000);
                let before = v.verdict;
                let verdict = v.observe(now, *look);
                if before == Verdict::Watching {
                    clean &= *look == Some(true);
                    if verdict == Verdict::Passed {
                        prop_assert!(clean);
                        prop_assert!(i + 1 >= 5);
                    }
                    if !clean {
                        prop_assert_eq!(verdict, Verdict::Failed);
                    }
                }
            }
        }
    }
}
