//! The reasoner's configuration (a TOML file, `ooda eval reasoners --models FILE`, later a
//! `[reasoner]` section of the main config): named models, which model answers which phase,
//! the loop's limits, redaction options and prices.
//!
//! ```toml
//! [models.local]
//! provider = "openai"                 # any OpenAI-compatible server
//! url = "http://127.0.0.1:8080/v1"    # llama.cpp `llama-server`
//! model = "qwen2.5-7b-instruct"
//!
//! [models.claude]
//! provider = "anthropic"
//! api_key = "${env:ANTHROPIC_API_KEY}"
//! model = "claude-sonnet-4-5"
//! price_input_per_mtok = 3.0
//! price_output_per_mtok = 15.0
//!
//! [routing]
//! triage = "local"        # optional: small model for classification
//! root_cause = "claude"
//!
//! [limits]
//! step_cap = 15
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ooda_connect::anthropic::{AnthropicClient, AnthropicConfig};
use ooda_connect::openai::{OpenAiClient, OpenAiConfig};
use ooda_core::value::{HttpUrl, Seconds, Secret};
use serde::Deserialize;

use crate::agent::{Limits, Price, Routing, Slot};
use crate::model::ChatModel;
use crate::provider::{Anthropic, OpenAi};
use crate::redact::RedactOptions;
use crate::ReasonError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Anthropic,
    Openai,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub provider: Provider,
    /// The model id sent to the server.
    pub model: String,
    /// Anthropic: default `https://api.anthropic.com`. OpenAI-compatible: required, up to the
    /// version segment (`http://127.0.0.1:8080/v1`).
    #[serde(default)]
    pub url: Option<HttpUrl>,
    /// By reference only (`${env:NAME}`, `${file:/path}`). Required for Anthropic.
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub timeout: Option<Seconds>,
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub price_input_per_mtok: f64,
    #[serde(default)]
    pub price_output_per_mtok: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    #[serde(default)]
    pub triage: Option<String>,
    pub root_cause: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default = "d_step_cap")]
    pub step_cap: u32,
    #[serde(default = "d_tool_chars")]
    pub tool_output_chars: usize,
    #[serde(default = "d_budget")]
    pub token_budget: u64,
    #[serde(default = "d_max_tokens")]
    pub max_tokens: u32,
    #[serde(default = "d_repeat")]
    pub repeat_limit: u32,
}

