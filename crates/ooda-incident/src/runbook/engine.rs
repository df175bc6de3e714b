//! The runbook engine: one step at a time through the Gate, re-evaluating after each step.
//!
//! Rules it must never break: it stops as soon as the problem is gone; it never continues past a
//! failed or refused step; after a failure it rolls back, newest first, every step that ran and
//! can be undone (each rollback again through the Gate) and reports the rest; it never acts when
//! a variable, a precondition or a signal it needs cannot be established.

use std::collections::BTreeMap;

use ooda_core::{Action, ActionId, ActionRequest, Host, IncidentId, Principal};
use serde::{Deserialize, Serialize};

use super::{Rollback, Runbook};
use crate::gate::{ActionGate, GateAnswer};

/// What the engine asks about the world between steps (read-only).
pub trait Observer {
    /// Whether `signal` is observed now; `None` when it cannot be told (probe down).
    fn signal_present(&self, signal: &str) -> Option<bool>;
    /// Whether a governance precondition holds for `request`.
    fn precondition(&self, name: &str, request: &ActionRequest) -> Result<bool, String>;
}

/// Who, where and how sure: the parts of every request the engine builds.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub incident: IncidentId,
    pub host: Host,
    pub confidence: f64,
    pub vars: BTreeMap<String, String>,
    pub reason: String,
}

/// One step or rollback the engine submitted, and what the Gate answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    pub rollback: bool,
    pub action: Option<Action>,
    pub answer: GateAnswer,
    /// Why nothing was submitted, when nothing was.
    #[serde(default)]
    pub note: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// A step's verification signal cleared: the problem is gone; later steps did not run.
    Resolved { after_step: String },
    /// Every step ran and succeeded; verification decides whether it worked.
    Completed,
    /// A step waits for a human approval; resume with [`Engine::resume`].
    Parked { step: usize, approval: u64 },
    /// The kill switch is on; nothing more runs until it is off.
    Paused { step: usize },
    /// A step ran and succeeded but its signal has not cleared yet: metrics and alerts lag a
    /// fix, so verification watches it for its window before step `next` is tried.
    Settling { next: usize },
    /// A step failed, was refused, or could not be started; earlier steps were rolled back where
    /// possible. Escalate.
    Stopped { step: usize, reason: String },
}

/// The result of a run: the outcome and every submission in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub runbook: String,
    pub outcome: RunOutcome,
    pub records: Vec<StepRecord>,
}

/// Runs runbooks through a gate.
pub struct Engine<'a> {
    pub gate: &'a dyn ActionGate,
    pub observer: &'a dyn Observer,
    /// Let a step's signal settle (verification) before the next step; off, the next step
    /// follows at once when the signal is still present.
    pub settle: bool,
}

