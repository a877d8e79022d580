//! Issue 3's crash test: `kill -9` the server while customers are chatting, restart it on the
//! same database, and show that no acknowledged message is lost or answered twice and that
//! every pending webhook is delivered. Runs against SQLite and PostgreSQL.
//!
//! The scenario:
//!
//! 1. A loopback webhook receiver records every request. It holds the answer to the first
//!    request of each conversation for a few seconds, so calls are in flight when the server
//!    dies; requests held at the kill are never answered. After the restart it answers at once.
//!    It is idempotent: the same `webhook-id` always gets the same ticket.
//! 2. A flow asks for a note, acknowledges it, files it with the receiver and says
//!    "Filed as T-…".
//! 3. Customers chat concurrently; each send is either acknowledged (2xx) or not.
//! 4. Once about half the messages are acknowledged and webhook calls are in flight, the
//!    server gets SIGKILL.
//! 5. The server restarts on the same database. Customers re-send every message that was not
//!    acknowledged with the same client id, and one acknowledged message, which must come back
//!    as a duplicate with the replies of the first time.
//! 6. Every conversation must end with exactly one "Filed as", every client id stored exactly
//!    once, sequence numbers without gaps, and every webhook delivered with a valid signature
//!    and one `webhook-id` per conversation.

use baton_server::webhook::verify;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// Simulated customers, each in its own conversation.
const CUSTOMERS: usize = 20;
/// Messages each customer sends (the first answers the flow's question).
const MESSAGES: usize = 8;
/// Between two customers starting.
const STAGGER: Duration = Duration::from_millis(250);
/// How long the server stays down.
const DOWNTIME: Duration = Duration::from_millis(300);
/// How long the receiver holds the first request of each conversation before the kill.
const FIRST_ANSWER_DELAY: Duration = Duration::from_secs(3);
/// Kill no later than this after the customers start, whatever happened.
const KILL_DEADLINE: Duration = Duration::from_secs(20);
/// After the restart, every conversation must be filed within this.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);

const QUESTION: &str = "What should we file?";

fn flow(hook_url: &str) -> Value {
    json!({
        "format": 1,
        "name": "Crash test: file a note",
        "variables": [{"name": "ticket"}],
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": QUESTION, "variable": "note"},
            {"id": "got", "type": "message", "text": "Thanks, filing: {{ note }}"},
            {"id": "file", "type": "webhook", "method": "POST", "url": hook_url,
             "body": {"note": "{{ note }}", "conversation": "{{ conversation.id }}"},
             "response_mapping": {"ticket": "ticket"}, "timeout_ms": 15000, "retries": 0},
            {"id": "done", "type": "message", "text": "Filed as {{ ticket }}."},
            {"id": "bye", "type": "end"},
            {"id": "failed", "type": "message", "text": "failed"},
            {"id": "bye_failed", "type": "end", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "got"},
            {"from": "ask", "port": "invalid", "to": "failed"},
            {"from": "got", "port": "next", "to": "file"},
            {"from": "file", "port": "success", "to": "done"},
            {"from": "file", "port": "failure", "to": "failed"},
            {"from": "done", "port": "next", "to": "bye"},
            {"from": "failed", "port": "next", "to": "bye_failed"}
        ]
    })
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

// --- the server process ------------------------------------------------------------------

enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn kill9(mut self) {
        // `Child::kill` is SIGKILL on Unix: no shutdown code runs.
        self.child.kill().expect("kill -9 the server");
        self.child.wait().expect("reap the server");
    }
}

struct Keys {
    api_key: String,
    widget_key: String,
}

