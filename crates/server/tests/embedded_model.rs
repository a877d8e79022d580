//! The embedded language model through a real server and a real conversation, on SQLite and on
//! PostgreSQL (BATON_TEST_MODEL, a GGUF file; CI fetches SmolLM2-135M, the smallest): the server says
//! which model it runs, Let AI Answer's reply reaches the customer's WebSocket as drafts while
//! the model writes it and then as the message, and a hand-over's summary is rewritten by the
//! model after the hand-over (the inbox hears `conversation.summarized`).

mod common;

use baton_ai::local::{Local, LocalOptions};
use common::{Db, TestServer};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The model from BATON_TEST_MODEL; None outside CI when it is not set (a panic in CI).
fn model() -> Option<Arc<baton_ai::generate::LocalModel>> {
    let Some(path) = std::env::var_os("BATON_TEST_MODEL") else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("the language model is needed in CI: set BATON_TEST_MODEL (scripts/fetch-model.sh smollm2-135m)");
        }
        eprintln!("skipped: BATON_TEST_MODEL is not set; run `export BATON_TEST_MODEL=$(scripts/fetch-model.sh smollm2-135m)`");
        return None;
    };
    Some(Arc::new(
        baton_ai::generate::LocalModel::load(std::path::Path::new(&path)).expect("the model loads"),
    ))
}

fn faq_with_handover() -> Value {
    json!({
        "format": 1,
        "name": "FAQ with a person behind it",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "answer", "type": "ai_answer", "intro": "What would you like to know?"},
            {"id": "glad", "type": "end", "message": "Glad I could help!"},
            {"id": "sorry", "type": "message", "text": "Sorry, I could not find that."},
            {"id": "human", "type": "handover", "reason": "asked for a person"},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "answer"},
            {"from": "answer", "port": "resolved", "to": "glad"},
            {"from": "answer", "port": "unanswered", "to": "sorry"},
            {"from": "answer", "port": "human", "to": "human"},
            {"from": "sorry", "port": "next", "to": "answer"},
            {"from": "human", "port": "handed_back", "to": "answer"},
            {"from": "human", "port": "resolved", "to": "done"},
            {"from": "human", "port": "off_hours", "to": "done"},
            {"from": "human", "port": "no_agent", "to": "done"},
            {"from": "human", "port": "timeout", "to": "done"},
            {"from": "human", "port": "cancelled", "to": "done"}
        ]
    })
}

async fn the_model_answers_streams_and_summarises(db: Db) {
    let Some(model) = model() else { return };
    let model_id = model.id().to_string();
    let local = Local {
        model,
        // Debug-built tests on a busy machine: generous, the point is the plumbing.
        options: LocalOptions {
            time_limit: Duration::from_secs(120),
            ..LocalOptions::default()
        },
    };
    let Some(s) = TestServer::start_with(db, |c| {
        c.offline_ai = baton_ai::OfflineProvider::new().with_local(local);
    })
    .await
    else {
        return;
    };
    let (status, view) = s.api(Method::GET, "/api/v1/workspace/ai", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["local_model"], json!(model_id), "{view}");
    let (status, body) = s
        .api(
            Method::PUT,
            "/api/v1/kb/articles/shipping",
            Some(json!({"collection": "help", "title": "Shipping", "markdown": "# Shipping\n\nOvernight shipping costs $20 and arrives the next business day. Standard shipping costs $8."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Everyone is online, so the hand-over queues.
    let store = &s.running.state.core.store;
    for m in store.members(&s.owner.workspace_id).await.unwrap() {
        store.set_presence(&m.id, "online").await.unwrap();
    }
    s.running.state.core.availability.forget(&s.owner.workspace_id);

    let flow_id = s.publish_flow(faq_with_handover()).await;
    let customer = s.customer_on(&flow_id).await;
    let ws_url = format!(
        "{}/api/v1/conversations/{}/ws?token={}",
        s.base.replace("http://", "ws://"),
        customer.id,
        customer.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket opens");
    customer.say("q1", "how much is overnight shipping?").await;
    let mut drafts = Vec::new();
    let answer = loop {
        let frame = tokio::time::timeout(Duration::from_secs(180), ws.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        match frame["type"].as_str() {
            Some("draft") => drafts.push(frame["text"].as_str().unwrap().to_string()),
            Some("message")
                if frame["message"]["role"] == "bot" && frame["message"]["text"] != "What would you like to know?" =>
            {
                break frame["message"].clone()
            }
            _ => {}
        }
    };
    let text = answer["text"].as_str().unwrap_or("");
    assert_ne!(text, "Sorry, I could not find that.", "answered: {answer}");
    assert!(!drafts.is_empty(), "the answer was shown while it was written");
    assert!(
        drafts.windows(2).all(|w| w[1].starts_with(w[0].as_str())),
        "each draft is the text so far: {drafts:?}"
    );

    customer.say("q2", "can I talk to a person please").await;
    let handover = loop {
        let handovers = store.handovers_of(&customer.id).await.unwrap();
        if let Some(h) = handovers.into_iter().next() {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(handover.status, baton_store::HandoverStatus::Queued);
    // The extractive summary first; the model's replaces it after the hand-over.
    let mut summary = String::new();
    for _ in 0..3600 {
        let h = store.handovers_of(&customer.id).await.unwrap().remove(0);
        let context: Value = serde_json::from_str(&h.context).unwrap();
        summary = context["summary"].as_str().unwrap_or("").to_string();
        if !summary.starts_with("The customer wrote") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !summary.is_empty() && !summary.starts_with("The customer wrote"),
        "the model wrote the summary: {summary}"
    );
}

on_both_databases!(the_model_answers_streams_and_summarises);
