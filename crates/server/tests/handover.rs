//! The hand-over lifecycle over real HTTP and WebSocket, on SQLite and PostgreSQL: queues,
//! claims, replies, notes, hand-back, resolve, every outcome port, business hours, bot silence,
//! round-robin, and a restart in the middle of a queued hand-over.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

on_both_databases!(
    whole_lifecycle_from_queue_to_hand_back,
    two_simultaneous_claims_one_wins,
    off_hours_no_agent_and_handoff_off,
    cancel_and_timeout_leave_through_their_ports,
    resolve_and_hand_back_to_a_chosen_node,
    round_robin_assigns_online_agents_in_turn,
    a_restart_keeps_the_queued_hand_over,
    transfer_to_a_team_or_a_member,
    a_transferred_conversation_waits_again,
    presence_is_kept_after_a_restart_until_the_grace_period_ends,
    a_customer_asks_for_a_person_at_a_question,
    a_rating_is_reported_per_flow_and_agent_and_shown_in_the_next_card,
    an_agent_who_misses_a_reply_target_loses_the_conversation,
    a_queued_customer_sees_their_place_in_the_queue,
    invites_roles_and_deactivation,
    the_inbox_searches_sorts_pages_and_knows_what_is_unread,
    canned_replies_and_an_ai_drafted_reply,
);

/// A signed-in member.
struct Agent {
    id: String,
    cookie: String,
    csrf: String,
    http: reqwest::Client,
    base: String,
}

