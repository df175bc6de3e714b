//! The agent loop against scripted, wire-exact fakes of both APIs: parallel tool calls, the step
//! cap, the repeat guard, the token budget, repair, fallbacks on every kind of failure, routing.

mod common;

use common::*;
use ooda_connect::scripted::{Reply, ScriptedServer};
use ooda_incident::reasoner::builtin::{self, BuiltinReasoner};
use ooda_incident::reasoner::{Case, Reasoner};
use ooda_reason::agent::{Limits, Routing};
use serde_json::json;

fn disk_case_evidence() -> ooda_incident::evidence::Evidence {
    evidence(vec![("cmdb", cmdb("web-1", "team-storage"))])
}

fn builtin_confidence(evidence: &ooda_incident::evidence::Evidence, cause: &str) -> f64 {
    let b = BuiltinReasoner::new(catalogue());
    let ranked = b.rank(&builtin::signals(b.catalogue(), evidence), &[]);
    ranked
        .iter()
        .find(|h| h.cause == cause)
        .map(|h| h.confidence)
        .unwrap_or(0.0)
}

#[tokio::test]
async fn anthropic_parallel_tool_calls_then_a_valid_answer() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let server = ScriptedServer::start(vec![
        a_tool_use(&[
            ("toolu_1", "metrics", json!({})),
            ("toolu_2", "logs", json!({})),
        ]),
        a_submit("toolu_3", disk_answer(&metrics_id.0[..12], 0.99)),
    ])
    .await;
    let reasoner = reasoner(
        anthropic_slot(&server.url, "claude-test"),
        runbooks(),
        Limits::default(),
    );
    let incident = incident("web-1", &["disk usage 97% on /var"]);
    let evidence = disk_case_evidence();
    let tools = tools(vec![]);
    let case = Case {
        incident: &incident,
        evidence: &evidence,
        similar: &[],
    };
    let run = reasoner.investigate_traced(case, &tools).await;

    assert_eq!(run.fallback, None, "{:?}", run.report.post_mortem);
    assert_eq!(run.report.reasoner, "llm:anthropic/claude-test");
    assert_eq!(run.report.root_cause.as_deref(), Some("disk_full"));
    assert_eq!(run.steps, 2);
    assert_eq!(run.tool_calls, 2);
    assert_eq!(run.evidence.items.len(), 3, "cmdb + metrics + logs");
    let cap = builtin_confidence(&run.evidence, "disk_full");
    assert!(
        run.report.confidence <= cap + 1e-12,
        "{} > {cap}",
        run.report.confidence
    );
    assert!(
        run.report.confidence > 0.85,
        "strong evidence, confident model: {}",
        run.report.confidence
    );
    assert_eq!(
        run.report.hypotheses[0].supporting,
        vec![metrics_id.clone()]
    );
    run.report
        .validate(&catalogue(), &runbooks(), &run.evidence)
        .expect("valid report");
    assert!(run.cost > 0.0);

    let received = server.received();
    assert_eq!(received.len(), 2);
    let second = received[1].json();
    let results = &second["messages"][2]["content"];
    assert_eq!(results[0]["type"], "tool_result");
    assert_eq!(results[0]["tool_use_id"], "toolu_1");
    assert_eq!(results[1]["tool_use_id"], "toolu_2");
    assert!(results[0]["content"]
        .as_str()
        .unwrap_or("")
        .contains("<data source=\"metrics\""));
    assert_eq!(
        second["tools"].as_array().map(|t| t.len()),
        Some(6),
        "3 probes + runbook + similar + submit"
    );
    assert!(second["tools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "deploys_file"));
}

#[tokio::test]
async fn openai_compatible_parallel_tool_calls_then_a_valid_answer() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let server = ScriptedServer::start(vec![
        o_tool_calls(&[
            ("call_1", "metrics", json!({})),
            ("call_2", "read_runbook", json!({"id": "disk_full"})),
        ]),
        o_tool_calls(&[("call_3", "submit_answer", disk_answer(&metrics_id.0, 0.9))]),
    ])
    .await;
    let reasoner = reasoner(
        openai_slot(&server.url, "qwen2.5-7b"),
        runbooks(),
        Limits::default(),
    );
    let incident = incident("web-1", &[]);
    let evidence = disk_case_evidence();
    let tools = tools(vec![]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert_eq!(run.fallback, None, "{}", run.report.post_mortem);
    assert_eq!(run.report.reasoner, "llm:openai/qwen2.5-7b");
    let second = server.received()[1].json();
    let messages = second["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    let tool_messages: Vec<_> = messages.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(tool_messages.len(), 2);
    assert!(
        tool_messages[1]["content"]
            .as_str()
            .unwrap()
            .contains("clean_scratch"),
        "runbook text"
    );
}

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_is_forced_then_falls_back() {
    // Distinct arguments every time, so the repeat guard does not fire first.
    let responder = std::sync::Arc::new(|i: usize, _: &ooda_connect::scripted::Received| {
        a_tool_use(&[(&format!("toolu_{i}"), "logs", json!({"page": i}))])
    });
    let server = ScriptedServer::start_with(responder).await;
    let limits = Limits {
        step_cap: 4,
        ..Limits::default()
    };
    let reasoner = reasoner(anthropic_slot(&server.url, "m"), runbooks(), limits);
    let incident = incident("web-1", &[]);
    let evidence = disk_case_evidence();
    let tools = tools(vec![]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert!(run.forced);
    let reason = run.fallback.expect("fell back");
    assert!(reason.contains("forced final turn"), "{reason}");
    assert!(
        run.report.reasoner.starts_with("builtin (fallback"),
        "{}",
        run.report.reasoner
    );
    assert!(run
        .report
        .post_mortem
        .contains("built-in reasoner answered"));
    let received = server.received();
    assert_eq!(
        received.len(),
        5,
        "4 investigation turns and the forced one"
    );
    assert_eq!(received[3].json()["tool_choice"]["type"], "auto");
    assert_eq!(
        received[4].json()["tool_choice"],
        json!({"type": "tool", "name": "submit_answer"})
    );
    // Calls on the forced turn were not executed.
    assert_eq!(run.tool_calls, 4);
}

#[tokio::test]
async fn repeated_identical_calls_are_refused_then_the_answer_is_forced() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let mut script: Vec<Reply> = (0..4)
        .map(|i| a_tool_use(&[(&format!("t{i}"), "metrics", json!({}))]))
        .collect();
    script.push(a_submit("t9", disk_answer(&metrics_id.0[..12], 0.8)));
    let server = ScriptedServer::start(script).await;
    let reasoner = reasoner(
        anthropic_slot(&server.url, "m"),
        runbooks(),
        Limits::default(),
    );
    let incident = incident("web-1", &[]);
    let evidence = disk_case_evidence();
    let tools = tools(vec![]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert_eq!(run.fallback, None, "{}", run.report.post_mortem);
    assert_eq!(run.tool_calls, 1, "the probe ran once");
    assert_eq!(
        run.refused_calls
            .iter()
            .filter(|c| c.starts_with("repeat:"))
            .count(),
        3
    );
    assert!(run.forced, "three repeats force the answer");
    let received = server.received();
    let third = received[2].json();
    let result = &third["messages"][4]["content"][0];
    assert_eq!(result["is_error"], true);
    assert!(result["content"]
        .as_str()
        .unwrap()
        .contains("repeated call"));
    assert_eq!(received[4].json()["tool_choice"]["name"], "submit_answer");
}

#[tokio::test]
async fn the_token_budget_forces_the_answer() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let server = ScriptedServer::start(vec![
        a_tool_use_usage(&[("t1", "metrics", json!({}))], 9_000, 2_000),
        a_submit("t2", disk_answer(&metrics_id.0[..12], 0.9)),
    ])
    .await;
    let limits = Limits {
        token_budget: 10_000,
        ..Limits::default()
    };
    let reasoner = reasoner(anthropic_slot(&server.url, "m"), runbooks(), limits);
    let incident = incident("web-1", &[]);
    let evidence = disk_case_evidence();
    let tools = tools(vec![]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert!(run.forced);
    assert_eq!(run.fallback, None);
    assert_eq!(
        server.received()[1].json()["tool_choice"]["name"],
        "submit_answer"
    );
}

#[tokio::test]
async fn an_invalid_answer_gets_one_repair_round() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let server = ScriptedServer::start(vec![
        a_submit("t1", json!({"root_cause": "disk_is_sad", "confidence": 2, "hypotheses": [], "proposed_actions": [], "post_mortem": ""})),
        a_submit("t2", disk_answer(&metrics_id.0[..12], 0.9)),
    ])
    .await;
    let tools = tools(vec![]);
    let evidence = evidence(vec![("metrics", metrics())]);
    let incident = incident("web-1", &[]);
    let reasoner = reasoner(
        anthropic_slot(&server.url, "m"),
        runbooks(),
        Limits::default(),
    );
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert_eq!(run.fallback, None, "{}", run.report.post_mortem);
    assert!(run.repaired);
    let second = server.received()[1].json();
    let refusal = &second["messages"][2]["content"][0];
    assert_eq!(refusal["is_error"], true);
    assert!(refusal["content"].as_str().unwrap().contains("disk_is_sad"));
    assert_eq!(second["tool_choice"]["name"], "submit_answer");
}

#[tokio::test]
async fn two_invalid_answers_fall_back_and_say_why() {
    let bad = json!({"root_cause": "disk_full", "confidence": 0.9, "hypotheses": [{"cause": "disk_full", "confidence": 0.9}], "proposed_actions": [{"runbook": "wipe_disk", "reason": "x"}], "post_mortem": ""});
    let server =
        ScriptedServer::start(vec![a_submit("t1", bad.clone()), a_submit("t2", bad)]).await;
    let tools = tools(vec![]);
    let evidence = evidence(vec![("metrics", metrics())]);
    let incident = incident("web-1", &[]);
    let reasoner = reasoner(
        anthropic_slot(&server.url, "m"),
        runbooks(),
        Limits::default(),
    );
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    let reason = run.fallback.expect("fallback");
    assert!(
        reason.contains("after one repair round") && reason.contains("wipe_disk"),
        "{reason}"
    );
    assert_eq!(
        run.report.proposed_actions[0].runbook, "disk_full",
        "the built-in answer"
    );
}

#[tokio::test]
async fn every_model_failure_falls_back_to_the_built_in_reasoner() {
    let cases: Vec<(&str, Vec<Reply>)> = vec![
        (
            "400",
            vec![Reply::json(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
            )],
        ),
        (
            "401",
            vec![Reply::json(
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            )],
        ),
        (
            "429",
            vec![
                Reply::json(
                    429,
                    r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#
                )
                .header("retry-after", "0");
                3
            ],
        ),
        (
            "500",
            vec![
                Reply::json(
                    500,
                    r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#
                );
                3
            ],
        ),
        (
            "529",
            vec![
                Reply::json(
                    529,
                    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                );
                3
            ],
        ),
        (
            "malformed",
            vec![Reply::json(
                200,
                r#"{"id":"m","type":"message","role":"assistant","content":[{"type":"#,
            )],
        ),
        ("truncated", vec![a_text("x").truncated(30); 3]),
        (
            "chatty",
            vec![
                a_text("I think it is the disk."),
                a_text("Really, the disk."),
                a_text("Still the disk."),
            ],
        ),
    ];
    for (name, script) in cases {
        let server = ScriptedServer::start(script).await;
        let tools = tools(vec![]);
        let evidence = evidence(vec![("metrics", metrics())]);
        let incident = incident("web-1", &[]);
        let reasoner = reasoner(
            anthropic_slot(&server.url, "m"),
            runbooks(),
            Limits::default(),
        );
        let run = reasoner
            .investigate_traced(
                Case {
                    incident: &incident,
                    evidence: &evidence,
                    similar: &[],
                },
                &tools,
            )
            .await;
        assert!(run.fallback.is_some(), "{name}: expected a fallback");
        assert!(
            run.report.reasoner.starts_with("builtin (fallback"),
            "{name}"
        );
        run.report
            .validate(&catalogue(), &runbooks(), &evidence)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Through the trait, too: a report, never an error.
        let report = reasoner
            .investigate(
                Case {
                    incident: &incident,
                    evidence: &evidence,
                    similar: &[],
                },
                &tools,
            )
            .await
            .expect("the trait never errors");
        assert!(report.reasoner.starts_with("builtin"), "{name}");
    }
}

#[tokio::test]
async fn a_slow_model_times_out_and_falls_back() {
    let server = ScriptedServer::start(vec![
        a_text("late")
            .delayed(std::time::Duration::from_secs(5));
        3
    ])
    .await;
    let mut slot = anthropic_slot(&server.url, "m");
    let mut config = ooda_connect::anthropic::AnthropicConfig::new(
        ooda_core::value::HttpUrl::parse(&server.url).unwrap(),
        ooda_core::value::Secret::Env(KEY_VAR.into()),
    );
    config.timeout = ooda_core::value::Seconds(std::time::Duration::from_millis(150));
    config.max_retries = 0;
    slot.model = std::sync::Arc::new(ooda_reason::provider::Anthropic::new(
        ooda_connect::anthropic::AnthropicClient::new(config).unwrap(),
    ));
    let reasoner = reasoner(slot, runbooks(), Limits::default());
    let tools = tools(vec![]);
    let evidence = evidence(vec![("metrics", metrics())]);
    let incident = incident("web-1", &[]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert!(
        run.fallback.as_deref().unwrap_or("").contains("timed out"),
        "{:?}",
        run.fallback
    );
}

#[tokio::test]
async fn triage_goes_to_the_small_model_and_root_cause_to_the_large_one() {
    let metrics_id = ooda_incident::evidence::EvidenceItem::new("metrics", metrics()).id;
    let small = ScriptedServer::start(vec![o_tool_calls(&[(
        "c1",
        "classify",
        json!({"candidates": ["disk_full", "aliens", "inode_exhaustion"]}),
    )])])
    .await;
    let large =
        ScriptedServer::start(vec![a_submit("t1", disk_answer(&metrics_id.0[..12], 0.9))]).await;
    let redactor = ooda_reason::Redactor::new(&Default::default());
    let reasoner = ooda_reason::LlmReasoner::new(
        Routing {
            triage: Some(openai_slot(&small.url, "small-1b")),
            root_cause: anthropic_slot(&large.url, "large"),
        },
        catalogue(),
        runbooks(),
        redactor,
    );
    let tools = tools(vec![]);
    let evidence = evidence(vec![("metrics", metrics())]);
    let incident = incident("web-1", &[]);
    let run = reasoner
        .investigate_traced(
            Case {
                incident: &incident,
                evidence: &evidence,
                similar: &[],
            },
            &tools,
        )
        .await;
    assert_eq!(run.fallback, None, "{}", run.report.post_mortem);
    assert_eq!(run.steps, 2);
    let triage = small.received()[0].json();
    assert_eq!(triage["model"], "small-1b");
    assert_eq!(triage["tool_choice"]["function"]["name"], "classify");
    let root = large.received()[0].json();
    assert_eq!(root["model"], "large");
    let brief = root["messages"][0]["content"][0]["text"].as_str().unwrap();
    assert!(
        brief.contains("Triage suggests looking first at: disk_full, inode_exhaustion."),
        "unknown ids dropped"
    );
}
