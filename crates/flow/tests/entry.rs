//! Entry routing across live flows: rules, order, the classifier's turn, waiting for the first
//! message, the fallback, and findings about rules that shadow each other.

use baton_flow::entry::{self, Candidate, Decision, Facts, Intent, Matched};
use baton_flow::runtime::{step, Event, StaticWorld, Status};
use baton_flow::{Flow, State};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A flow whose trigger has `trigger` as its settings and which greets with its name.
fn flow(name: &str, trigger: Value) -> Flow {
    let mut t = json!({"id": "start", "type": "trigger"});
    if let (Some(t), Some(extra)) = (t.as_object_mut(), trigger.as_object()) {
        t.extend(extra.clone());
    }
    let doc = json!({
        "format": 1, "name": name,
        "nodes": [t, {"id": "hello", "type": "message", "text": name}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "port": "next", "to": "hello"}, {"from": "hello", "port": "next", "to": "done"}]
    });
    match Flow::from_json(&doc.to_string()) {
        Ok(f) => f,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

fn decide(
    flows: &[(&str, &Flow)],
    fallback: Option<&str>,
    vars: &BTreeMap<String, Value>,
    message: Option<&str>,
    intent: Intent<'_>,
) -> Decision {
    let candidates: Vec<Candidate<'_>> = flows.iter().map(|(id, flow)| Candidate { id, flow }).collect();
    entry::route(&candidates, fallback, &Facts { vars, message, intent })
}

fn started(d: Decision) -> (usize, Matched) {
    match d {
        Decision::Start { flow, by } => (flow, by),
        other => panic!("expected a start, got {other:?}"),
    }
}

#[test]
fn a_keyword_flow_after_the_oldest_takes_its_keyword_and_the_fallback_takes_the_rest() {
    let general = flow("General", json!({}));
    let refunds = flow(
        "Refunds",
        json!({"on": "keyword", "keywords": ["refund", "money back"]}),
    );
    let flows = [("refunds", &refunds), ("general", &general)];
    let none = BTreeMap::new();
    assert_eq!(
        started(decide(
            &flows,
            Some("general"),
            &none,
            Some("I want my MONEY back!"),
            Intent::NotAsked
        )),
        (0, Matched::Rules)
    );
    assert_eq!(
        started(decide(
            &flows,
            Some("general"),
            &none,
            Some("where is my parcel"),
            Intent::NotAsked
        )),
        (1, Matched::Fallback)
    );
    // The fallback takes only the rest, wherever it is in the order.
    let flows = [("general", &general), ("refunds", &refunds)];
    assert_eq!(
        started(decide(&flows, Some("general"), &none, Some("refund"), Intent::NotAsked)),
        (1, Matched::Rules)
    );
    // The general flow comes first: it takes everything, whatever the message.
    let flows = [("general", &general), ("refunds", &refunds)];
    assert_eq!(
        started(decide(&flows, None, &none, Some("refund"), Intent::NotAsked)),
        (0, Matched::Rules)
    );
}

#[test]
fn nothing_matches_so_the_fallback_or_the_first_flow_starts_never_silence() {
    let refunds = flow("Refunds", json!({"on": "keyword", "keywords": ["refund"]}));
    let billing = flow("Billing", json!({"on": "keyword", "keywords": ["invoice"]}));
    let flows = [("refunds", &refunds), ("billing", &billing)];
    let none = BTreeMap::new();
    assert_eq!(
        started(decide(&flows, Some("billing"), &none, Some("hello"), Intent::NotAsked)),
        (1, Matched::Fallback)
    );
    assert_eq!(
        started(decide(&flows, None, &none, Some("hello"), Intent::NotAsked)),
        (0, Matched::FirstFlow)
    );
    // A fallback that is not live counts as none.
    assert_eq!(
        started(decide(&flows, Some("gone"), &none, Some("hello"), Intent::NotAsked)),
        (0, Matched::FirstFlow)
    );
    assert_eq!(
        decide(&[], None, &none, Some("hello"), Intent::NotAsked),
        Decision::NoFlow
    );
    // A flow that starts on an API event can take no conversation, not even as the fallback.
    let by_event = flow("Webhook only", json!({"on": "api_event", "event": "order.paid"}));
    assert_eq!(
        decide(
            &[("event", &by_event)],
            Some("event"),
            &none,
            Some("hello"),
            Intent::NotAsked
        ),
        Decision::NoFlow
    );
    let flows = [("event", &by_event), ("refunds", &refunds)];
    assert_eq!(
        started(decide(&flows, Some("event"), &none, Some("hello"), Intent::NotAsked)),
        (1, Matched::FirstFlow)
    );
}

#[test]
fn a_start_without_a_message_waits_when_a_message_rule_comes_first() {
    let refunds = flow("Refunds", json!({"on": "keyword", "keywords": ["refund"]}));
    let general = flow("General", json!({}));
    let none = BTreeMap::new();
    let flows = [("refunds", &refunds), ("general", &general)];
    assert_eq!(
        decide(&flows, Some("general"), &none, None, Intent::NotAsked),
        Decision::AwaitMessage { fallback: 1 }
    );
    // A flow that needs no message and comes first decides at once.
    let flows = [("general", &general), ("refunds", &refunds)];
    assert_eq!(
        started(decide(&flows, None, &none, None, Intent::NotAsked)),
        (0, Matched::Rules)
    );
    // A message rule whose page rule fails cannot claim it: no waiting.
    let on_orders = flow(
        "Orders",
        json!({"on": "keyword", "keywords": ["late"], "pages": ["https://shop.example/orders/*"]}),
    );
    let flows = [("orders", &on_orders), ("general", &general)];
    let home = vars(&[("conversation.page_url", "https://shop.example/")]);
    assert_eq!(
        started(decide(&flows, None, &home, None, Intent::NotAsked)),
        (1, Matched::Rules)
    );
}

#[test]
fn page_channel_and_contact_rules_all_hold_or_the_flow_is_skipped() {
    let pro = flow(
        "Pro support",
        json!({"pages": ["*/account*"], "channels": ["widget"], "contact": [{"variable": "contact.plan", "op": "equals", "value": "Pro"}]}),
    );
    let general = flow("General", json!({}));
    let flows = [("pro", &pro), ("general", &general)];
    let facts = |page: &str, channel: &str, plan: &str| {
        vars(&[
            ("conversation.page_url", page),
            ("conversation.channel", channel),
            ("contact.plan", plan),
        ])
    };
    let all = facts("https://app.example/account/billing", "widget", "pro");
    assert_eq!(started(decide(&flows, None, &all, None, Intent::NotAsked)).0, 0);
    for other in [
        facts("https://app.example/pricing", "widget", "pro"),
        facts("https://app.example/account", "api", "pro"),
        facts("https://app.example/account", "widget", "free"),
    ] {
        assert_eq!(
            started(decide(&flows, None, &other, None, Intent::NotAsked)).0,
            1,
            "{other:?}"
        );
    }
}

#[test]
fn intents_ask_the_classifier_once_and_the_verdict_decides() {
    let cancel = flow(
        "Cancel",
        json!({"on": "keyword", "intents": ["cancel my order", "stop my order"]}),
    );
    let refunds = flow(
        "Refunds",
        json!({"on": "keyword", "keywords": ["refund"], "intents": ["give me my money back"]}),
    );
    let general = flow("General", json!({}));
    let flows = [("cancel", &cancel), ("refunds", &refunds), ("general", &general)];
    let none = BTreeMap::new();
    let text = Some("pls dont ship it i changed my mind");
    match decide(&flows, Some("general"), &none, text, Intent::NotAsked) {
        Decision::Classify { intents } => {
            let ids: Vec<&str> = intents.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, ["cancel", "refunds"]);
            assert_eq!(intents[0].examples, ["cancel my order", "stop my order"]);
        }
        other => panic!("expected the classifier to be asked, got {other:?}"),
    }
    assert_eq!(
        started(decide(
            &flows,
            Some("general"),
            &none,
            text,
            Intent::Picked(Some("cancel"))
        ))
        .0,
        0
    );
    assert_eq!(
        started(decide(
            &flows,
            Some("general"),
            &none,
            text,
            Intent::Picked(Some("refunds"))
        ))
        .0,
        1
    );
    assert_eq!(
        started(decide(&flows, Some("general"), &none, text, Intent::Picked(None))),
        (2, Matched::Fallback)
    );
    // A keyword decides without the classifier when no intent flow comes before it.
    let flows = [("refunds", &refunds), ("cancel", &cancel)];
    assert_eq!(
        started(decide(&flows, None, &none, Some("refund please"), Intent::NotAsked)).0,
        0
    );
}

