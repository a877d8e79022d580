//! CSAT: an End node asks for a rating; a press or a typed score is the conversation's rating,
//! anything else ends without one, and silence ends it as the node says (not abandoned).

mod common;

use baton_flow::script::TestResult;
use common::{flow, run};
use serde_json::json;

fn rated_flow(scale: u8) -> baton_flow::Flow {
    flow(json!({
        "format": 1, "name": "Rate us",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "help", "type": "message", "text": "Here is your answer."},
            {"id": "bye", "type": "end", "message": "Glad I could help.",
             "csat": {"question": "How did I do?", "scale": scale, "thanks": "Thanks for rating!"}}
        ],
        "edges": [{"from": "start", "port": "next", "to": "help"}, {"from": "help", "port": "next", "to": "bye"}]
    }))
}

fn events(result: &TestResult) -> Vec<String> {
    result
        .transcript
        .iter()
        .filter(|l| format!("{:?}", l.speaker) == "Event")
        .map(|l| l.text.clone())
        .collect()
}

#[test]
fn a_pressed_or_typed_score_is_the_rating() {
    let result = run(
        &rated_flow(5),
        json!({"name": "pressed", "steps": [
            {"expect_reply": "Here is your answer."},
            {"expect_reply": "Glad I could help."},
            {"expect_reply": {"equals": "How did I do?", "buttons": ["★", "★★", "★★★", "★★★★", "★★★★★"]}},
            {"expect_status": "bot"},
            {"press": "4"},
            {"expect_reply": "Thanks for rating!"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    assert!(
        events(&result).contains(&"rated 4/5".to_string()),
        "{:?}",
        events(&result)
    );
    let typed = run(
        &rated_flow(2),
        json!({"name": "typed", "steps": [
            {"say": "2"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    assert!(
        events(&typed).contains(&"rated 2/2".to_string()),
        "{:?}",
        events(&typed)
    );
}

#[test]
fn anything_else_or_silence_ends_without_a_rating() {
    let other = run(
        &rated_flow(5),
        json!({"name": "other", "steps": [
            {"say": "thanks, bye"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    assert!(
        !events(&other).iter().any(|e| e.starts_with("rated")),
        "{:?}",
        events(&other)
    );
    let quiet = run(
        &rated_flow(5),
        json!({"name": "quiet", "steps": [
            {"advance": "31h"},
            {"expect_end": {"resolved": true}}
        ]}),
    );
    let said = events(&quiet);
    assert!(
        !said.iter().any(|e| e.contains("rated") || e.contains("abandoned")),
        "{said:?}"
    );
}

#[test]
fn a_scale_other_than_2_or_5_is_refused() {
    let doc = json!({
        "format": 1, "name": "x",
        "nodes": [{"id": "start", "type": "trigger"}, {"id": "bye", "type": "end", "csat": {"scale": 10}}],
        "edges": [{"from": "start", "port": "next", "to": "bye"}]
    });
    let checked = baton_flow::check(&doc.to_string()).expect("readable");
    assert!(
        checked.diagnostics.iter().any(|d| d.code == "invalid_csat"),
        "{:#?}",
        checked.diagnostics
    );
}
