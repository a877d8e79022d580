//! The load tool: simulated customers run the reference flow (examples/bench-support.flow.json)
//! the way the web widget does — messages sent over HTTP, the conversation followed on its
//! WebSocket — checking every reply; simulated agents claim the hand-overs from the inbox
//! WebSocket and hand them back. Reports turns per second (counted by the server), latency
//! percentiles, hand-over-to-inbox latency, lost or stuck conversations, server CPU per turn
//! and memory. Without `--base-url` it starts `baton serve` itself on a temporary database.
//! Scaffolding: it is not part of the `baton` binary that serves.

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const FLOW: &str = include_str!("../../../examples/bench-support.flow.json");

/// Simulated customers and agents run the reference flow against a server and report turns
/// per second, latency, hand-over latency, CPU per turn and memory.
#[derive(Parser)]
#[command(name = "baton-loadtest", version)]
pub struct LoadArgs {
    /// Simulated customers, each running conversations one after another.
    #[arg(long, default_value_t = 50)]
    customers: usize,
    /// Simulated agents working the inbox.
    #[arg(long, default_value_t = 4)]
    agents: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// A server already running; needs --api-key and --widget-key. Default: start one.
    #[arg(long)]
    base_url: Option<String>,
    #[arg(long)]
    api_key: Option<String>,
    #[arg(long)]
    widget_key: Option<String>,
    /// For a started server: postgres://… instead of a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// How customers send their messages: `http` (a POST each, as the web widget does) or
    /// `ws` (on the conversation's WebSocket, which they follow either way).
    #[arg(long, value_enum, default_value_t = SendOver::Http)]
    send_over: SendOver,
    /// Instead of the load: start this many conversations that stay idle, then open one
    /// customer WebSocket on each, and report the server's memory for both (needs a server
    /// this command starts, to read its RSS).
    #[arg(long)]
    idle: Option<usize>,
    /// Instead of the load: the floor of the HTTP stack on this machine. Each customer POSTs a
    /// message-sized body to a path the server does not have (routed and answered 404, nothing
    /// read or stored) as fast as it can; reports requests per second and the CPU per request
    /// of the server and of this load tool.
    #[arg(long)]
    http_floor: bool,
    /// The peer benchmark's method: the server this command starts runs on CPU 1 and this load
    /// tool on CPU 0 (with `taskset`), so neither takes the other's core.
    #[arg(long)]
    pin: bool,
    /// The `baton` binary to start as the server (to compare two builds with the same load
    /// tool). Default: the `baton` beside this program (the same target directory).
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SendOver {
    Http,
    Ws,
}

/// A started `baton serve`, killed when dropped; its temporary data directory (if it was
/// given one) is removed then.
struct Spawned {
    child: Child,
    data_dir: Option<std::path::PathBuf>,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[derive(Default)]
struct Stats {
    latencies_us: Mutex<Vec<u64>>,
    handover_ms: Mutex<Vec<u64>>,
    customer_turns: AtomicU64,
    conversations_done: AtomicU64,
    conversations_stuck: AtomicU64,
    wrong_replies: AtomicU64,
    errors: AtomicU64,
    handovers_claimed: AtomicU64,
    first_problems: Mutex<Vec<String>>,
}

impl Stats {
    fn problem(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut p = self.first_problems.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() < 10 {
            p.push(what);
        }
    }
}

pub fn run(args: LoadArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(load(args))
}

async fn load(args: LoadArgs) -> Result<ExitCode> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    let (_spawned, base, api_key, widget_key, pid) = match &args.base_url {
        Some(base) => {
            let api_key = args
                .api_key
                .clone()
                .ok_or_else(|| anyhow!("--base-url needs --api-key"))?;
            let widget_key = args
                .widget_key
                .clone()
                .ok_or_else(|| anyhow!("--base-url needs --widget-key"))?;
            (None, base.trim_end_matches('/').to_string(), api_key, widget_key, None)
        }
        None => {
            if args.pin {
                pin_self_to_cpu0()?;
            }
            let server_bin = match &args.server_bin {
                Some(bin) => bin.clone(),
                None => std::env::current_exe()?.with_file_name(format!("baton{}", std::env::consts::EXE_SUFFIX)),
            };
            if !server_bin.is_file() {
                bail!(
                    "no server binary at {}: build it (cargo build --release -p baton) or name one with --server-bin",
                    server_bin.display()
                );
            }
            let (spawned, base, api_key, widget_key) =
                spawn_server(&server_bin, args.pin, args.database_url.as_deref()).await?;
            let pid = spawned.child.id();
            (Some(spawned), base, api_key, widget_key, Some(pid))
        }
    };
    let admin = format!("Bearer {api_key}");
    let (hook_url, hook_calls) = receiver().await?;

