//! `cargo bench -p baton-flow`: node steps per second through the pure runtime, and whole
//! scripted conversations per second. Figures go in docs/performance.md.

use baton_flow::runtime::*;
use baton_flow::script::{run_test, TestCase};
use baton_flow::Flow;
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A support loop: a question, then a chain of routing and messages back to the question.
fn support_flow() -> Flow {
    let doc = json!({
        "format": 1, "name": "bench",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "greet", "type": "message", "text": "Hi {{ contact.name | default(\"there\") }}!"},
            {"id": "menu", "type": "options", "text": "How can we help?", "variable": "topic",
             "options": [{"id": "billing", "label": "Billing", "synonyms": ["invoice"]},
                         {"id": "tech", "label": "Technical problem"}]},
            {"id": "route", "type": "branch", "branches": [
                {"id": "vip", "conditions": [{"variable": "contact.plan", "op": "equals", "value": "enterprise"}]},
                {"id": "billing", "conditions": [{"variable": "topic_id", "op": "equals", "value": "billing"}]}]},
            {"id": "billing_info", "type": "message", "text": "Invoices are under Settings → Billing, {{ contact.name }}."},
            {"id": "tech_info", "type": "message", "text": "Try turning it off and on again."},
            {"id": "vip_info", "type": "message", "text": "Your account manager will call you."}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "greet"},
            {"from": "greet", "port": "next", "to": "menu"},
            {"from": "menu", "port": "billing", "to": "route"},
            {"from": "menu", "port": "tech", "to": "route"},
            {"from": "menu", "port": "no_match", "to": "tech_info"},
            {"from": "route", "port": "vip", "to": "vip_info"},
            {"from": "route", "port": "billing", "to": "billing_info"},
            {"from": "route", "port": "else", "to": "tech_info"},
            {"from": "billing_info", "port": "next", "to": "greet"},
            {"from": "tech_info", "port": "next", "to": "greet"},
            {"from": "vip_info", "port": "next", "to": "greet"}
        ]
    });
    Flow::from_json(&doc.to_string()).unwrap_or_else(|d| panic!("bench flow: {d:?}"))
}

fn measure(name: &str, unit: &str, budget: Duration, mut f: impl FnMut() -> u64) {
    // Warm up, then run batches until the time budget is spent.
    for _ in 0..1000 {
        black_box(f());
    }
    let start = Instant::now();
    let mut units = 0u64;
    let mut calls = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            units += black_box(f());
            calls += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<40} {:>14.0} {unit}/s   ({:.0} ns per call, {calls} calls)",
        units as f64 / secs,
        secs * 1e9 / calls as f64
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 3000 });
    let flow = support_flow();
    let world = StaticWorld::default();
    let start_vars: std::collections::BTreeMap<String, serde_json::Value> =
        [("contact.name".to_string(), json!("Ana"))].into_iter().collect();

    // One customer press runs menu → route → billing_info → greet → menu: 4 nodes entered.
    let mut state = State::default();
    let mut out = Vec::with_capacity(16);
    step_in_place(
        &flow,
        &mut state,
        &Event::Start {
            variables: start_vars.clone(),
            message: None,
            event: None,
            routed: false,
        },
        &world,
        &mut out,
    );
    let presses = [
        Event::ButtonPressed {
            option: "billing".into(),
        },
        Event::ButtonPressed { option: "tech".into() },
        Event::CustomerText {
            text: "my invoice".into(),
        },
    ];
    let mut k = 0;
    measure("node steps (press → 4 nodes → wait)", "node steps", budget, || {
        out.clear();
        k = (k + 1) % presses.len();
        step_in_place(&flow, &mut state, &presses[k], &world, &mut out);
        out.iter()
            .filter(|e| matches!(e, Effect::Route { to: Some(_), .. }))
            .count() as u64
    });

    let mut json_state = serde_json::to_string(&state).unwrap_or_default();
    measure("turns with state JSON round trip", "turns", budget, || {
        let mut s: State = serde_json::from_str(&json_state).unwrap_or_default();
        out.clear();
        step_in_place(&flow, &mut s, &presses[0], &world, &mut out);
        json_state = serde_json::to_string(&s).unwrap_or_default();
        1
    });

    let test: TestCase = serde_json::from_value(json!({
        "name": "bench conversation",
        "setup": {"variables": {"contact.name": "Ana"}},
        "steps": [
            {"expect_reply": "Hi Ana!"},
            {"expect_reply": {"contains": "How can we help"}},
            {"press": "billing"},
            {"expect_reply": {"contains": "Invoices"}},
            {"expect_reply": "Hi Ana!"},
            {"expect_reply": {"contains": "How can we help"}},
            {"say": "technical problem"},
            {"expect_reply": {"contains": "off and on"}},
            {"say": "???"}, {"say": "???"}, {"say": "???"},
            {"expect_variables": {"topic": "Technical problem"}}
        ]
    }))
    .unwrap_or_else(|e| panic!("bench test: {e}"));
    measure("scripted conversations (12 steps)", "conversations", budget, || {
        let r = run_test(&flow, &test);
        assert!(r.passed, "{:?}", r.failure);
        1
    });
}
