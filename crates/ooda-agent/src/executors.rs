//! `[executors]` in the agent: `run_template` for a job template on the AWX allowlist goes to
//! the AWX controller (through the patch pillar's idempotent actuator, which keeps a ledger per
//! idempotency key), everything else to the local actuator. The allowlist is also what makes
//! such a template "approved" for the Gate's `template_approved` precondition.

use std::sync::Arc;

use anyhow::Context;
use ooda_config::ExecutorsConfig;
use ooda_core::{Action, ActionRequest, Timestamp};
use ooda_govern::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken, Facts, Precondition};
use ooda_patch::rollout::executor::{PatchActuator, PatchVia, TemplateRunner};
use ooda_store::Store;

/// The local actuator, with AWX in front of it for allowlisted templates when configured.
pub fn actuator(
    local: Arc<dyn Actuator>,
    executors: &ExecutorsConfig,
    store: Arc<dyn Store>,
) -> anyhow::Result<Arc<dyn Actuator>> {
    let Some(awx) = &executors.awx else {
        return Ok(local);
    };
    let client = ooda_connect::awx::AwxClient::new(awx.clone()).context("executors.awx")?;
    let runner: Arc<dyn TemplateRunner> = Arc::new(OwnThreadRunner(Some(Arc::new(client))));
    Ok(Arc::new(Routed {
        local,
        awx: PatchActuator::new(store, None, Some(runner.clone()), PatchVia::Local),
        runner,
    }))
}

/// The Gate's facts, with AWX-allowlisted templates counted as approved.
pub fn facts(inner: Arc<dyn Facts>, executors: &ExecutorsConfig) -> Arc<dyn Facts> {
    match &executors.awx {
        None => inner,
        Some(awx) => Arc::new(AwxFacts {
            inner,
            templates: awx.templates.keys().cloned().collect(),
        }),
    }
}

struct Routed {
    local: Arc<dyn Actuator>,
    awx: PatchActuator,
    runner: Arc<dyn TemplateRunner>,
}

impl Actuator for Routed {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let to_awx = matches!(
            &token.request().action,
            Action::RunTemplate { template } if self.runner.knows(template)
        );
        if to_awx {
            self.awx.execute(token)
        } else {
            self.local.execute(token)
        }
    }

    fn status(&self, idempotency_key: &str) -> ActuatorStatus {
        // A key the AWX ledger knows ran there; any other is the local actuator's.
        match self.awx.status(idempotency_key) {
            ActuatorStatus::NotRun => self.local.status(idempotency_key),
            known => known,
        }
    }
}

/// The AWX client waits on a runtime of its own, which tokio forbids on a thread that already
/// runs async work (the Gate is called from async workers): each job runs on its own thread,
/// and the client (with its runtime) is dropped on one too, since the agent drops its stage
/// inside an async task. `None` only while dropping.
struct OwnThreadRunner(Option<Arc<ooda_connect::awx::AwxClient>>);

impl Drop for OwnThreadRunner {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl TemplateRunner for OwnThreadRunner {
    fn knows(&self, template: &str) -> bool {
        self.0
            .as_deref()
            .is_some_and(|client| TemplateRunner::knows(client, template))
    }

    fn run(&self, template: &str, host: &str, vars: &serde_json::Value) -> Result<String, String> {
        let client = self.0.clone().ok_or("the AWX client is gone")?;
        std::thread::scope(|scope| {
            scope
                .spawn(move || TemplateRunner::run(client.as_ref(), template, host, vars))
                .join()
                .unwrap_or_else(|_| Err("the AWX call panicked".to_owned()))
        })
    }
}

struct AwxFacts {
    inner: Arc<dyn Facts>,
    templates: Vec<String>,
}

impl Facts for AwxFacts {
    fn precondition(
        &self,
        precondition: Precondition,
        request: &ActionRequest,
    ) -> Result<bool, String> {
        if let (Precondition::TemplateApproved, Action::RunTemplate { template }) =
            (precondition, &request.action)
        {
            if self.templates.iter().any(|t| t == template) {
                return Ok(true);
            }
        }
        self.inner.precondition(precondition, request)
    }

    fn maintenance_window_open(&self, host: &str, now: Timestamp) -> Result<bool, String> {
        self.inner.maintenance_window_open(host, now)
    }

    fn active_incidents(&self, host: &str) -> Result<u32, String> {
        self.inner.active_incidents(host)
    }
}
