//! Two `baton serve` processes on one PostgreSQL database: the customer talks to one, the agent
//! works on the other, claims race across instances, effects run once, and when one instance
//! is killed the other carries on. Needs PostgreSQL (required in CI).

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// A `baton serve` child process, killed when dropped.
struct Instance {
    child: Child,
    base: String,
    first_start: Option<(String, String)>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts an instance and waits until it answers; returns the API and widget keys on first start.
async fn instance(database_url: &str) -> Instance {
    let port = free_port();
    #[allow(clippy::zombie_processes)] // reaped by `Instance::drop` below
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
        ])
        .args(["--webhook-targets", "loopback", "--no-rate-limits"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut api_key = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(k) = line.trim().strip_prefix("API key:") {
                api_key = Some(k.trim().to_string());
            }
            if let Some(w) = line.trim().strip_prefix("widget key:") {
                let _ = tx.send(Some((api_key.clone().unwrap_or_default(), w.trim().to_string())));
            }
            if line.starts_with("Baton is running") {
                let _ = tx.send(None);
            }
        }
    });
    // "running" comes before the keys on a first start: then wait briefly for them.
    let first_start = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(keys)) => Some(keys),
        Ok(None) => rx.recv_timeout(Duration::from_millis(500)).ok().flatten(),
        Err(_) => None,
    };
    // From here the instance owns the child: it is killed and reaped on every path.
    let instance = Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
        first_start,
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/healthz", instance.base)).send().await {
            if r.status() == StatusCode::OK {
                return instance;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("instance on {} did not come up", instance.base);
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    auth: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http.request(method, url);
    for (k, v) in auth {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A receiver that counts webhook calls and answers `{"ok": true}`.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = tokio::io::BufReader::new(read);
                let mut length = 0;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body).await;
                seen.fetch_add(1, Ordering::SeqCst);
                let reply = "{\"ok\": true}";
                let response = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}", reply.len());
                let _ = write.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, count)
}

fn flow(hook: &str) -> Value {
    json!({
        "format": 1, "name": "Two instances",
        "variables": [{"name": "ok"}],
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
            {"id": "hook", "type": "webhook", "url": hook, "body": {"email": "{{ email }}"}, "response_mapping": {"ok": "ok"}, "retries": 0},
            {"id": "human", "type": "handover", "team": "billing", "context": ["email"], "stalling_seconds": 0, "max_wait_seconds": 0},
            {"id": "back", "type": "end", "message": "Back with the bot, {{ email }}."},
            {"id": "failed", "type": "end", "message": "Lookup failed.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "hook"},
            {"from": "ask", "port": "invalid", "to": "failed"},
            {"from": "hook", "port": "success", "to": "human"},
            {"from": "hook", "port": "failure", "to": "failed"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "human", "port": "no_agent", "to": "failed"},
            {"from": "human", "port": "off_hours", "to": "failed"}
        ]
    })
}

struct Agent {
    cookie: String,
    csrf: String,
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> Agent {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "agent password 1"}))
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
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    Agent { cookie, csrf }
}