impl Agent {
    async fn act(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn inbox_socket(&self) -> Socket {
        let mut req = format!("{}/api/v1/inbox/ws", self.base.replace("http", "ws"))
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("cookie", self.cookie.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("inbox socket opens");
        let hello = next_event(&mut ws, |_| true).await;
        assert_eq!(hello["type"], "hello");
        ws
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next inbox event that `wanted` accepts.
async fn next_event(ws: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, ws.next())
            .await
            .expect("an inbox event in time")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            if wanted(&v) {
                return v;
            }
        }
    }
}

/// Adds an agent to the workspace and the `billing` team, and signs them in.
async fn agent(s: &TestServer, email: &str, name: &str) -> Agent {
    add_billing_agent(s, email, name).await;
    sign_in(s, email, AGENT_PASSWORD).await
}

/// Signs a member in with their password.
async fn sign_in(s: &TestServer, email: &str, password: &str) -> Agent {
    let session = sign_in_session(s, email, password).await;
    Agent {
        id: session.member_id,
        cookie: session.cookie,
        csrf: session.csrf,
        http: s.http.clone(),
        base: s.base.clone(),
    }
}

/// Only the given agents are online.
async fn only_online(s: &TestServer, ids: &[&str]) {
    let store = &s.running.state.core.store;
    for m in store.members(&s.owner.workspace_id).await.unwrap() {
        let presence = if ids.contains(&m.id.as_str()) {
            "online"
        } else {
            "offline"
        };
        store.set_presence(&m.id, presence).await.unwrap();
    }
    s.running.state.core.availability.forget(&s.owner.workspace_id);
}

fn support_flow() -> Value {
    json!({
        "format": 1, "name": "Support",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask_name", "type": "collect_input", "text": "Your name?", "variable": "name", "input": "name"},
            {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
            {"id": "human", "type": "handover", "team": "billing", "priority": "high", "context": ["name", "email"],
             "reason": "{{ name }} wants a refund", "stalling_seconds": 60, "max_wait_seconds": 3600,
             "stalling_message": "Still looking for someone free.", "cancel_keywords": ["cancel", "never mind"]},
            {"id": "back", "type": "message", "text": "Welcome back, {{ name }}. Your ticket is {{ ticket | default(\"pending\") }}."},
            {"id": "survey", "type": "options", "text": "How did we do?", "variable": "csat",
             "options": [{"id": "good", "label": "Good"}, {"id": "bad", "label": "Bad"}]},
            {"id": "thanks", "type": "end", "message": "Thanks!"},
            {"id": "closed", "type": "end", "message": "We're closed; we'll email {{ email }}.", "resolve": false},
            {"id": "nobody", "type": "end", "message": "Nobody is free; we'll email {{ email }}.", "resolve": false},
            {"id": "gave_up", "type": "end", "message": "Sorry for the wait; we'll email {{ email }}.", "resolve": false},
            {"id": "cancelled", "type": "end", "message": "No problem.", "resolve": false},
            {"id": "bye", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask_name"},
            {"from": "ask_name", "port": "next", "to": "ask_email"},
            {"from": "ask_name", "port": "invalid", "to": "bye"},
            {"from": "ask_email", "port": "next", "to": "human"},
            {"from": "ask_email", "port": "invalid", "to": "bye"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "human", "port": "resolved", "to": "survey"},
            {"from": "human", "port": "off_hours", "to": "closed"},
            {"from": "human", "port": "no_agent", "to": "nobody"},
            {"from": "human", "port": "timeout", "to": "gave_up"},
            {"from": "human", "port": "cancelled", "to": "cancelled"},
            {"from": "back", "port": "next", "to": "survey"},
            {"from": "survey", "port": "good", "to": "thanks"},
            {"from": "survey", "port": "bad", "to": "thanks"},
            {"from": "survey", "port": "no_match", "to": "thanks"}
        ]
    })
}

/// Starts a conversation on the flow and answers name and email.
async fn queued_customer(s: &TestServer, flow_id: &str) -> (Customer, Vec<String>) {
    let c = s.customer_on(flow_id).await;
    c.say("n", "Ana López").await;
    let replies = c.say("e", "ana@example.com").await;
    (c, replies)
}

fn customer_texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn whole_lifecycle_from_queue_to_hand_back(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let mut inbox = sam.inbox_socket().await;
    only_online(&s, &[&sam.id]).await;

    let started = Instant::now();
    let (c, replies) = queued_customer(&s, &flow_id).await;
    assert!(replies.iter().any(|r| r.contains("connecting you")), "{replies:?}");
    let queued = next_event(&mut inbox, |e| e["type"] == "conversation.queued").await;
    let latency = started.elapsed();
    println!("hand-over visible to the agent {latency:?} after the customer's message was sent");
    assert_eq!(queued["conversation_id"], c.id);
    assert_eq!(queued["team"], "billing");
    assert_eq!(queued["priority"], "high");
    let context = &queued["context"];
    assert_eq!(context["reason"], "Ana López wants a refund");
    let vars = context["variables"].as_array().unwrap();
    assert!(
        vars.iter()
            .any(|v| v["name"] == "email" && v["value"] == "ana@example.com" && v["type"] == "email"),
        "{context}"
    );
    assert!(
        vars.iter().any(|v| v["name"] == "name" && v["value"] == "Ana López"),
        "{context}"
    );
    assert_eq!(context["path"], json!(["start", "ask_name", "ask_email", "human"]));
    assert!(context["summary"].as_str().unwrap().contains("ana@example.com"));
    assert_eq!(c.status().await, "queued");

    // The inbox lists it with counts per team.
    let (_, list) = sam
        .act(
            Method::GET,
            "/api/v1/inbox/conversations?status=queued&team=billing",
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], c.id);
    assert!(list["items"][0]["waiting_since"].is_i64());
    let (_, counts) = sam.act(Method::GET, "/api/v1/inbox/counts", None).await;
    assert_eq!(
        counts["teams"][0],
        json!({"team": "billing", "queued": 1, "assigned": 0})
    );

    // The agent opens the conversation: its messages now come live on the socket, another
    // conversation's do not.
    inbox
        .send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "watch", "conversation_id": c.id}).to_string().into(),
        ))
        .await
        .unwrap();
    inbox
        .send(tokio_tungstenite::tungstenite::Message::Text(
            r#"{"type": "ping"}"#.into(),
        ))
        .await
        .unwrap();
    next_event(&mut inbox, |e| e["type"] == "pong").await;
    let other_flow = s.publish_flow(support_flow()).await;
    let other = s.customer_on(&other_flow).await;
    other.say("o1", "Bo").await;

    // While queued, the bot is silent.
    assert!(c.say("q1", "hello? anyone?").await.is_empty());
    let live = next_event(&mut inbox, |e| e["type"] == "message.created").await;
    assert_eq!(live["conversation_id"], c.id, "{live}");
    assert_eq!(live["message"]["text"], "hello? anyone?");

    let (status, body) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/claim", c.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conversation"]["status"], "assigned");
    assert_eq!(body["conversation"]["assignee"], json!(sam.id));
    next_event(&mut inbox, |e| e["type"] == "conversation.assigned").await;
    let (status, _) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/reply", c.id),
            Some(json!({"text": "Hi Ana, I'm on it."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/note", c.id),
            Some(json!({"text": "VIP customer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen = c.messages(0).await;
    let joined = seen
        .iter()
        .find(|m| m["role"] == "system")
        .expect("the customer is told who joined");
    assert_eq!(joined["text"], "Sam joined the conversation.");
    let reply = seen.iter().find(|m| m["role"] == "agent").unwrap();
    assert_eq!(
        (reply["text"].clone(), reply["author"].clone()),
        (json!("Hi Ana, I'm on it."), json!("Sam"))
    );
    assert!(
        !customer_texts(&seen).contains(&"VIP customer".to_string()),
        "notes are never shown to the customer"
    );
    assert!(
        c.say("q2", "thanks").await.is_empty(),
        "the bot stays silent while an agent has it"
    );

    // Hand back with a variable: the flow continues from handed_back.
    let (status, body) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/hand-back", c.id),
            Some(json!({"variables": {"ticket": "T-1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts = customer_texts(body["messages"].as_array().unwrap());
    assert_eq!(
        texts,
        vec!["Welcome back, Ana López. Your ticket is T-1.", "How did we do?"]
    );
    assert_eq!(c.status().await, "bot");
    assert_eq!(c.press("s1", "good").await, vec!["Thanks!"]);

    let (_, detail) = sam
        .act(Method::GET, &format!("/api/v1/inbox/conversations/{}", c.id), None)
        .await;
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for k in ["started", "queued", "assigned", "hand_back_requested", "handed_back"] {
        assert!(kinds.contains(&k), "timeline lacks {k}: {kinds:?}");
    }
    assert!(detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == "note" && m["text"] == "VIP customer"));
    assert_eq!(detail["handovers"][0]["status"], "handed_back");
    assert_eq!(detail["variables"]["ticket"], "T-1");

    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    let node = &analytics["handover_nodes"][0];
    assert_eq!(node["node"], "human");
    assert_eq!(node["outcomes"]["handed_back"], 1);
    assert_eq!(node["picked_up"], 1);
    assert_eq!(analytics["conversations"], 1);
    assert_eq!(
        analytics["drop_off"],
        json!([]),
        "the finished conversation dropped off nowhere"
    );

    // A customer who stops answering at the email question waits there, and after half an
    // hour of silence has dropped off there.
    s.customer_on(&flow_id).await.say("n1", "Bo Chen").await;
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(
        analytics["drop_off"],
        json!([{"node": "ask_email", "waiting": 1, "dropped_off": 0}])
    );
    s.advance_clock(31 * 60 * 1000).await;
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(
        analytics["drop_off"],
        json!([{"node": "ask_email", "waiting": 0, "dropped_off": 1}])
    );
    assert_eq!(analytics["drop_off_after_ms"], 1_800_000);
}

async fn two_simultaneous_claims_one_wins(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let kim = agent(&s, "kim@example.com", "Kim").await;
    only_online(&s, &[&sam.id, &kim.id]).await;
    for round in 0..3 {
        let (c, _) = queued_customer(&s, &flow_id).await;
        let path = format!("/api/v1/inbox/conversations/{}/claim", c.id);
        let (a, b) = tokio::join!(sam.act(Method::POST, &path, None), kim.act(Method::POST, &path, None));
        let statuses = [a.0, b.0];
        assert!(statuses.contains(&StatusCode::OK), "round {round}: {a:?} {b:?}");
        assert!(statuses.contains(&StatusCode::CONFLICT), "round {round}: {a:?} {b:?}");
        let loser = if a.0 == StatusCode::CONFLICT { &a.1 } else { &b.1 };
        assert_eq!(loser["error"]["code"], "already_claimed");
        let joined = c.messages(0).await.iter().filter(|m| m["role"] == "system").count();
        assert_eq!(joined, 1, "one agent joined");
        // The conversation goes on as the winner's after the refused claim: they reply and
        // hand it back, the one refused cannot, and the flow continues.
        let (winner, refused) = if a.0 == StatusCode::OK {
            (&sam, &kim)
        } else {
            (&kim, &sam)
        };
        let conversation = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
        let reply = Some(json!({"text": "On it."}));
        let (status, body) = refused.act(Method::POST, &conversation("reply"), reply.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "round {round}: {body}");
        let (status, body) = winner.act(Method::POST, &conversation("reply"), reply).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        assert_eq!(body["conversation"]["status"], "assigned");
        let (status, body) = winner
            .act(Method::POST, &conversation("hand-back"), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        assert_eq!(c.status().await, "bot", "round {round}");
    }
}

async fn off_hours_no_agent_and_handoff_off(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let teams = teams["items"].clone();
    let billing = teams[0].clone();
    let team_path = format!("/api/v1/teams/{}", billing["id"].as_str().unwrap());
    // Open only on Sundays 00:00–01:00 in Madrid: closed at the test clock's time.
    let closed = json!({"timezone": "Europe/Madrid", "weekly": [{"day": "sunday", "open": "00:00", "close": "01:00"}]});
    let (status, body) = s
        .api(
            Method::PUT,
            &team_path,
            Some(
                json!({"name": "Billing", "slug": "billing", "members": billing["members"], "business_hours": closed}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["open_now"], false);
    let (_, replies) = queued_customer(&s, &flow_id).await;
    assert_eq!(
        replies,
        vec![
            "Our team is offline right now.",
            "We're closed; we'll email ana@example.com."
        ]
    );

    // Bad hours are refused with the field named.
    let (status, body) = s
        .api(
            Method::PUT,
            &team_path,
            Some(json!({"name": "Billing", "slug": "billing", "business_hours": {"timezone": "Mars/Olympus", "weekly": []}})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("business_hours.timezone"))
    );

    // Open again, but nobody online: no_agent.
    s.api(
        Method::PUT,
        &team_path,
        Some(json!({"name": "Billing", "slug": "billing", "members": billing["members"]})),
    )
    .await;
    only_online(&s, &[]).await;
    let (_, replies) = queued_customer(&s, &flow_id).await;
    assert_eq!(
        replies,
        vec![
            "Nobody from our team is available right now.",
            "Nobody is free; we'll email ana@example.com."
        ]
    );

    // Hand-off switched off for the workspace: off_hours, with the workspace's message.
    only_online(&s, &[&sam.id]).await;
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["handoff_enabled"] = json!(false);
    settings["handoff"]["off_hours_message"] = json!("Chat support is paused today.");
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, replies) = queued_customer(&s, &flow_id).await;
    assert_eq!(replies[0], "Chat support is paused today.");
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(
        analytics["handover_nodes"][0]["outcomes"],
        json!({"off_hours": 2, "no_agent": 1})
    );
}

async fn cancel_and_timeout_leave_through_their_ports(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    // A cancel keyword while queued.
    let (c, _) = queued_customer(&s, &flow_id).await;
    let replies = c.say("x", "Never mind").await;
    assert_eq!(
        replies,
        vec!["Okay, I've cancelled your request for a person.", "No problem."]
    );
    // The cancel button (API).
    let (c, _) = queued_customer(&s, &flow_id).await;
    let res = s
        .http
        .post(format!("{}/api/v1/conversations/{}/cancel", s.base, c.id))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(c.status().await, "follow_up", "its End node does not resolve");
    let (status, body) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/resolve", c.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(c.status().await, "resolved", "the follow-up is done");
    let res = s
        .http
        .post(format!("{}/api/v1/conversations/{}/cancel", s.base, c.id))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "nothing to cancel any more");
    // Stalling, then the maximum wait.
    let (c, _) = queued_customer(&s, &flow_id).await;
    s.advance_clock(60_000).await;
    c.wait_for("Still looking for someone free.").await;
    assert_eq!(c.status().await, "queued", "stalling keeps the customer queued");
    s.advance_clock(3_540_000).await;
    c.wait_for("Sorry for the wait; we'll email ana@example.com.").await;
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(
        analytics["handover_nodes"][0]["outcomes"],
        json!({"cancelled": 2, "timeout": 1})
    );
}

async fn resolve_and_hand_back_to_a_chosen_node(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (c, _) = queued_customer(&s, &flow_id).await;
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    // Replying to a queued conversation claims it.
    let (status, body) = sam
        .act(
            Method::POST,
            &path("reply"),
            Some(json!({"text": "Looking now.", "client_id": "r1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conversation"]["status"], "assigned");
    sam.act(
        Method::POST,
        &path("reply"),
        Some(json!({"text": "Looking now.", "client_id": "r1"})),
    )
    .await;
    assert_eq!(
        c.messages(0)
            .await
            .iter()
            .filter(|m| m["text"] == "Looking now.")
            .count(),
        1,
        "a retried reply is sent once"
    );
    let (status, body) = sam.act(Method::POST, &path("resolve"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        customer_texts(body["messages"].as_array().unwrap()),
        vec!["How did we do?"],
        "resolved is wired: the survey"
    );
    let (status, body) = sam.act(Method::POST, &path("resolve"), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the survey is the bot's; resolving again closes it: {body}"
    );
    assert_eq!(c.status().await, "resolved");

    // Hand back to a chosen node; a node that does not exist is refused by name.
    let (c, _) = queued_customer(&s, &flow_id).await;
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    sam.act(Method::POST, &path("claim"), None).await;
    let (status, body) = sam
        .act(Method::POST, &path("hand-back"), Some(json!({"resume_at": "nowhere"})))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("resume_at"))
    );
    let (status, body) = sam
        .act(Method::POST, &path("hand-back"), Some(json!({"resume_at": "survey"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        customer_texts(body["messages"].as_array().unwrap()),
        vec!["How did we do?"]
    );
    // Another workspace's member cannot act on it; an agent cannot act on one that is not with a person.
    let (status, body) = sam.act(Method::POST, &path("reply"), Some(json!({"text": "hi"}))).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("not_with_a_person"))
    );
}

async fn round_robin_assigns_online_agents_in_turn(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let kim = agent(&s, "kim@example.com", "Kim").await;
    only_online(&s, &[&sam.id, &kim.id]).await;
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["assignment"] = json!("round_robin");
    s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    let mut assignees = Vec::new();
    for _ in 0..4 {
        let (c, replies) = queued_customer(&s, &flow_id).await;
        assert!(
            replies.iter().any(|r| r.ends_with("joined the conversation.")),
            "{replies:?}"
        );
        let (_, detail) = sam
            .act(Method::GET, &format!("/api/v1/inbox/conversations/{}", c.id), None)
            .await;
        assert_eq!(detail["conversation"]["status"], "assigned");
        assignees.push(detail["conversation"]["assignee"].as_str().unwrap().to_string());
        s.advance_clock(1_000).await;
    }
    assert_ne!(assignees[0], assignees[1], "{assignees:?}");
    assert_eq!(assignees[0], assignees[2], "{assignees:?}");
    assert_eq!(assignees[1], assignees[3], "{assignees:?}");
}

async fn a_restart_keeps_the_queued_hand_over(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (c, _) = queued_customer(&s, &flow_id).await;
    // A new server on the same database: the queued conversation, its timers and its
    // context are still there.
    let s2 = s.restart().await;
    s2.advance_clock(60_000).await;
    let c2 = Customer {
        base: s2.base.clone(),
        ..c
    };
    c2.wait_for("Still looking for someone free.").await;
    let sam2 = Agent {
        base: s2.base.clone(),
        ..sam
    };
    let (_, list) = sam2.act(Method::GET, "/api/v1/inbox/conversations", None).await;
    assert_eq!(list["items"][0]["id"], c2.id);
    // The row says who (from what the flow collected), why, and the last word.
    assert_eq!(
        list["items"][0]["customer"],
        json!({"name": "Ana López", "email": "ana@example.com"}),
        "{list}"
    );
    assert_eq!(list["items"][0]["reason"], "Ana López wants a refund", "{list}");
    assert_eq!(list["items"][0]["last_message"]["role"], "bot", "{list}");
    assert_eq!(
        list["items"][0]["last_message"]["text"], "Still looking for someone free.",
        "{list}"
    );
    let (status, _) = sam2
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/claim", c2.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sam2
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/hand-back", c2.id),
            Some(json!({"variables": {"ticket": "T-9"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        customer_texts(body["messages"].as_array().unwrap())[0],
        "Welcome back, Ana López. Your ticket is T-9."
    );
}

async fn transfer_to_a_team_or_a_member(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let kim = agent(&s, "kim@example.com", "Kim").await;
    only_online(&s, &[&sam.id, &kim.id]).await;
    let (status, body) = s
        .api(
            Method::POST,
            "/api/v1/teams",
            Some(json!({"name": "Refunds", "slug": "refunds", "members": [kim.id]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = s
        .api(
            Method::POST,
            "/api/v1/teams",
            Some(json!({"name": "Dup", "slug": "refunds"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("slug_taken"))
    );
    // A member listed twice is named, and no team is written.
    let (status, body) = s
        .api(
            Method::POST,
            "/api/v1/teams",
            Some(json!({"name": "Twice", "slug": "twice", "members": [kim.id, kim.id]})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("members[1]"))
    );
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let teams = teams["items"].clone();
    assert!(
        !teams.as_array().unwrap().iter().any(|t| t["slug"] == "twice"),
        "{teams}"
    );
    let (c, _) = queued_customer(&s, &flow_id).await;
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    sam.act(Method::POST, &path("claim"), None).await;
    let (status, body) = sam
        .act(Method::POST, &path("transfer"), Some(json!({"team": "nope"})))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("team"))
    );
    let (status, body) = sam
        .act(Method::POST, &path("transfer"), Some(json!({"team": "refunds"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["conversation"]["status"].clone(),
            body["conversation"]["team"].clone()
        ),
        (json!("queued"), json!("refunds"))
    );
    assert!(c
        .messages(0)
        .await
        .iter()
        .any(|m| m["text"].as_str().unwrap_or("").contains("transferred")));
    let (_, list) = kim
        .act(
            Method::GET,
            "/api/v1/inbox/conversations?team=refunds&assignee=none",
            None,
        )
        .await;
    assert_eq!(list["items"][0]["id"], c.id);
    let (status, _) = kim.act(Method::POST, &path("claim"), None).await;
    assert_eq!(status, StatusCode::OK);
    // Sam no longer has it; Kim passes it straight to Sam.
    let (status, body) = sam
        .act(Method::POST, &path("reply"), Some(json!({"text": "me again"})))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("assigned_to_other"))
    );
    let (status, body) = kim
        .act(Method::POST, &path("transfer"), Some(json!({"member_id": sam.id})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conversation"]["assignee"], json!(sam.id));
    let (_, detail) = sam
        .act(Method::GET, &format!("/api/v1/inbox/conversations/{}", c.id), None)
        .await;
    let transfers = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "transferred")
        .count();
    assert_eq!(transfers, 2);
    assert_replays(&detail);
}

async fn a_transferred_conversation_waits_again(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (c, _) = queued_customer(&s, &flow_id).await;
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    sam.act(Method::POST, &path("claim"), None).await;
    let (status, body) = sam
        .act(Method::POST, &path("transfer"), Some(json!({"team": "billing"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(c.status().await, "queued");
    // Waiting again: the stalling timer runs and the customer can cancel.
    s.advance_clock(60_000).await;
    c.wait_for("Still looking for someone free.").await;
    let replies = c.say("c", "cancel").await;
    assert_eq!(
        replies,
        vec!["Okay, I've cancelled your request for a person.", "No problem."]
    );
    // A hand-back to a chosen node counts as handed back, by the agent who did it.
    let (c, _) = queued_customer(&s, &flow_id).await;
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    sam.act(Method::POST, &path("claim"), None).await;
    let mut inbox = sam.inbox_socket().await;
    let (status, _) = sam
        .act(Method::POST, &path("hand-back"), Some(json!({"resume_at": "survey"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let event = next_event(&mut inbox, |e| e["type"] == "conversation.handed_back").await;
    assert_eq!(event["by"], json!({"id": sam.id, "name": "Sam"}), "{event}");
    assert_eq!(event["resume_at"], "survey", "{event}");
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    assert_eq!(
        analytics["handover_nodes"][0]["outcomes"],
        json!({"cancelled": 1, "handed_back": 1})
    );
    let (_, detail) = sam
        .act(Method::GET, &format!("/api/v1/inbox/conversations/{}", c.id), None)
        .await;
    let back = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "handed_back")
        .cloned()
        .unwrap();
    assert_eq!(back["actor"], json!(sam.id));
    assert_replays(&detail);
}

/// Replays a conversation's recorded timeline through the pure hand-over lifecycle
/// (`baton_flow::handover`): the machine accepts every move the server recorded, and ends where
/// the server shows the conversation (status and assignee).
fn assert_replays(detail: &Value) {
    use baton_flow::handover::{self, Action, Outcome, Phase, PhaseKind};
    let text = |v: &Value| v.as_str().map(str::to_string);
    let mut phase = Phase::Closed;
    let mut moves = 0;
    for entry in detail["timeline"].as_array().expect("a timeline") {
        let data = &entry["data"];
        let action = match entry["kind"].as_str().unwrap_or("") {
            "queued" => Action::Queue {
                team: text(&data["team"]),
            },
            "assigned" => Action::Assign {
                agent: text(&data["agent"]).expect("the agent assigned"),
            },
            "transferred" => match text(&data["to_member"]) {
                Some(agent) => Action::TransferToAgent {
                    agent,
                    team: text(&data["to_team"]),
                },
                None => Action::TransferToTeam {
                    team: text(&data["to_team"]).expect("the team transferred to"),
                },
            },
            "ended" => Action::Close {
                outcome: Outcome::Ended,
            },
            kind => match Outcome::of_port(kind) {
                Some(outcome) if !outcome.is_unreachable() => Action::Close { outcome },
                _ => continue,
            },
        };
        phase = match handover::step(&phase, &action) {
            Ok((next, _)) => next,
            Err(refusal) => panic!("the lifecycle refuses the recorded {action:?} in {phase:?}: {refusal}"),
        };
        moves += 1;
    }
    assert!(moves >= 2, "a hand-over was recorded: {detail}");
    let conversation = &detail["conversation"];
    let status = match phase.kind() {
        PhaseKind::Queued => "queued",
        PhaseKind::Assigned => "assigned",
        PhaseKind::Closed => conversation["status"]
            .as_str()
            .filter(|s| matches!(*s, "bot" | "resolved" | "follow_up"))
            .unwrap_or("closed"),
    };
    assert_eq!(conversation["status"], json!(status), "replayed to {phase:?}");
    assert_eq!(conversation["assignee"], json!(phase.owner()), "replayed to {phase:?}");
}

/// After a restart agents still count while their inboxes reconnect: a hand-over queues
/// instead of leaving through `no_agent`. On SQLite (one instance), a member whose inbox did
/// not come back is offline once the grace period ends.
async fn presence_is_kept_after_a_restart_until_the_grace_period_ends(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let s2 = s.restart_with(|c| c.presence_grace = Duration::from_millis(1500)).await;
    let (c, _) = queued_customer(&s2, &flow_id).await;
    assert_eq!(c.status().await, "queued", "Sam still counts right after the restart");
    if matches!(db, Db::Sqlite) {
        tokio::time::sleep(Duration::from_millis(3000)).await;
        let store = &s2.running.state.core.store;
        let presence = store.member(&sam.id).await.unwrap().map(|m| m.presence);
        assert_eq!(
            presence.as_deref(),
            Some("offline"),
            "no inbox came back within the grace period"
        );
    }
}

/// An escape: "talk to a person" typed at a question hands over to the default queue (it is
/// not stored as the answer), and the hand-back asks the question again. The workspace can turn
/// the escape off; bad escape settings are named.
async fn a_customer_asks_for_a_person_at_a_question(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s
        .publish_flow(json!({
            "format": 1, "name": "Questions",
            "nodes": [
                {"id": "start", "type": "trigger"},
                {"id": "ask_name", "type": "collect_input", "text": "What's your name?", "variable": "customer_name", "input": "name"},
                {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
                {"id": "done", "type": "end"}
            ],
            "edges": [
                {"from": "start", "port": "next", "to": "ask_name"},
                {"from": "ask_name", "port": "next", "to": "ask_email"},
                {"from": "ask_email", "port": "next", "to": "done"}
            ]
        }))
        .await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let c = s.customer_on(&flow_id).await;
    let replies = c.say("m1", "can I talk to a real person please").await;
    assert!(replies[0].contains("connecting you"), "{replies:?}");
    assert_eq!(c.status().await, "queued");
    let detail_path = format!("/api/v1/inbox/conversations/{}", c.id);
    let (status, detail) = sam.act(Method::GET, &detail_path, None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["handover"]["context"]["reason"], "The customer asked for a person at `ask_name`.",
        "{detail}"
    );
    assert_eq!(
        detail["variables"]["customer_name"],
        Value::Null,
        "not stored as the name"
    );
    answer_has_its_documented_shape(&s, &detail).await;
    let (status, _) = sam.act(Method::POST, &format!("{detail_path}/claim"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sam
        .act(Method::POST, &format!("{detail_path}/hand-back"), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        customer_texts(body["messages"].as_array().unwrap()),
        vec!["What's your name?"]
    );
    let (_, detail) = sam.act(Method::GET, &detail_path, None).await;
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"handed_back"), "{kinds:?}");
    assert_replays(&detail);
    assert_eq!(c.say("m2", "Ana").await, ["Your email?"]);

    // Words the phrases miss: the intent classifier reads them in the turn; a text that is no
    // answer and no request is asked again.
    let c = s.customer_on(&flow_id).await;
    let replies = c.say("p1", "i'd rather speak with somebody from your team").await;
    assert!(replies[0].contains("connecting you to a person"), "{replies:?}");
    assert_eq!(c.status().await, "queued");
    let c = s.customer_on(&flow_id).await;
    assert_eq!(c.say("q1", "Ana").await, ["Your email?"]);
    let replies = c.say("q2", "not sure which one i used").await;
    assert!(
        replies[0].starts_with("That doesn't look like an email address."),
        "{replies:?}"
    );
    assert_eq!(c.status().await, "bot");

    // Turned off for the workspace, "human" is a name like any other.
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["escapes"]["human"] = json!([]);
    let (status, body) = s
        .api(Method::PUT, "/api/v1/workspace/settings", Some(settings.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = s.customer_on(&flow_id).await;
    assert_eq!(c.say("n1", "human").await, ["Your email?"]);
    settings["escapes"]["cancel"] = json!(["  "]);
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "escapes.cancel[0]");
}

/// The inbox's conversation view has the fields its OpenAPI schema lists (and its hand-over and
/// timeline entries theirs).
async fn answer_has_its_documented_shape(s: &TestServer, detail: &Value) {
    let doc: Value = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&schemas["InboxDetail"]["properties"]), keys(detail));
    assert_eq!(keys(&schemas["Handover"]["properties"]), keys(&detail["handover"]));
    assert_eq!(
        keys(&schemas["TimelineEntry"]["properties"]),
        keys(&detail["timeline"][0])
    );
    assert_eq!(keys(&schemas["NodeRef"]["properties"]), keys(&detail["nodes"][0]));
    let statuses: Vec<&str> = schemas["HandoverStatus"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        statuses.contains(&detail["handover"]["status"].as_str().unwrap_or("")),
        "{statuses:?}"
    );
}

/// CSAT: after an agent resolves, an End node asks for a rating; the rating is reported per
/// flow and per agent, and the customer's next hand-over card shows it.
async fn a_rating_is_reported_per_flow_and_agent_and_shown_in_the_next_card(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s
        .publish_flow(json!({
            "format": 1, "name": "Rated support",
            "nodes": [
                {"id": "start", "type": "trigger"},
                {"id": "human", "type": "handover", "team": "billing"},
                {"id": "rate", "type": "end", "csat": {"question": "How did we do?", "thanks": "Thanks!"}},
                {"id": "bye", "type": "end"}
            ],
            "edges": [
                {"from": "start", "port": "next", "to": "human"},
                {"from": "human", "port": "resolved", "to": "rate"},
                {"from": "human", "port": "handed_back", "to": "bye"},
                {"from": "human", "port": "off_hours", "to": "bye"},
                {"from": "human", "port": "no_agent", "to": "bye"},
                {"from": "human", "port": "timeout", "to": "bye"},
                {"from": "human", "port": "cancelled", "to": "bye"}
            ]
        }))
        .await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let start = || {
        s.start_conversation(
            json!({"widget_key": s.owner.widget_key, "flow_id": flow_id, "contact": {"external_id": "ana-1"}}),
        )
    };
    let (status, body) = start().await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let c = Customer::from_start(&s, &body);
    let path = |action: &str| format!("/api/v1/inbox/conversations/{}/{action}", c.id);
    let (status, _) = sam.act(Method::POST, &path("claim"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sam.act(Method::POST, &path("resolve"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        customer_texts(body["messages"].as_array().unwrap()),
        vec!["How did we do?"]
    );
    assert_eq!(c.press("r", "2").await, ["Thanks!"]);
    assert_eq!(c.status().await, "resolved");

    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    let csat = &analytics["csat"];
    assert_eq!(
        (csat["ratings"].clone(), csat["satisfied"].clone()),
        (json!(1), json!(0)),
        "{analytics}"
    );
    assert_eq!(csat["average_of_5"], 2.0);
    assert_eq!(csat["by_agent"][0]["agent_id"], json!(sam.id), "{csat}");

    // The same customer comes back: the card shows how they rated last time.
    let (status, body) = start().await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let again = Customer::from_start(&s, &body);
    let (_, detail) = sam
        .act(Method::GET, &format!("/api/v1/inbox/conversations/{}", again.id), None)
        .await;
    let last = &detail["handover"]["context"]["last_rating"];
    assert_eq!(
        (last["score"].clone(), last["scale"].clone()),
        (json!(2), json!(5)),
        "{detail}"
    );
}

/// A customer queued on the flow and claimed by `agent`; the conversation's inbox path.
async fn claimed_by(s: &TestServer, flow_id: &str, agent: &Agent) -> (Customer, String) {
    let (c, _) = queued_customer(s, flow_id).await;
    let path = format!("/api/v1/inbox/conversations/{}", c.id);
    let (status, body) = agent.act(Method::POST, &format!("{path}/claim"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (c, path)
}

/// The billing team's reply targets set over the API; the answer shows them.
async fn set_reply_targets(s: &TestServer, members: &[&str], targets: Value) {
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let teams = teams["items"].clone();
    let billing = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "billing")
        .unwrap()
        .clone();
    let (status, body) = s
        .api(
            Method::PUT,
            &format!("/api/v1/teams/{}", billing["id"].as_str().unwrap()),
            Some(json!({"name": "Billing", "slug": "billing", "members": members, "reply_targets": targets})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reply_targets"], targets);
}

async fn an_agent_who_misses_a_reply_target_loses_the_conversation(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    let kim = agent(&s, "kim@example.com", "Kim").await;
    only_online(&s, &[&sam.id, &kim.id]).await;
    let members = [sam.id.as_str(), kim.id.as_str()];

    // Targets are checked, per team and for the workspace.
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let teams = teams["items"].clone();
    let billing_id = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "billing")
        .unwrap()["id"]
        .clone();
    let (status, body) = s
        .api(
            Method::PUT,
            &format!("/api/v1/teams/{}", billing_id.as_str().unwrap()),
            Some(json!({"name": "Billing", "slug": "billing", "reply_targets": {"first_reply_seconds": 999_999}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "reply_targets.first_reply_seconds");
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    assert_eq!(settings["reply_targets"]["when_missed"], "requeue", "{settings}");
    settings["reply_targets"] = json!({"next_reply_seconds": 1_000_000});
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "reply_targets.next_reply_seconds");

    // Next agent: Sam claims and never replies; after two minutes Kim has it.
    set_reply_targets(
        &s,
        &members,
        json!({"first_reply_seconds": 120, "next_reply_seconds": 300, "when_missed": "next_agent"}),
    )
    .await;
    let (c, path) = claimed_by(&s, &flow_id, &sam).await;
    let (_, detail) = sam.act(Method::GET, &path, None).await;
    let claimed_at = detail["handover"]["assigned_at"].as_i64().unwrap();
    assert_eq!(
        detail["conversation"]["reply_due_at"].as_i64(),
        Some(claimed_at + 120_000),
        "{detail}"
    );
    let (_, list) = sam.act(Method::GET, "/api/v1/inbox/conversations", None).await;
    assert_eq!(
        list["items"][0]["reply_due_at"], detail["conversation"]["reply_due_at"],
        "{list}"
    );
    s.advance_clock(119_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, detail) = sam.act(Method::GET, &path, None).await;
    assert_eq!(detail["conversation"]["assignee"], sam.id.as_str(), "not yet: {detail}");
    s.advance_clock(1_000).await;
    c.wait_for("Kim joined the conversation.").await;
    let (_, detail) = kim.act(Method::GET, &path, None).await;
    assert_eq!(detail["conversation"]["assignee"], kim.id.as_str(), "{detail}");
    let missed = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "reply_missed")
        .cloned()
        .unwrap_or_default();
    assert_eq!(missed["data"]["agent"]["id"], sam.id.as_str(), "{detail}");
    assert_eq!(missed["data"]["target"], "first_reply");
    assert_eq!(missed["data"]["then"], "next_agent");
    assert!(
        detail["conversation"]["reply_due_at"].is_i64(),
        "Kim's first reply is due: {detail}"
    );

    // Kim replies: no target runs until the customer writes again.
    let (status, _) = kim
        .act(
            Method::POST,
            &format!("{path}/reply"),
            Some(json!({"text": "Hi, Kim here."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = kim.act(Method::GET, &path, None).await;
    assert!(detail["conversation"]["reply_due_at"].is_null(), "{detail}");
    assert!(
        c.say("q1", "My card was charged twice").await.is_empty(),
        "the bot stays silent"
    );
    let (_, detail) = kim.act(Method::GET, &path, None).await;
    assert!(
        detail["conversation"]["reply_due_at"].is_i64(),
        "the next reply is due: {detail}"
    );
    s.advance_clock(300_000).await;
    // Sam joined once already (the first claim): wait for the second time.
    c.wait_for_times("Sam joined the conversation.", 2).await;
    let (status, _) = sam.act(Method::POST, &format!("{path}/resolve"), None).await;
    assert_eq!(status, StatusCode::OK);

    // Requeue: with the workspace's default queue targets (the team's own are removed).
    set_reply_targets(&s, &members, Value::Null).await;
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["reply_targets"] = json!({"first_reply_seconds": 60, "when_missed": "requeue"});
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (c2, path2) = claimed_by(&s, &flow_id, &kim).await;
    s.advance_clock(60_000).await;
    c2.wait_for("finding someone else").await;
    let (_, detail) = kim.act(Method::GET, &path2, None).await;
    assert_eq!(detail["conversation"]["status"], "queued", "{detail}");
    assert!(detail["conversation"]["assignee"].is_null(), "{detail}");

    // Flow: the Handover node's timeout port.
    set_reply_targets(
        &s,
        &members,
        json!({"first_reply_seconds": 60, "next_reply_seconds": 0, "when_missed": "flow"}),
    )
    .await;
    let (c3, path3) = claimed_by(&s, &flow_id, &sam).await;
    s.advance_clock(60_000).await;
    c3.wait_for("Sorry for the wait; we'll email ana@example.com.").await;
    let (_, detail) = sam.act(Method::GET, &path3, None).await;
    assert_eq!(detail["handovers"][0]["status"], "timeout", "{detail}");
    assert!(detail["conversation"]["reply_due_at"].is_null(), "{detail}");

    // Analytics count the misses per agent and target.
    let (_, analytics) = s
        .api(Method::GET, &format!("/api/v1/flows/{flow_id}/analytics"), None)
        .await;
    let missed = &analytics["reply_missed"];
    assert_eq!(missed["total"], 4, "{analytics}");
    let of = |id: &str| {
        missed["by_agent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["agent"]["id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (of(&sam.id)["first_reply"].as_i64(), of(&sam.id)["next_reply"].as_i64()),
        (Some(2), Some(0)),
        "{analytics}"
    );
    assert_eq!(
        (of(&kim.id)["first_reply"].as_i64(), of(&kim.id)["next_reply"].as_i64()),
        (Some(1), Some(1)),
        "{analytics}"
    );
    assert_eq!(of(&kim.id)["agent"]["name"], "Kim");
}

/// The customer's view of a queued conversation: its place in the queue and how long the
/// queue's conversations usually wait.
async fn a_queued_customer_sees_their_place_in_the_queue(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let view = |c: &Customer| {
        let req = c
            .http
            .get(format!("{}/api/v1/conversations/{}", c.base, c.id))
            .bearer_auth(&c.token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let (first, _) = queued_customer(&s, &flow_id).await;
    s.advance_clock(1_000).await;
    let (second, _) = queued_customer(&s, &flow_id).await;
    assert_eq!(
        view(&first).await["queue"],
        json!({"position": 1, "typical_wait_ms": null})
    );
    assert_eq!(view(&second).await["queue"]["position"], 2);
    s.advance_clock(4_000).await;
    let (status, _) = sam
        .act(
            Method::POST,
            &format!("/api/v1/inbox/conversations/{}/claim", first.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let first_view = view(&first).await;
    assert_eq!(first_view["status"], "assigned");
    assert!(first_view.get("queue").is_none(), "{first_view}");
    let second_view = view(&second).await;
    assert_eq!(
        second_view["queue"],
        json!({"position": 1, "typical_wait_ms": 5000}),
        "{second_view}"
    );
}

/// A teammate invited by a link joins once; roles change within what the caller may give; the
/// last owner stays; a deactivated agent is signed out, cannot sign in or be given
/// conversations, and what they had goes back to the queue.
async fn invites_roles_and_deactivation(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let anon = |method: Method, path: String, body: Option<Value>| {
        let mut req = s.http.request(method, format!("{}{path}", s.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    // Invitations.
    let (status, created) = s
        .api(
            Method::POST,
            "/api/v1/members/invites",
            Some(json!({"email": " New@Example.com ", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = created["path"].as_str().unwrap().to_string();
    let token = path
        .strip_prefix("/app/invite/")
        .expect("a link into the web app")
        .to_string();
    assert_eq!(created["invite"]["email"], "new@example.com");
    let (_, pending) = s.api(Method::GET, "/api/v1/members/invites", None).await;
    let pending = pending["items"].clone();
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    let (status, seen) = anon(Method::GET, format!("/api/v1/invites/{token}"), None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        (seen["email"].as_str(), seen["role"].as_str()),
        (Some("new@example.com"), Some("agent"))
    );
    let (status, body) = anon(Method::GET, "/api/v1/invites/not-a-token".into(), None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let accept = format!("/api/v1/invites/{token}/accept");
    let (status, body) = anon(
        Method::POST,
        accept.clone(),
        Some(json!({"name": "Noor", "password": "password123"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("password"))
    );
    let (status, body) = anon(
        Method::POST,
        accept.clone(),
        Some(json!({"password": "a long passphrase 9"})),
    )
    .await;
    assert_eq!(status.as_u16() / 100, 4, "{body}");
    assert_eq!(body["error"]["field"], "name", "{body}");
    let (status, noor) = anon(
        Method::POST,
        accept.clone(),
        Some(json!({"name": " Noor ", "password": "a long passphrase 9"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{noor}");
    assert_eq!(
        (noor["name"].as_str(), noor["role"].as_str(), noor["active"].as_bool()),
        (Some("Noor"), Some("agent"), Some(true))
    );
    let (status, body) = anon(
        Method::POST,
        accept,
        Some(json!({"name": "Again", "password": "a long passphrase 9"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::GONE, json!("invite_used"))
    );
    let noor_session = sign_in(&s, "new@example.com", "a long passphrase 9").await;
    let (_, pending) = s.api(Method::GET, "/api/v1/members/invites", None).await;
    let pending = pending["items"].clone();
    assert_eq!(pending, json!([]));
    let (status, body) = s
        .api(
            Method::POST,
            "/api/v1/members/invites",
            Some(json!({"email": "new@example.com", "role": "agent"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("email_taken"))
    );
    let (_, second) = s
        .api(
            Method::POST,
            "/api/v1/members/invites",
            Some(json!({"email": "later@example.com", "role": "admin"})),
        )
        .await;
    let second_token = second["path"]
        .as_str()
        .unwrap()
        .trim_start_matches("/app/invite/")
        .to_string();
    let (status, _) = s
        .api(
            Method::DELETE,
            &format!("/api/v1/members/invites/{}", second["invite"]["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = anon(Method::GET, format!("/api/v1/invites/{second_token}"), None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::GONE, json!("invite_used"))
    );
    // An agent cannot invite; an admin cannot invite an owner.
    let (status, _) = noor_session
        .act(
            Method::POST,
            "/api/v1/members/invites",
            Some(json!({"email": "x@example.com", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Roles.
    let noor_path = format!("/api/v1/members/{}", noor_session.id);
    let (status, body) = s.api(Method::PATCH, &noor_path, Some(json!({"role": "boss"}))).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("role"))
    );
    let (status, body) = noor_session
        .act(Method::PATCH, &noor_path, Some(json!({"role": "admin"})))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an agent cannot promote themselves: {body}"
    );
    let (status, body) = s.api(Method::PATCH, &noor_path, Some(json!({"role": "admin"}))).await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("admin")),
        "{body}"
    );
    let (status, _) = noor_session
        .act(
            Method::POST,
            "/api/v1/members/invites",
            Some(json!({"email": "owner@example.com", "role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only owners make owners");
    let (_, members) = s.api(Method::GET, "/api/v1/members", None).await;
    let members = members["items"].clone();
    let owner_id = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "owner")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = noor_session
        .act(
            Method::PATCH,
            &format!("/api/v1/members/{owner_id}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins do not touch owners: {body}");
    let (status, body) = s
        .api(
            Method::PATCH,
            &format!("/api/v1/members/{owner_id}"),
            Some(json!({"role": "agent"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("last_owner"))
    );
    let (status, _) = s
        .api(
            Method::PATCH,
            "/api/v1/members/mem_nobody",
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deactivation.
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (c, conv_path) = claimed_by(&s, &flow_id, &sam).await;
    let (status, body) = noor_session
        .act(
            Method::PATCH,
            &format!("/api/v1/members/{}", noor_session.id),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("deactivate_self"))
    );
    let (status, body) = noor_session
        .act(
            Method::PATCH,
            &format!("/api/v1/members/{}", sam.id),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(
        (status, body["active"].as_bool(), body["presence"].as_str()),
        (StatusCode::OK, Some(false), Some("offline")),
        "{body}"
    );
    let (_, detail) = s.api(Method::GET, &conv_path, None).await;
    assert_eq!(
        (
            detail["conversation"]["status"].as_str(),
            detail["conversation"]["assignee"].as_str()
        ),
        (Some("queued"), None),
        "the conversation went back to the queue: {detail}"
    );
    assert!(
        c.wait_for("finding someone else").await.len() > 1,
        "the customer is told someone else is being found"
    );
    let (status, _) = sam.act(Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out everywhere");
    let res = s
        .http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"email": "sam@example.com", "password": "agent password 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("deactivated"),
        "{body}"
    );
    let (status, body) = noor_session
        .act(
            Method::POST,
            &format!("{conv_path}/assign"),
            Some(json!({"member_id": sam.id})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("member_id"))
    );
    let (_, members) = s.api(Method::GET, "/api/v1/members", None).await;
    let members = members["items"].clone();
    let listed = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == json!(sam.id))
        .unwrap()
        .clone();
    assert_eq!(listed["active"], false, "deactivated members stay listed: {listed}");
    let (status, body) = s
        .api(
            Method::PATCH,
            &format!("/api/v1/members/{}", sam.id),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!((status, body["active"].as_bool()), (StatusCode::OK, Some(true)));
    sign_in(&s, "sam@example.com", "agent password 1").await;
}

/// A conversation queued by a customer with this name and email, who then writes `text`.
async fn queued_as(s: &TestServer, flow_id: &str, name: &str, email: &str, text: &str) -> Customer {
    let c = s.customer_on(flow_id).await;
    c.say("n", name).await;
    c.say("e", email).await;
    c.say("t", text).await;
    c
}

/// The inbox finds words in transcripts and contacts, sorts three ways, pages with a cursor
/// and a total, checks every filter alike, and knows what each member has not read.
async fn the_inbox_searches_sorts_pages_and_knows_what_is_unread(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let ana = queued_as(
        &s,
        &flow_id,
        "Ana López",
        "ana@example.com",
        "My parcel 100% never arrived",
    )
    .await;
    s.advance_clock(1_000).await;
    let ben = queued_as(&s, &flow_id, "Ben Okafor", "ben@example.com", "I was charged twice").await;
    s.advance_clock(1_000).await;
    let cy = queued_as(&s, &flow_id, "Cy Chen", "cy@example.com", "Where is my PARCEL").await;
    let list = |query: &'static str| {
        let sam = &sam;
        async move {
            let (status, page) = sam
                .act(Method::GET, &format!("/api/v1/inbox/conversations{query}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            let ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            (ids, page)
        }
    };

    // Search: the transcript (any case), the contact, a literal `%`.
    let (ids, page) = list("?q=parcel").await;
    assert_eq!(ids, [ana.id.clone(), cy.id.clone()], "{page}");
    assert_eq!(page["total"], 2);
    let (ids, _) = list("?q=okafor").await;
    assert_eq!(ids, vec![ben.id.clone()]);
    let (ids, _) = list("?q=100%25").await;
    assert_eq!(ids, vec![ana.id.clone()], "% is a character, not a wildcard");
    let (ids, _) = list("?q=nothing%20like%20this").await;
    assert!(ids.is_empty());

    // Sorts: longest waiting first (all high priority), newest first.
    let (ids, _) = list("").await;
    assert_eq!(ids, [ana.id.clone(), ben.id.clone(), cy.id.clone()]);
    let (ids, _) = list("?sort=newest").await;
    assert_eq!(ids, [cy.id.clone(), ben.id.clone(), ana.id.clone()]);

    // Pages: a cursor and the total on every page; the pages make the whole list once.
    let (first, page) = list("?limit=2").await;
    assert_eq!((first.len(), page["total"].as_i64()), (2, Some(3)));
    let cursor = page["next_cursor"].as_str().expect("a next page").to_string();
    let (status, page2) = sam
        .act(
            Method::GET,
            &format!("/api/v1/inbox/conversations?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(page2["items"][0]["id"], json!(cy.id));
    assert_eq!(
        (page2["total"].as_i64(), page2["next_cursor"].clone()),
        (Some(3), Value::Null)
    );
    let (status, body) = sam
        .act(
            Method::GET,
            &format!("/api/v1/inbox/conversations?sort=newest&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("cursor"))
    );

    // Every filter is checked alike.
    for (query, field) in [
        ("?status=open", "status"),
        ("?priority=mega", "priority"),
        ("?team=nope", "team"),
        ("?assignee=mem_nobody", "assignee"),
        ("?sort=random", "sort"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?cursor=garbage", "cursor"),
    ] {
        let (status, body) = sam
            .act(Method::GET, &format!("/api/v1/inbox/conversations{query}"), None)
            .await;
        assert_eq!(
            (status, body["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(field)),
            "{query}"
        );
    }
    let long = "x".repeat(201);
    let (status, body) = sam
        .act(Method::GET, &format!("/api/v1/inbox/conversations?q={long}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("q"))
    );

    // Unread: until the member reads it, and again when the customer writes.
    let (_, page) = list("").await;
    assert!(
        page["items"].as_array().unwrap().iter().all(|i| i["unread"] == true),
        "{page}"
    );
    let read = format!("/api/v1/inbox/conversations/{}/read", ana.id);
    let (status, _) = sam.act(Method::POST, &read, Some(json!({}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = list("").await;
    assert_eq!(page["items"][0]["unread"], false, "{page}");
    assert_eq!(page["items"][1]["unread"], true);
    let (status, body) = sam.act(Method::POST, &read, Some(json!({"seq": -1}))).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("seq"))
    );
    ana.say("again", "hello? anyone?").await;
    let (_, page) = list("").await;
    assert_eq!(page["items"][0]["unread"], true, "the customer wrote again: {page}");
    let (_, page) = s.api(Method::GET, "/api/v1/inbox/conversations", None).await;
    assert_eq!(page["items"][0]["unread"], false, "an API key reads nothing");
    let (status, _) = s.api(Method::POST, &read, Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "reading is a member's");
}

/// Canned replies are filled in for the conversation and the agent; the AI drafts a reply
/// from the knowledge base, or says it cannot; nothing is sent.
async fn canned_replies_and_an_ai_drafted_reply(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let flow_id = s.publish_flow(support_flow()).await;
    let sam = agent(&s, "sam@example.com", "Sam").await;
    only_online(&s, &[&sam.id]).await;
    let (status, body) = s
        .api(
            Method::PUT,
            "/api/v1/kb/articles/refunds",
            Some(json!({"collection": "help", "title": "Refunds", "markdown": "# Refunds\n\nRefunds are paid back to the original card within 5 business days after we receive the returned item."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["canned_replies"] = json!([
        {"title": "Greeting", "text": "Hi {{ name | first_word }}, this is {{ agent.name }}. I'm looking at it now."},
        {"title": "greeting", "text": "Duplicate title"}
    ]);
    let (status, body) = s
        .api(Method::PUT, "/api/v1/workspace/settings", Some(settings.clone()))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("canned_replies[1].title"))
    );
    settings["canned_replies"][1] = json!({"title": "Broken", "text": "Hi {{ name "});
    let (status, body) = s
        .api(Method::PUT, "/api/v1/workspace/settings", Some(settings.clone()))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("canned_replies[1].text"))
    );
    settings["canned_replies"][1] = json!({"title": "Refund time", "text": "Refunds reach your card within 5 business days, {{ contact.nickname | default(\"friend\") }}."});
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let c = queued_as(
        &s,
        &flow_id,
        "Ana López",
        "ana@example.com",
        "when do I get my refund back on my card??",
    )
    .await;
    let path = format!("/api/v1/inbox/conversations/{}", c.id);
    let (status, canned) = sam.act(Method::GET, &format!("{path}/canned-replies"), None).await;
    assert_eq!(status, StatusCode::OK, "{canned}");
    assert_eq!(
        canned,
        json!([
            {"title": "Greeting", "text": "Hi Ana, this is Sam. I'm looking at it now."},
            {"title": "Refund time", "text": "Refunds reach your card within 5 business days, friend."}
        ])
    );
    let (status, draft) = sam.act(Method::POST, &format!("{path}/draft-reply"), None).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["answered"], true, "{draft}");
    assert!(draft["text"].as_str().unwrap().contains("5 business days"), "{draft}");
    assert_eq!(draft["sources"][0]["title"], "Refunds", "{draft}");
    assert_eq!(draft["question"], "when do I get my refund back on my card??");
    let before = c.messages(0).await.len();

    c.say("t2", "also can I get a pony delivered to Mars").await;
    let (status, draft) = sam.act(Method::POST, &format!("{path}/draft-reply"), None).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(
        (draft["answered"].clone(), draft["text"].clone()),
        (json!(false), Value::Null),
        "{draft}"
    );
    assert!(draft["reason"].as_str().unwrap().contains("no answer"), "{draft}");
    assert_eq!(c.messages(0).await.len(), before + 1, "drafting sends nothing");
    let (status, _) = sam
        .act(Method::POST, "/api/v1/inbox/conversations/conv_nope/draft-reply", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
