//! Robustness: loading and validation never panic on any JSON; for any loadable flow and any
//! sequence of events the runtime never panics, every step ends, and the state stays small.

use baton_flow::runtime::*;
use baton_flow::{check, Flow};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z_{}|() \"]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("next"),
            Just("trigger"),
            Just("message"),
            Just("options"),
            Just("handover"),
            Just("collect_input"),
            Just("branch"),
            Just("end"),
            Just("id"),
            Just("email")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("id".to_string()),
                        Just("type".to_string()),
                        Just("text".to_string()),
                        Just("from".to_string()),
                        Just("to".to_string()),
                        Just("port".to_string()),
                        Just("options".to_string()),
                        Just("variable".to_string()),
                        "[a-z]{1,6}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const TYPES: [&str; 10] = [
    "trigger",
    "message",
    "options",
    "collect_input",
    "branch",
    "ai_action",
    "ai_answer",
    "webhook",
    "handover",
    "end",
];

fn pick(names: &[&'static str], variant: u8) -> &'static str {
    names[usize::from(variant) % names.len()]
}

/// A node of the given type with plausible settings.
fn node_json(id: &str, kind: usize, variant: u8) -> Value {
    let var = ["email", "name", "order_id", "topic"][usize::from(variant) % 4];
    match TYPES[kind % TYPES.len()] {
        "trigger" => json!({"id": id, "type": "trigger"}),
        "message" => json!({"id": id, "type": "message", "text": format!("Hi {{{{ {var} }}}}")}),
        "options" => json!({"id": id, "type": "options", "text": "Pick", "variable": var,
            "typed_text": pick(&["strict", "reprompt", "ai_classify", "bail"], variant),
            "options": [{"id": "a", "label": "Alpha", "synonyms": ["first"]}, {"id": "b", "label": "Beta"}]}),
        "collect_input" => json!({"id": id, "type": "collect_input", "text": "?", "variable": var,
            "input": pick(&["text", "email", "number", "date", "phone", "name", "regex"], variant),
            "pattern": "[a-z]+", "max_attempts": 1 + u32::from(variant % 3)}),
        "branch" => json!({"id": id, "type": "branch", "branches": [
            {"id": "x", "conditions": [{"variable": var, "op": pick(&["is_set", "equals", "contains", "greater_than", "matches", "in_list"], variant),
              "value": if variant % 6 == 3 { json!(5) } else if variant % 6 == 5 { json!(["a", "b"]) } else { json!("a") }}]},
            {"id": "open", "conditions": [{"op": "business_hours_open"}]}]}),
        "ai_action" => match variant % 3 {
            0 => json!({"id": id, "type": "ai_action", "task": "classify", "variable": var,
                "categories": [{"id": "c1", "examples": ["card lost"]}, {"id": "c2", "examples": ["refund"]}]}),
            1 => {
                json!({"id": id, "type": "ai_action", "task": "extract", "fields": [{"variable": var, "kind": "email"}]})
            }
            _ => {
                json!({"id": id, "type": "ai_action", "task": "sentiment", "variable": var, "frustration_variable": "angry"})
            }
        },
        "ai_answer" => {
            json!({"id": id, "type": "ai_answer", "intro": "Ask me", "max_turns": 1 + u32::from(variant % 3)})
        }
        "webhook" => {
            json!({"id": id, "type": "webhook", "url": "https://example.test/{{ order_id }}",
            "response_mapping": {"status_code": "status"}, "body": {"e": "{{ email }}"}})
        }
        "handover" => {
            json!({"id": id, "type": "handover", "context": [var], "stalling_seconds": u32::from(variant % 3) * 30,
            "max_wait_seconds": u32::from(variant % 2) * 60})
        }
        _ => json!({"id": id, "type": "end", "resolve": variant.is_multiple_of(2)}),
    }
}

/// A flow: node 0 is a trigger; every port of every node is wired to a random node or left open.
fn arb_flow() -> impl Strategy<Value = Value> {
    (2usize..12)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((1usize..TYPES.len(), any::<u8>()), n),
                prop::collection::vec(prop::option::weighted(0.8, 0usize..n), n * 8),
            )
        })
        .prop_map(|(kinds, targets)| {
            let mut nodes = vec![json!({"id": "n0", "type": "trigger"})];
            for (i, (k, v)) in kinds.iter().enumerate().skip(1) {
                nodes.push(node_json(&format!("n{i}"), *k, *v));
            }
            let mut edges = Vec::new();
            let mut t = targets.into_iter();
            for node in &nodes {
                let Ok(flow_node) = baton_flow::document::parse_node(node) else {
                    continue;
                };
                for port in flow_node.kind.ports() {
                    if let Some(Some(to)) = t.next() {
                        edges.push(json!({"from": flow_node.id, "port": port, "to": format!("n{to}")}));
                    }
                }
            }
            json!({"format": 1, "name": "generated", "nodes": nodes, "edges": edges})
        })
}

