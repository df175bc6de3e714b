//! Circuit breakers, one per action type: N failures within a window, or more executions in the
//! window than the fleet-wide rate limit, open the breaker and the gate escalates instead of
//! acting. After a cool-down one trial action is let through (half-open); its outcome closes or
//! re-opens the breaker.
//!
//! State is per process and in memory: a restart closes every breaker, which is acceptable
//! because the per-incident budget (in the store) still bounds what a restarted agent can do.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use ooda_core::ActionKind;

use crate::config::BreakerConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Closed,
    Open { until_ms: i64 },
    HalfOpen { trial_in_flight: bool },
}

#[derive(Debug)]
struct Breaker {
    state: State,
    failures: VecDeque<i64>,
    executions: VecDeque<i64>,
}

/// Why a breaker refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub until_ms: Option<i64>,
    pub reason: String,
}

#[derive(Debug)]
pub struct Breakers {
    config: BreakerConfig,
    breakers: Mutex<HashMap<ActionKind, Breaker>>,
}

impl Breakers {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            breakers: Mutex::new(HashMap::new()),
        }
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.config.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    fn cooldown_ms(&self) -> i64 {
        i64::try_from(self.config.cooldown_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// May an action of `kind` run at `now_ms`? On `Ok` the caller must later call
    /// [`record`](Self::record) with the outcome (a half-open breaker waits for it).
    pub fn check(&self, kind: ActionKind, now_ms: i64) -> Result<(), Open> {
        let Ok(mut breakers) = self.breakers.lock() else {
            return Err(Open {
                until_ms: None,
                reason: "breaker state poisoned by a panic".into(),
            });
        };
        let window = self.window_ms();
        let cooldown = self.cooldown_ms();
        let breaker = breakers.entry(kind).or_insert_with(|| Breaker {
            state: State::Closed,
            failures: VecDeque::new(),
            executions: VecDeque::new(),
        });
        prune(&mut breaker.executions, now_ms, window);
        prune(&mut breaker.failures, now_ms, window);
        match breaker.state {
            State::Open { until_ms } if now_ms < until_ms => Err(Open {
                until_ms: Some(until_ms),
                reason: format!("breaker for {kind} is open"),
            }),
            State::Open { .. } => {
                breaker.state = State::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(())
            }
            State::HalfOpen {
                trial_in_flight: true,
            } => Err(Open {
                until_ms: None,
                reason: format!(
                    "breaker for {kind} is half-open and its trial action is still running"
                ),
            }),
            State::HalfOpen {
                trial_in_flight: false,
            } => {
                breaker.state = State::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(())
            }
            State::Closed => {
                if breaker.executions.len() >= self.config.max_rate as usize {
                    let until_ms = now_ms.saturating_add(cooldown);
                    breaker.state = State::Open { until_ms };
                    return Err(Open {
                        until_ms: Some(until_ms),
                        reason: format!(
                            "{} {kind} actions within {}s reached the fleet-wide limit of {}",
                            breaker.executions.len(),
                            self.config.window_secs,
                            self.config.max_rate
                        ),
                    });
                }
                Ok(())
            }
        }
    }

    /// Records the outcome of an action that [`check`](Self::check) let through.
    pub fn record(&self, kind: ActionKind, now_ms: i64, succeeded: bool) {
        let Ok(mut breakers) = self.breakers.lock() else {
            return;
        };
        let window = self.window_ms();
        let cooldown = self.cooldown_ms();
        let Some(breaker) = breakers.get_mut(&kind) else {
            return;
        };
        breaker.executions.push_back(now_ms);
        if !succeeded {
            breaker.failures.push_back(now_ms);
        }
        prune(&mut breaker.executions, now_ms, window);
        prune(&mut breaker.failures, now_ms, window);
        breaker.state = match (&breaker.state, succeeded) {
            (State::HalfOpen { .. }, true) => {
                breaker.failures.clear();
                State::Closed
            }
            (State::HalfOpen { .. }, false) => State::Open {
                until_ms: now_ms.saturating_add(cooldown),
            },
            (State::Closed, false) if breaker.failures.len() >= self.config.failures as usize => {
                tracing::warn!(action = %kind, failures = breaker.failures.len(), "circuit breaker opened");
                State::Open {
                    until_ms: now_ms.saturating_add(cooldown),
                }
            }
            (state, _) => state.clone(),
        };
    }

    /// Gives back a check that led to no execution (refused later, e.g. by the budget): a
    /// half-open breaker may let its next trial through.
    pub fn release(&self, kind: ActionKind) {
        if let Ok(mut breakers) = self.breakers.lock() {
            if let Some(breaker) = breakers.get_mut(&kind) {
                if breaker.state
                    == (State::HalfOpen {
                        trial_in_flight: true,
                    })
                {
                    breaker.state = State::HalfOpen {
                        trial_in_flight: false,
                    };
                }
            }
        }
    }

    /// `closed`, `open` or `half_open` (for status output).
    pub fn state(&self, kind: ActionKind) -> &'static str {
        match self
            .breakers
            .lock()
            .ok()
            .and_then(|b| b.get(&kind).map(|b| b.state.clone()))
        {
            None | Some(State::Closed) => "closed",
            Some(State::Open { .. }) => "open",
            Some(State::HalfOpen { .. }) => "half_open",
        }
    }
}

fn prune(times: &mut VecDeque<i64>, now_ms: i64, window_ms: i64) {
    while times
        .front()
        .is_some_and(|t| now_ms.saturating_sub(*t) >= window_ms)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            failures: 3,
            window_secs: 60,
            max_rate: 5,
            cooldown_secs: 100,
        }
    }

    #[test]
    fn failures_open_then_half_open_then_close() {
        let b = Breakers::new(config());
        let k = ActionKind::RestartService;
        for t in 0..3 {
            b.check(k, t).unwrap();
            b.record(k, t, false);
        }
        assert_eq!(b.state(k), "open");
        assert!(b.check(k, 50_000).is_err());
        assert!(
            b.check(ActionKind::Scale, 50_000).is_ok(),
            "per action type"
        );
        b.check(k, 100_002).unwrap();
        assert_eq!(b.state(k), "half_open");
        assert!(b.check(k, 100_003).is_err(), "one trial at a time");
        b.record(k, 100_004, true);
        assert_eq!(b.state(k), "closed");
        b.check(k, 100_005).unwrap();
    }

    #[test]
    fn a_failed_trial_reopens() {
        let b = Breakers::new(config());
        let k = ActionKind::Reboot;
        for t in 0..3 {
            b.check(k, t).unwrap();
            b.record(k, t, false);
        }
        b.check(k, 200_000).unwrap();
        b.record(k, 200_001, false);
        assert_eq!(b.state(k), "open");
        assert!(b.check(k, 250_000).is_err());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let b = Breakers::new(config());
        let k = ActionKind::KillProcess;
        for t in [0, 61_000, 122_000] {
            b.check(k, t).unwrap();
            b.record(k, t, false);
        }
        assert_eq!(b.state(k), "closed");
    }

    #[test]
    fn the_fleet_wide_rate_limit_opens_even_when_everything_succeeds() {
        let b = Breakers::new(config());
        let k = ActionKind::RestartService;
        for t in 0..5 {
            b.check(k, t).unwrap();
            b.record(k, t, true);
        }
        let open = b.check(k, 6).unwrap_err();
        assert!(open.reason.contains("fleet-wide"), "{open:?}");
    }
}