    // The reference flow, live; agents in the billing team.
    let flow: Value = serde_json::from_str(FLOW)?;
    let created = api(
        &http,
        "POST",
        &format!("{base}/api/v1/flows"),
        &admin,
        Some(json!({ "document": flow })),
    )
    .await?;
    let flow_id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow!("flow not created: {created}"))?
        .to_string();
    api(
        &http,
        "POST",
        &format!("{base}/api/v1/flows/{flow_id}/publish"),
        &admin,
        Some(json!({})),
    )
    .await?;
    api(
        &http,
        "PUT",
        &format!("{base}/api/v1/flows/{flow_id}/live"),
        &admin,
        Some(json!({ "live": true })),
    )
    .await?;
    if args.http_floor {
        let report = http_floor(&http, &base, args.customers, Duration::from_secs(args.duration), pid).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "HTTP floor: {:.0} requests/s ({} clients, {} requests, {} not answered 404); server {} µs CPU per request, load tool {} µs",
                report["requests_per_second"].as_f64().unwrap_or(0.0),
                report["clients"],
                report["requests"],
                report["unexpected"],
                report["server_cpu_us_per_request"].as_f64().map_or("?".into(), |c| format!("{c:.0}")),
                report["load_tool_cpu_us_per_request"].as_f64().map_or("?".into(), |c| format!("{c:.0}")),
            );
        }
        return Ok(if report["unexpected"] == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if let Some(n) = args.idle {
        let pid = pid.ok_or_else(|| anyhow!("--idle measures a server this command starts: leave out --base-url"))?;
        let report = memory_probe(&http, &base, &widget_key, &flow_id, pid, n).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_memory_report(&report);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let run_id = &unique_suffix();
    let mut agent_ids = Vec::new();
    let mut agents = Vec::new();
    for i in 0..args.agents {
        let email = format!("load-{run_id}-{i}@example.com");
        let body =
            json!({ "email": email, "name": format!("Agent {i}"), "role": "agent", "password": "load test password" });
        let m = api(&http, "POST", &format!("{base}/api/v1/members"), &admin, Some(body)).await?;
        agent_ids.push(m["id"].clone());
        agents.push(email);
    }
    let teams = api(&http, "GET", &format!("{base}/api/v1/teams"), &admin, None).await?;
    let billing = teams["items"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["slug"] == "billing"))
        .cloned()
        .ok_or_else(|| anyhow!("the workspace has no `billing` team"))?;
    let team_id = billing["id"].as_str().unwrap_or_default();
    api(
        &http,
        "PUT",
        &format!("{base}/api/v1/teams/{team_id}"),
        &admin,
        Some(json!({ "name": "Billing", "slug": "billing", "members": agent_ids })),
    )
    .await?;

    let stats = Arc::new(Stats::default());
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut agent_tasks = Vec::new();
    for email in agents {
        let session = sign_in(&http, &base, &email).await?;
        agent_tasks.push(tokio::spawn(agent(
            http.clone(),
            base.clone(),
            session,
            stats.clone(),
            deadline,
        )));
    }
    // Let every inbox socket connect (presence) before customers arrive.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let turns_before = server_turns(&http, &base).await.unwrap_or(0);
    let cpu = CpuSince::now(pid);
    let started = Instant::now();
    let mut customers = Vec::new();
    for i in 0..args.customers {
        let ctx = Customer {
            http: http.clone(),
            base: base.clone(),
            widget_key: widget_key.clone(),
            flow_id: flow_id.clone(),
            hook_url: hook_url.clone(),
            stats: stats.clone(),
            send_over: args.send_over,
        };
        customers.push(tokio::spawn(async move { ctx.run(i, deadline).await }));
    }
    for c in customers {
        let _ = c.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let turns = server_turns(&http, &base)
        .await
        .unwrap_or(0)
        .saturating_sub(turns_before);
    let cpu_secs = cpu.seconds();
    for a in agent_tasks {
        a.abort();
    }
    let rss_kb = pid.and_then(rss_kb);
    let report = report(
        &stats,
        elapsed,
        turns,
        cpu_secs,
        rss_kb,
        hook_calls.load(Ordering::Relaxed),
        &args,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    let failed = report["conversations"]["stuck"].as_u64().unwrap_or(0)
        + report["wrong_replies"].as_u64().unwrap_or(0)
        + report["errors"].as_u64().unwrap_or(0);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

struct Customer {
    http: reqwest::Client,
    base: String,
    widget_key: String,
    flow_id: String,
    hook_url: String,
    stats: Arc<Stats>,
    send_over: SendOver,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Customer {
    async fn run(&self, index: usize, deadline: Instant) {
        let mut n = 0;
        while Instant::now() < deadline {
            let billing = (index + n).is_multiple_of(2);
            if let Err(e) = self.conversation(billing).await {
                self.stats
                    .problem(&self.stats.errors, format!("customer {index}: {e:#}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            n += 1;
        }
    }

    /// Sends a message and returns the bot's replies to it (`replies` of them are expected).
    async fn say(
        &self,
        conv: &str,
        token: &str,
        socket: &mut Socket,
        body: Value,
        replies: usize,
    ) -> Result<Vec<String>> {
        match self.send_over {
            SendOver::Http => self.timed(conv, token, body).await,
            SendOver::Ws => self.timed_ws(socket, body, replies).await,
        }
    }

    /// Over the WebSocket: the frame, then the server's `ack` (the turn is committed), then
    /// the turn's messages; done when `replies` bot messages have come.
    async fn timed_ws(&self, socket: &mut Socket, mut body: Value, replies: usize) -> Result<Vec<String>> {
        use futures_util::SinkExt;
        let sent = Instant::now();
        body["type"] = json!("message");
        socket
            .send(tokio_tungstenite::tungstenite::Message::Text(body.to_string().into()))
            .await?;
        let mut acked = false;
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(30), async {
            while !(acked && got.len() >= replies) {
                let Some(frame) = socket.next().await else {
                    bail!("the conversation's WebSocket closed");
                };
                let tokio_tungstenite::tungstenite::Message::Text(text) = frame? else {
                    continue;
                };
                let frame: Value = serde_json::from_str(&text)?;
                match frame["type"].as_str() {
                    Some("ack") => acked = true,
                    Some("error") => bail!("message refused: {frame}"),
                    Some("message") if frame["message"]["role"] == "bot" => {
                        got.push(frame["message"]["text"].as_str().unwrap_or("").to_string());
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await;
        read.map_err(|_| anyhow!("no answer on the WebSocket within 30 s"))??;
        self.answered(sent);
        Ok(got)
    }

    /// Counts a customer message answered, with its latency.
    fn answered(&self, sent: Instant) {
        self.stats
            .latencies_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sent.elapsed().as_micros() as u64);
        self.stats.customer_turns.fetch_add(1, Ordering::Relaxed);
    }

    async fn timed(&self, conv: &str, token: &str, body: Value) -> Result<Vec<String>> {
        let sent = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/v1/conversations/{conv}/messages", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await?;
        if status != StatusCode::OK {
            bail!("message refused: {status} {v}");
        }
        self.answered(sent);
        Ok(texts(&v["messages"]))
    }

    fn expect(&self, what: &str, got: &[String], ok: bool) {
        if !ok {
            self.stats
                .problem(&self.stats.wrong_replies, format!("{what}: got {got:?}"));
        }
    }

    async fn conversation(&self, billing: bool) -> Result<()> {
        let body = json!({
            "widget_key": self.widget_key, "flow_id": self.flow_id, "channel": "load",
            "contact": { "attributes": { "hook_url": self.hook_url } },
        });
        let res = self
            .http
            .post(format!("{}/api/v1/widget/conversations", self.base))
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let started: Value = res.json().await?;
        if status != StatusCode::CREATED {
            bail!("start refused: {status} {started}");
        }
        let conv = started["conversation"]["id"].as_str().unwrap_or_default().to_string();
        let token = started["token"].as_str().unwrap_or_default().to_string();
        // Like the widget: the conversation's WebSocket brings what happens without the
        // customer asking (the webhook's answer, the agent).
        let seen = started["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["seq"].as_i64())
            .unwrap_or(0);
        let ws_url = format!(
            "{}/api/v1/conversations/{conv}/ws?token={token}&after={seen}",
            self.base.replacen("http", "ws", 1)
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .context("the conversation's WebSocket did not open")?;
        let first = texts(&started["messages"]);
        self.expect(
            "greeting",
            &first,
            first.len() == 2 && first[1] == "What do you need help with?",
        );
        let r = self
            .say(
                &conv,
                &token,
                &mut socket,
                json!({ "client_id": "1", "button": if billing { "billing" } else { "tech" } }),
                1,
            )
            .await?;
        self.expect("topic", &r, r == ["What's your name?"]);
        let r = self
            .say(
                &conv,
                &token,
                &mut socket,
                json!({ "client_id": "2", "text": "Ana" }),
                1,
            )
            .await?;
        self.expect("name", &r, r == ["And your email?"]);
        let r = self
            .say(
                &conv,
                &token,
                &mut socket,
                json!({ "client_id": "3", "text": "not an email" }),
                1,
            )
            .await?;
        self.expect("invalid email", &r, r.len() == 1 && r[0].contains("email address"));
        let r = self
            .say(
                &conv,
                &token,
                &mut socket,
                json!({ "client_id": "4", "text": "ana@example.com" }),
                0,
            )
            .await?;
        self.expect("email", &r, r.is_empty());
        // The webhook (and, for billing, an agent) finish the conversation.
        let end = if billing {
            "Thanks Ana, ticket T-"
        } else {
            "is open, Ana; we'll email ana@example.com."
        };
        let reached = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(Ok(frame)) = socket.next().await {
                let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame["message"]["text"].as_str().unwrap_or("").contains(end) {
                    return true;
                }
            }
            false
        })
        .await;
        // Closed like a widget whose page is left.
        let _ = socket.close(None).await;
        if reached == Ok(true) {
            self.stats.conversations_done.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.stats.problem(
            &self.stats.conversations_stuck,
            format!("conversation {conv} never reached {end:?}"),
        );
        Ok(())
    }
}

struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> Result<Session> {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": "load test password" }))
        .send()
        .await?;
    if res.status() != StatusCode::OK {
        bail!("agent {email} cannot sign in: {}", res.status());
    }
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();
    let body: Value = res.json().await?;
    Ok(Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap_or_default().to_string(),
    })
}

/// An agent: on every queued conversation, claim it; the winner replies and hands it back.
async fn agent(http: reqwest::Client, base: String, session: Session, stats: Arc<Stats>, deadline: Instant) {
    let Ok(mut req) = format!("{}/api/v1/inbox/ws", base.replace("http", "ws")).into_client_request() else {
        return;
    };
    if let Ok(cookie) = session.cookie.parse() {
        req.headers_mut().insert("cookie", cookie);
    }
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(req).await else {
        stats.problem(&stats.errors, "an agent's inbox socket did not open".into());
        return;
    };
    while Instant::now() < deadline + Duration::from_secs(30) {
        let Some(Ok(frame)) = ws.next().await else { return };
        let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if event["type"] != "conversation.queued" {
            continue;
        }
        if let Some(queued_at) = event["queued_at"].as_i64() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            stats
                .handover_ms
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((now - queued_at).max(0) as u64);
        }
        let Some(conv) = event["conversation_id"].as_str().map(str::to_owned) else {
            continue;
        };
        let (http, base, cookie, csrf, stats) = (
            http.clone(),
            base.clone(),
            session.cookie.clone(),
            session.csrf.clone(),
            stats.clone(),
        );
        tokio::spawn(async move {
            let act = |path: &str, body: Value| {
                http.post(format!("{base}/api/v1/inbox/conversations/{conv}/{path}"))
                    .header("cookie", &cookie)
                    .header("x-csrf-token", &csrf)
                    .json(&body)
                    .send()
            };
            match act("claim", json!({})).await {
                Ok(r) if r.status() == StatusCode::OK => {
                    stats.handovers_claimed.fetch_add(1, Ordering::Relaxed);
                    let replied = act("reply", json!({ "text": "On it." })).await;
                    let back = act("hand-back", json!({})).await;
                    if !matches!((replied, back), (Ok(a), Ok(b)) if a.status().is_success() && b.status().is_success())
                    {
                        stats.problem(&stats.errors, format!("agent could not reply and hand back {conv}"));
                    }
                }
                Ok(r) if r.status() == StatusCode::CONFLICT => {}
                Ok(r) => stats.problem(&stats.errors, format!("claim of {conv}: {}", r.status())),
                Err(e) => stats.problem(&stats.errors, format!("claim of {conv}: {e}")),
            }
        });
    }
}

async fn api(http: &reqwest::Client, method: &str, url: &str, auth: &str, body: Option<Value>) -> Result<Value> {
    let method: reqwest::Method = method.parse()?;
    let mut req = http.request(method, url).header("authorization", auth);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.with_context(|| format!("calling {url}"))?;
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {v}");
    }
    Ok(v)
}

fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .map(|a| a.iter().map(|m| m["text"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

async fn server_turns(http: &reqwest::Client, base: &str) -> Option<u64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("baton_turns_total "))
        .and_then(|v| v.trim().parse().ok())
}

/// Pins every thread of this process to CPU 0 (`taskset`), for `--pin`.
fn pin_self_to_cpu0() -> Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| anyhow!("--pin needs taskset (util-linux): {e}"))?;
    if !status.success() {
        return Err(anyhow!("taskset could not pin the load tool to CPU 0"));
    }
    Ok(())
}

/// A suffix no other run on this machine uses at the same time (names of this run's agents,
/// its temporary directory).
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id(), nanos)
}

/// Starts `bin serve` (on CPU 1 when `pin`) on a free port and a temporary database; returns
/// its URL and keys.
async fn spawn_server(
    bin: &std::path::Path,
    pin: bool,
    database_url: Option<&str>,
) -> Result<(Spawned, String, String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = if pin {
        let mut taskset = Command::new("taskset");
        taskset.args(["-c", "1"]).arg(bin);
        taskset
    } else {
        Command::new(bin)
    };
    cmd.args([
        "serve",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--webhook-targets",
        "loopback",
        "--no-rate-limits",
        // Every simulated customer and agent connects from this one address.
        "--max-connections-per-address",
        "0",
    ]);
    let data_dir = match database_url {
        Some(url) => {
            cmd.args(["--database-url", url]);
            None
        }
        None => {
            let dir = std::env::temp_dir().join(format!("baton-load-{}", unique_suffix()));
            cmd.args(["--data-dir".as_ref(), dir.as_os_str()]);
            Some(dir)
        }
    };
    let mut child = cmd
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let spawned = Spawned { child, data_dir };
    // Reads the keys, then keeps draining the server's output for as long as it runs.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut api_key = None;
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(k) = line.trim().strip_prefix("API key:") {
                api_key = Some(k.trim().to_string());
            }
            if let (Some(w), Some(a)) = (line.trim().strip_prefix("widget key:"), api_key.clone()) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send((a, w.trim().to_string()));
                }
            }
        }
    });
    let keys = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .map_err(|_| anyhow!("the server did not start within 30 s"))?
        .map_err(|_| anyhow!("the server did not print its keys (is the database new?)"))?;
    let base = format!("http://127.0.0.1:{port}");
    Ok((spawned, base, keys.0, keys.1))
}

