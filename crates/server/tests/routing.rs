//! Entry routing over HTTP: several live flows, their rules and order, the fallback, a start
//! that waits for its first message, and the routing endpoint's findings.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_databases!(
    keyword_page_and_fallback_route_new_conversations,
    a_start_without_a_message_is_routed_by_the_first_message,
    the_routing_endpoint_orders_flows_names_the_fallback_and_reports_shadowing,
);

/// A flow that says `greeting` and ends, with `trigger` as its trigger's settings.
fn desk(name: &str, greeting: &str, trigger: Value) -> Value {
    let mut t = json!({"id": "start", "type": "trigger", "position": {"x": 0, "y": 0}});
    if let (Some(t), Some(extra)) = (t.as_object_mut(), trigger.as_object()) {
        t.extend(extra.clone());
    }
    json!({
        "format": 1, "name": name,
        "nodes": [t,
            {"id": "hello", "type": "message", "text": greeting, "position": {"x": 0, "y": 100}},
            {"id": "ask", "type": "collect_input", "text": "Anything else?", "variable": "more", "position": {"x": 0, "y": 200}},
            {"id": "done", "type": "end", "position": {"x": 0, "y": 300}}],
        "edges": [{"from": "start", "port": "next", "to": "hello"},
                  {"from": "hello", "port": "next", "to": "ask"},
                  {"from": "ask", "port": "next", "to": "done"},
                  {"from": "ask", "port": "invalid", "to": "done"}]
    })
}