/// Starts `baton serve` and waits for its banner (and the credentials on a first start) and
/// for `/healthz`. Returns the health answer too.
async fn start_server(
    http: &reqwest::Client,
    db: &Db,
    port: u16,
    log: &Path,
    first: bool,
) -> (Server, Option<Keys>, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
    cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")]).args([
        "--webhook-targets",
        "loopback",
        "--no-rate-limits",
    ]);
    match db {
        Db::Sqlite(dir) => cmd.arg("--data-dir").arg(dir),
        Db::Postgres(url) => cmd.args(["--database-url", url]),
    };
    let log_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the server log");
    let mut child = cmd
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file.try_clone().expect("clone the log")))
        .spawn()
        .expect("spawn baton serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server { child };
    // Keep draining stdout into the log for the life of the process.
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        let mut log_file: File = log_file;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log_file, "{line}");
            let _ = lines_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut running, mut api_key, mut widget_key) = (false, None, None);
    while !(running && (!first || (api_key.is_some() && widget_key.is_some()))) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match tokio::time::timeout(left, lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!(
                "the server exited before it was ready; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
            Err(_) => panic!("the server did not start within 60 s; see {}", log.display()),
        };
        let last_word = || line.split_whitespace().last().unwrap_or("").to_string();
        if line.starts_with("Baton is running at ") {
            running = true;
        } else if line.trim_start().starts_with("API key:") {
            api_key = Some(last_word());
        } else if line.trim_start().starts_with("widget key:") {
            widget_key = Some(last_word());
        }
    }
    let base = format!("http://127.0.0.1:{port}");
    let health = loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status().as_u16() == 200 {
                break r.json::<Value>().await.expect("healthz json");
            }
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never answered 200; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let keys = match (api_key, widget_key) {
        (Some(api_key), Some(widget_key)) => Some(Keys { api_key, widget_key }),
        _ => None,
    };
    (server, keys, health)
}

// --- the webhook receiver ----------------------------------------------------------------

struct Received {
    /// Unix seconds when it arrived.
    at: i64,
    /// Arrived after the kill, i.e. from the restarted server.
    after_restart: bool,
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
    conversation: String,
    ticket: String,
    /// When the answer was written, if it was.
    answered_at: Option<Instant>,
}

#[derive(Default)]
struct ReceiverLog {
    requests: Vec<Received>,
    seen_conversations: HashSet<String>,
    tickets: HashMap<String, String>,
}

#[derive(Default)]
struct Receiver {
    log: Mutex<ReceiverLog>,
    /// Set once the first server is dead: held requests are dropped, new ones answered at once.
    killed: AtomicBool,
    held: AtomicUsize,
    answered_before_kill: AtomicUsize,
}

async fn start_receiver() -> (String, Arc<Receiver>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("receiver address"));
    let receiver = Arc::new(Receiver::default());
    let r = receiver.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(serve_hook(socket, r.clone()));
        }
    });
    (url, receiver)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request per connection (answered with `connection: close`).
async fn serve_hook(mut socket: tokio::net::TcpStream, receiver: Arc<Receiver>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let path = request_line.next().unwrap_or("").to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&body).to_string();
    let conversation = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["conversation"].as_str().map(str::to_string))
        .unwrap_or_default();
    let after_restart = receiver.killed.load(Ordering::SeqCst);
    let (index, ticket, first) = {
        let mut log = receiver.log.lock().unwrap();
        let first = log.seen_conversations.insert(conversation.clone());
        let next = format!("T-{}", log.tickets.len() + 1);
        let id = headers.get("webhook-id").cloned().unwrap_or_default();
        let ticket = log.tickets.entry(id).or_insert(next).clone();
        log.requests.push(Received {
            at: unix_secs(),
            after_restart,
            method,
            path,
            headers,
            body,
            conversation,
            ticket: ticket.clone(),
            answered_at: None,
        });
        (log.requests.len() - 1, ticket, first)
    };
    if first && !after_restart {
        // In flight when the server is killed: hold it, and never answer it after the kill.
        receiver.held.fetch_add(1, Ordering::SeqCst);
        let until = Instant::now() + FIRST_ANSWER_DELAY;
        while Instant::now() < until && !receiver.killed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver.held.fetch_sub(1, Ordering::SeqCst);
        if receiver.killed.load(Ordering::SeqCst) {
            return;
        }
    }
    let answer = json!({"ok": true, "ticket": ticket}).to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    if socket.write_all(response.as_bytes()).await.is_ok() {
        let _ = socket.flush().await;
        receiver.log.lock().unwrap().requests[index].answered_at = Some(Instant::now());
        if !after_restart && !receiver.killed.load(Ordering::SeqCst) {
            receiver.answered_before_kill.fetch_add(1, Ordering::SeqCst);
        }
    }
}

