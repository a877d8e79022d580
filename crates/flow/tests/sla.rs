//! Agent reply targets: the first-reply and next-reply clocks of an assigned conversation, and
//! what a missed target does (back to the queue, or on from the Handover node's `timeout`),
//! through scripted tests with the test clock.

mod common;

use baton_flow::runtime::{Effect, ReplyTarget, WhenMissed};
use baton_flow::script::{simulate, Simulation, TestCase};
use common::{flow, run};
use serde_json::{json, Value};

/// Runs a scripted test that must pass; returns everything it did (routes, pending timers).
fn simulated(test: Value) -> Simulation {
    let result = run(&support(), test.clone());
    let test: TestCase = serde_json::from_value(test).expect("test parses");
    let simulation = simulate(&support(), &test);
    assert_eq!(simulation.transcript.len(), result.transcript.len());
    simulation
}

fn support() -> baton_flow::Flow {
    flow(json!({
        "format": 1, "name": "Support",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "human", "type": "handover", "team": "billing", "message": "Connecting you.",
             "stalling_seconds": 0, "max_wait_seconds": 0},
            {"id": "back", "type": "end", "message": "Back with the bot."},
            {"id": "late", "type": "end", "message": "Sorry, nobody could answer. We'll email you.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "human"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "human", "port": "resolved", "to": "back"},
            {"from": "human", "port": "timeout", "to": "late"}
        ]
    }))
}

fn targets(when_missed: &str) -> Value {
    json!({"first_reply_seconds": 300, "next_reply_seconds": 600, "when_missed": when_missed})
}

fn missed(result: &Simulation) -> Vec<(ReplyTarget, WhenMissed)> {
    result
        .transcript
        .iter()
        .filter(|l| l.text.contains("missed the"))
        .map(|l| {
            let target = if l.text.contains("first reply") {
                ReplyTarget::FirstReply
            } else {
                ReplyTarget::NextReply
            };
            let then = if l.text.contains("the flow goes on") {
                WhenMissed::Flow
            } else {
                WhenMissed::Requeue
            };
            (target, then)
        })
        .collect()
}

#[test]
fn an_agent_who_never_replies_loses_the_conversation_to_the_queue() {
    let result = simulated(
        json!({"name": "first reply missed", "setup": {"reply_targets": targets("requeue")}, "steps": [
            {"expect_reply": "Connecting you."},
            {"take_over": "Sam"},
            {"advance": "4m59s"},
            {"expect_status": "assigned"},
            {"advance": "1s"},
            {"expect_status": "queued"},
            "expect_no_reply",
            {"take_over": "Kim"},
            {"agent_reply": "Hi, Kim here."},
            {"advance": "1h"},
            {"expect_status": "assigned"}
        ]}),
    );
    assert_eq!(missed(&result), [(ReplyTarget::FirstReply, WhenMissed::Requeue)]);
}

#[test]
fn the_next_reply_clock_starts_with_the_customers_message_and_stops_with_the_reply() {
    let result = simulated(
        json!({"name": "next reply", "setup": {"reply_targets": targets("next_agent")}, "steps": [
            {"expect_reply": "Connecting you."},
            {"take_over": "Sam"},
            {"advance": "4m"},
            {"agent_reply": "Hello, how can I help?"},
            {"advance": "2h"},
            {"expect_status": "assigned"},
            {"say": "My card was charged twice."},
            {"advance": "9m"},
            {"agent_reply": "Checking now."},
            {"advance": "2h"},
            {"expect_status": "assigned"},
            {"say": "Any news?"},
            {"say": "Hello??"},
            {"advance": "9m59s"},
            {"expect_status": "assigned"},
            {"advance": "1s"},
            {"expect_status": "queued"}
        ]}),
    );
    // The simulator has one agent: `next_agent` finds nobody else and requeues.
    assert_eq!(missed(&result), [(ReplyTarget::NextReply, WhenMissed::Requeue)]);
}

#[test]
fn with_flow_a_missed_target_leaves_the_handover_through_timeout() {
    let result = simulated(
        json!({"name": "to the flow", "setup": {"reply_targets": targets("flow")}, "steps": [
            {"expect_reply": "Connecting you."},
            {"take_over": "Sam"},
            {"advance": "5m"},
            {"expect_reply": "Sorry, nobody could answer. We'll email you."},
            {"expect_end": {"resolved": false}}
        ]}),
    );
    assert_eq!(missed(&result), [(ReplyTarget::FirstReply, WhenMissed::Flow)]);
    assert!(
        result
            .routes
            .iter()
            .any(|e| matches!(e, Effect::Route { from, port, .. } if from == "human" && port == "timeout")),
        "routes: {:?}",
        result.routes
    );
}

#[test]
fn without_targets_nothing_moves_and_no_timer_is_set() {
    let result = simulated(json!({"name": "no targets", "steps": [
        {"expect_reply": "Connecting you."},
        {"take_over": "Sam"},
        {"say": "Hello?"},
        {"advance": "30d"},
        {"expect_status": "assigned"}
    ]}));
    assert!(missed(&result).is_empty());
    assert!(result.timers.is_empty(), "timers: {:?}", result.timers);
}

#[test]
fn handing_back_stops_the_clock() {
    let result = simulated(
        json!({"name": "hand back", "setup": {"reply_targets": targets("requeue")}, "steps": [
            {"expect_reply": "Connecting you."},
            {"take_over": "Sam"},
            {"hand_back": {}},
            {"expect_reply": "Back with the bot."},
            {"advance": "1h"}
        ]}),
    );
    assert!(missed(&result).is_empty());
    assert!(result.timers.is_empty(), "timers: {:?}", result.timers);
}
