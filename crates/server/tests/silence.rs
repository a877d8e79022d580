//! Customer silence over HTTP: a question's nudge and `no_reply` run on the server's timers,
//! and a conversation left waiting on the customer closes as abandoned (timeline, analytics).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_databases!(silence_nudges_leaves_through_no_reply_and_abandons);

async fn silence_nudges_leaves_through_no_reply_and_abandons(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s
        .publish_flow(json!({
            "format": 1, "name": "Silence",
            "nodes": [
                {"id": "start", "type": "trigger"},
                {"id": "ask_order", "type": "collect_input", "text": "Your order number?", "variable": "order",
                 "no_reply": {"after_minutes": 30, "nudge_after_minutes": 10, "nudge": "Still there?"}},
                {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
                {"id": "closing", "type": "message", "text": "Closing for now."},
                {"id": "done", "type": "end"}
            ],
            "edges": [
                {"from": "start", "port": "next", "to": "ask_order"},
                {"from": "ask_order", "port": "next", "to": "ask_email"},
                {"from": "ask_order", "port": "no_reply", "to": "closing"},
                {"from": "closing", "port": "next", "to": "done"},
                {"from": "ask_email", "port": "next", "to": "done"},
                {"from": "ask_email", "port": "invalid", "to": "done"}
            ]
        }))
        .await;
    // A silent customer: the nudge at 10 minutes, no_reply at 30.
    let quiet = s.customer_on(&flow_id).await;
    s.advance_clock(10 * 60_000).await;
    quiet.wait_for("Still there?").await;
    s.advance_clock(20 * 60_000).await;
    quiet.wait_for("Closing for now.").await;
    assert_eq!(quiet.status().await, "resolved");

    // One who answers, then leaves the next question waiting for more than a day: abandoned.
    let gone = s.customer_on(&flow_id).await;
    assert_eq!(gone.say("g1", "A-1234").await, ["Your email?"]);
    for _ in 0..5 {
        s.advance_clock(6 * 3_600_000).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let mut status = gone.status().await;
    for _ in 0..100 {
        if status == "resolved" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = gone.status().await;
    }
    assert_eq!(status, "resolved", "closed after a day without an answer");
    let (_, detail) = s
        .api(Method::GET, &format!("/api/v1/inbox/conversations/{}", gone.id), None)
        .await;
    let abandoned = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "abandoned")
        .cloned()
        .unwrap_or_default();
    assert_eq!(abandoned["data"]["node"], "ask_email", "{detail}");
    let (status, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(analytics["abandoned"], 1, "{analytics}");
    assert_eq!(
        analytics["contained"], 1,
        "the no_reply path resolved; the abandoned one is not contained"
    );

    // The workspace setting is checked.
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    assert_eq!(settings["abandon_after_hours"], 24);
    settings["abandon_after_hours"] = json!(9000);
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "abandon_after_hours");
}