/// Memory of idle conversations and open customer WebSockets: the server's RSS before, after
/// starting `n` conversations (each then waits at the flow's first question), and after opening
/// a WebSocket on each; the sockets are checked to be live by one message sent through them.
async fn memory_probe(
    http: &reqwest::Client,
    base: &str,
    widget_key: &str,
    flow_id: &str,
    pid: u32,
    n: usize,
) -> Result<Value> {
    let settle = || tokio::time::sleep(Duration::from_millis(1500));
    settle().await;
    let rss_start = rss_kb(pid).ok_or_else(|| anyhow!("cannot read the server's RSS"))?;
    // Conversations, 64 starts at a time.
    let started_at = Instant::now();
    let mut conversations: Vec<(String, String)> = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
        let starts = chunk.iter().map(|_| {
            let body = json!({ "widget_key": widget_key, "flow_id": flow_id, "channel": "idle" });
            let http = http.clone();
            let url = format!("{base}/api/v1/widget/conversations");
            async move {
                let started: Value = http
                    .post(url)
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let id = started["conversation"]["id"].as_str().unwrap_or_default().to_string();
                let token = started["token"].as_str().unwrap_or_default().to_string();
                Ok::<_, anyhow::Error>((id, token))
            }
        });
        for r in futures_util::future::join_all(starts).await {
            conversations.push(r?);
        }
    }
    let start_seconds = started_at.elapsed().as_secs_f64();
    settle().await;
    let rss_idle = rss_kb(pid).unwrap_or(0);
    // A WebSocket on each conversation; each reads its backlog (the greeting) before the next
    // batch opens.
    let ws_base = base.replacen("http", "ws", 1);
    let mut sockets = Vec::with_capacity(n);
    for chunk in conversations.chunks(128) {
        let opens = chunk.iter().map(|(id, token)| {
            let url = format!("{ws_base}/api/v1/conversations/{id}/ws?token={token}");
            async move {
                let (mut ws, _) = tokio_tungstenite::connect_async(url.into_client_request()?).await?;
                tokio::time::timeout(Duration::from_secs(10), ws.next())
                    .await
                    .map_err(|_| anyhow!("no backlog on a new socket"))?;
                Ok::<_, anyhow::Error>(ws)
            }
        });
        for r in futures_util::future::join_all(opens).await {
            sockets.push(r?);
        }
    }
    settle().await;
    let rss_sockets = rss_kb(pid).unwrap_or(0);
    // The last socket is live: a message sent over HTTP comes back on it.
    let (id, token) = conversations
        .last()
        .ok_or_else(|| anyhow!("--idle needs at least one conversation"))?;
    http.post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(token)
        .json(&json!({ "client_id": "probe", "button": "billing" }))
        .send()
        .await?
        .error_for_status()?;
    let last = sockets.last_mut().ok_or_else(|| anyhow!("no socket"))?;
    let mut live = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), last.next()).await {
        if frame.to_text().is_ok_and(|t| t.contains("What's your name?")) {
            live = true;
            break;
        }
    }
    let per = |after: u64, before: u64| (after.saturating_sub(before) as f64 * 1024.0 / n as f64).round();
    Ok(json!({
        "conversations": n,
        "start_seconds": start_seconds,
        "server_rss_mb": { "start": rss_start as f64 / 1024.0, "idle_conversations": rss_idle as f64 / 1024.0, "with_websockets": rss_sockets as f64 / 1024.0 },
        "bytes_per_idle_conversation": per(rss_idle, rss_start),
        "bytes_per_websocket": per(rss_sockets, rss_idle),
        "websockets_live": live,
    }))
}