#[test]
fn page_patterns_match_the_whole_url_with_stars() {
    assert!(entry::page_matches(
        "https://shop.example/orders/*",
        "https://shop.example/orders/42"
    ));
    assert!(entry::page_matches(
        "*/pricing*",
        "https://SHOP.example/pricing?plan=pro"
    ));
    assert!(entry::page_matches("https://shop.example/", "https://shop.example/"));
    assert!(!entry::page_matches(
        "https://shop.example/",
        "https://shop.example/orders"
    ));
    assert!(!entry::page_matches(
        "*/orders/*/return",
        "https://shop.example/orders/42"
    ));
    assert!(entry::page_matches(
        "*/orders/*/return",
        "https://shop.example/orders/42/return"
    ));
    assert!(!entry::page_matches("*ab*ba", "xaba"));
}

#[test]
fn a_flow_with_no_rules_before_others_shadows_them_and_shared_keywords_are_named() {
    let general = flow("General", json!({}));
    let refunds = flow("Refunds", json!({"on": "keyword", "keywords": ["refund"]}));
    let late = flow(
        "Late refunds",
        json!({"on": "keyword", "keywords": ["late refund", "where is my money"]}),
    );
    let billing = flow("Billing", json!({"on": "keyword", "keywords": ["invoice"]}));
    let list = |flows: &[(&'static str, &Flow)], fallback: Option<&str>| {
        let candidates: Vec<Candidate<'_>> = flows.iter().map(|(id, flow)| Candidate { id, flow }).collect();
        entry::findings(&candidates, fallback)
            .into_iter()
            .map(|f| (f.code, f.flow, f.by))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(&[("general", &general), ("refunds", &refunds)], None),
        [
            ("entry_shadowed", "refunds".to_string(), Some("general".to_string())),
            ("no_fallback", "general".to_string(), None)
        ]
    );
    // As the fallback it only takes the rest: nothing is shadowed.
    assert_eq!(
        list(&[("general", &general), ("refunds", &refunds)], Some("general")),
        []
    );
    // A flow with no rules leaves nothing for the fallback.
    assert_eq!(
        list(&[("general", &general), ("refunds", &refunds)], Some("refunds")),
        [("entry_shadowed", "refunds".to_string(), Some("general".to_string()))]
    );
    assert_eq!(
        list(
            &[
                ("refunds", &refunds),
                ("late", &late),
                ("billing", &billing),
                ("general", &general)
            ],
            Some("general")
        ),
        [("entry_keyword_taken", "late".to_string(), Some("refunds".to_string()))]
    );
    let only_late = flow("Late", json!({"on": "keyword", "keywords": ["late refund"]}));
    assert_eq!(
        list(
            &[("refunds", &refunds), ("late", &only_late), ("general", &general)],
            Some("general")
        ),
        [("entry_shadowed", "late".to_string(), Some("refunds".to_string()))]
    );
    // A page rule on the later flow makes it narrower, not shadowed, when the earlier one has
    // no message rule... unless the earlier one admits every page.
    let on_pricing = flow("Pricing", json!({"pages": ["*/pricing"]}));
    assert_eq!(
        list(&[("pricing", &on_pricing), ("general", &general)], Some("general")),
        []
    );
    assert_eq!(
        list(&[("refunds", &refunds), ("billing", &billing)], None),
        [("no_fallback", "refunds".to_string(), None)]
    );
}

#[test]
fn the_runtime_checks_the_rules_unless_the_server_routed_the_start() {
    let on_orders = flow(
        "Orders",
        json!({"on": "keyword", "keywords": ["order"], "channels": ["widget"]}),
    );
    let start = |message: &str, channel: &str, routed: bool| {
        let (state, _) = step(
            &on_orders,
            State::default(),
            &Event::Start {
                variables: vars(&[("conversation.channel", channel)]),
                message: Some(message.into()),
                event: None,
                routed,
            },
            &StaticWorld::default(),
        );
        state.status
    };
    assert_eq!(start("my order is late", "widget", false), Status::Ended);
    assert_eq!(start("my order is late", "api", false), Status::NotStarted);
    assert_eq!(start("hello", "widget", false), Status::NotStarted);
    // The fallback starts whatever its rules say.
    assert_eq!(start("hello", "api", true), Status::Ended);
}

#[test]
fn entry_rules_that_cannot_be_judged_are_refused_by_validation() {
    let doc = |trigger: Value| {
        let mut t = json!({"id": "start", "type": "trigger"});
        if let (Some(t), Some(extra)) = (t.as_object_mut(), trigger.as_object()) {
            t.extend(extra.clone());
        }
        json!({"format": 1, "name": "x", "nodes": [t, {"id": "done", "type": "end"}],
               "edges": [{"from": "start", "port": "next", "to": "done"}]})
        .to_string()
    };
    let codes = |trigger: Value| -> Vec<(String, Option<String>)> {
        let checked = baton_flow::check(&doc(trigger)).expect("readable");
        checked
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == baton_flow::Severity::Error)
            .map(|d| (d.code, d.location))
            .collect()
    };
    assert!(codes(json!({"on": "keyword", "intents": ["cancel my order"]})).is_empty());
    assert_eq!(
        codes(json!({"intents": ["cancel my order"]})),
        [("invalid_entry_rule".to_string(), Some("nodes[0].intents".to_string()))]
    );
    assert_eq!(
        codes(json!({"contact": [{"variable": "order_id", "op": "is_set"}]})),
        [(
            "invalid_entry_rule".to_string(),
            Some("nodes[0].contact[0].variable".to_string())
        )]
    );
    assert_eq!(
        codes(json!({"contact": [{"op": "business_hours_open"}]})).len(),
        2,
        "no variable, and hours are no entry rule"
    );
    assert_eq!(
        codes(json!({"channels": ["web chat"]})),
        [(
            "invalid_entry_rule".to_string(),
            Some("nodes[0].channels[0]".to_string())
        )]
    );
    assert_eq!(
        codes(json!({"on": "keyword"})),
        [(
            "trigger_without_keywords".to_string(),
            Some("nodes[0].keywords".to_string())
        )]
    );
}
