//! Escapes at questions, as scripted conversations: asking for a person, starting over,
//! cancelling and correcting an earlier answer at any waiting step, never stored as an answer;
//! wired escape ports; a question that offers none; answers that only look like escapes.

mod common;

use baton_flow::Flow;
use common::run;
use serde_json::{json, Value};

/// Name, email, then a topic; `extra` nodes and edges are added (to wire escape ports).
fn order_flow(extra_nodes: Value, extra_edges: Value) -> Flow {
    let mut nodes = vec![
        json!({"id": "start", "type": "trigger"}),
        json!({"id": "ask_name", "type": "collect_input", "text": "What's your name?", "variable": "customer_name", "input": "name"}),
        json!({"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"}),
        json!({"id": "ask_reason", "type": "collect_input", "text": "Why are you writing?", "variable": "reason"}),
        json!({"id": "topic", "type": "options", "text": "What is it about?", "variable": "topic",
               "options": [{"id": "refund", "label": "Refund"}, {"id": "other", "label": "Something else"}]}),
        json!({"id": "done", "type": "end", "message": "Done: {{ customer_name }}, {{ email }}, {{ topic }}."}),
    ];
    nodes.extend(extra_nodes.as_array().cloned().unwrap_or_default());
    let mut edges = vec![
        json!({"from": "start", "port": "next", "to": "ask_name"}),
        json!({"from": "ask_name", "port": "next", "to": "ask_email"}),
        json!({"from": "ask_email", "port": "next", "to": "ask_reason"}),
        json!({"from": "ask_reason", "port": "next", "to": "topic"}),
        json!({"from": "topic", "port": "refund", "to": "done"}),
        json!({"from": "topic", "port": "other", "to": "done"}),
    ];
    edges.extend(extra_edges.as_array().cloned().unwrap_or_default());
    let doc = json!({"format": 1, "name": "Order help", "nodes": nodes, "edges": edges});
    match Flow::from_json(&doc.to_string()) {
        Ok(f) => f,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

#[test]
fn asking_for_a_person_at_a_question_hands_over_and_hand_back_asks_again() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "person", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "can I talk to a real person pls"},
            {"expect_reply": {"contains": "connecting you to a person"}},
            {"expect_handover": {"node": "ask_name"}},
            {"expect_status": "queued"},
            {"expect_variables": {"customer_name": null}},
            {"take_over": "Sam"},
            {"hand_back": {}},
            {"expect_reply": "What's your name?"},
            {"say": "Ana Lima"},
            {"expect_reply": "Your email?"},
            {"expect_variables": {"customer_name": "Ana Lima"}}
        ]}),
    );
}

#[test]
fn a_typo_still_asks_for_a_person_and_cancelling_the_wait_asks_again() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "typo", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Ana"},
            {"expect_reply": "Your email?"},
            {"say": "representitive"},
            {"expect_reply": {"contains": "connecting you"}},
            {"expect_handover": {"node": "ask_email"}},
            {"say": "cancel"},
            {"expect_reply": {"contains": "cancelled your request"}},
            {"expect_reply": "Your email?"},
            {"expect_status": "bot"}
        ]}),
    );
}

#[test]
fn starting_over_forgets_the_answers_and_asks_from_the_top() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "start over", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Ana"},
            {"expect_reply": "Your email?"},
            {"say": "ana@example.com"},
            {"expect_reply": "Why are you writing?"},
            {"expect_variables": {"email": "ana@example.com"}},
            {"say": "let's start over"},
            {"expect_reply": "Sure, let's start over."},
            {"expect_reply": "What's your name?"},
            {"expect_variables": {"customer_name": null, "email": null}}
        ]}),
    );
}

#[test]
fn cancelling_at_an_options_question_ends_the_conversation() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "cancel", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Ana"},
            {"expect_reply": "Your email?"},
            {"say": "ana@example.com"},
            {"expect_reply": "Why are you writing?"},
            {"say": "late parcel"},
            {"expect_reply": {"equals": "What is it about?", "buttons": ["Refund", "Something else"]}},
            {"say": "never mind"},
            {"expect_reply": {"contains": "I've stopped here"}},
            {"expect_end": {"resolved": true}}
        ]}),
    );
}

#[test]
fn a_correction_updates_the_earlier_answer_and_asks_the_question_again() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "correction", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Ana"},
            {"expect_reply": "Your email?"},
            {"say": "ana@example.com"},
            {"expect_reply": "Why are you writing?"},
            {"say": "sorry, my email is Ana.Lima@Example.com"},
            {"expect_reply": "Thanks, I've updated your email."},
            {"expect_reply": "Why are you writing?"},
            {"expect_variables": {"email": "ana.lima@example.com", "reason": null}},
            {"say": "actually my name is Ana Lima"},
            {"expect_reply": "Thanks, I've updated your customer name."},
            {"expect_reply": "Why are you writing?"},
            {"expect_variables": {"customer_name": "Ana Lima"}},
            {"say": "My parcel is late"},
            {"expect_reply": "What is it about?"},
            {"expect_variables": {"reason": "My parcel is late"}},
            {"press": "refund"},
            {"expect_reply": "Done: Ana Lima, ana.lima@example.com, Refund."}
        ]}),
    );
}

#[test]
fn answers_that_only_look_like_escapes_are_answers() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "answers", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Agent Smith"},
            {"expect_reply": "Your email?"},
            {"expect_variables": {"customer_name": "Agent Smith"}},
            {"say": "smith@example.com"},
            {"expect_reply": "Why are you writing?"},
            {"say": "I want to cancel my order because the parcel arrived broken and late"},
            {"expect_variables": {"reason": "I want to cancel my order because the parcel arrived broken and late"}},
            {"expect_reply": "What is it about?"}
        ]}),
    );
}

