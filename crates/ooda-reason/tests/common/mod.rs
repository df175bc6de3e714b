//! Fixtures shared by the agent and injection tests: a disk-full case, probes, the shipped
//! catalogue and runbooks, and builders for wire-exact Anthropic and OpenAI replies.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ooda_connect::anthropic::{AnthropicClient, AnthropicConfig};
use ooda_connect::openai::{OpenAiClient, OpenAiConfig};
use ooda_connect::scripted::Reply;
use ooda_core::value::{HttpUrl, Seconds, Secret};
use ooda_core::{IncidentId, Severity};
use ooda_incident::catalogue::Catalogue;
use ooda_incident::evidence::{
    Change, CmdbRecord, Evidence, EvidenceItem, LogTemplate, MetricReading, Observation, Probe,
    ProbeError, ProbeQuery, StaticProbe,
};
use ooda_incident::lifecycle::Incident;
use ooda_incident::reasoner::Tools;
use ooda_incident::runbook::Runbook;
use ooda_reason::agent::{Limits, Price, Routing, Slot};
use ooda_reason::provider::{Anthropic, OpenAi};
use ooda_reason::redact::RedactOptions;
use ooda_reason::{LlmReasoner, Redactor};
use serde_json::{json, Value};

pub const API_KEY: &str = "sk-ant-api03-TESTKEY-never-in-a-body-0000";
pub const KEY_VAR: &str = "OODA_REASON_TEST_ANTHROPIC_KEY";

pub fn catalogue() -> Catalogue {
    Catalogue::embedded().expect("catalogue")
}

pub fn runbooks() -> Vec<Runbook> {
    ooda_incident::runbook::library::shipped().expect("runbooks")
}

pub fn incident(host: &str, text: &[&str]) -> Incident {
    let mut incident = Incident::open(
        IncidentId::from_u128(7),
        Some(host.to_owned()),
        "disk usage high".into(),
        Severity::Critical,
        ooda_core::clock::from_millis(10 * 3_600_000),
    );
    incident.text = text.iter().map(|s| (*s).to_owned()).collect();
    incident
}

pub fn metrics() -> Observation {
    Observation::Metrics {
        readings: vec![
            MetricReading {
                metric: "disk_used_pct".into(),
                value: 97.0,
                low: 0.0,
                high: 85.0,
            },
            MetricReading {
                metric: "inodes_used_pct".into(),
                value: 12.0,
                low: 0.0,
                high: 85.0,
            },
        ],
    }
}

pub fn logs(extra: &[&str]) -> Observation {
    let mut templates = vec![LogTemplate {
        template: "ERROR write <n> bytes: No space left on device".into(),
        count: 12,
    }];
    templates.extend(extra.iter().map(|t| LogTemplate {
        template: (*t).to_owned(),
        count: 1,
    }));
    Observation::Logs { templates }
}

pub fn cmdb(host: &str, owner: &str) -> Observation {
    Observation::Cmdb {
        record: CmdbRecord {
            host: host.into(),
            class: "web".into(),
            environment: "prod".into(),
            services: vec!["api".into()],
            owner: owner.into(),
        },
    }
}

pub fn changes(summary: &str) -> Observation {
    Observation::Changes {
        changes: vec![Change {
            kind: "patch".into(),
            summary: summary.into(),
            at: ooda_core::clock::from_millis(9 * 3_600_000),
        }],
    }
}

pub fn evidence(items: Vec<(&str, Observation)>) -> Evidence {
    let mut evidence = Evidence::default();
    for (probe, observation) in items {
        evidence.push(EvidenceItem::new(probe, observation));
    }
    evidence
}

pub fn query() -> ProbeQuery {
    ProbeQuery {
        incident: IncidentId::from_u128(7),
        host: Some("web-1".into()),
        labels: BTreeMap::new(),
        at: ooda_core::clock::from_millis(10 * 3_600_000),
        look_back: Duration::from_secs(4 * 3600),
    }
}

/// Probes the model may call: metrics, logs, and any extra.
pub fn tools(extra: Vec<Arc<dyn Probe>>) -> Tools {
    let mut probes: Vec<Arc<dyn Probe>> = vec![
        Arc::new(StaticProbe::new("metrics", metrics())),
        Arc::new(StaticProbe::new("logs", logs(&[]))),
        Arc::new(StaticProbe {
            name: "deploys/file".into(),
            answer: Err(ProbeError::Failed("deploy file missing".into())),
            delay: Duration::ZERO,
        }),
    ];
    probes.extend(extra);
    Tools::new(probes, query(), Duration::from_secs(5))
}