/// Polls a conversation's messages on `base` until one contains `needle`.
async fn wait_for(http: &reqwest::Client, base: &str, conv: &str, token: &str, needle: &str) -> Vec<Value> {
    for _ in 0..200 {
        let (_, page) = call(
            http,
            reqwest::Method::GET,
            format!("{base}/api/v1/conversations/{conv}/messages"),
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await;
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        if messages
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains(needle))
        {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no message containing {needle:?} on {base}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_customers_agents_and_work() {
    let Some(url) = baton_testkit::fresh_postgres_database().await.unwrap() else {
        return;
    };
    let a = instance(&url).await;
    let (api_key, widget_key) = a.first_start.clone().expect("the first instance creates the demo");
    let b = instance(&url).await;
    assert!(b.first_start.is_none(), "the second instance finds the workspace");
    let http = reqwest::Client::new();
    let key = format!("Bearer {api_key}");
    let admin = [("authorization", key.as_str())];
    let (hook, calls) = receiver().await;

    // Set up on A: agents Sam and Kim in billing, the flow published and live.
    let (_, me) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/api/v1/members", a.base),
        &admin,
        None,
    )
    .await;
    let owner_id = me["items"][0]["id"].as_str().unwrap().to_string();
    let mut ids = vec![owner_id];
    for (email, name) in [("sam@example.com", "Sam"), ("kim@example.com", "Kim")] {
        let body = json!({"email": email, "name": name, "role": "agent", "password": "agent password 1"});
        let (status, m) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/members", a.base),
            &admin,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    let (_, teams) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/api/v1/teams", a.base),
        &admin,
        None,
    )
    .await;
    let team = teams["items"][0]["id"].as_str().unwrap();
    let (status, _) = call(
        &http,
        reqwest::Method::PUT,
        format!("{}/api/v1/teams/{team}", a.base),
        &admin,
        Some(json!({"name": "Billing", "slug": "billing", "members": ids})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/flows", a.base),
        &admin,
        Some(json!({"document": flow(&hook)})),
    )
    .await;
    let flow_id = created["id"].as_str().unwrap().to_string();
    call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/flows/{flow_id}/publish", a.base),
        &admin,
        Some(json!({})),
    )
    .await;
    call(
        &http,
        reqwest::Method::PUT,
        format!("{}/api/v1/flows/{flow_id}/live", a.base),
        &admin,
        Some(json!({"live": true})),
    )
    .await;

    // Sam works on B, Kim on A; both online.
    let sam = sign_in(&http, &b.base, "sam@example.com").await;
    let kim = sign_in(&http, &a.base, "kim@example.com").await;
    for (agent, base) in [(&sam, &b.base), (&kim, &a.base)] {
        let auth = [("cookie", agent.cookie.as_str()), ("x-csrf-token", agent.csrf.as_str())];
        let (status, _) = call(
            &http,
            reqwest::Method::PUT,
            format!("{base}/api/v1/me/presence"),
            &auth,
            Some(json!({"status": "online"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // Sam's inbox socket on B.
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/api/v1/inbox/ws", b.base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", sam.cookie.parse().unwrap());
    let (mut inbox, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // Ten customers talk to A; every webhook runs once although both instances poll the outbox.
    let mut customers = Vec::new();
    for i in 0..10 {
        let (status, body) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/widget/conversations", a.base),
            &[],
            Some(json!({"widget_key": widget_key, "flow_id": flow_id})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let conv = body["conversation"]["id"].as_str().unwrap().to_string();
        let token = body["token"].as_str().unwrap().to_string();
        let auth = format!("Bearer {token}");
        let (status, _) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/conversations/{conv}/messages", a.base),
            &[("authorization", auth.as_str())],
            Some(json!({"client_id": "e", "text": format!("c{i}@example.com")})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        customers.push((conv, token));
    }
    // The agent on B hears about the hand-overs made on A.
    let mut queued = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while queued.len() < customers.len() {
        let frame = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), inbox.next())
            .await
            .expect("queued events reach B")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "conversation.queued" {
                assert_eq!(v["context"]["variables"][0]["name"], "email");
                queued.insert(v["conversation_id"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        customers.len(),
        "each webhook was called once across the two instances"
    );

    // Claims race across instances: Sam on B and Kim on A, at once; exactly one wins each time.
    for (conv, _) in &customers[..5] {
        let sam_auth = [("cookie", sam.cookie.as_str()), ("x-csrf-token", sam.csrf.as_str())];
        let kim_auth = [("cookie", kim.cookie.as_str()), ("x-csrf-token", kim.csrf.as_str())];
        let (x, y) = tokio::join!(
            call(
                &http,
                reqwest::Method::POST,
                format!("{}/api/v1/inbox/conversations/{conv}/claim", b.base),
                &sam_auth,
                None
            ),
            call(
                &http,
                reqwest::Method::POST,
                format!("{}/api/v1/inbox/conversations/{conv}/claim", a.base),
                &kim_auth,
                None
            ),
        );
        let mut statuses = [x.0, y.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{x:?} {y:?}");
    }

    // Kill A; the customers it served carry on through B, and Sam hands back on B.
    drop(a);
    let (conv, token) = &customers[9];
    let sam_auth = [("cookie", sam.cookie.as_str()), ("x-csrf-token", sam.csrf.as_str())];
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/inbox/conversations/{conv}/claim", b.base),
        &sam_auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/inbox/conversations/{conv}/reply", b.base),
        &sam_auth,
        Some(json!({"text": "Sam here"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/inbox/conversations/{conv}/hand-back", b.base),
        &sam_auth,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = wait_for(&http, &b.base, conv, token, "Back with the bot, c9@example.com.").await;
    assert!(seen.iter().any(|m| m["text"] == "Sam here" && m["author"] == "Sam"));
}