/// The demo flow (live, no entry rules) switched off, so the tests' own flows share the
/// conversations.
async fn demo_off(s: &TestServer) {
    let demo = s.running.first_start.clone().expect("the demo").demo_flow_id;
    let (status, body) = s
        .api(
            Method::PUT,
            &format!("/api/v1/flows/{demo}/live"),
            Some(json!({"live": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn set_routing(s: &TestServer, order: &[&str], fallback: Option<&str>) -> Value {
    let (status, body) = s
        .api(
            Method::PUT,
            "/api/v1/flows/routing",
            Some(json!({"order": order, "fallback_flow_id": fallback})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn start(s: &TestServer, extra: Value) -> Value {
    let mut body = json!({"widget_key": s.owner.widget_key});
    if let (Some(b), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(extra.clone());
    }
    let (status, body) = s.start_conversation(body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn keyword_page_and_fallback_route_new_conversations(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let refunds = s
        .publish_flow(desk(
            "Refunds",
            "Refund desk here.",
            json!({"on": "keyword", "keywords": ["refund", "money back"]}),
        ))
        .await;
    let orders = s
        .publish_flow(desk(
            "Orders",
            "Order desk here.",
            json!({"pages": ["https://shop.example/orders/*"]}),
        ))
        .await;
    let general = s.publish_flow(desk("General", "General desk here.", json!({}))).await;
    demo_off(&s).await;
    set_routing(&s, &[&orders, &refunds, &general], Some(&general)).await;

    let said = |body: &Value| texts(&body["messages"]);
    let body = start(&s, json!({"message": "I want my money back"})).await;
    assert_eq!(said(&body), ["Refund desk here.", "Anything else?"]);
    assert_eq!(body["conversation"]["flow_id"], refunds.as_str());

    let body = start(&s, json!({"message": "where is my parcel?"})).await;
    assert_eq!(said(&body), ["General desk here.", "Anything else?"], "the fallback");

    // The page rule decides before any message; the order puts Orders first.
    let body = start(
        &s,
        json!({"page_url": "https://shop.example/orders/42", "message": "refund"}),
    )
    .await;
    assert_eq!(said(&body), ["Order desk here.", "Anything else?"]);
    assert_eq!(body["conversation"]["flow_id"], orders.as_str());

    // Flows read the page too.
    let customer = Customer::from_start(&s, &body);
    let (status, detail) = s
        .api(
            Method::GET,
            &format!("/api/v1/inbox/conversations/{}", customer.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["variables"]["conversation.page_url"],
        "https://shop.example/orders/42"
    );
    let started = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "started")
        .cloned()
        .unwrap_or_default();
    assert_eq!(started["data"]["routed_by"], "rules", "{detail}");

    // A flow named by the API still starts, whatever its rules.
    let body = start(&s, json!({"flow_id": refunds, "message": "hello"})).await;
    assert_eq!(said(&body), ["Refund desk here.", "Anything else?"]);

    // Bad input is named.
    let (status, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "page_url": ""}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "page_url");
}

async fn a_start_without_a_message_is_routed_by_the_first_message(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let refunds = s
        .publish_flow(desk(
            "Refunds",
            "Refund desk here.",
            json!({"on": "keyword", "keywords": ["refund"]}),
        ))
        .await;
    let general = s.publish_flow(desk("General", "General desk here.", json!({}))).await;
    demo_off(&s).await;
    set_routing(&s, &[&refunds, &general], Some(&general)).await;

    // Refunds decides on the first message: the widget's start waits for it, silently.
    let body = start(&s, json!({})).await;
    assert_eq!(texts(&body["messages"]), Vec::<String>::new());
    assert_eq!(body["conversation"]["status"], "bot");
    let customer = Customer::from_start(&s, &body);
    assert_eq!(
        customer.say("m1", "hi, I need a refund for order 42").await,
        ["Refund desk here.", "Anything else?"]
    );
    // The next message is an answer, not a new routing.
    assert_eq!(customer.say("m2", "no thanks").await, Vec::<String>::new());
    assert_eq!(customer.status().await, "resolved");

    // A retry of the first message is answered as the first time.
    let body = start(&s, json!({})).await;
    let other = Customer::from_start(&s, &body);
    let first = other.say("r1", "good morning").await;
    assert_eq!(
        first,
        ["General desk here.", "Anything else?"],
        "no rule took it: the fallback"
    );
    let (status, again) = other.send(json!({"client_id": "r1", "text": "good morning"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert_eq!(texts(&again["messages"]), first);
    let (status, conv) = s
        .api(Method::GET, &format!("/api/v1/inbox/conversations/{}", other.id), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conv["conversation"]["flow_id"], general.as_str());
    let kinds: Vec<&str> = conv["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"routed"), "{kinds:?}");

    // After a restart the waiting conversation is still routed by its first message.
    let body = start(&s, json!({})).await;
    let waiting = Customer::from_start(&s, &body);
    let s2 = s.restart().await;
    let waiting = Customer {
        base: s2.base.clone(),
        ..waiting
    };
    assert_eq!(
        waiting.say("w1", "refund please").await,
        ["Refund desk here.", "Anything else?"]
    );
}

async fn the_routing_endpoint_orders_flows_names_the_fallback_and_reports_shadowing(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let demo = s.running.first_start.clone().expect("the demo").demo_flow_id;
    let (status, routing) = s.api(Method::GET, "/api/v1/flows/routing", None).await;
    assert_eq!(status, StatusCode::OK, "{routing}");
    assert_eq!(
        routing["fallback_flow_id"],
        demo.as_str(),
        "the demo flow catches the rest"
    );
    assert_eq!(routing["findings"], json!([]));

    let refunds = s
        .publish_flow(desk(
            "Refunds",
            "Refund desk here.",
            json!({"on": "keyword", "keywords": ["refund"]}),
        ))
        .await;
    let late = s
        .publish_flow(desk(
            "Late refunds",
            "Late desk here.",
            json!({"on": "keyword", "keywords": ["late refund"]}),
        ))
        .await;
    let (_, routing) = s.api(Method::GET, "/api/v1/flows/routing", None).await;
    let ids: Vec<&str> = routing["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [demo.as_str(), refunds.as_str(), late.as_str()],
        "new flows come last"
    );
    assert_eq!(routing["flows"][1]["rules"], "first message: “refund”");
    assert_eq!(routing["findings"][0]["code"], "entry_shadowed", "{routing}");
    assert_eq!(routing["findings"][0]["flow"], late.as_str());
    assert_eq!(routing["findings"][0]["by"], refunds.as_str());

    // Putting the narrower rule first clears it, and the late flow then takes its keyword.
    let routing = set_routing(&s, &[&late, &refunds], Some(&demo)).await;
    assert_eq!(routing["findings"], json!([]), "{routing}");
    let body = start(&s, json!({"message": "where is my late refund"})).await;
    assert_eq!(texts(&body["messages"])[0], "Late desk here.");

    for (body, field) in [
        (json!({"order": ["flow_nope"]}), "order[0]"),
        (json!({"order": [refunds, refunds]}), "order[1]"),
        (
            json!({"order": [], "fallback_flow_id": "flow_nope"}),
            "fallback_flow_id",
        ),
    ] {
        let (status, answer) = s.api(Method::PUT, "/api/v1/flows/routing", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["field"], field);
    }
    // Without a fallback the demo flow, which has no rules, takes the rest in its place, and
    // the endpoint says a fallback is missing.
    let routing = set_routing(&s, &[], None).await;
    assert_eq!(routing["findings"][0]["code"], "no_fallback", "{routing}");
    assert_eq!(routing["findings"][0]["flow"], late.as_str(), "the first in order");
    let body = start(&s, json!({"message": "good morning"})).await;
    assert_eq!(body["conversation"]["flow_id"], demo.as_str());
}

/// An intent rule asks the workspace's classifier (here the offline one) which flow's intent
/// the first message means; a message that means none of them goes to the fallback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intent_rules_ask_the_classifier() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let cancel = s
        .publish_flow(desk(
            "Cancel an order",
            "Cancellation desk here.",
            json!({"on": "keyword", "intents": ["cancel my order", "I don't want the order anymore, stop it"]}),
        ))
        .await;
    let address = s
        .publish_flow(desk(
            "Change address",
            "Address desk here.",
            json!({"on": "keyword", "intents": ["change my delivery address", "ship it to another address"]}),
        ))
        .await;
    let general = s.publish_flow(desk("General", "General desk here.", json!({}))).await;
    demo_off(&s).await;
    set_routing(&s, &[&cancel, &address], Some(&general)).await;
    for (message, expected) in [
        ("pls cancel the order i placed yesterday", "Cancellation desk here."),
        ("can you ship my order to a different address", "Address desk here."),
        ("what are your opening hours", "General desk here."),
    ] {
        let body = start(&s, json!({"message": message})).await;
        assert_eq!(texts(&body["messages"])[0], expected, "{message}");
    }
}
