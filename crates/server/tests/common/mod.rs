//! The test harness shared by the server's integration tests: a server on loopback on SQLite
//! or PostgreSQL, customers, and a loopback HTTP receiver.
#![allow(dead_code)]

use baton_server::bootstrap::CreatedWorkspace;
use baton_server::webhook::AddressPolicy;
use baton_server::{start, Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[derive(Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Starts at a fixed time; tests move it with POST /api/v1/test/clock.
pub const CLOCK_START: i64 = 1_800_000_000_000;

pub struct TestServer {
    pub base: String,
    pub running: Running,
    pub owner: CreatedWorkspace,
    pub http: reqwest::Client,
    /// The database, to start another server on it (a restart).
    pub url: String,
}

impl TestServer {
    pub async fn start(db: Db) -> Option<TestServer> {
        TestServer::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: Db, tune: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let url = match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("baton-api-{}", baton_server::ids::random_token(8)));
                std::fs::create_dir_all(&dir).unwrap();
                format!("sqlite://{}", dir.join("baton.db").display())
            }
            Db::Postgres => baton_testkit::fresh_postgres_database().await.unwrap()?,
        };
        let mut config = Config::new(url.clone(), "127.0.0.1:0".parse().unwrap());
        config.webhook_policy = AddressPolicy::AllowLoopback;
        // The model endpoints of the AI tests run on loopback.
        config.ai_targets = AddressPolicy::AllowLoopback;
        config.manual_clock_start = Some(CLOCK_START);
        config.start_limit = (10_000, 10_000);
        config.message_limit = (10_000, 10_000);
        tune(&mut config);
        let running = start(config).await.expect("server starts");
        let owner = running
            .first_start
            .clone()
            .expect("first start creates the demo")
            .workspace;
        // The owner is the demo's billing agent: online, so hand-overs queue.
        let store = &running.state.core.store;
        let member = store.member_by_email(&owner.owner_email).await.unwrap().unwrap();
        store.set_presence(&member.id, "online").await.unwrap();
        Some(TestServer {
            base: format!("http://{}", running.addr),
            owner,
            running,
            http: reqwest::Client::new(),
            url,
        })
    }

    /// Another server on the same database, as after a restart (its clock starts where this
    /// one's started; the first server stays up but idle).
    pub async fn restart(&self) -> TestServer {
        self.restart_with(|_| {}).await
    }

    /// [`TestServer::restart`] with its configuration tuned.
    pub async fn restart_with(&self, tune: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::new(self.url.clone(), "127.0.0.1:0".parse().unwrap());
        config.webhook_policy = AddressPolicy::AllowLoopback;
        // The model endpoints of the AI tests run on loopback.
        config.ai_targets = AddressPolicy::AllowLoopback;
        config.manual_clock_start = Some(CLOCK_START);
        config.start_limit = (10_000, 10_000);
        config.message_limit = (10_000, 10_000);
        tune(&mut config);
        let running = start(config).await.expect("server restarts");
        assert!(running.first_start.is_none(), "a restart creates nothing");
        TestServer {
            base: format!("http://{}", running.addr),
            owner: self.owner.clone(),
            running,
            http: reqwest::Client::new(),
            url: self.url.clone(),
        }
    }

    /// A request with the owner's API key.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.api_as(&self.owner.api_key, method, path, body).await
    }

    pub async fn api_as(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
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

    pub async fn start_conversation(&self, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}/api/v1/widget/conversations", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    pub async fn customer(&self) -> Customer {
        let (status, body) = self
            .start_conversation(
                json!({"widget_key": self.owner.widget_key, "contact": {"name": "Ana López", "external_id": "cust-1"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Customer::from_start(self, &body)
    }

    pub async fn advance_clock(&self, ms: i64) {
        let res = self
            .http
            .post(format!("{}/api/v1/test/clock", self.base))
            .json(&json!({"advance_ms": ms}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// Starts a conversation on a live flow of the owner's workspace.
    pub async fn customer_on(&self, flow_id: &str) -> Customer {
        let (status, body) = self
            .start_conversation(json!({"widget_key": self.owner.widget_key, "flow_id": flow_id}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Customer::from_start(self, &body)
    }

    /// Creates, publishes and switches on a flow; returns its id.
    pub async fn publish_flow(&self, document: Value) -> String {
        let (status, body) = self
            .api(Method::POST, "/api/v1/flows", Some(json!({"document": document})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let (status, body) = self
            .api(Method::POST, &format!("/api/v1/flows/{id}/publish"), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = self
            .api(
                Method::PUT,
                &format!("/api/v1/flows/{id}/live"),
                Some(json!({"live": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }
}

pub struct Customer {
    pub base: String,
    pub id: String,
    pub token: String,
    pub first: Vec<Value>,
    pub http: reqwest::Client,
}

impl Customer {
    pub fn from_start(s: &TestServer, body: &Value) -> Customer {
        Customer {
            base: s.base.clone(),
            id: body["conversation"]["id"].as_str().unwrap().to_string(),
            token: body["token"].as_str().unwrap().to_string(),
            first: body["messages"].as_array().unwrap().clone(),
            http: s.http.clone(),
        }
    }

    pub async fn send(&self, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}/api/v1/conversations/{}/messages", self.base, self.id))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Sends text; asserts success; returns the reply texts.
    pub async fn say(&self, client_id: &str, text: &str) -> Vec<String> {
        let (status, body) = self.send(json!({"client_id": client_id, "text": text})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        texts(&body["messages"])
    }

    pub async fn press(&self, client_id: &str, button: &str) -> Vec<String> {
        let (status, body) = self.send(json!({"client_id": client_id, "button": button})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        texts(&body["messages"])
    }

    pub async fn messages(&self, after: i64) -> Vec<Value> {
        let res = self
            .http
            .get(format!(
                "{}/api/v1/conversations/{}/messages?after={after}",
                self.base, self.id
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["messages"].as_array().unwrap().clone()
    }

    pub async fn status(&self) -> String {
        let res = self
            .http
            .get(format!("{}/api/v1/conversations/{}", self.base, self.id))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["status"].as_str().unwrap_or("").to_string()
    }

    /// Polls until a message containing `needle` appears (the flow goes on after an effect).
    pub async fn wait_for(&self, needle: &str) -> Vec<Value> {
        self.wait_for_times(needle, 1).await
    }

    /// Waits until `times` messages contain `needle` (a second agent joining, say).
    pub async fn wait_for_times(&self, needle: &str, times: usize) -> Vec<Value> {
        for _ in 0..200 {
            let all = self.messages(0).await;
            let found = all
                .iter()
                .filter(|m| m["text"].as_str().unwrap_or("").contains(needle))
                .count();
            if found >= times {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "not {times} messages containing {needle:?}: {:#?}",
            self.messages(0).await
        );
    }
}

pub fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .map(|a| a.iter().map(|m| m["text"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

/// Reads one HTTP/1.1 request: its headers (lower-cased names; the request line is the
/// `request-line` header) and its body.
pub async fn read_request(read: tokio::net::tcp::OwnedReadHalf) -> (Vec<(String, String)>, String) {
    let mut reader = BufReader::new(read);
    let mut headers = Vec::new();
    let mut length = 0;
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    headers.push(("request-line".to_string(), line.trim().to_string()));
    loop {
        line.clear();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim().split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    (headers, String::from_utf8_lossy(&body).to_string())
}

/// Requests a receiver got: (headers, body); the request line is the `request-line` header.
pub type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// A loopback HTTP receiver: records requests; answers each with `respond(n)`.
pub async fn receiver(respond: fn(usize) -> (u16, String)) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let (headers, body) = read_request(read).await;
                let n = {
                    let mut seen = record.lock().unwrap();
                    seen.push((headers, body));
                    seen.len()
                };
                let (status, reply) = respond(n);
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = write.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::Db::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(super::Db::Postgres).await
                }
            }
        )*
    };
}

/// The password of the agents [`add_billing_agent`] adds.
pub const AGENT_PASSWORD: &str = "agent password 1";

/// A session: the member's id, the session cookie and the CSRF token.
pub struct Session {
    pub member_id: String,
    pub cookie: String,
    pub csrf: String,
}

/// Signs a member in with their password.
pub async fn sign_in_session(s: &TestServer, email: &str, password: &str) -> Session {
    let res = s
        .http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = res.json::<Value>().await.unwrap();
    Session {
        member_id: body["member"]["id"].as_str().unwrap().to_string(),
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

/// Adds an agent (password [`AGENT_PASSWORD`]) to the workspace and its `billing` team.
pub async fn add_billing_agent(s: &TestServer, email: &str, name: &str) {
    let (status, member) = s
        .api(
            Method::POST,
            "/api/v1/members",
            Some(json!({"email": email, "name": name, "role": "agent", "password": AGENT_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let billing = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "billing")
        .unwrap()
        .clone();
    let mut members: Vec<Value> = billing["members"].as_array().unwrap().clone();
    members.push(member["id"].clone());
    let (status, body) = s
        .api(
            Method::PUT,
            &format!("/api/v1/teams/{}", billing["id"].as_str().unwrap()),
            Some(json!({"name": "Billing", "slug": "billing", "members": members})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
