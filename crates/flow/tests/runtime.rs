//! Runtime behaviour, node by node, through the simulator and scripted steps.

mod common;

use baton_flow::runtime::*;
use baton_flow::Flow;
use common::{flow, run};
use serde_json::json;

fn refund_flow() -> Flow {
    flow(json!({
        "format": 1, "name": "Refund",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "hello", "type": "message", "text": "Hi {{ contact.name | default(\"there\") }}!"},
            {"id": "topic", "type": "options", "text": "What is it about?", "variable": "topic",
             "options": [{"id": "refund", "label": "Refund", "synonyms": ["money back"]},
                         {"id": "other", "label": "Something else"}]},
            {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email",
             "input": "email", "max_attempts": 2},
            {"id": "human", "type": "handover", "team": "billing", "priority": "high",
             "context": ["email", "topic"], "stalling_seconds": 60, "max_wait_seconds": 600},
            {"id": "after", "type": "message", "text": "Welcome back, {{ email }}."},
            {"id": "bye", "type": "end", "message": "Bye!"},
            {"id": "timeout_msg", "type": "end", "message": "Sorry for the wait; we'll email you.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "hello"},
            {"from": "hello", "port": "next", "to": "topic"},
            {"from": "topic", "port": "refund", "to": "ask_email"},
            {"from": "topic", "port": "other", "to": "human"},
            {"from": "topic", "port": "no_match", "to": "human"},
            {"from": "ask_email", "port": "next", "to": "human"},
            {"from": "ask_email", "port": "invalid", "to": "human"},
            {"from": "human", "port": "handed_back", "to": "after"},
            {"from": "human", "port": "timeout", "to": "timeout_msg"},
            {"from": "human", "port": "off_hours", "to": "timeout_msg"},
            {"from": "after", "port": "next", "to": "bye"}
        ]
    }))
}

#[test]
fn happy_path_hand_over_and_back() {
    run(
        &refund_flow(),
        json!({
            "name": "refund",
            "setup": {"variables": {"contact.name": "Ana"}},
            "steps": [
                {"expect_reply": "Hi Ana!"},
                {"expect_reply": {"equals": "What is it about?", "buttons": ["Refund", "Something else"]}},
                {"say": "I want my money back"},
                {"expect_variables": {"topic": "Refund", "topic_id": "refund"}},
                {"expect_reply": "Your email?"},
                {"say": "not-an-email"},
                {"expect_reply": {"contains": "email address"}},
                {"say": "Ana@Example.com"},
                {"expect_reply": {"contains": "connecting you"}},
                {"expect_handover": {"team": "billing", "priority": "high", "context": ["email", "topic"],
                                      "values": {"email": "ana@example.com"}}},
                {"expect_status": "queued"},
                {"say": "hello? anyone?"},
                "expect_no_reply",
                {"take_over": "Sam"},
                {"expect_status": "assigned"},
                {"agent_reply": "Hi Ana, refund done."},
                "expect_no_reply",
                {"hand_back": {"variables": {"refund_id": "R-1"}}},
                {"expect_reply": "Welcome back, ana@example.com."},
                {"expect_reply": "Bye!"},
                {"expect_end": {"resolved": true}},
                {"expect_variables": {"refund_id": "R-1"}}
            ]
        }),
    );
}

#[test]
fn stalling_then_timeout() {
    run(
        &refund_flow(),
        json!({
            "name": "timeout",
            "steps": [
                {"press": "other"},
                {"expect_handover": {"node": "human"}},
                {"expect_reply": "Hi there!"},
                {"expect_reply": {"contains": "What is it"}},
                {"expect_reply": {"contains": "connecting"}},
                {"advance": "59s"},
                "expect_no_reply",
                {"advance": "1s"},
                {"expect_reply": {"contains": "still in the queue"}},
                {"advance": "9m"},
                {"expect_reply": "Sorry for the wait; we'll email you."},
                {"expect_end": {"resolved": false}}
            ]
        }),
    );
}

#[test]
fn off_hours_and_cancel_and_resolve() {
    run(
        &refund_flow(),
        json!({
            "name": "off hours",
            "setup": {"open": false},
            "steps": [
                {"press": "other"},
                {"expect_reply": "Hi there!"},
                {"expect_reply": {"contains": "What is it"}},
                {"expect_reply": "Our team is offline right now."},
                {"expect_reply": {"contains": "email you"}},
                {"expect_end": {}}
            ]
        }),
    );
    run(
        &refund_flow(),
        json!({
            "name": "cancel by keyword",
            "steps": [
                {"press": "other"},
                {"say": "cancel"},
                {"expect_status": "ended"}
            ]
        }),
    );
    run(
        &refund_flow(),
        json!({
            "name": "resolve without a resolved port closes",
            "steps": [
                {"press": "other"},
                {"take_over": "Sam"},
                "resolve",
                {"expect_end": {"resolved": true}}
            ]
        }),
    );
}

