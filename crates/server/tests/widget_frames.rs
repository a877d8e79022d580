//! What the customer's WebSocket says besides messages, on SQLite and PostgreSQL: the
//! conversation's status when the socket opens and whenever it changes hands (queued with the
//! place in the queue, assigned with the agent's name, back to the bot, resolved), never on an
//! ordinary turn; an agent typing (at most once a second per agent and conversation); and
//! who may say they are typing.

mod common;

use common::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    status_frames_follow_the_conversation_as_it_changes_hands,
    an_opening_socket_gets_the_status_with_the_place_in_the_queue,
    who_may_say_they_are_typing,
);

mod on_postgres_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_status_change_reaches_a_customer_on_another_instance() {
        super::a_status_change_reaches_a_customer_on_another_instance().await
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A signed-in member.
struct Agent {
    cookie: String,
    csrf: String,
    http: reqwest::Client,
    base: String,
}

impl Agent {
    async fn post(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn typing(&self, conversation_id: &str) -> StatusCode {
        self.post(&format!("/api/v1/inbox/conversations/{conversation_id}/typing"))
            .await
            .0
    }
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> (String, String) {
    let session = sign_in_session(s, email, password).await;
    (session.cookie, session.csrf)
}

/// Adds an agent to the workspace and the `billing` team, online, and signs them in.
async fn agent(s: &TestServer, email: &str, name: &str) -> Agent {
    add_billing_agent(s, email, name).await;
    let session = sign_in_session(s, email, AGENT_PASSWORD).await;
    let store = &s.running.state.core.store;
    store.set_presence(&session.member_id, "online").await.unwrap();
    s.running.state.core.availability.forget(&s.owner.workspace_id);
    Agent {
        cookie: session.cookie,
        csrf: session.csrf,
        http: s.http.clone(),
        base: s.base.clone(),
    }
}

/// Asks for an email, hands over to billing; handed back: a message, then the end (resolved).
fn flow() -> Value {
    json!({
        "format": 1, "name": "Widget frames",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask_name", "type": "collect_input", "text": "Your name?", "variable": "name", "input": "name"},
            {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
            {"id": "human", "type": "handover", "team": "billing", "context": ["email"], "reason": "help",
             "stalling_seconds": 600, "max_wait_seconds": 3600},
            {"id": "back", "type": "options", "text": "Anything else?", "options": [{"id": "no", "label": "No"}]},
            {"id": "bye", "type": "end", "message": "Bye!"},
            {"id": "closed", "type": "end", "message": "Closed.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask_name"},
            {"from": "ask_name", "port": "next", "to": "ask_email"},
            {"from": "ask_name", "port": "invalid", "to": "ask_email"},
            {"from": "ask_email", "port": "next", "to": "human"},
            {"from": "ask_email", "port": "invalid", "to": "human"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "human", "port": "resolved", "to": "bye"},
            {"from": "human", "port": "off_hours", "to": "closed"},
            {"from": "human", "port": "no_agent", "to": "closed"},
            {"from": "human", "port": "timeout", "to": "closed"},
            {"from": "human", "port": "cancelled", "to": "closed"},
            {"from": "back", "port": "no", "to": "bye"},
            {"from": "back", "port": "no_match", "to": "bye"}
        ]
    })
}

async fn open_socket(base: &str, c: &Customer) -> Socket {
    let url = format!(
        "{}/api/v1/conversations/{}/ws?token={}",
        base.replace("http", "ws"),
        c.id,
        c.token
    );
    tokio_tungstenite::connect_async(url).await.expect("websocket opens").0
}

/// The frames that arrive within `wait` of each other (the last one after `wait` of quiet).
async fn frames_until_quiet(ws: &mut Socket, wait: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout(wait, ws.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame.unwrap() {
            frames.push(serde_json::from_str::<Value>(&t).unwrap());
        }
    }
    frames
}

/// The next frame of `kind`; the frames before it are returned too.
async fn next_of(ws: &mut Socket, kind: &str) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap_or_else(|_| panic!("a {kind} frame in time; got {before:#?}"))
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == kind {
                return (v, before);
            }
            before.push(v);
        }
    }
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

const QUIET: Duration = Duration::from_millis(400);

async fn status_frames_follow_the_conversation_as_it_changes_hands(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let c = s.customer_on(&flow_id).await;
    let mut ws = open_socket(&s.base, &c).await;
    // The status comes first, then the backlog.
    let opening = frames_until_quiet(&mut ws, QUIET).await;
    assert_eq!(
        opening.first(),
        Some(&json!({"type": "status", "status": "bot", "queue": null, "agent": null})),
        "{opening:#?}"
    );
    assert_eq!(of_type(&opening, "message").len(), 1, "{opening:#?}");
    // An ordinary turn says nothing of the status.
    c.say("n", "Ana López").await;
    let turn = frames_until_quiet(&mut ws, QUIET).await;
    assert!(of_type(&turn, "status").is_empty(), "{turn:#?}");
    assert_eq!(of_type(&turn, "message").len(), 2, "{turn:#?}");

    // Handed over: queued, first in line, no pick-up times yet.
    c.say("e", "ana@example.com").await;
    let (queued, _) = next_of(&mut ws, "status").await;
    assert_eq!(
        queued,
        json!({"type": "status", "status": "queued", "queue": {"position": 1, "typical_wait_ms": null}, "agent": null})
    );
    // Claimed: assigned, with the agent's name.
    s.advance_clock(3_000).await;
    let inbox = format!("/api/v1/inbox/conversations/{}", c.id);
    let (status, body) = sam.post(&format!("{inbox}/claim")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (assigned, _) = next_of(&mut ws, "status").await;
    assert_eq!(
        assigned,
        json!({"type": "status", "status": "assigned", "queue": null, "agent": {"name": "Sam"}})
    );
    // Typing: passed on once a second at most.
    assert_eq!(sam.typing(&c.id).await, StatusCode::NO_CONTENT);
    let (typing, _) = next_of(&mut ws, "typing").await;
    assert_eq!(typing, json!({"type": "typing", "agent": {"name": "Sam"}}));
    assert_eq!(sam.typing(&c.id).await, StatusCode::NO_CONTENT);
    assert!(
        of_type(&frames_until_quiet(&mut ws, QUIET).await, "typing").is_empty(),
        "a second typing within a second is not passed on"
    );
    s.advance_clock(1_000).await;
    assert_eq!(sam.typing(&c.id).await, StatusCode::NO_CONTENT);
    next_of(&mut ws, "typing").await;
    // The reply carries the agent's name; the status stays.
    let (status, body) = sam
        .post_json(&format!("{inbox}/reply"), json!({"text": "Hi Ana, Sam here."}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = frames_until_quiet(&mut ws, QUIET).await;
    assert!(of_type(&reply, "status").is_empty(), "{reply:#?}");
    let agent_message = of_type(&reply, "message")
        .into_iter()
        .find(|f| f["message"]["role"] == "agent")
        .cloned()
        .unwrap_or_else(|| panic!("the reply: {reply:#?}"));
    assert_eq!(agent_message["message"]["author"], "Sam");
    // The customer writes while assigned: no status frame.
    c.say("q", "Thanks!").await;
    assert!(of_type(&frames_until_quiet(&mut ws, QUIET).await, "status").is_empty());

    // Handed back: the bot has it again.
    let (status, body) = sam
        .post_json(&format!("{inbox}/hand-back"), json!({"variables": {}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (back, _) = next_of(&mut ws, "status").await;
    assert_eq!(
        back,
        json!({"type": "status", "status": "bot", "queue": null, "agent": null})
    );
    // The flow ends: resolved.
    c.press("x", "no").await;
    let (resolved, _) = next_of(&mut ws, "status").await;
    assert_eq!(resolved["status"], "resolved");
    // Typing where nobody is expected any more is refused.
    assert_eq!(sam.typing(&c.id).await, StatusCode::CONFLICT);
}

async fn an_opening_socket_gets_the_status_with_the_place_in_the_queue(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(flow()).await;
    let queue = |c: Customer| async move {
        c.say("n", "Ana López").await;
        c.say("e", "ana@example.com").await;
        c
    };
    let first = queue(s.customer_on(&flow_id).await).await;
    s.advance_clock(1_000).await;
    let second = queue(s.customer_on(&flow_id).await).await;
    let mut ws = open_socket(&s.base, &second).await;
    let frames = frames_until_quiet(&mut ws, QUIET).await;
    assert_eq!(
        frames.first(),
        Some(
            &json!({"type": "status", "status": "queued", "queue": {"position": 2, "typical_wait_ms": null}, "agent": null})
        ),
        "{frames:#?}"
    );
    // The first one is taken: the second's status has not changed (its place is read on demand).
    let (cookie, csrf) = sign_in(&s, &s.owner.owner_email, &s.owner.owner_password).await;
    let owner = Agent {
        cookie,
        csrf,
        http: s.http.clone(),
        base: s.base.clone(),
    };
    let (status, body) = owner
        .post(&format!("/api/v1/inbox/conversations/{}/claim", first.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(of_type(&frames_until_quiet(&mut ws, QUIET).await, "status").is_empty());
}

async fn who_may_say_they_are_typing(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let kim = agent(&s, "kim@example.com", "Kim").await;
    let c = s.customer_on(&flow_id).await;
    let path = format!("/api/v1/inbox/conversations/{}/typing", c.id);
    // With the bot: nobody is expected.
    assert_eq!(sam.typing(&c.id).await, StatusCode::CONFLICT);
    let (_, body) = sam.post(&path).await;
    assert_eq!(body["error"]["code"], "not_with_a_person", "{body}");
    // Queued: any agent may (a reply claims it).
    c.say("n", "Ana López").await;
    c.say("e", "ana@example.com").await;
    let mut ws = open_socket(&s.base, &c).await;
    next_of(&mut ws, "status").await;
    assert_eq!(kim.typing(&c.id).await, StatusCode::NO_CONTENT);
    let (typing, _) = next_of(&mut ws, "typing").await;
    assert_eq!(typing["agent"]["name"], "Kim");
    // Each agent has their own second.
    assert_eq!(sam.typing(&c.id).await, StatusCode::NO_CONTENT);
    let (typing, _) = next_of(&mut ws, "typing").await;
    assert_eq!(typing["agent"]["name"], "Sam");
    // Assigned to Sam: Kim may not.
    let (status, _) = sam.post(&format!("/api/v1/inbox/conversations/{}/claim", c.id)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = kim.post(&path).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("assigned_to_other"))
    );
    // Not signed in; an API key (no member's name to show); no CSRF token.
    let res = s.http.post(format!("{}{path}", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = s.api(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = s
        .http
        .post(format!("{}{path}", s.base))
        .header("cookie", &sam.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Unknown, or another workspace's: not found.
    assert_eq!(sam.typing("conv_nope").await, StatusCode::NOT_FOUND);
    let state = &s.running.state;
    let other = baton_server::bootstrap::create_workspace(
        &state.core.store,
        &state.core.clock,
        "Other",
        "other@example.com",
        Some("other owner password 1"),
    )
    .await
    .unwrap();
    let (cookie, csrf) = sign_in(&s, &other.owner_email, &other.owner_password).await;
    let stranger = Agent {
        cookie,
        csrf,
        http: s.http.clone(),
        base: s.base.clone(),
    };
    assert_eq!(stranger.typing(&c.id).await, StatusCode::NOT_FOUND);
}

/// Two instances on one PostgreSQL database: the customer follows on one, the agent acts on
/// the other; the status reaches the customer (typing stays on the agent's instance).
async fn a_status_change_reaches_a_customer_on_another_instance() {
    let Some(first) = TestServer::start(Db::Postgres).await else {
        return;
    };
    let flow_id = first.publish_flow(flow()).await;
    let sam = agent(&first, "sam@example.com", "Sam").await;
    let second = first.restart().await;
    let c = first.customer_on(&flow_id).await;
    let mut ws = open_socket(&second.base, &c).await;
    let (opening, _) = next_of(&mut ws, "status").await;
    assert_eq!(opening["status"], "bot");
    c.say("n", "Ana López").await;
    c.say("e", "ana@example.com").await;
    let (queued, _) = next_of(&mut ws, "status").await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["queue"]["position"], 1);
    let (status, _) = sam.post(&format!("/api/v1/inbox/conversations/{}/claim", c.id)).await;
    assert_eq!(status, StatusCode::OK);
    let (assigned, _) = next_of(&mut ws, "status").await;
    assert_eq!(assigned["agent"], json!({"name": "Sam"}));
}