#[test]
fn a_wired_escape_port_is_followed_and_a_question_may_offer_none() {
    let flow = order_flow(
        json!([
            {"id": "to_people", "type": "handover", "team": "support", "context": ["customer_name"]},
            {"id": "stop_msg", "type": "message", "text": "Stopped. Bye!"},
            {"id": "bye", "type": "end"}
        ]),
        json!([
            {"from": "ask_email", "port": "escape_human", "to": "to_people"},
            {"from": "ask_email", "port": "escape_cancel", "to": "stop_msg"},
            {"from": "stop_msg", "port": "next", "to": "bye"}
        ]),
    );
    run(
        &flow,
        json!({"name": "wired", "steps": [
            {"say": "Ana"},
            {"say": "i need a human"},
            {"expect_handover": {"node": "to_people", "team": "support", "values": {"customer_name": "Ana"}}},
            {"expect_at": "to_people"}
        ]}),
    );
    run(
        &flow,
        json!({"name": "wired cancel", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "Ana"},
            {"expect_reply": "Your email?"},
            {"say": "stop"},
            {"expect_reply": "Stopped. Bye!"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    // A question with `escapes: []` takes the text as its answer.
    let mut doc = serde_json::to_value(flow.document()).expect("serialises");
    doc["nodes"][1]["escapes"] = json!([]);
    let none = Flow::from_json(&doc.to_string()).expect("loads");
    run(
        &none,
        json!({"name": "no escapes", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "human"},
            {"expect_variables": {"customer_name": "human"}},
            {"expect_reply": "Your email?"}
        ]}),
    );
}

#[test]
fn escape_ports_are_optional_and_option_ids_cannot_take_their_names() {
    let flow = order_flow(json!([]), json!([]));
    let diagnostics = baton_flow::validate::validate(&flow);
    assert!(
        diagnostics
            .iter()
            .all(|d| !d.port.as_deref().unwrap_or("").starts_with("escape_")),
        "{diagnostics:#?}"
    );
    let mut doc = serde_json::to_value(flow.document()).expect("serialises");
    doc["nodes"][4]["options"][1]["id"] = json!("escape_cancel");
    let checked = baton_flow::check(&doc.to_string()).expect("readable");
    assert!(
        checked.diagnostics.iter().any(|d| d.code == "reserved_port_name"),
        "{:#?}",
        checked.diagnostics
    );
}

/// The intent classifier is asked when a text may not be an answer and no phrase is in it: its
/// verdict takes the escape, or the question handles the text as before. Here a stand-in
/// classifier reads "staff" as a person and "cancel" words as cancel; what it was asked is
/// recorded.
#[test]
fn the_intent_classifier_reads_requests_the_phrases_miss() {
    use baton_flow::runtime::{IntentClassifier, StaticWorld};
    use baton_flow::script::{run_test_in, TestCase};
    use std::sync::{Arc, Mutex};
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = asked.clone();
    let classifier = IntentClassifier(Arc::new(
        move |text: &str, categories: &[baton_flow::document::Category]| {
            seen.lock().unwrap().push(text.to_string());
            let ids: Vec<&str> = categories.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, ["human", "cancel", "start_over", "answer"]);
            if text.contains("staff") {
                Some("human".to_string())
            } else if text.contains("leave it") {
                Some("cancel".to_string())
            } else {
                Some("answer".to_string())
            }
        },
    ));
    let world = StaticWorld {
        intent: Some(classifier),
        ..StaticWorld::default()
    };
    let flow = order_flow(json!([]), json!([]));
    let test: TestCase = serde_json::from_value(json!({"name": "classifier", "steps": [
        {"expect_reply": "What's your name?"},
        {"say": "could a staff member help me instead"},
        {"expect_reply": {"contains": "connecting you to a person"}},
        {"expect_handover": {"node": "ask_name"}},
        {"take_over": "Sam"},
        {"hand_back": {}},
        {"expect_reply": "What's your name?"},
        {"say": "Ana"},
        {"expect_reply": "Your email?"},
        {"say": "not sure which one I used"},
        {"expect_reply": {"contains": "email"}},
        {"expect_at": "ask_email"},
        {"say": "ana@example.com"},
        {"expect_reply": "Why are you writing?"},
        {"say": "my parcel never came"},
        {"expect_reply": "What is it about?"},
        {"expect_variables": {"reason": "my parcel never came"}},
        {"say": "oh leave it, it doesnt matter"},
        {"expect_reply": {"contains": "stopped here"}},
        {"expect_end": {"resolved": true}}
    ]}))
    .unwrap();
    let result = run_test_in(&flow, &test, world);
    assert!(result.failure.is_none(), "{:?}", result.failure);
    // A one-word name and a valid email are answers; the classifier was not asked.
    assert_eq!(
        *asked.lock().unwrap(),
        [
            "could a staff member help me instead",
            "not sure which one I used",
            "my parcel never came",
            "oh leave it, it doesnt matter"
        ]
    );
}

/// Without a classifier only phrases escape.
#[test]
fn without_a_classifier_only_phrases_escape() {
    run(
        &order_flow(json!([]), json!([])),
        json!({"name": "no classifier", "steps": [
            {"expect_reply": "What's your name?"},
            {"say": "could a staff member help me instead"},
            {"expect_reply": "Your email?"},
            {"expect_variables": {"customer_name": "could a staff member help me instead"}}
        ]}),
    );
}