fn print_memory_report(r: &Value) {
    let mb = &r["server_rss_mb"];
    println!(
        "{} idle conversations (started in {:.1} s): server RSS {:.1} MB → {:.1} MB = {} bytes per idle conversation",
        r["conversations"],
        r["start_seconds"].as_f64().unwrap_or(0.0),
        mb["start"].as_f64().unwrap_or(0.0),
        mb["idle_conversations"].as_f64().unwrap_or(0.0),
        r["bytes_per_idle_conversation"]
    );
    println!(
        "{} customer WebSockets open: server RSS {:.1} MB = {} bytes per socket; sockets live: {}",
        r["conversations"],
        mb["with_websockets"].as_f64().unwrap_or(0.0),
        r["bytes_per_websocket"],
        r["websockets_live"]
    );
}

/// A webhook receiver answering `{"ticket": "T-n"}`.
async fn receiver() -> Result<(String, Arc<AtomicU64>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/tickets", listener.local_addr()?);
    let calls = Arc::new(AtomicU64::new(0));
    let count = calls.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = tokio::io::BufReader::new(read);
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {
                                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let n = count.fetch_add(1, Ordering::Relaxed) + 1;
                    let reply = format!("{{\"ticket\": \"T-{n}\"}}");
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
                        reply.len()
                    );
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((url, calls))
}

