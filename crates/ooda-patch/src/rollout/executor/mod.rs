//! The actuator behind patch actions: routes `apply_patch` and `run_template` to the local
//! `ansible-playbook` executor or to an AWX controller. Only the gate can call it (it needs an
//! [`ExecutionToken`]); the rollout never holds one.
//!
//! Idempotent on the token's key through a ledger in the store: a key is marked *started* before
//! anything runs and *done* after, so after a crash the gate's reconciliation learns "never ran",
//! "ran: succeeded/failed" or, for a key started but never finished, "unknown" (a human checks).

pub mod ansible;

use std::sync::Arc;

use ooda_core::{Action, Host};
use ooda_govern::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken};
use ooda_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use ansible::{AnsibleConfig, AnsibleError, AnsibleExecutor};

/// Runs a named job template against one host (AWX, or anything with that shape).
pub trait TemplateRunner: Send + Sync {
    /// Whether `template` is on this runner's allowlist.
    fn knows(&self, template: &str) -> bool;
    fn run(&self, template: &str, host: &str, vars: &Value) -> Result<String, String>;
}

#[cfg(feature = "awx")]
impl TemplateRunner for ooda_connect::awx::AwxClient {
    fn knows(&self, template: &str) -> bool {
        self.config().templates.contains_key(template)
    }
    fn run(&self, template: &str, host: &str, vars: &Value) -> Result<String, String> {
        ooda_connect::awx::AwxClient::run(self, template, host, vars)
            .map(|outcome| format!("awx job {} successful", outcome.job))
            .map_err(|e| e.to_string())
    }
}

/// Where package changes (`apply_patch`) go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PatchVia {
    /// The shipped playbooks through local `ansible-playbook` (apt, or dnf for hosts tagged
    /// `package_manager = dnf`).
    Local,
    /// An AWX job template that takes `package` and `version` as extra vars and the host as limit.
    Awx { patch_template: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Ledger {
    Started,
    Done { succeeded: bool, detail: String },
}

pub struct PatchActuator {
    store: Arc<dyn Store>,
    local: Option<AnsibleExecutor>,
    remote: Option<Arc<dyn TemplateRunner>>,
    via: PatchVia,
}

impl PatchActuator {
    pub fn new(
        store: Arc<dyn Store>,
        local: Option<AnsibleExecutor>,
        remote: Option<Arc<dyn TemplateRunner>>,
        via: PatchVia,
    ) -> Self {
        Self {
            store,
            local,
            remote,
            via,
        }
    }

    fn ledger_key(key: &str) -> String {
        format!("patch/actuator/{key}")
    }

    fn ledger(&self, key: &str) -> Result<Option<Ledger>, String> {
        match self
            .store
            .kv_get(&Self::ledger_key(key))
            .map_err(|e| e.to_string())?
        {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("ledger entry for {key}: {e}")),
        }
    }

    fn record(&self, key: &str, entry: &Ledger) -> Result<(), String> {
        let text = serde_json::to_string(entry).map_err(|e| e.to_string())?;
        self.store
            .kv_put(&Self::ledger_key(key), &text)
            .map_err(|e| e.to_string())
    }

    fn package_manager(host: &Host) -> &'static str {
        match host.tags.get("package_manager").map(String::as_str) {
            Some("dnf" | "yum" | "rpm") => "dnf",
            _ => "apt",
        }
    }

    fn local(&self) -> Result<&AnsibleExecutor, String> {
        self.local
            .as_ref()
            .ok_or_else(|| "no local ansible executor configured".to_owned())
    }

    fn dispatch(&self, action: &Action, host: &Host) -> Result<String, String> {
        match action {
            Action::ApplyPatch { package, version } => {
                let vars = json!({ "package": package, "version": version });
                match &self.via {
                    PatchVia::Local => {
                        let template = format!("ooda-patch-{}", Self::package_manager(host));
                        let run = self
                            .local()?
                            .run(&template, &host.name, &vars)
                            .map_err(|e| e.to_string())?;
                        Ok(format!(
                            "{template} on {}: {package} {version}{}",
                            host.name,
                            if run.reboot_required {
                                " (reboot required)"
                            } else {
                                ""
                            }
                        ))
                    }
                    PatchVia::Awx { patch_template } => self
                        .remote
                        .as_ref()
                        .ok_or("patches go to AWX but no AWX controller is configured")?
                        .run(patch_template, &host.name, &vars),
                }
            }
            Action::RunTemplate { template } => {
                if let Some(local) = self.local.as_ref().filter(|l| l.knows(template)) {
                    return local
                        .run(template, &host.name, &json!({}))
                        .map(|run| {
                            format!(
                                "{template} on {}: ok{}",
                                host.name,
                                if run.reboot_required {
                                    " (reboot required)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .map_err(|e| e.to_string());
                }
                match &self.remote {
                    Some(remote) if remote.knows(template) => {
                        remote.run(template, &host.name, &json!({}))
                    }
                    _ => Err(format!(
                        "template {template:?} is on no executor's allowlist"
                    )),
                }
            }
            other => Err(format!("{} is not a patch action", other.kind())),
        }
    }
}

impl Actuator for PatchActuator {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let key = token.idempotency_key().to_owned();
        match self.ledger(&key).map_err(ActuatorError)? {
            Some(Ledger::Done {
                succeeded: true,
                detail,
            }) => return Ok(detail),
            Some(Ledger::Done {
                succeeded: false,
                detail,
            }) => return Err(ActuatorError(detail)),
            Some(Ledger::Started) => {
                return Err(ActuatorError(format!(
                    "{key} was started before and never finished: not running it again"
                )))
            }
            None => {}
        }
        self.record(&key, &Ledger::Started).map_err(ActuatorError)?;
        let request = token.request();
        let result = self.dispatch(&request.action, &request.host);
        let entry = match &result {
            Ok(detail) => Ledger::Done {
                succeeded: true,
                detail: detail.clone(),
            },
            Err(detail) => Ledger::Done {
                succeeded: false,
                detail: detail.clone(),
            },
        };
        if let Err(error) = self.record(&key, &entry) {
            tracing::error!(%key, %error, "actuator ledger not updated");
        }
        result.map_err(ActuatorError)
    }

    fn status(&self, key: &str) -> ActuatorStatus {
        match self.ledger(key) {
            Ok(None) => ActuatorStatus::NotRun,
            Ok(Some(Ledger::Done { succeeded, detail })) => {
                ActuatorStatus::Done { succeeded, detail }
            }
            Ok(Some(Ledger::Started)) | Err(_) => ActuatorStatus::Unknown,
        }
    }
}