fn d_step_cap() -> u32 {
    Limits::default().step_cap
}
fn d_tool_chars() -> usize {
    Limits::default().tool_output_chars
}
fn d_budget() -> u64 {
    Limits::default().token_budget
}
fn d_max_tokens() -> u32 {
    Limits::default().max_tokens
}
fn d_repeat() -> u32 {
    Limits::default().repeat_limit
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = Limits::default();
        Self {
            step_cap: l.step_cap,
            tool_output_chars: l.tool_output_chars,
            token_budget: l.token_budget,
            max_tokens: l.max_tokens,
            repeat_limit: l.repeat_limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonerConfig {
    #[serde(default = "d_version")]
    pub version: u32,
    pub models: BTreeMap<String, ModelConfig>,
    pub routing: RoutingConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub redact: RedactOptions,
}

fn d_version() -> u32 {
    1
}

impl ReasonerConfig {
    pub fn parse(text: &str) -> Result<Self, ReasonError> {
        let config: Self = toml::from_str(text).map_err(|e| ReasonError::Config {
            field: "reasoner".into(),
            reason: e.message().to_owned(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// What serde cannot check: the version, routing names that exist, URLs and keys each
    /// provider needs. The `[reasoner]` section of the main config is checked the same way.
    pub fn check(&self) -> Result<(), ReasonError> {
        let config = self;
        if config.version != 1 {
            return Err(ReasonError::Config {
                field: "version".into(),
                reason: format!("expected 1, found {}", config.version),
            });
        }
        for (phase, name) in [
            ("routing.root_cause", Some(&config.routing.root_cause)),
            ("routing.triage", config.routing.triage.as_ref()),
        ] {
            if let Some(name) = name {
                if !config.models.contains_key(name) {
                    return Err(ReasonError::Config {
                        field: phase.into(),
                        reason: format!("no model named {name:?} in [models]"),
                    });
                }
            }
        }
        for (name, model) in &config.models {
            if model.provider == Provider::Openai && model.url.is_none() {
                return Err(ReasonError::Config {
                    field: format!("models.{name}.url"),
                    reason: "an OpenAI-compatible model needs the server's base URL, e.g. \"http://127.0.0.1:8080/v1\"".into(),
                });
            }
            if model.provider == Provider::Anthropic && model.api_key.is_none() {
                return Err(ReasonError::Config {
                    field: format!("models.{name}.api_key"),
                    reason: "expected a reference like \"${env:ANTHROPIC_API_KEY}\"".into(),
                });
            }
        }
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            step_cap: self.limits.step_cap.max(1),
            tool_output_chars: self.limits.tool_output_chars.max(200),
            token_budget: self.limits.token_budget,
            max_tokens: self.limits.max_tokens.max(256),
            repeat_limit: self.limits.repeat_limit,
        }
    }

    /// Builds the clients and the routing. Secrets are not read here, only per request.
    pub fn routing(&self) -> Result<Routing, ReasonError> {
        let root_cause = self.slot(&self.routing.root_cause)?;
        let triage = match &self.routing.triage {
            Some(name) => Some(self.slot(name)?),
            None => None,
        };
        Ok(Routing { triage, root_cause })
    }

    /// Every secret value this config references that can be read now, so the redactor cuts
    /// them wherever they appear (a key pasted in a log line must not travel to the model).
    pub fn known_secrets(&self) -> Vec<String> {
        self.models
            .values()
            .filter_map(|m| m.api_key.as_ref())
            .filter_map(|s| s.reveal().ok())
            .collect()
    }

    fn slot(&self, name: &str) -> Result<Slot, ReasonError> {
        let config = self.models.get(name).ok_or_else(|| ReasonError::Config {
            field: "routing".into(),
            reason: format!("no model named {name:?}"),
        })?;
        let model: Arc<dyn ChatModel> = match config.provider {
            Provider::Anthropic => {
                let key = config.api_key.clone().ok_or_else(|| ReasonError::Config {
                    field: format!("models.{name}.api_key"),
                    reason: "missing".into(),
                })?;
                let mut client = match &config.url {
                    Some(url) => AnthropicConfig::new(url.clone(), key),
                    None => AnthropicConfig::new(
                        HttpUrl::parse("https://api.anthropic.com").map_err(|reason| {
                            ReasonError::Config {
                                field: "url".into(),
                                reason,
                            }
                        })?,
                        key,
                    ),
                };
                if let Some(t) = config.timeout {
                    client.timeout = t;
                }
                if let Some(r) = config.max_retries {
                    client.max_retries = r;
                }
                Arc::new(Anthropic::new(
                    AnthropicClient::new(client).map_err(|e| ReasonError::Client(e.to_string()))?,
                ))
            }
            Provider::Openai => {
                let url = config.url.clone().ok_or_else(|| ReasonError::Config {
                    field: format!("models.{name}.url"),
                    reason: "missing".into(),
                })?;
                let mut client = OpenAiConfig::new(url);
                client.api_key = config.api_key.clone();
                if let Some(t) = config.timeout {
                    client.timeout = t;
                }
                if let Some(r) = config.max_retries {
                    client.max_retries = r;
                }
                Arc::new(OpenAi::new(
                    OpenAiClient::new(client).map_err(|e| ReasonError::Client(e.to_string()))?,
                ))
            }
        };
        Ok(Slot {
            model,
            name: config.model.clone(),
            price: Price {
                input_per_mtok: config.price_input_per_mtok,
                output_per_mtok: config.price_output_per_mtok,
            },
        })
    }
}

/// Shortens client timeouts (tests).
pub fn seconds(d: Duration) -> Seconds {
    Seconds(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_llama_cpp_config_parses_and_builds() {
        let config = ReasonerConfig::parse(
            r#"
            [models.local]
            provider = "openai"
            url = "http://127.0.0.1:8080/v1"
            model = "qwen2.5-7b-instruct"
            [routing]
            root_cause = "local"
            triage = "local"
            [limits]
            step_cap = 8
            "#,
        )
        .expect("parses");
        assert_eq!(config.limits().step_cap, 8);
        let routing = config.routing().expect("builds");
        assert_eq!(routing.root_cause.label(), "openai/qwen2.5-7b-instruct");
        assert!(routing.triage.is_some());
    }

    #[test]
    fn errors_name_the_field() {
        let e = ReasonerConfig::parse(
            "[models.a]\nprovider = \"openai\"\nmodel = \"m\"\n[routing]\nroot_cause = \"a\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("models.a.url"), "{e}");
        let e = ReasonerConfig::parse("[models.a]\nprovider = \"anthropic\"\nmodel = \"m\"\napi_key = \"${env:X}\"\n[routing]\nroot_cause = \"b\"\n").unwrap_err();
        assert!(e.to_string().contains("routing.root_cause"), "{e}");
        let e = ReasonerConfig::parse("[models.a]\nprovider = \"anthropic\"\nmodel = \"m\"\napi_key = \"sk-literal\"\n[routing]\nroot_cause = \"a\"\n").unwrap_err();
        assert!(
            !e.to_string().contains("sk-literal"),
            "a literal key is never echoed: {e}"
        );
    }
}