// --- the customers -----------------------------------------------------------------------

struct Shared {
    http: reqwest::Client,
    base: String,
    widget_key: String,
    flow_id: String,
    /// 0 while the first server runs; 1 once the restarted server is healthy.
    generation: watch::Receiver<u32>,
    /// Messages acknowledged by the first server.
    acked_before_kill: AtomicUsize,
    killed: AtomicBool,
    /// The last failed attempt while the first server was still up.
    error_before_kill: Mutex<Option<String>>,
    /// Requests sent and not answered yet.
    sends_in_flight: AtomicUsize,
}

#[derive(Debug, Clone)]
struct Sent {
    client_id: String,
    text: String,
    /// Attempts that got no 2xx answer.
    failures: u32,
    /// Of those, attempts made before the kill.
    failures_before_kill: u32,
    /// Which server acknowledged it (0: the first, 1: the restarted one).
    acked_by: u32,
    acked_at: Instant,
    latency: Duration,
    duplicate: bool,
    replies: Vec<Value>,
}

struct Probe {
    client_id: String,
    first: Vec<Value>,
    again: Value,
}

struct Customer {
    index: usize,
    conversation: String,
    token: String,
    /// Failed attempts to start the conversation.
    start_failures: u32,
    sent: Vec<Sent>,
    probe: Option<Probe>,
    transcript: Vec<Value>,
}

async fn wait_for_restart(shared: &Shared, seen: u32) {
    let mut generation = shared.generation.clone();
    if generation.wait_for(|g| *g > seen).await.is_err() {
        // The test gave up (and is failing): stay out of its way.
        std::future::pending::<()>().await;
    }
}

struct Acked {
    answer: Value,
    /// Attempts that got no 2xx answer: all, and those made before the kill.
    failures: u32,
    failures_before_kill: u32,
    /// 0: the first server, 1: the restarted one.
    acked_by: u32,
    /// Of the successful attempt.
    latency: Duration,
}

