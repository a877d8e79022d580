//! Customer silence: a question's nudge and `no_reply` port, an answer that stops them, and the
//! workspace's closing of conversations left waiting on the customer (`abandoned`).

mod common;

use baton_flow::script::{run_test, TestCase};
use baton_flow::Flow;
use common::run;
use serde_json::json;

fn flow() -> Flow {
    let doc = json!({
        "format": 1, "name": "Silence",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask_order", "type": "collect_input", "text": "Your order number?", "variable": "order",
             "no_reply": {"after_minutes": 30, "nudge_after_minutes": 10, "nudge": "Still there? I just need your order number."}},
            {"id": "ask_more", "type": "collect_input", "text": "Anything else? Your email, please.", "variable": "email", "input": "email"},
            {"id": "closing", "type": "message", "text": "I'll close this chat for now. Write again any time."},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask_order"},
            {"from": "ask_order", "port": "next", "to": "ask_more"},
            {"from": "ask_order", "port": "no_reply", "to": "closing"},
            {"from": "closing", "port": "next", "to": "done"},
            {"from": "ask_more", "port": "next", "to": "done"},
            {"from": "ask_more", "port": "invalid", "to": "done"}
        ]
    });
    match Flow::from_json(&doc.to_string()) {
        Ok(f) => f,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

#[test]
fn a_silent_customer_is_nudged_then_the_question_leaves_through_no_reply() {
    run(
        &flow(),
        json!({"name": "silent", "steps": [
            {"expect_reply": "Your order number?"},
            {"advance": "9m"},
            "expect_no_reply",
            {"advance": "1m"},
            {"expect_reply": "Still there? I just need your order number."},
            {"advance": "19m"},
            "expect_no_reply",
            {"advance": "1m"},
            {"expect_reply": "I'll close this chat for now. Write again any time."},
            {"expect_end": {"resolved": true}}
        ]}),
    );
}

#[test]
fn an_answer_stops_the_timers_and_the_next_question_has_none() {
    run(
        &flow(),
        json!({"name": "answered", "steps": [
            {"expect_reply": "Your order number?"},
            {"advance": "9m"},
            {"say": "A-1234"},
            {"expect_reply": "Anything else? Your email, please."},
            {"advance": "2h"},
            "expect_no_reply",
            {"expect_at": "ask_more"}
        ]}),
    );
}

#[test]
fn a_conversation_left_waiting_on_the_customer_closes_as_abandoned() {
    let result = run(
        &flow(),
        json!({"name": "abandoned", "steps": [
            {"expect_reply": "Your order number?"},
            {"say": "A-1234"},
            {"expect_reply": "Anything else? Your email, please."},
            {"advance": "20h"},
            {"say": "hmm"},
            {"advance": "30h"},
            {"expect_status": "ended"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    // Closed between 24 and 30 hours after the last answer ("hmm" at 20 h): at 44 to 50 h.
    let end = result
        .transcript
        .iter()
        .find(|l| l.text.contains("abandoned"))
        .expect("the transcript says the conversation was abandoned");
    let hours = end.at_ms as f64 / 3_600_000.0;
    assert!((44.0..=50.0).contains(&hours), "closed at {hours} h");
    // Not before a day of silence.
    let early = TestCase {
        name: "not yet".into(),
        ..serde_json::from_value(json!({"name": "x", "steps": [
            {"say": "A-1234"},
            {"advance": "23h"},
            {"expect_status": "bot"},
            {"expect_at": "ask_more"}
        ]}))
        .expect("test parses")
    };
    let result = run_test(&flow(), &early);
    assert!(result.failure.is_none(), "{:?}", result.failure);
}

#[test]
fn no_reply_must_be_set_sensibly() {
    let doc = json!({
        "format": 1, "name": "x",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "?", "variable": "v", "no_reply": {"after_minutes": 10, "nudge_after_minutes": 10}},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "port": "next", "to": "ask"}, {"from": "ask", "port": "next", "to": "done"}]
    });
    let checked = baton_flow::check(&doc.to_string()).expect("readable");
    let found: Vec<(&str, Option<&str>)> = checked
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.location.as_deref()))
        .collect();
    assert!(
        found.contains(&("invalid_no_reply", Some("nodes[1].no_reply.nudge_after_minutes"))),
        "{found:?}"
    );
    assert!(
        found.contains(&("port_unwired", None)) || found.iter().any(|(c, _)| *c == "port_unwired"),
        "{found:?}"
    );
}