fn arb_event() -> impl Strategy<Value = Event> {
    let text = prop_oneof![
        Just("alpha".to_string()),
        Just("ana@example.com".to_string()),
        Just("42".to_string()),
        Just("cancel".to_string()),
        Just("I want a person".to_string()),
        Just("2026-01-31".to_string()),
        ".{0,40}",
    ];
    prop_oneof![
        text.clone().prop_map(|text| Event::CustomerText { text }),
        prop_oneof![Just("a"), Just("b"), Just("zz")].prop_map(|o| Event::ButtonPressed { option: o.into() }),
        Just(Event::AgentTookOver {
            agent: "Sam".into(),
            team: None
        }),
        Just(Event::AgentReplied { agent: "Sam".into() }),
        (prop::option::of(0usize..12), any::<bool>()).prop_map(|(n, v)| Event::HandedBack {
            variables: if v {
                [("email".to_string(), json!("x@y.zz"))].into_iter().collect()
            } else {
                Default::default()
            },
            resume_at: n.map(|n| format!("n{n}")),
        }),
        Just(Event::Resolved),
        Just(Event::CustomerCancelled),
        (0u64..8, any::<bool>(), 100u16..600).prop_map(|(request, ok, status)| {
            Event::WebhookResult {
                request,
                result: if ok {
                    WebhookOutcome::Response {
                        status,
                        body: json!({"a": 1}),
                    }
                } else {
                    WebhookOutcome::Failed { reason: "x".into() }
                },
            }
        }),
        (0u64..8, 0u8..6, text).prop_map(|(request, k, text)| Event::AiResult {
            request,
            result: match k {
                0 => AiOutcome::Category {
                    category: Some(["c1", "c2", "a", "zz"][usize::from(k) % 4].into()),
                    confidence: 0.9
                },
                1 => AiOutcome::Fields {
                    values: [("email".to_string(), json!(text))].into_iter().collect()
                },
                2 => AiOutcome::Text { text },
                3 => AiOutcome::Sentiment {
                    sentiment: "negative".into(),
                    frustrated: true
                },
                4 => AiOutcome::Answer {
                    text,
                    sources: vec![],
                    intent: AnswerIntent::Answered
                },
                _ => AiOutcome::Failed { reason: "down".into() },
            },
        }),
        (0u64..8).prop_map(|timer| Event::TimerFired { timer }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn check_never_panics_on_any_json(doc in arb_json()) {
        let _ = check(&doc.to_string());
        // And with a valid header around arbitrary nodes and edges.
        let wrapped = json!({"format": 1, "name": "x", "nodes": [doc.clone()], "edges": [doc]});
        let _ = check(&wrapped.to_string());
    }

    #[test]
    fn check_never_panics_on_any_text(text in ".{0,200}") {
        let _ = check(&text);
    }

    #[test]
    fn runtime_never_panics_and_every_step_ends(doc in arb_flow(), events in prop::collection::vec(arb_event(), 0..30)) {
        let checked = check(&doc.to_string()).expect("generated flows are readable");
        let flow: Flow = checked.flow.expect("generated flows load");
        let world = StaticWorld::default();
        let mut state = State::default();
        let mut out = Vec::new();
        step_in_place(&flow, &mut state, &Event::Start { variables: Default::default(), message: Some("hi".into()), event: None, routed: false }, &world, &mut out);
        for event in &events {
            // Answer the awaited request when there is one, so generated runs go deep.
            let event = match (&state.wait, event) {
                (Wait::Webhook { request }, Event::WebhookResult { result, .. }) => Event::WebhookResult { request: *request, result: result.clone() },
                (Wait::Ai { request }, Event::AiResult { result, .. }) => Event::AiResult { request: *request, result: result.clone() },
                _ => event.clone(),
            };
            out.clear();
            step_in_place(&flow, &mut state, &event, &world, &mut out);
            // A step is bounded: at most a few effects per node it may run through.
            prop_assert!(out.len() <= (MAX_NODES_PER_EVENT as usize + 1) * 8, "{} effects", out.len());
            let round_trip: State = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
            prop_assert_eq!(&round_trip, &state);
        }
    }
}