/// POSTs until a 2xx answer: after a connection error, waits for the restarted server.
async fn post_until_acked(shared: &Shared, url: &str, token: Option<&str>, body: &Value, what: &str) -> Acked {
    let (mut failures, mut failures_before_kill) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let generation = *shared.generation.borrow();
        let before_kill = !shared.killed.load(Ordering::SeqCst);
        let mut request = shared.http.post(url).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        shared.sends_in_flight.fetch_add(1, Ordering::SeqCst);
        let sent_at = Instant::now();
        // Err((what went wrong, whether the server is unreachable)).
        let outcome = match request.send().await {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(v) => Ok(v),
                Err(e) => Err((format!("reading the answer: {e}"), true)),
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                assert!(
                    status.is_server_error(),
                    "{what}: the server refused it: {status} {text}"
                );
                Err((format!("{status} {text}"), false))
            }
            Err(e) => Err((e.to_string(), true)),
        };
        shared.sends_in_flight.fetch_sub(1, Ordering::SeqCst);
        match outcome {
            Ok(answer) => {
                return Acked {
                    answer,
                    failures,
                    failures_before_kill,
                    acked_by: if before_kill { 0 } else { 1 },
                    latency: sent_at.elapsed(),
                };
            }
            Err((e, unreachable)) => {
                failures += 1;
                if before_kill {
                    failures_before_kill += 1;
                    *shared.error_before_kill.lock().unwrap() = Some(format!("{what}: {e}"));
                }
                assert!(
                    Instant::now() < deadline,
                    "{what}: no answer within 60 s; last error: {e}"
                );
                if unreachable && generation == 0 {
                    wait_for_restart(shared, 0).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

async fn customer(shared: Arc<Shared>, index: usize) -> Customer {
    tokio::time::sleep(STAGGER * index as u32).await;
    let start_body = json!({"widget_key": shared.widget_key, "flow_id": shared.flow_id});
    let Acked {
        answer: started,
        failures: start_failures,
        ..
    } = post_until_acked(
        &shared,
        &format!("{}/api/v1/widget/conversations", shared.base),
        None,
        &start_body,
        &format!("customer {index}: start"),
    )
    .await;
    let conversation = started["conversation"]["id"]
        .as_str()
        .expect("conversation id")
        .to_string();
    let token = started["token"].as_str().expect("token").to_string();
    let greeting: Vec<&str> = started["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(greeting, [QUESTION], "customer {index}: the flow's question");
    let url = format!("{}/api/v1/conversations/{conversation}/messages", shared.base);
    let mut sent = Vec::new();
    for k in 0..MESSAGES {
        if k > 0 {
            // Typing: 60 to 180 ms between messages, different for each customer.
            tokio::time::sleep(Duration::from_millis(60 + ((index * 37 + k * 53) % 120) as u64)).await;
        }
        let client_id = format!("c{index}-m{k}");
        let text = if k == 0 {
            "hello".to_string()
        } else {
            format!("and another thing, #{k}")
        };
        let body = json!({"client_id": client_id, "text": text});
        let acked = post_until_acked(
            &shared,
            &url,
            Some(&token),
            &body,
            &format!("customer {index}: {client_id}"),
        )
        .await;
        if acked.acked_by == 0 {
            shared.acked_before_kill.fetch_add(1, Ordering::SeqCst);
        }
        sent.push(Sent {
            client_id,
            text,
            failures: acked.failures,
            failures_before_kill: acked.failures_before_kill,
            acked_by: acked.acked_by,
            acked_at: Instant::now(),
            latency: acked.latency,
            duplicate: acked.answer["duplicate"].as_bool().expect("duplicate flag"),
            replies: acked.answer["messages"].as_array().expect("replies").clone(),
        });
    }
    Customer {
        index,
        conversation,
        token,
        start_failures,
        sent,
        probe: None,
        transcript: Vec::new(),
    }
}

/// Re-sends an acknowledged message whose replies are settled: the first server acknowledged
/// it and the next message before the receiver answered this conversation's webhook, so no
/// later bot message can sit between them. (The server answers a retry with every bot message
/// up to the customer's next message, so a message followed by "Filed as" would get that too,
/// which is not "the replies of the first time".)
async fn probe(shared: &Shared, c: &mut Customer, webhook_answered: Option<Instant>) {
    let pick = c.sent.windows(2).find(|w| {
        w[0].acked_by == 0
            && !w[0].duplicate
            && w[1].acked_by == 0
            && webhook_answered.is_none_or(|t| w[1].acked_at < t)
    });
    let Some(pair) = pick else {
        return;
    };
    let first = &pair[0];
    let url = format!("{}/api/v1/conversations/{}/messages", shared.base, c.conversation);
    let again = shared
        .http
        .post(&url)
        .bearer_auth(&c.token)
        .json(&json!({"client_id": first.client_id, "text": first.text}))
        .send()
        .await
        .expect("re-send an acknowledged message");
    assert!(again.status().is_success(), "re-send: {}", again.status());
    c.probe = Some(Probe {
        client_id: first.client_id.clone(),
        first: first.replies.clone(),
        again: again.json().await.expect("re-send answer"),
    });
}

async fn transcript(shared: &Shared, c: &Customer) -> (Vec<Value>, i64) {
    let page: Value = shared
        .http
        .get(format!(
            "{}/api/v1/conversations/{}/messages?after=0",
            shared.base, c.conversation
        ))
        .bearer_auth(&c.token)
        .send()
        .await
        .expect("read the messages")
        .error_for_status()
        .expect("read the messages")
        .json()
        .await
        .expect("messages json");
    (
        page["messages"].as_array().expect("messages").clone(),
        page["last_seq"].as_i64().expect("last_seq"),
    )
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            format!(
                "{}: {}",
                m["role"].as_str().unwrap_or(""),
                m["text"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Seq, role and text: what must match between an answer and its replay.
fn essence(messages: &[Value]) -> Vec<(i64, String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap_or(-1),
                m["role"].as_str().unwrap_or("").to_string(),
                m["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

// --- the scenario --------------------------------------------------------------------------

/// Runs on PostgreSQL at `postgres`, else on SQLite in a temporary directory.
async fn scenario(label: &str, postgres: Option<String>) {
    let began = Instant::now();
    let work = std::env::temp_dir().join(format!("baton-crash-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temp dir");
    let log = work.join("server.log");
    let db = match postgres {
        Some(url) => Db::Postgres(url),
        None => Db::Sqlite(work.join("data")),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client");

    let (hook_url, receiver) = start_receiver().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (server, keys, _) = start_server(&http, &db, port, &log, true).await;
    let keys = keys.expect("a first start prints the API and widget keys");
    println!("[{label}] server up in {:.1?}; log: {}", began.elapsed(), log.display());

    // The workspace's signing secret and the flow.
    let api = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = http.request(method, format!("{base}{path}")).bearer_auth(&keys.api_key);
        if let Some(body) = body {
            r = r.json(&body);
        }
        r
    };
    let secret_answer: Value = api(reqwest::Method::GET, "/api/v1/workspace/signing-secret", None)
        .send()
        .await
        .expect("signing secret")
        .error_for_status()
        .expect("signing secret")
        .json()
        .await
        .expect("signing secret json");
    let secret = secret_answer["secret"].as_str().expect("secret").to_string();
    let created = api(
        reqwest::Method::POST,
        "/api/v1/flows",
        Some(json!({"document": flow(&hook_url)})),
    )
    .send()
    .await
    .expect("create the flow");
    assert_eq!(created.status().as_u16(), 201, "create the flow");
    let created: Value = created.json().await.expect("flow json");
    assert_eq!(created["errors"], 0, "the flow has errors: {created}");
    let flow_id = created["id"].as_str().expect("flow id").to_string();
    let published = api(
        reqwest::Method::POST,
        &format!("/api/v1/flows/{flow_id}/publish"),
        Some(json!({})),
    )
    .send()
    .await
    .expect("publish");
    assert_eq!(
        published.status().as_u16(),
        201,
        "publish: {:?}",
        published.text().await
    );
    let live = api(
        reqwest::Method::PUT,
        &format!("/api/v1/flows/{flow_id}/live"),
        Some(json!({"live": true})),
    )
    .send()
    .await
    .expect("switch on");
    assert_eq!(live.status().as_u16(), 200, "switch on: {:?}", live.text().await);

    // The customers.
    let (generation_tx, generation) = watch::channel(0u32);
    let shared = Arc::new(Shared {
        http: http.clone(),
        base: base.clone(),
        widget_key: keys.widget_key.clone(),
        flow_id,
        generation,
        acked_before_kill: AtomicUsize::new(0),
        killed: AtomicBool::new(false),
        error_before_kill: Mutex::new(None),
        sends_in_flight: AtomicUsize::new(0),
    });
    let chatting = Instant::now();
    let customers: Vec<_> = (0..CUSTOMERS)
        .map(|i| tokio::spawn(customer(shared.clone(), i)))
        .collect();

    // Kill once half the messages are acknowledged, webhook calls are in flight, some
    // conversation was already filed, and (if one comes along soon) a customer's send is in
    // flight too.
    let half = CUSTOMERS * MESSAGES / 2;
    let mut ready_since = None;
    let sends_at_kill = loop {
        let acked = shared.acked_before_kill.load(Ordering::SeqCst);
        let held = receiver.held.load(Ordering::SeqCst);
        let answered = receiver.answered_before_kill.load(Ordering::SeqCst);
        let sending = shared.sends_in_flight.load(Ordering::SeqCst);
        if acked >= half && held >= 3 && answered >= 1 {
            let since = *ready_since.get_or_insert_with(Instant::now);
            if sending >= 1 || since.elapsed() > Duration::from_secs(2) {
                break sending;
            }
        }
        if chatting.elapsed() > KILL_DEADLINE {
            assert!(
                acked >= half / 2 && held >= 1,
                "[{label}] after {KILL_DEADLINE:?} only {acked} messages were acknowledged and \
                 {held} webhook calls are in flight; last error: {:?}; log: {}",
                shared.error_before_kill.lock().unwrap(),
                log.display()
            );
            break sending;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let killed_after = chatting.elapsed();
    shared.killed.store(true, Ordering::SeqCst);
    server.kill9();
    let held_at_kill = receiver.held.load(Ordering::SeqCst);
    let answered_before_kill = receiver.answered_before_kill.load(Ordering::SeqCst);
    // Only now may the receiver drop what it holds: before the kill that would have failed
    // the calls on a live server.
    receiver.killed.store(true, Ordering::SeqCst);
    let acked_at_kill = shared.acked_before_kill.load(Ordering::SeqCst);
    println!(
        "[{label}] SIGKILL after {killed_after:.1?}: {acked_at_kill} messages acknowledged, \
         {sends_at_kill} sends and {held_at_kill} webhook calls in flight, {answered_before_kill} \
         webhook calls answered"
    );
    assert!(
        held_at_kill >= 1,
        "no webhook call was in flight at the kill: the test proves nothing"
    );

    // Restart on the same database, same port, after a while: customers who send meanwhile
    // get no answer.
    let down = Instant::now();
    tokio::time::sleep(DOWNTIME).await;
    let (server, _, health) = start_server(&http, &db, port, &log, false).await;
    let downtime = down.elapsed();
    let pending_at_restart = health["pending_effects"].as_i64().unwrap_or(-1);
    println!("[{label}] restarted in {downtime:.1?}; {pending_at_restart} effects pending at restart");
    generation_tx.send(1).expect("tell the customers");
    let restarted = Instant::now();

    let mut done = Vec::new();
    for c in customers {
        done.push(c.await.expect("a customer panicked"));
    }

    // One acknowledged message each, again.
    for c in &mut done {
        let answered = receiver
            .log
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.conversation == c.conversation)
            .filter_map(|r| r.answered_at)
            .min();
        probe(&shared, c, answered).await;
    }

    // Every conversation gets filed.
    for c in &mut done {
        loop {
            let (messages, _) = transcript(&shared, c).await;
            if messages.iter().any(|m| {
                m["role"] == "bot"
                    && m["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("Filed as") || t == "failed")
            }) {
                break;
            }
            assert!(
                restarted.elapsed() < SETTLE_DEADLINE,
                "customer {}: conversation {} was not filed within {SETTLE_DEADLINE:?} of the \
                 restart; messages: {:#?}; log: {}",
                c.index,
                c.conversation,
                texts(&messages),
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Nothing left to do: no late second answer can arrive after this.
    loop {
        let health: Value = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz")
            .json()
            .await
            .expect("healthz json");
        if health["pending_effects"] == 0 {
            break;
        }
        assert!(restarted.elapsed() < SETTLE_DEADLINE, "effects still pending: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settled = restarted.elapsed();

    // --- assertions ---------------------------------------------------------------------
    let requests = std::mem::take(&mut receiver.log.lock().unwrap().requests);

    // --- summary (first, to help read a failure) -----------------------------------------
    let all: Vec<&Sent> = done.iter().flat_map(|c| &c.sent).collect();
    let acked_first = all.iter().filter(|s| s.acked_by == 0).count();
    let retried: Vec<&&Sent> = all.iter().filter(|s| s.failures_before_kill > 0).collect();
    let retried_dup = retried.iter().filter(|s| s.duplicate).count();
    let fresh_after = all
        .iter()
        .filter(|s| s.acked_by == 1 && s.failures_before_kill == 0)
        .count();
    let start_retries = done.iter().filter(|c| c.start_failures > 0).count();
    let before = requests.iter().filter(|r| !r.after_restart).count();
    let after = requests.iter().filter(|r| r.after_restart).count();
    let redelivered = done
        .iter()
        .filter(|c| requests.iter().filter(|r| r.conversation == c.conversation).count() > 1)
        .count();
    let probes = done.iter().filter(|c| c.probe.is_some()).count();
    let failed_attempts: u32 = all.iter().map(|s| s.failures).sum();
    let slowest = |by: u32| {
        all.iter()
            .filter(|s| s.acked_by == by)
            .map(|s| s.latency)
            .max()
            .unwrap_or_default()
    };
    let most_calls = done
        .iter()
        .map(|c| requests.iter().filter(|r| r.conversation == c.conversation).count())
        .max()
        .unwrap_or(0);
    println!(
        "[{label}] {CUSTOMERS} customers, {} messages: {acked_first} acknowledged before the kill, \
         {} retried after it with the same client id ({retried_dup} of them had been stored: \
         answered as duplicates), {fresh_after} first sent after the restart \
         ({failed_attempts} failed attempts in all; {start_retries} conversation starts retried)",
        all.len(),
        retried.len(),
    );
    println!(
        "[{label}] webhook requests: {} ({before} to the first server, {held_at_kill} of them \
         in flight at the kill; {after} from the restarted one); {redelivered} conversations \
         called more than once (at most {most_calls} times); {probes} acknowledged messages \
         re-sent",
        requests.len(),
    );
    println!(
        "[{label}] timings: chatting to kill {killed_after:.1?}, down {downtime:.1?}, restart to \
         all filed {settled:.1?}, total {:.1?}; slowest acknowledgement {:.1?} before the kill, \
         {:.1?} after the restart",
        began.elapsed(),
        slowest(0),
        slowest(1),
    );

    // The restarted server keeps answering: no turn waits for seconds.
    assert!(
        slowest(1) < Duration::from_secs(5),
        "[{label}] a message took {:.1?} to be acknowledged after the restart; log: {}",
        slowest(1),
        log.display()
    );

    for c in &mut done {
        let who = format!("[{label}] customer {} ({})", c.index, c.conversation);
        let (messages, last_seq) = transcript(&shared, c).await;
        c.transcript = messages;
        let m = &c.transcript;
        let shown = texts(m);

        // Sequence numbers 1..n, nothing hidden in between.
        let seqs: Vec<i64> = m.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (1..=m.len() as i64).collect();
        assert_eq!(seqs, expected, "{who}: seq numbers: {shown:#?}");
        assert_eq!(last_seq, m.len() as i64, "{who}: last_seq");

        // Every client id exactly once, in the order sent, with its text.
        let customer_msgs: Vec<&Value> = m.iter().filter(|m| m["role"] == "customer").collect();
        let ids: Vec<&str> = customer_msgs
            .iter()
            .map(|m| m["client_id"].as_str().unwrap_or("<none>"))
            .collect();
        let want: Vec<&str> = c.sent.iter().map(|s| s.client_id.as_str()).collect();
        assert_eq!(ids, want, "{who}: customer messages: {shown:#?}");
        for (stored, sent) in customer_msgs.iter().zip(&c.sent) {
            assert_eq!(stored["text"], sent.text.as_str(), "{who}: {}", sent.client_id);
        }

        // The bot: the question, one acknowledgement right after "hello", one "Filed as".
        let bot: Vec<&Value> = m.iter().filter(|m| m["role"] == "bot").collect();
        assert_eq!(bot.len(), 3, "{who}: bot messages: {shown:#?}");
        assert_eq!(m[0]["text"], QUESTION, "{who}");
        let hello = customer_msgs[0]["seq"].as_i64().unwrap() as usize;
        assert_eq!(
            m[hello]["text"], "Thanks, filing: hello",
            "{who}: the answer to hello: {shown:#?}"
        );
        let filed: Vec<&Value> = bot
            .iter()
            .copied()
            .filter(|b| b["text"].as_str().unwrap_or("").starts_with("Filed as"))
            .collect();
        assert_eq!(filed.len(), 1, "{who}: answered twice? {shown:#?}");
        assert!(filed[0]["seq"].as_i64() > Some(hello as i64 + 1), "{who}");

        // What each acknowledged send was told agrees with the transcript.
        for (k, s) in c.sent.iter().enumerate() {
            let replies = essence(&s.replies);
            let stored_seq = customer_msgs[k]["seq"].as_i64().unwrap();
            if k == 0 {
                assert_eq!(
                    replies.first(),
                    Some(&(stored_seq + 1, "bot".into(), "Thanks, filing: hello".into())),
                    "{who}: the answer to {}",
                    s.client_id
                );
            }
            if !s.duplicate {
                let want = if k == 0 { 1 } else { 0 };
                assert_eq!(replies.len(), want, "{who}: replies to {}: {replies:?}", s.client_id);
            }
        }

        // The re-sent acknowledged message: a duplicate with the first replies.
        if let Some(p) = &c.probe {
            assert_eq!(
                p.again["duplicate"], true,
                "{who}: re-sending {} was not recognised: {}",
                p.client_id, p.again
            );
            let again = p.again["messages"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                essence(&again),
                essence(&p.first),
                "{who}: re-sending {} got other replies",
                p.client_id
            );
        }

        // The webhook: delivered, signed, one webhook-id, the right ticket.
        let mine: Vec<&Received> = requests.iter().filter(|r| r.conversation == c.conversation).collect();
        assert!(!mine.is_empty(), "{who}: the webhook was never called");
        let ids: HashSet<&str> = mine
            .iter()
            .map(|r| r.headers.get("webhook-id").map_or("", String::as_str))
            .collect();
        assert_eq!(ids.len(), 1, "{who}: several webhook-ids: {ids:?}");
        for r in &mine {
            assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"), "{who}");
            let h = |name: &str| r.headers.get(name).map_or("", String::as_str);
            assert!(
                verify(
                    &secret,
                    (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature")),
                    &r.body,
                    r.at,
                    300
                ),
                "{who}: bad signature on {:?}",
                r.headers
            );
            let body: Value = serde_json::from_str(&r.body).expect("webhook body json");
            assert_eq!(body, json!({"note": "hello", "conversation": c.conversation}), "{who}");
        }
        assert!(
            mine.iter().any(|r| r.answered_at.is_some()),
            "{who}: the receiver never answered"
        );
        // The receiver is idempotent: one webhook-id, one ticket.
        let ticket = &mine[0].ticket;
        assert_eq!(filed[0]["text"], format!("Filed as {ticket}."), "{who}: the ticket");

        // The delivery log shows the successful call.
        let deliveries: Value = http
            .get(format!("{base}/api/v1/conversations/{}/deliveries", c.conversation))
            .bearer_auth(&keys.api_key)
            .send()
            .await
            .expect("deliveries")
            .error_for_status()
            .expect("deliveries")
            .json()
            .await
            .expect("deliveries json");
        assert!(
            deliveries["items"]
                .as_array()
                .expect("deliveries list")
                .iter()
                .any(|d| d["status_code"] == 200),
            "{who}: no successful delivery logged: {deliveries}; see `recording a webhook delivery \
             failed` in {}",
            log.display()
        );

        // Resolved.
        let status: Value = http
            .get(format!("{base}/api/v1/conversations/{}", c.conversation))
            .bearer_auth(&c.token)
            .send()
            .await
            .expect("conversation")
            .json()
            .await
            .expect("conversation json");
        assert_eq!(status["status"], "resolved", "{who}");
    }
    assert!(probes >= 1, "no acknowledged message could be re-sent");
    drop(server);
    let printed = std::fs::read_to_string(&log).expect("read the log");
    assert_eq!(
        printed.matches("API key:").count(),
        1,
        "the restart printed credentials again"
    );
    println!("[{label}] all checks passed");

    let _ = std::fs::remove_dir_all(&work);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_while_chatting_sqlite() {
    scenario("sqlite", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_while_chatting_postgres() {
    match baton_testkit::fresh_postgres_database().await {
        Ok(Some(url)) => scenario("postgres", Some(url)).await,
        Ok(None) => println!("PostgreSQL is not reachable: skipping the PostgreSQL crash test"),
        Err(e) => panic!("{e}"),
    }
}