impl Engine<'_> {
    fn request(&self, ctx: &RunContext, action: Action, key: String) -> ActionRequest {
        ActionRequest {
            id: ActionId::new(),
            action,
            host: ctx.host.clone(),
            incident: Some(ctx.incident),
            confidence: ctx.confidence,
            requested_by: Principal::Agent("incident".into()),
            reason: ctx.reason.clone(),
            idempotency_key: Some(key),
            revert: false,
        }
    }

    fn key(ctx: &RunContext, runbook: &Runbook, step: &str, rollback: bool) -> String {
        format!(
            "inc-{}-{}-{}{}",
            ctx.incident,
            runbook.id,
            step,
            if rollback { "-rollback" } else { "" }
        )
    }

    /// Runs `runbook` from its first step.
    pub fn run(&self, runbook: &Runbook, ctx: &RunContext) -> Run {
        self.run_from(runbook, ctx, 0, None, Vec::new())
    }

    /// Continues after the approval that parked position `step` of the run order. `records` are
    /// the run's records so far (for rollback if a later step fails).
    pub fn resume(
        &self,
        runbook: &Runbook,
        ctx: &RunContext,
        step: usize,
        approval: u64,
        records: Vec<StepRecord>,
    ) -> Run {
        let answer = GateAnswer::from(self.gate.resume(approval));
        self.run_from(runbook, ctx, step, Some(answer), records)
    }

    /// Continues at position `step` (after the kill switch was turned off).
    pub fn resume_at(
        &self,
        runbook: &Runbook,
        ctx: &RunContext,
        step: usize,
        records: Vec<StepRecord>,
    ) -> Run {
        self.run_from(runbook, ctx, step, None, records)
    }

    fn run_from(
        &self,
        runbook: &Runbook,
        ctx: &RunContext,
        start: usize,
        mut pending: Option<GateAnswer>,
        mut records: Vec<StepRecord>,
    ) -> Run {
        let order = runbook.order();
        for (position, &index) in order.iter().enumerate().skip(start) {
            let step = &runbook.steps[index];
            let answer = match pending.take() {
                Some(answer) => {
                    let action = step.action.render(&ctx.vars).ok();
                    records.push(StepRecord {
                        step: step.id.clone(),
                        rollback: false,
                        action,
                        answer: answer.clone(),
                        note: Some("resumed after approval".into()),
                    });
                    answer
                }
                None => {
                    if self.gate.paused() {
                        return self.finish(
                            runbook,
                            records,
                            RunOutcome::Paused { step: position },
                        );
                    }
                    let action = match step.action.render(&ctx.vars) {
                        Ok(action) => action,
                        // A later step the facts cannot target does not undo what already ran:
                        // the run ends there and verification judges the steps taken (a disk
                        // that the clean-up emptied needs no log rotation).
                        Err(reason)
                            if records.iter().any(|r| {
                                !r.rollback && matches!(r.answer, GateAnswer::Succeeded { .. })
                            }) =>
                        {
                            records.push(StepRecord {
                                step: step.id.clone(),
                                rollback: false,
                                action: None,
                                answer: GateAnswer::Refused {
                                    code: "unbound".into(),
                                    reason: reason.clone(),
                                },
                                note: Some(format!(
                                    "not run: {reason}; the steps before it are verified instead"
                                )),
                            });
                            return self.finish(runbook, records, RunOutcome::Completed);
                        }
                        Err(reason) => {
                            return self.stop(
                                runbook,
                                ctx,
                                records,
                                position,
                                format!("step {}: {reason}", step.id),
                            );
                        }
                    };
                    let request = self.request(
                        ctx,
                        action.clone(),
                        Self::key(ctx, runbook, &step.id, false),
                    );
                    if let Some(reason) = self.unmet_precondition(step, &request) {
                        return self.stop(
                            runbook,
                            ctx,
                            records,
                            position,
                            format!("step {}: {reason}", step.id),
                        );
                    }
                    let answer = GateAnswer::from(self.gate.submit(request));
                    records.push(StepRecord {
                        step: step.id.clone(),
                        rollback: false,
                        action: Some(action),
                        answer: answer.clone(),
                        note: None,
                    });
                    answer
                }
            };
            match answer {
                GateAnswer::Succeeded { detail } => {
                    if let Some(expected) = &step.expect.output_contains {
                        if !detail.contains(expected.as_str()) {
                            return self.stop(
                                runbook,
                                ctx,
                                records,
                                position,
                                format!("step {}: output does not contain {expected:?}", step.id),
                            );
                        }
                    }
                }
                GateAnswer::Failed { detail } => {
                    return self.stop(
                        runbook,
                        ctx,
                        records,
                        position,
                        format!("step {} failed: {detail}", step.id),
                    );
                }
                GateAnswer::Parked { approval } => {
                    return self.finish(
                        runbook,
                        records,
                        RunOutcome::Parked {
                            step: position,
                            approval,
                        },
                    );
                }
                GateAnswer::Refused { code, .. } if code == "kill_switch" => {
                    return self.finish(runbook, records, RunOutcome::Paused { step: position });
                }
                GateAnswer::Refused { code, reason } => {
                    return self.stop(
                        runbook,
                        ctx,
                        records,
                        position,
                        format!("step {} refused by the gate ({code}): {reason}", step.id),
                    );
                }
            }
            // Re-evaluate: stop as soon as the problem is gone.
            if step.verify.cleared
                && self.observer.signal_present(&step.verify.signal) == Some(false)
            {
                return self.finish(
                    runbook,
                    records,
                    RunOutcome::Resolved {
                        after_step: step.id.clone(),
                    },
                );
            }
            if self.settle && step.verify.cleared && position + 1 < runbook.steps.len() {
                return self.finish(
                    runbook,
                    records,
                    RunOutcome::Settling { next: position + 1 },
                );
            }
        }
        self.finish(runbook, records, RunOutcome::Completed)
    }

    fn unmet_precondition(&self, step: &super::Step, request: &ActionRequest) -> Option<String> {
        for name in &step.preconditions {
            if let Some(signal) = name.strip_prefix("signal_present:") {
                match self.observer.signal_present(signal) {
                    Some(true) => {}
                    Some(false) => return Some(format!("precondition {name}: the signal is gone")),
                    None => return Some(format!("precondition {name}: cannot be established")),
                }
            } else {
                match self.observer.precondition(name, request) {
                    Ok(true) => {}
                    Ok(false) => return Some(format!("precondition {name} does not hold")),
                    Err(e) => {
                        return Some(format!("precondition {name} cannot be established: {e}"))
                    }
                }
            }
        }
        None
    }

    /// Stops at `position`, rolling back the steps that succeeded, newest first.
    fn stop(
        &self,
        runbook: &Runbook,
        ctx: &RunContext,
        mut records: Vec<StepRecord>,
        position: usize,
        reason: String,
    ) -> Run {
        let succeeded: Vec<String> = records
            .iter()
            .filter(|r| !r.rollback && matches!(r.answer, GateAnswer::Succeeded { .. }))
            .map(|r| r.step.clone())
            .collect();
        for step_id in succeeded.iter().rev() {
            let Some(step) = runbook.steps.iter().find(|s| &s.id == step_id) else {
                continue;
            };
            match &step.rollback {
                Rollback::None { reason } => records.push(StepRecord {
                    step: step.id.clone(),
                    rollback: true,
                    action: None,
                    answer: GateAnswer::Refused {
                        code: "not_reversible".into(),
                        reason: reason.clone(),
                    },
                    note: Some(format!("cannot be rolled back: {reason}")),
                }),
                Rollback::Action(template) => match template.render(&ctx.vars) {
                    Ok(action) => {
                        let request = self.request(
                            ctx,
                            action.clone(),
                            Self::key(ctx, runbook, &step.id, true),
                        );
                        let answer = GateAnswer::from(self.gate.submit(request));
                        records.push(StepRecord {
                            step: step.id.clone(),
                            rollback: true,
                            action: Some(action),
                            answer,
                            note: None,
                        });
                    }
                    Err(e) => records.push(StepRecord {
                        step: step.id.clone(),
                        rollback: true,
                        action: None,
                        answer: GateAnswer::Refused {
                            code: "invalid".into(),
                            reason: e.clone(),
                        },
                        note: Some(format!("rollback not submitted: {e}")),
                    }),
                },
            }
        }
        self.finish(
            runbook,
            records,
            RunOutcome::Stopped {
                step: position,
                reason,
            },
        )
    }

    fn finish(&self, runbook: &Runbook, records: Vec<StepRecord>, outcome: RunOutcome) -> Run {
        Run {
            runbook: runbook.id.clone(),
            outcome,
            records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooda_govern::{ApprovalProgress, Decision, KeyProgress, OutcomeStatus, Refusal};
    use std::cell::RefCell;
    use std::sync::Mutex;

    /// A gate that answers from a script and records what it was asked.
    #[derive(Default)]
    struct ScriptedGate {
        answers: Mutex<Vec<Decision>>,
        asked: Mutex<Vec<ActionRequest>>,
        paused: bool,
    }

    /// The Gate's answer when the actuator ran and reported `status`.
    fn executed(status: OutcomeStatus, detail: &str) -> Decision {
        Decision::Executed {
            action: ooda_core::ActionId::new(),
            autonomy: ooda_govern::Autonomy::Alone,
            status,
            detail: detail.into(),
            change: None,
        }
    }

    impl ActionGate for ScriptedGate {
        fn submit(&self, request: ActionRequest) -> Decision {
            self.asked.lock().unwrap().push(request);
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                executed(OutcomeStatus::Succeeded, "ok")
            } else {
                answers.remove(0)
            }
        }
        fn resume(&self, _: u64) -> Decision {
            executed(OutcomeStatus::Succeeded, "ok")
        }
        fn paused(&self) -> bool {
            self.paused
        }
        fn key_progress(&self, _: &str) -> KeyProgress {
            KeyProgress::NeverRan
        }
        fn approval(&self, _: u64) -> Result<ApprovalProgress, String> {
            Ok(ApprovalProgress::Approved)
        }
    }

    struct World {
        present: RefCell<bool>,
    }

    impl Observer for World {
        fn signal_present(&self, _: &str) -> Option<bool> {
            Some(*self.present.borrow())
        }
        fn precondition(&self, _: &str, _: &ActionRequest) -> Result<bool, String> {
            Ok(true)
        }
    }

    fn runbook() -> Runbook {
        super::super::parse(
            "t.toml",
            r#"
id = "t"
title = "t"
cause = "swap_thrashing"
[[step]]
id = "one"
action = { type = "restart_service", service = "${service}" }
preconditions = []
timeout_secs = 10
expect = {}
verify = { signal = "metric.swap_io.high" }
rollback = { type = "restart_service", service = "${service}-previous" }
[[step]]
id = "two"
action = { type = "kill_process", process = "${process}" }
preconditions = []
timeout_secs = 10
expect = {}
verify = { signal = "metric.swap_io.high" }
rollback = { type = "none", reason = "gone" }
[[step]]
id = "three"
action = { type = "rotate_logs", service = "${service}" }
preconditions = []
timeout_secs = 10
expect = {}
verify = { signal = "metric.swap_io.high" }
rollback = { type = "none", reason = "gone" }
"#,
        )
        .unwrap()
    }

    fn ctx() -> RunContext {
        RunContext {
            incident: IncidentId::from_u128(5),
            host: Host::new("h1"),
            confidence: 0.9,
            vars: [("service", "api"), ("process", "java")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            reason: "test".into(),
        }
    }

    #[test]
    fn a_failed_second_step_stops_rolls_back_the_first_and_never_runs_the_third() {
        let gate = ScriptedGate::default();
        gate.answers.lock().unwrap().extend([
            executed(OutcomeStatus::Succeeded, "ok"),
            executed(OutcomeStatus::Failed, "exit 1"),
        ]);
        let world = World {
            present: RefCell::new(true),
        };
        let run = Engine {
            gate: &gate,
            observer: &world,
            settle: false,
        }
        .run(&runbook(), &ctx());
        assert!(
            matches!(run.outcome, RunOutcome::Stopped { step: 1, .. }),
            "{:?}",
            run.outcome
        );
        let asked: Vec<Action> = gate
            .asked
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.action.clone())
            .collect();
        assert_eq!(
            asked,
            vec![
                Action::RestartService {
                    service: "api".into()
                },
                Action::KillProcess {
                    process: "java".into()
                },
                Action::RestartService {
                    service: "api-previous".into()
                },
            ]
        );
        assert!(run.records.last().unwrap().rollback);
    }

    #[test]
    fn stops_as_soon_as_the_signal_clears() {
        let gate = ScriptedGate::default();
        let world = World {
            present: RefCell::new(false),
        };
        let run = Engine {
            gate: &gate,
            observer: &world,
            settle: false,
        }
        .run(&runbook(), &ctx());
        assert_eq!(
            run.outcome,
            RunOutcome::Resolved {
                after_step: "one".into()
            }
        );
        assert_eq!(gate.asked.lock().unwrap().len(), 1);
    }

    #[test]
    fn kill_switch_pauses_and_refusals_stop() {
        let gate = ScriptedGate {
            paused: true,
            ..Default::default()
        };
        let world = World {
            present: RefCell::new(true),
        };
        let run = Engine {
            gate: &gate,
            observer: &world,
            settle: false,
        }
        .run(&runbook(), &ctx());
        assert_eq!(run.outcome, RunOutcome::Paused { step: 0 });
        assert!(gate.asked.lock().unwrap().is_empty());

        let gate = ScriptedGate::default();
        gate.answers
            .lock()
            .unwrap()
            .push(Decision::Refused(Refusal::Budget { used: 8, limit: 8 }));
        let run = Engine {
            gate: &gate,
            observer: &world,
            settle: false,
        }
        .run(&runbook(), &ctx());
        assert!(matches!(run.outcome, RunOutcome::Stopped { step: 0, .. }));
        assert_eq!(gate.asked.lock().unwrap().len(), 1, "nothing to roll back");
    }

    #[test]
    fn a_missing_variable_acts_on_nothing() {
        let gate = ScriptedGate::default();
        let world = World {
            present: RefCell::new(true),
        };
        let mut context = ctx();
        context.vars.clear();
        let run = Engine {
            gate: &gate,
            observer: &world,
            settle: false,
        }
        .run(&runbook(), &context);
        let RunOutcome::Stopped { reason, .. } = run.outcome else {
            panic!()
        };
        assert!(reason.contains("${service}"), "{reason}");
        assert!(gate.asked.lock().unwrap().is_empty());
    }
}