pub fn anthropic_slot(url: &str, model: &str) -> Slot {
    std::env::set_var(KEY_VAR, API_KEY);
    let mut config = AnthropicConfig::new(
        HttpUrl::parse(url).expect("url"),
        Secret::Env(KEY_VAR.into()),
    );
    config.backoff = Seconds(Duration::from_millis(5));
    config.max_wait = Seconds(Duration::from_millis(20));
    config.max_retries = 2;
    config.timeout = Seconds(Duration::from_secs(10));
    Slot {
        model: Arc::new(Anthropic::new(
            AnthropicClient::new(config).expect("client"),
        )),
        name: model.into(),
        price: Price {
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
        },
    }
}

pub fn openai_slot(url: &str, model: &str) -> Slot {
    let mut config = OpenAiConfig::new(HttpUrl::parse(&format!("{url}/v1")).expect("url"));
    config.backoff = Seconds(Duration::from_millis(5));
    config.max_wait = Seconds(Duration::from_millis(20));
    config.max_retries = 2;
    config.timeout = Seconds(Duration::from_secs(10));
    Slot {
        model: Arc::new(OpenAi::new(OpenAiClient::new(config).expect("client"))),
        name: model.into(),
        price: Price::default(),
    }
}

pub fn reasoner(slot: Slot, runbooks: Vec<Runbook>, limits: Limits) -> LlmReasoner {
    let redactor = Redactor::new(&RedactOptions::default()).with_literals([API_KEY.to_owned()]);
    LlmReasoner::new(
        Routing {
            triage: None,
            root_cause: slot,
        },
        catalogue(),
        runbooks,
        redactor,
    )
    .with_limits(limits)
}

// ---- Anthropic replies (Messages API shapes) ----

pub fn a_tool_use(calls: &[(&str, &str, Value)]) -> Reply {
    a_tool_use_usage(calls, 400, 60)
}

pub fn a_tool_use_usage(calls: &[(&str, &str, Value)], input: u64, output: u64) -> Reply {
    let mut content = vec![json!({"type": "text", "text": "Let me check."})];
    for (id, name, input) in calls {
        content.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
    }
    Reply::json(
        200,
        json!({"id": "msg_x", "type": "message", "role": "assistant", "model": "m",
               "content": content, "stop_reason": "tool_use", "stop_sequence": null,
               "usage": {"input_tokens": input, "output_tokens": output}})
        .to_string(),
    )
}

pub fn a_text(text: &str) -> Reply {
    Reply::json(
        200,
        json!({"id": "msg_t", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
               "stop_sequence": null, "usage": {"input_tokens": 300, "output_tokens": 20}})
        .to_string(),
    )
}

pub fn a_submit(id: &str, answer: Value) -> Reply {
    a_tool_use(&[(id, "submit_answer", answer)])
}

/// A correct disk-full answer citing `evidence_id`.
pub fn disk_answer(evidence_id: &str, confidence: f64) -> Value {
    json!({
        "root_cause": "disk_full",
        "confidence": confidence,
        "hypotheses": [
            {"cause": "disk_full", "confidence": confidence, "supporting": [evidence_id], "contradicting": [], "reasoning": "disk at 97%, ENOSPC in logs"},
            {"cause": "inode_exhaustion", "confidence": 0.02, "supporting": [], "contradicting": [evidence_id]}
        ],
        "proposed_actions": [{"runbook": "disk_full", "reason": "frees allowlisted scratch space"}],
        "post_mortem": "The data disk filled up; writes failed with ENOSPC."
    })
}

// ---- OpenAI replies (chat completions shapes) ----

pub fn o_tool_calls(calls: &[(&str, &str, Value)]) -> Reply {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
        .collect();
    Reply::json(
        200,
        json!({"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "local",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": tool_calls}, "finish_reason": "tool_calls"}],
               "usage": {"prompt_tokens": 500, "completion_tokens": 40, "total_tokens": 540}})
        .to_string(),
    )
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