/// utime + stime of a process, in clock ticks (Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The CPU used from a moment on by the server (when this command started it) and by this
/// load tool, which shares the machine.
struct CpuSince {
    server: Option<(u32, u64)>,
    own: Option<u64>,
}

impl CpuSince {
    fn now(server_pid: Option<u32>) -> CpuSince {
        CpuSince {
            server: server_pid.and_then(|pid| Some((pid, cpu_ticks(pid)?))),
            own: cpu_ticks(std::process::id()),
        }
    }

    /// CPU seconds since [`CpuSince::now`]: the server's and the load tool's.
    fn seconds(&self) -> (Option<f64>, Option<f64>) {
        let since =
            |pid: u32, before: u64| Some(cpu_ticks(pid)?.saturating_sub(before) as f64 / clock_ticks_per_second());
        (
            self.server.and_then(|(pid, before)| since(pid, before)),
            self.own.and_then(|before| since(std::process::id(), before)),
        )
    }
}

/// The HTTP floor (`--http-floor`): requests the server routes and answers without any work.
async fn http_floor(
    http: &reqwest::Client,
    base: &str,
    clients: usize,
    duration: Duration,
    pid: Option<u32>,
) -> Result<Value> {
    let url = format!("{base}/api/v1/floor-probe");
    // The size of a customer's message as the load sends it.
    let body = json!({ "client_id": "c-0-0-3", "text": "ana@example.com" });
    let requests = Arc::new(AtomicU64::new(0));
    let unexpected = Arc::new(AtomicU64::new(0));
    let cpu = CpuSince::now(pid);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, body, requests, unexpected) = (
                http.clone(),
                url.clone(),
                body.clone(),
                requests.clone(),
                unexpected.clone(),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let answered = match http.post(&url).json(&body).send().await {
                        Ok(res) => res.status() == StatusCode::NOT_FOUND && res.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    let counter = if answered { &requests } else { &unexpected };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (server_cpu, own_cpu) = cpu.seconds();
    let n = requests.load(Ordering::Relaxed);
    let per_request = |secs: Option<f64>| secs.map(|c| if n > 0 { c * 1e6 / n as f64 } else { 0.0 });
    Ok(json!({
        "clients": clients,
        "seconds": elapsed,
        "requests": n,
        "unexpected": unexpected.load(Ordering::Relaxed),
        "requests_per_second": n as f64 / elapsed,
        "server_cpu_us_per_request": per_request(server_cpu),
        "load_tool_cpu_us_per_request": per_request(own_cpu),
    }))
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on Linux for every architecture this runs on.
    100.0
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(
    stats: &Stats,
    elapsed: f64,
    turns: u64,
    (cpu_secs, own_cpu_secs): (Option<f64>, Option<f64>),
    rss_kb: Option<u64>,
    hooks: u64,
    args: &LoadArgs,
) -> Value {
    let mut lat = stats.latencies_us.lock().unwrap_or_else(|e| e.into_inner()).clone();
    lat.sort_unstable();
    let mut ho = stats.handover_ms.lock().unwrap_or_else(|e| e.into_inner()).clone();
    ho.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    json!({
        "customers": args.customers,
        "agents": args.agents,
        "send_over": match args.send_over { SendOver::Http => "http", SendOver::Ws => "ws" },
        "seconds": elapsed,
        "server_turns": turns,
        "turns_per_second": turns as f64 / elapsed,
        "customer_messages": stats.customer_turns.load(Ordering::Relaxed),
        "customer_message_latency_ms": {
            "p50": ms(percentile(&lat, 0.50)), "p90": ms(percentile(&lat, 0.90)),
            "p99": ms(percentile(&lat, 0.99)), "max": ms(percentile(&lat, 1.0)),
        },
        "handover_to_inbox_ms": { "count": ho.len(), "p50": percentile(&ho, 0.50), "p99": percentile(&ho, 0.99), "max": percentile(&ho, 1.0) },
        "conversations": {
            "completed": stats.conversations_done.load(Ordering::Relaxed),
            "stuck": stats.conversations_stuck.load(Ordering::Relaxed),
        },
        "handovers_claimed": stats.handovers_claimed.load(Ordering::Relaxed),
        "webhook_calls": hooks,
        "wrong_replies": stats.wrong_replies.load(Ordering::Relaxed),
        "errors": stats.errors.load(Ordering::Relaxed),
        "server_cpu_us_per_turn": cpu_secs.map(|c| if turns > 0 { c * 1e6 / turns as f64 } else { 0.0 }),
        "server_cpu_cores_used": cpu_secs.map(|c| c / elapsed),
        "server_rss_mb": rss_kb.map(|k| k as f64 / 1024.0),
        // The load tool shares the machine: what it takes is not the server's to use.
        "load_tool_cpu_us_per_turn": own_cpu_secs.map(|c| if turns > 0 { c * 1e6 / turns as f64 } else { 0.0 }),
        "first_problems": stats.first_problems.lock().unwrap_or_else(|e| e.into_inner()).clone(),
    })
}

fn print_report(r: &Value) {
    println!(
        "load: {} customers (sending over {}), {} agents, {:.1} s",
        r["customers"],
        r["send_over"].as_str().unwrap_or(""),
        r["agents"],
        r["seconds"].as_f64().unwrap_or(0.0)
    );
    println!(
        "turns: {} committed by the server = {:.0} turns/s ({} customer messages)",
        r["server_turns"],
        r["turns_per_second"].as_f64().unwrap_or(0.0),
        r["customer_messages"]
    );
    let l = &r["customer_message_latency_ms"];
    println!(
        "customer message latency: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
        l["p50"], l["p90"], l["p99"], l["max"]
    );
    let h = &r["handover_to_inbox_ms"];
    println!(
        "hand-over visible to an agent: p50 {} ms, p99 {} ms, max {} ms ({} hand-overs)",
        h["p50"], h["p99"], h["max"], h["count"]
    );
    println!(
        "conversations: {} completed, {} stuck; {} hand-overs claimed; {} webhook calls",
        r["conversations"]["completed"], r["conversations"]["stuck"], r["handovers_claimed"], r["webhook_calls"]
    );
    println!("wrong replies: {}, errors: {}", r["wrong_replies"], r["errors"]);
    if let Some(cpu) = r["server_cpu_us_per_turn"].as_f64() {
        println!(
            "server: {:.0} µs CPU per turn ({:.2} cores busy), RSS {:.1} MB",
            cpu,
            r["server_cpu_cores_used"].as_f64().unwrap_or(0.0),
            r["server_rss_mb"].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(cpu) = r["load_tool_cpu_us_per_turn"].as_f64() {
        println!("load tool: {cpu:.0} µs CPU per turn (on the same machine)");
    }
    if let Some(p) = r["first_problems"].as_array().filter(|p| !p.is_empty()) {
        println!("first problems:");
        for x in p {
            println!("  - {}", x.as_str().unwrap_or(""));
        }
    }
}
