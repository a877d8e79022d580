//! Hostile clients against `baton serve` with a low open-file limit (1,024, as a systemd unit
//! without `LimitNOFILE` gets): half-sent headers, trickled bodies, declared-huge bodies, a
//! sign-in flood and a connection flood, all at once from one address. Meanwhile a customer on
//! another address must still get `/healthz` and a turn answered, and the server must close
//! what the limits say it closes.
//!
//! The bounds on time below are generous on purpose (seconds, not milliseconds): they tell a
//! server that answers from one that does not, and are no benchmark.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The clients' addresses, all loopback on Linux: the half-sent requests come from one, the
/// huge bodies and the sign-in flood from another, the customer from a third.
const HALF_SENDER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const FLOODER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const CUSTOMER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

struct Server {
    child: Child,
    base: String,
    widget_key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `baton serve` on a fresh SQLite directory with at most 1,024 open files (soft and hard).
fn start(dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 1024 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_baton"),
        ])
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn baton serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(key) = line.trim().strip_prefix("widget key:") {
                let _ = tx.send(key.trim().to_string());
            }
        }
    });
    let widget_key = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server printed its widget key");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        widget_key,
    }
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
}

/// A TCP connection to the server from `from`.
async fn connect(from: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket
        .connect(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
        .await
}

/// The customer's client: its own address.
fn customer_client() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(CUSTOMER))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `/healthz` and one customer turn from the customer's address; how long each took.
async fn customer_is_served(server: &Server, client: &reqwest::Client, n: usize) -> (Duration, Duration) {
    let started = Instant::now();
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("/healthz answers");
    assert_eq!(health.status(), 200);
    let health_took = started.elapsed();
    let started = Instant::now();
    let conversation: Value = client
        .post(format!("{}/api/v1/widget/conversations", server.base))
        .json(&json!({ "widget_key": server.widget_key }))
        .send()
        .await
        .expect("a conversation starts")
        .json()
        .await
        .expect("its JSON");
    let id = conversation["conversation"]["id"].as_str().expect("an id");
    let token = conversation["token"].as_str().expect("a token");
    let reply = client
        .post(format!("{}/api/v1/conversations/{id}/messages", server.base))
        .bearer_auth(token)
        .json(&json!({ "client_id": format!("m{n}"), "text": "hello" }))
        .send()
        .await
        .expect("the turn is answered");
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
    (health_took, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_clients_do_not_take_the_server_down() {
    let dir = std::env::temp_dir().join(format!("baton-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = start(&dir);
    let port = port_of(&server.base);
    let customer = customer_client();
    // Up before the attack.
    let deadline = Instant::now() + Duration::from_secs(30);
    while customer.get(format!("{}/healthz", server.base)).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    customer_is_served(&server, &customer, 0).await;

    // 1,100 half-sent requests: the headers never end (every eleventh sends nothing at all).
    let mut half_open = Vec::new();
    for i in 0..1100 {
        if let Ok(mut stream) = connect(HALF_SENDER, port).await {
            if i % 11 == 0 || stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.is_ok() {
                half_open.push(stream);
            }
        }
    }
    // Declared-huge bodies on the sign-in: refused before anything is read.
    let attacker = reqwest::Client::builder()
        .local_address(IpAddr::V4(FLOODER))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut huge_refused = 0;
    for _ in 0..50 {
        let mut stream = match connect(FLOODER, port).await {
            Ok(s) => s,
            Err(_) => continue,
        };
        let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let mut answer = vec![0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await {
            if String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413") {
                huge_refused += 1;
            }
        }
    }
    // A sign-in flood: wrong passwords, 32 at a time, for 4 s.
    let flood_until = Instant::now() + Duration::from_secs(4);
    let mut flood = Vec::new();
    for i in 0..32 {
        let attacker = attacker.clone();
        let url = format!("{}/api/v1/auth/login", server.base);
        flood.push(tokio::spawn(async move {
            let (mut limited, mut tried) = (0, 0);
            while Instant::now() < flood_until {
                let body = json!({ "email": format!("owner{}@example.com", i % 2), "password": "wrong password!" });
                match attacker.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == 429 => limited += 1,
                    Ok(_) => tried += 1,
                    Err(_) => {}
                }
            }
            (limited, tried)
        }));
    }
    // While all of that runs, the customer is served.
    let mut slowest = (Duration::ZERO, Duration::ZERO);
    for n in 1..=5 {
        let (health, turn) = customer_is_served(&server, &customer, n).await;
        slowest = (slowest.0.max(health), slowest.1.max(turn));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (mut limited, mut tried) = (0, 0);
    for f in flood {
        let (l, t) = f.await.expect("flood task");
        limited += l;
        tried += t;
    }
    assert!(
        slowest.0 < Duration::from_secs(2) && slowest.1 < Duration::from_secs(5),
        "the customer waited {slowest:?} (health, turn) under attack"
    );
    assert!(huge_refused >= 1, "a declared 1 GiB body is answered 413 at once");
    assert!(
        limited > tried,
        "the sign-in flood is mostly refused: {limited} refused, {tried} tried"
    );
    assert!(tried <= 40, "passwords tried under the limits: {tried}");

    // The half-sent requests are closed once the header timeout passes.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let mut closed = 0;
    let total = half_open.len();
    for mut stream in half_open {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(
        closed, total,
        "every half-sent request is closed after the header timeout"
    );
    customer_is_served(&server, &customer, 9).await;
    let metrics = customer
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("baton_refused_connections_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        refused >= 800,
        "connections over the per-address limit are refused: {refused}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
