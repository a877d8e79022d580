//! Outbound events over real HTTP on loopback, on SQLite and on PostgreSQL: subscriptions,
//! signed deliveries to a real receiver, retries with backoff on the server's clock, delivery
//! after a restart, the delivery log, replays, validation and workspace isolation.

mod common;

use baton_server::bootstrap::{create_workspace, CreatedWorkspace};
use baton_server::webhook::{verify, AddressPolicy};
use baton_server::{start, Config, Running};
use common::{receiver, Db, Seen, CLOCK_START};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

struct TestServer {
    base: String,
    /// The database, to start another server on it (a restart).
    database_url: String,
    running: Running,
    owner: CreatedWorkspace,
    http: reqwest::Client,
}

fn config(database_url: &str, clock: i64) -> Config {
    let mut config = Config::new(database_url, "127.0.0.1:0".parse().unwrap());
    config.webhook_policy = AddressPolicy::AllowLoopback;
    config.manual_clock_start = Some(clock);
    config.start_limit = (10_000, 10_000);
    config.message_limit = (10_000, 10_000);
    config
}

impl TestServer {
    async fn start(db: Db) -> Option<TestServer> {
        let database_url = match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("baton-events-{}", baton_server::ids::random_token(8)));
                std::fs::create_dir_all(&dir).unwrap();
                format!("sqlite://{}", dir.join("baton.db").display())
            }
            Db::Postgres => baton_testkit::fresh_postgres_database().await.unwrap()?,
        };
        let running = start(config(&database_url, CLOCK_START)).await.expect("server starts");
        let owner = running
            .first_start
            .clone()
            .expect("first start creates the demo")
            .workspace;
        online(&running, &owner.owner_email).await;
        Some(TestServer {
            base: format!("http://{}", running.addr),
            database_url,
            owner,
            running,
            http: reqwest::Client::new(),
        })
    }

    /// Stops serving HTTP and starts a new server on the same database with its clock at
    /// `clock`. The old server's workers keep its (unmoved) clock, so they take nothing due
    /// later than that.
    async fn restart(self, clock: i64) -> TestServer {
        self.running.server.abort();
        let running = start(config(&self.database_url, clock)).await.expect("server restarts");
        assert!(running.first_start.is_none(), "a restart creates nothing");
        TestServer {
            base: format!("http://{}", running.addr),
            database_url: self.database_url,
            owner: self.owner,
            running,
            http: self.http,
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.api_as(&self.owner.api_key, method, path, body).await
    }

    async fn api_as(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn advance_clock(&self, ms: i64) {
        let res = self
            .http
            .post(format!("{}/api/v1/test/clock", self.base))
            .json(&json!({"advance_ms": ms}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// Creates, publishes and switches on a flow with `key`; returns its id.
    async fn publish_flow_as(&self, key: &str, document: Value) -> String {
        let (status, body) = self
            .api_as(key, Method::POST, "/api/v1/flows", Some(json!({"document": document})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let (status, body) = self
            .api_as(
                key,
                Method::POST,
                &format!("/api/v1/flows/{id}/publish"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = self
            .api_as(
                key,
                Method::PUT,
                &format!("/api/v1/flows/{id}/live"),
                Some(json!({"live": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    /// Starts a conversation on a flow; returns (conversation id, token).
    async fn start_conversation(&self, widget_key: &str, flow_id: &str) -> (String, String) {
        let res = self
            .http
            .post(format!("{}/api/v1/widget/conversations", self.base))
            .json(&json!({"widget_key": widget_key, "flow_id": flow_id, "contact": {"name": "Ana"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        (
            body["conversation"]["id"].as_str().unwrap().to_string(),
            body["token"].as_str().unwrap().to_string(),
        )
    }

    async fn say(&self, conversation: &(String, String), client_id: &str, text: &str) {
        let res = self
            .http
            .post(format!(
                "{}/api/v1/conversations/{}/messages",
                self.base, conversation.0
            ))
            .bearer_auth(&conversation.1)
            .json(&json!({"client_id": client_id, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn subscribe(&self, url: &str, types: Value) -> String {
        let (status, body) = self
            .api(
                Method::POST,
                "/api/v1/event-subscriptions",
                Some(json!({"url": url, "event_types": types})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    async fn deliveries(&self, subscription: &str) -> Vec<Value> {
        let (status, body) = self
            .api(
                Method::GET,
                &format!("/api/v1/event-subscriptions/{subscription}/deliveries"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap().clone();
        // Counted after the page is read: attempts logged meanwhile are counted, not listed.
        assert!(body["total"].as_u64().unwrap() >= items.len() as u64, "{body}");
        assert_eq!(body["next_cursor"], Value::Null, "one page holds the whole log: {body}");
        items
    }

    /// Polls the delivery log until it has `n` attempts.
    async fn wait_for_deliveries(&self, subscription: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let log = self.deliveries(subscription).await;
            if log.len() >= n {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} deliveries: {:#?}", self.deliveries(subscription).await);
    }

    async fn signing_secret(&self) -> String {
        let (_, secret) = self.api(Method::GET, "/api/v1/workspace/signing-secret", None).await;
        secret["secret"].as_str().unwrap().to_string()
    }
}

/// Puts a member online, so hand-overs queue instead of leaving through `no_agent`.
async fn online(running: &Running, email: &str) {
    let store = &running.state.core.store;
    let member = store.member_by_email(email).await.unwrap().unwrap();
    store.set_presence(&member.id, "online").await.unwrap();
}

/// One received event: its headers and parsed body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    raw: String,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn verifies(&self, secret: &str, now_ms: i64) -> bool {
        verify(
            secret,
            (
                &self.header("webhook-id"),
                &self.header("webhook-timestamp"),
                &self.header("webhook-signature"),
            ),
            &self.raw,
            now_ms / 1000,
            300,
        )
    }
}

fn received(seen: &Seen) -> Vec<Received> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(headers, raw)| Received {
            headers: headers.clone(),
            raw: raw.clone(),
            body: serde_json::from_str(raw).unwrap_or(Value::Null),
        })
        .collect()
}

/// Polls until `done` holds for what the receiver got.
async fn wait_until(seen: &Seen, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    for _ in 0..200 {
        let got = received(seen);
        if done(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the receiver never got {what}: {:#?}", received(seen));
}

/// Asks for an order number, then hands over.
fn handover_flow() -> Value {
    json!({
        "format": 1, "name": "Order help",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "Order number?", "variable": "order_id", "input": "regex", "pattern": "[0-9]{5}"},
            {"id": "human", "type": "handover", "priority": "high", "reason": "Order {{ order_id }}", "context": ["order_id"], "max_wait_seconds": 3600},
            {"id": "late", "type": "end", "message": "Nobody came.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "human"},
            {"from": "ask", "port": "invalid", "to": "human"},
            {"from": "human", "port": "timeout", "to": "late"}
        ]
    })
}

/// Hands over at once.
fn queue_flow() -> Value {
    json!({
        "format": 1, "name": "Straight to a person",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "human", "type": "handover", "max_wait_seconds": 86400},
            {"id": "late", "type": "end", "message": "Nobody came.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "human"},
            {"from": "human", "port": "timeout", "to": "late"}
        ]
    })
}

on_both_databases!(
    events_reach_a_receiver_signed_and_replay,
    failed_deliveries_are_retried_after_the_backoff,
    pending_events_are_delivered_after_a_restart,
    subscriptions_are_validated_and_stay_in_their_workspace,
);

async fn events_reach_a_receiver_signed_and_replay(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let (url, seen) = receiver(|_| (200, "{}".into())).await;
    let (other_url, other_seen) = receiver(|_| (200, "{}".into())).await;
    let (status, sub) = s
        .api(
            Method::POST,
            "/api/v1/event-subscriptions",
            Some(json!({"url": format!("{url}/events"), "event_types": ["conversation.queued", "message.created"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["event_types"], json!(["conversation.queued", "message.created"]));
    assert_eq!(sub["active"], true);
    let sub_id = sub["id"].as_str().unwrap().to_string();
    // A subscription to another event type gets none of these.
    s.subscribe(&other_url, json!(["conversation.resolved"])).await;
    let (status, list) = s.api(Method::GET, "/api/v1/event-subscriptions", None).await;
    let list = list["items"].clone();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2);

    let flow_id = s.publish_flow_as(&s.owner.api_key, handover_flow()).await;
    let conversation = s.start_conversation(&s.owner.widget_key, &flow_id).await;
    s.say(&conversation, "c1", "12345").await;
    // The question, the answer, the confirmation and the hand-over (in any order: deliveries
    // run concurrently).
    wait_until(&seen, "conversation.queued and three messages", |got| {
        got.iter().any(|r| r.body["type"] == "conversation.queued")
            && got.iter().filter(|r| r.body["type"] == "message.created").count() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = received(&seen);
    assert_eq!(got.len(), 4, "{got:#?}");

    let secret = s.signing_secret().await;
    for r in &got {
        assert_eq!(r.header("request-line"), "POST /events HTTP/1.1");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.verifies(&secret, CLOCK_START), "signature verifies: {r:?}");
        assert!(!r.verifies("whsec_dGhlIHdyb25nIHNlY3JldA==", CLOCK_START));
        assert_eq!(r.header("webhook-id"), r.body["id"].as_str().unwrap());
        assert!(r.body["id"].as_str().unwrap().starts_with("evt_"), "{}", r.body);
        assert_eq!(r.body["timestamp"], "2027-01-15T08:00:00.000Z");
        assert_eq!(r.body["data"]["conversation_id"], conversation.0.as_str());
        assert_eq!(r.body["data"]["workspace_id"], s.owner.workspace_id.as_str());
        let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "id, type, timestamp, data: {}", r.body);
    }
    let mut ids: Vec<String> = got.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "every event has its own id");

    let messages: Vec<&Value> = got
        .iter()
        .filter(|r| r.body["type"] == "message.created")
        .map(|r| &r.body["data"]["message"])
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m["role"] == "bot" && m["text"] == "Order number?"),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m["role"] == "customer" && m["text"] == "12345"),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m["role"] == "bot" && m["text"].as_str().unwrap().contains("connecting you to a person")),
        "{messages:#?}"
    );
    let queued = got
        .iter()
        .find(|r| r.body["type"] == "conversation.queued")
        .unwrap()
        .clone();
    let data = &queued.body["data"];
    assert!(data["handover_id"].as_str().unwrap().starts_with("ho_"), "{data}");
    assert_eq!(data["priority"], "high");
    let context = &data["context"];
    assert_eq!(context["reason"], "Order 12345", "{context}");
    assert_eq!(context["node"], "human");
    assert_eq!(context["variables"][0]["name"], "order_id", "{context}");
    assert_eq!(context["variables"][0]["value"], "12345", "{context}");
    assert_eq!(context["path"], json!(["start", "ask", "human"]));
    assert!(context["summary"].as_str().unwrap().contains("12345"), "{context}");
    assert!(context["sentiment"].is_string(), "{context}");
    assert!(
        other_seen.lock().unwrap().is_empty(),
        "conversation.resolved was not emitted"
    );

    // The delivery log lists every attempt, newest first.
    let log = s.wait_for_deliveries(&sub_id, got.len()).await;
    assert_eq!(log.len(), got.len(), "{log:#?}");
    let log_ids: Vec<i64> = log.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert!(log_ids.windows(2).all(|w| w[0] > w[1]), "newest first: {log_ids:?}");
    for d in &log {
        assert_eq!(d["status_code"], 200, "{d}");
        assert_eq!(d["attempt"], 1, "{d}");
        assert_eq!(d["error"], Value::Null, "{d}");
        assert_eq!(d["url"], format!("{url}/events"));
        assert!(ids.contains(&d["event_id"].as_str().unwrap().to_string()), "{d}");
    }
    let (_, limited) = s
        .api(
            Method::GET,
            &format!("/api/v1/event-subscriptions/{sub_id}/deliveries?limit=1"),
            None,
        )
        .await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    assert_eq!(limited["items"][0]["id"], log[0]["id"]);
    assert_eq!(limited["total"], json!(log.len()));
    // The next page starts after it, newest first.
    let cursor = limited["next_cursor"]
        .as_str()
        .expect("more than one attempt")
        .to_string();
    let (_, next) = s
        .api(
            Method::GET,
            &format!("/api/v1/event-subscriptions/{sub_id}/deliveries?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(next["items"][0]["id"], log[1]["id"], "{next}");

    // A replay sends the same event again: same id, same body.
    let event_id = queued.header("webhook-id");
    let (status, body) = s
        .api(
            Method::POST,
            &format!("/api/v1/event-subscriptions/{sub_id}/deliveries/{event_id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["event_id"], event_id.as_str());
    let before = got.len();
    let again = wait_until(&seen, "the replay", |got| got.len() > before).await;
    let replayed = &again[before];
    assert_eq!(replayed.header("webhook-id"), event_id);
    assert_eq!(replayed.raw, queued.raw, "the same event");
    assert!(replayed.verifies(&secret, CLOCK_START));
    let log = s.wait_for_deliveries(&sub_id, before + 1).await;
    assert_eq!(log[0]["event_id"], event_id.as_str());
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(
        log.iter().filter(|d| d["event_id"] == event_id.as_str()).count(),
        2,
        "the first delivery and the replay"
    );
    // Events never sent to this subscription cannot be replayed.
    let (status, body) = s
        .api(
            Method::POST,
            &format!("/api/v1/event-subscriptions/{sub_id}/deliveries/evt_nope/replay"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn failed_deliveries_are_retried_after_the_backoff(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let (url, seen) = receiver(|n| if n == 1 { (500, "{}".into()) } else { (200, "{}".into()) }).await;
    let sub_id = s.subscribe(&url, json!(["conversation.queued"])).await;
    let flow_id = s.publish_flow_as(&s.owner.api_key, queue_flow()).await;
    let conversation = s.start_conversation(&s.owner.widget_key, &flow_id).await;
    wait_until(&seen, "the first attempt", |got| !got.is_empty()).await;
    let log = s.wait_for_deliveries(&sub_id, 1).await;
    assert_eq!(log[0]["status_code"], 500, "{log:#?}");
    assert_eq!(log[0]["attempt"], 1);

    // Nothing more until the backoff (5 s on the server's clock) has passed.
    tokio::time::sleep(Duration::from_millis(800)).await;
    s.advance_clock(4_000).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received(&seen).len(), 1, "no retry before the backoff");
    s.advance_clock(1_000).await;
    let got = wait_until(&seen, "the retry", |got| got.len() == 2).await;
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "a retry keeps its id"
    );
    assert_eq!(got[0].raw, got[1].raw, "a retry sends the same event");
    assert_eq!(got[1].body["type"], "conversation.queued");
    assert_eq!(got[1].body["data"]["conversation_id"], conversation.0.as_str());
    let secret = s.signing_secret().await;
    assert!(got[0].verifies(&secret, CLOCK_START));
    assert!(got[1].verifies(&secret, CLOCK_START + 5_000));
    assert_ne!(
        got[0].header("webhook-timestamp"),
        got[1].header("webhook-timestamp"),
        "each attempt is signed when sent"
    );

    let log = s.wait_for_deliveries(&sub_id, 2).await;
    let summary: Vec<(Value, Value)> = log
        .iter()
        .map(|d| (d["attempt"].clone(), d["status_code"].clone()))
        .collect();
    assert_eq!(summary, vec![(json!(2), json!(200)), (json!(1), json!(500))]);
    // Delivered: nothing stays pending, and moving the clock sends nothing more.
    s.advance_clock(3_600_000).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received(&seen).len(), 2);
    let (_, health) = s.api(Method::GET, "/healthz", None).await;
    assert_eq!(health["pending_effects"], 0, "{health}");
}

async fn pending_events_are_delivered_after_a_restart(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let (url, seen) = receiver(|n| {
        if n == 1 {
            (503, "{}".into())
        } else {
            (204, String::new())
        }
    })
    .await;
    let sub_id = s.subscribe(&url, json!(["conversation.queued"])).await;
    let flow_id = s.publish_flow_as(&s.owner.api_key, queue_flow()).await;
    s.start_conversation(&s.owner.widget_key, &flow_id).await;
    s.wait_for_deliveries(&sub_id, 1).await;
    assert_eq!(received(&seen).len(), 1);

    // A new server on the same database, later than the retry is due.
    let s = s.restart(CLOCK_START + 60_000).await;
    let got = wait_until(&seen, "the retry after the restart", |got| got.len() == 2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let secret = s.signing_secret().await;
    assert!(got[1].verifies(&secret, CLOCK_START + 60_000));
    let log = s.wait_for_deliveries(&sub_id, 2).await;
    let codes: Vec<Value> = log.iter().map(|d| d["status_code"].clone()).collect();
    assert_eq!(codes, vec![json!(204), json!(503)]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(received(&seen).len(), 2, "delivered once");
}

async fn subscriptions_are_validated_and_stay_in_their_workspace(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let post = |body: Value| s.api(Method::POST, "/api/v1/event-subscriptions", Some(body));
    for (body, field) in [
        (json!({"url": "ftp://example.com/x", "event_types": ["*"]}), "url"),
        (json!({"url": "not a url", "event_types": ["*"]}), "url"),
        (json!({"url": "  ", "event_types": ["*"]}), "url"),
        // A private address this server (loopback allowed, not private networks) never calls.
        (json!({"url": "http://10.0.0.5/events", "event_types": ["*"]}), "url"),
        (json!({"url": "http://example.com", "event_types": []}), "event_types"),
        (
            json!({"url": "http://example.com", "event_types": ["message.created", "conversation.bogus"]}),
            "event_types[1]",
        ),
    ] {
        let (status, err) = post(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {err}");
        assert_eq!(err["error"]["code"], "invalid_field", "{err}");
        assert_eq!(err["error"]["field"], field, "{body} → {err}");
    }
    let (status, err) = post(json!({"url": "http://example.com", "event_types": "*"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["field"], "event_types", "{err}");
    let (status, err) = post(json!({"url": "http://example.com", "event_types": ["*"], "secret": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // Inactive: it never sends anything to example.com.
    let (status, created) =
        post(json!({"url": " https://example.com/hook ", "event_types": ["*", "*"], "active": false})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["event_types"], json!(["*"]), "repeats are dropped");
    assert_eq!(created["url"], "https://example.com/hook");
    assert_eq!(created["active"], false);
    let (_, list) = s.api(Method::GET, "/api/v1/event-subscriptions", None).await;
    let list = list["items"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing refused was stored: {list}");
    let sub_id = created["id"].as_str().unwrap().to_string();

    // Agents cannot manage subscriptions.
    let (status, key) = s
        .api(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "agent", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let agent = key["secret"].as_str().unwrap().to_string();
    let (status, _) = s.api_as(&agent, Method::GET, "/api/v1/event-subscriptions", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another workspace sees none of it, and its events do not reach this workspace's receiver.
    let store = &s.running.state.core.store;
    let clock = &s.running.state.core.clock;
    let other = create_workspace(store, clock, "Other", "other@example.com", Some("a long password"))
        .await
        .unwrap();
    online(&s.running, &other.owner_email).await;
    let k = &other.api_key;
    let (status, list) = s.api_as(k, Method::GET, "/api/v1/event-subscriptions", None).await;
    let list = list["items"].clone();
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    for (method, path) in [
        (Method::GET, format!("/api/v1/event-subscriptions/{sub_id}")),
        (Method::DELETE, format!("/api/v1/event-subscriptions/{sub_id}")),
        (Method::GET, format!("/api/v1/event-subscriptions/{sub_id}/deliveries")),
        (
            Method::POST,
            format!("/api/v1/event-subscriptions/{sub_id}/deliveries/evt_x/replay"),
        ),
    ] {
        let (status, body) = s.api_as(k, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (status, _) = s
        .api(Method::GET, &format!("/api/v1/event-subscriptions/{sub_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "still there");

    let (url, seen) = receiver(|_| (200, "{}".into())).await;
    let all = s.subscribe(&url, json!(["*"])).await;
    let other_flow = s.publish_flow_as(k, queue_flow()).await;
    let (other_conversation, _) = s.start_conversation(&other.widget_key, &other_flow).await;
    let flow_id = s.publish_flow_as(&s.owner.api_key, queue_flow()).await;
    let (conversation, _) = s.start_conversation(&s.owner.widget_key, &flow_id).await;
    let got = wait_until(&seen, "this workspace's queued event", |got| {
        got.iter().any(|r| r.body["type"] == "conversation.queued")
    })
    .await;
    for r in &got {
        assert_eq!(
            r.body["data"]["workspace_id"],
            s.owner.workspace_id.as_str(),
            "{}",
            r.body
        );
        assert_eq!(r.body["data"]["conversation_id"], conversation.as_str());
        assert_ne!(r.body["data"]["conversation_id"], other_conversation.as_str());
    }

    // Deleting takes the subscription and its log away; its pending events are dropped.
    let (status, _) = s
        .api(Method::DELETE, &format!("/api/v1/event-subscriptions/{all}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .api(
            Method::GET,
            &format!("/api/v1/event-subscriptions/{all}/deliveries"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .api(Method::DELETE, &format!("/api/v1/event-subscriptions/{all}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = s.api(Method::GET, "/api/v1/event-subscriptions", None).await;
    let list = list["items"].clone();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![sub_id.as_str()]);
}