#[test]
fn reprompt_then_no_match_and_invalid() {
    run(
        &refund_flow(),
        json!({
            "name": "no match",
            "steps": [
                {"say": "blah"},
                {"say": "blah"},
                {"say": "blah"},
                {"expect_handover": {"node": "human"}}
            ]
        }),
    );
    run(
        &refund_flow(),
        json!({
            "name": "invalid email twice",
            "steps": [
                {"press": "refund"},
                {"say": "x"},
                {"say": "y"},
                {"expect_handover": {"node": "human"}},
                {"expect_variables": {"email": null}}
            ]
        }),
    );
}

#[test]
fn stale_timer_and_unknown_events_are_ignored() {
    let f = refund_flow();
    let world = StaticWorld::default();
    let (state, _) = step(&f, State::default(), &Event::TimerFired { timer: 9 }, &world);
    assert_eq!(state, State::default());
    let (state, effects) = step(
        &f,
        State::default(),
        &Event::Start {
            variables: Default::default(),
            message: None,
            event: None,
            routed: false,
        },
        &world,
    );
    assert_eq!(state.status, Status::Bot);
    let sent = effects.iter().rev().find_map(|e| match e {
        Effect::Send(m) => Some(m),
        _ => None,
    });
    assert!(matches!(sent, Some(m) if m.buttons.len() == 2), "{effects:?}");
    // The quiet check (abandon after a day) is the only timer; any other id is stale.
    assert!(matches!(
        effects.last(),
        Some(Effect::SetTimer {
            purpose: TimerPurpose::QuietCheck,
            ..
        })
    ));
    let (again, effects) = step(&f, state.clone(), &Event::TimerFired { timer: 99 }, &world);
    assert_eq!(again, state);
    assert!(effects.is_empty());
    let size = serde_json::to_string(&state).unwrap().len();
    assert!(size < 1024, "state is {size} bytes");
}

#[test]
fn loop_without_wait_stops_with_an_error() {
    let f = flow(json!({
        "format": 1, "name": "loop",
        "nodes": [
            {"id": "t", "type": "trigger"},
            {"id": "a", "type": "message", "text": "a"},
            {"id": "b", "type": "branch", "branches": [{"id": "yes", "conditions": [{"variable": "x", "op": "is_not_set"}]}]}
        ],
        "edges": [
            {"from": "t", "port": "next", "to": "a"},
            {"from": "a", "port": "next", "to": "b"},
            {"from": "b", "port": "yes", "to": "a"}
        ]
    }));
    let (state, effects) = step(
        &f,
        State::default(),
        &Event::Start {
            variables: Default::default(),
            message: None,
            event: None,
            routed: false,
        },
        &StaticWorld::default(),
    );
    assert_eq!(state.status, Status::Ended);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Error { code, .. } if code == "loop_without_wait")));
}

/// An agent's or customer's action the flow refuses leaves no line in the simulator's
/// transcript (the builder's test panel shows it).
#[test]
fn a_refused_action_is_not_written_to_the_transcript() {
    use baton_flow::script::{FixtureExecutor, Fixtures};
    use baton_flow::sim::Simulator;
    let f = flow(json!({
        "format": 1, "name": "Short",
        "nodes": [{"id": "start", "type": "trigger"}, {"id": "bye", "type": "end", "message": "Bye!"}],
        "edges": [{"from": "start", "port": "next", "to": "bye"}]
    }));
    let mut sim = Simulator::new(&f, StaticWorld::default());
    let mut ex = FixtureExecutor::new(&Fixtures::default());
    sim.start(Default::default(), None, &mut ex);
    let before: Vec<String> = sim.transcript.iter().map(|l| l.text.clone()).collect();
    assert_eq!(before, ["Bye!", "conversation ended (resolved)"]);
    assert_ne!(sim.hand_back(Default::default(), None, &mut ex), Handled::Applied);
    assert_ne!(sim.resolve(&mut ex), Handled::Applied);
    assert_ne!(sim.cancel(&mut ex), Handled::Applied);
    let after: Vec<String> = sim.transcript.iter().map(|l| l.text.clone()).collect();
    assert_eq!(after, before, "nothing the flow refused is shown");
}
