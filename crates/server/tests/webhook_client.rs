//! The webhook client against tiny real HTTP/1.1 servers on 127.0.0.1.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_flow::document::HttpMethod;
use baton_flow::runtime::{WebhookCall, WebhookOutcome};
use baton_server::webhook::{is_allowed_ip, new_secret, sign, verify, AddressPolicy, Signing, WebhookClient};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const VECTOR_TS: i64 = 1614265330;
const VECTOR_BODY: &str = r#"{"test": 2432232314}"#;
const VECTOR_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

#[derive(Clone)]
struct Reply {
    status: u16,
    body: Vec<u8>,
    delay: Duration,
    /// Send `content-length` (else the body ends when the connection closes).
    with_length: bool,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.as_bytes().to_vec(),
        delay: Duration::ZERO,
        with_length: true,
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

/// Serves `replies` in order (the last one repeats), one request per connection.
async fn serve(replies: Vec<Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let n = c.fetch_add(1, Ordering::SeqCst);
            let reply = replies[n.min(replies.len() - 1)].clone();
            let r = r.clone();
            tokio::spawn(async move {
                let _ = handle(stream, reply, r).await;
            });
        }
    });
    Server {
        addr,
        connections,
        requests,
    }
}

async fn handle(mut stream: TcpStream, reply: Reply, requests: Arc<Mutex<Vec<Seen>>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_owned();
    let path = request_line.next().unwrap_or("").to_owned();
    let mut headers = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    requests.lock().unwrap().push(Seen {
        method,
        path,
        headers,
        body,
    });
    tokio::time::sleep(reply.delay).await;
    let mut out = format!("HTTP/1.1 {} Whatever\r\nconnection: close\r\n", reply.status);
    if reply.with_length {
        out.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes()).await?;
    stream.write_all(&reply.body).await?;
    stream.shutdown().await?;
    Ok(())
}

fn client(policy: AddressPolicy) -> WebhookClient {
    WebhookClient::new(policy, Duration::from_millis(5))
}

fn call(method: HttpMethod, url: &str, body: Option<&str>) -> WebhookCall {
    WebhookCall {
        request: 1,
        node: "hook".into(),
        method,
        url: url.into(),
        headers: BTreeMap::new(),
        body: body.map(str::to_owned),
        timeout_ms: 2_000,
        retries: 0,
    }
}

fn failed_reason(outcome: &WebhookOutcome) -> &str {
    match outcome {
        WebhookOutcome::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn standard_webhooks_test_vector() {
    let sig = sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY).unwrap();
    assert_eq!(sig, VECTOR_SIG);
    let headers = (VECTOR_ID, "1614265330", VECTOR_SIG);
    assert!(verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TS, 300));
    // Several signatures, one valid.
    let many = format!("v1,Zm9v v2,whatever {VECTOR_SIG}");
    assert!(verify(
        VECTOR_SECRET,
        (VECTOR_ID, "1614265330", &many),
        VECTOR_BODY,
        VECTOR_TS + 10,
        300
    ));
    // Secret without the prefix works too.
    assert!(verify(
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        headers,
        VECTOR_BODY,
        VECTOR_TS,
        300
    ));
    // Tampering, stale timestamps and garbage fail.
    assert!(!verify(
        VECTOR_SECRET,
        headers,
        r#"{"test": 2432232315}"#,
        VECTOR_TS,
        300
    ));
    assert!(!verify(
        VECTOR_SECRET,
        (VECTOR_ID, "1614265331", VECTOR_SIG),
        VECTOR_BODY,
        VECTOR_TS,
        300
    ));
    assert!(!verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TS + 301, 300));
    assert!(!verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TS - 301, 300));
    assert!(!verify(
        VECTOR_SECRET,
        (VECTOR_ID, "soon", VECTOR_SIG),
        VECTOR_BODY,
        VECTOR_TS,
        300
    ));
    assert!(!verify(
        VECTOR_SECRET,
        (VECTOR_ID, "1614265330", "v1,!!!"),
        VECTOR_BODY,
        VECTOR_TS,
        300
    ));
    assert!(!verify(
        VECTOR_SECRET,
        (VECTOR_ID, "1614265330", ""),
        VECTOR_BODY,
        VECTOR_TS,
        300
    ));
    assert!(!verify("whsec_not base64!", headers, VECTOR_BODY, VECTOR_TS, 300));
    assert!(!verify(
        VECTOR_SECRET,
        (VECTOR_ID, "-9223372036854775808", VECTOR_SIG),
        VECTOR_BODY,
        i64::MAX,
        300
    ));
    assert!(sign("whsec_", "id", 1, "").is_err());
    assert!(sign("whsec_***", "id", 1, "").is_err());
}

#[test]
fn new_secrets_are_24_random_bytes() {
    let a = new_secret();
    let b = new_secret();
    assert_ne!(a, b);
    let encoded = a.strip_prefix("whsec_").unwrap();
    assert_eq!(encoded.len(), 32);
    let sig = sign(&a, "msg_1", 1, "{}").unwrap();
    assert!(verify(&a, ("msg_1", "1", &sig), "{}", 1, 0));
    assert!(!verify(&b, ("msg_1", "1", &sig), "{}", 1, 0));
}

#[tokio::test]
async fn signed_post_carries_verifiable_headers_and_body() {
    let server = serve(vec![reply(200, r#"{"ok": true, "n": 3}"#)]).await;
    let mut c = call(HttpMethod::Post, &server.url("/hook?x=1"), Some(r#"{"order": "A-1"}"#));
    c.headers.insert("X-Custom".into(), "yes".into());
    c.headers.insert("webhook-id".into(), "spoofed".into());
    let signing = Signing {
        secret: new_secret(),
        message_id: "msg_42".into(),
        timestamp: 1_700_000_000,
    };
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, Some(&signing)).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 200,
            body: json!({"ok": true, "n": 3})
        }
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(attempts[0].status, Some(200));
    assert_eq!(attempts[0].error, None);

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook?x=1");
    assert_eq!(req.body, r#"{"order": "A-1"}"#);
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["x-custom"], "yes");
    assert_eq!(
        req.headers["user-agent"],
        format!("baton/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(req.headers["webhook-id"], "msg_42");
    assert_eq!(req.headers["webhook-timestamp"], "1700000000");
    assert!(verify(
        &signing.secret,
        (
            &req.headers["webhook-id"],
            &req.headers["webhook-timestamp"],
            &req.headers["webhook-signature"],
        ),
        &req.body,
        1_700_000_100,
        300,
    ));
}

#[tokio::test]
async fn custom_content_type_is_kept_and_unsigned_calls_have_no_signature() {
    let server = serve(vec![reply(200, "")]).await;
    let mut c = call(HttpMethod::Put, &server.url("/"), Some("a=1"));
    c.headers
        .insert("Content-Type".into(), "application/x-www-form-urlencoded".into());
    let (outcome, _) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 200,
            body: Value::Null
        }
    );
    let req = &server.requests()[0];
    assert_eq!(req.method, "PUT");
    assert_eq!(req.headers["content-type"], "application/x-www-form-urlencoded");
    assert!(!req.headers.contains_key("webhook-signature"));
}

#[tokio::test]
async fn get_sends_no_body() {
    let server = serve(vec![reply(200, r#"[1, 2]"#)]).await;
    let c = call(HttpMethod::Get, &server.url("/items"), None);
    let (outcome, _) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 200,
            body: json!([1, 2])
        }
    );
    let req = &server.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.body, "");
    assert!(!req.headers.contains_key("content-type"));
    assert!(req.headers.get("content-length").is_none_or(|len| len == "0"));
}

#[tokio::test]
async fn retries_5xx_until_success() {
    let server = serve(vec![
        reply(500, "oops"),
        reply(503, "busy"),
        reply(200, r#"{"done": 1}"#),
    ])
    .await;
    let mut c = call(HttpMethod::Post, &server.url("/"), Some("{}"));
    c.retries = 3;
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 200,
            body: json!({"done": 1})
        }
    );
    let statuses: Vec<_> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(200)]);
    let numbers: Vec<_> = attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn persistent_5xx_returns_the_last_response() {
    let server = serve(vec![reply(502, "bad gateway")]).await;
    let mut c = call(HttpMethod::Post, &server.url("/"), Some("{}"));
    c.retries = 2;
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 502,
            body: Value::String("bad gateway".into())
        }
    );
    assert_eq!(attempts.len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = serve(vec![reply(404, r#"{"error": "nope"}"#), reply(200, "")]).await;
    let mut c = call(HttpMethod::Post, &server.url("/"), Some("{}"));
    c.retries = 3;
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 404,
            body: json!({"error": "nope"})
        }
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn timeouts_fail_after_retries() {
    let mut slow = reply(200, "{}");
    slow.delay = Duration::from_secs(5);
    let server = serve(vec![slow]).await;
    let mut c = call(HttpMethod::Post, &server.url("/"), Some("{}"));
    c.timeout_ms = 100;
    c.retries = 2;
    let started = std::time::Instant::now();
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let reason = failed_reason(&outcome);
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.status.is_none() && a.error.is_some()));
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn connection_refused_is_retried_then_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut c = call(HttpMethod::Post, &format!("http://{addr}/"), Some("{}"));
    c.retries = 1;
    let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    let reason = failed_reason(&outcome);
    assert!(reason.contains("request failed"), "{reason}");
    assert_eq!(attempts.len(), 2);
}

#[tokio::test]
async fn non_json_is_kept_as_text() {
    let server = serve(vec![reply(200, "plain <b>text</b>")]).await;
    let c = call(HttpMethod::Get, &server.url("/"), None);
    let (outcome, _) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Response {
            status: 200,
            body: Value::String("plain <b>text</b>".into())
        }
    );
}

#[tokio::test]
async fn oversized_responses_fail() {
    let big = vec![b'x'; 1024 * 1024 + 1];
    let mut with_length = reply(200, "");
    with_length.body = big.clone();
    let mut streamed = with_length.clone();
    streamed.with_length = false;
    for r in [with_length, streamed] {
        let server = serve(vec![r]).await;
        let mut c = call(HttpMethod::Get, &server.url("/"), None);
        c.retries = 2;
        let (outcome, attempts) = client(AddressPolicy::AllowLoopback).call(&c, None).await;
        let reason = failed_reason(&outcome);
        assert!(reason.contains("response too large"), "{reason}");
        assert_eq!(attempts.len(), 1, "too large is final");
    }
    // Exactly 1 MiB is fine.
    let mut limit = reply(200, "");
    limit.body = vec![b'y'; 1024 * 1024];
    limit.with_length = false;
    let server = serve(vec![limit]).await;
    let (outcome, _) = client(AddressPolicy::AllowLoopback)
        .call(&call(HttpMethod::Get, &server.url("/"), None), None)
        .await;
    assert!(matches!(outcome, WebhookOutcome::Response { status: 200, .. }));
}

#[tokio::test]
async fn public_only_refuses_local_targets_without_contacting_them() {
    let server = serve(vec![reply(200, "{}")]).await;
    let port = server.addr.port();
    let client = client(AddressPolicy::PublicOnly);
    let targets = [
        (format!("http://127.0.0.1:{port}/"), "127.0.0.1", "loopback"),
        ("http://10.0.0.1/".to_owned(), "10.0.0.1", "private"),
        (format!("http://[::1]:{port}/"), "::1", "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/"), "127.0.0.1", "loopback"),
        (format!("http://2130706433:{port}/"), "127.0.0.1", "loopback"),
        (
            "http://169.254.169.254/latest".to_owned(),
            "169.254.169.254",
            "link-local",
        ),
        (format!("http://0.0.0.0:{port}/"), "0.0.0.0", "unspecified"),
        (format!("http://localhost:{port}/"), "localhost", "loopback"),
    ];
    for (url, addr, kind) in targets {
        let mut c = call(HttpMethod::Post, &url, Some("{}"));
        c.retries = 3;
        let (outcome, attempts) = client.call(&c, None).await;
        let reason = failed_reason(&outcome);
        assert!(reason.contains("refused"), "{url}: {reason}");
        assert!(reason.contains(addr), "{url}: {reason}");
        assert!(reason.contains(kind), "{url}: {reason}");
        assert!(reason.contains("the operator can allow it"), "{url}: {reason}");
        assert_eq!(attempts.len(), 1, "{url}: refusals are not retried");
        if url.contains("localhost") {
            // Refused by the resolver, not by the IP-literal check.
            assert!(reason.contains("localhost resolves to"), "{reason}");
        }
    }
    assert_eq!(server.connections(), 0);

    let (status, attempts) = client
        .post_signed(
            &format!("http://localhost:{port}/events"),
            "{}",
            &Signing {
                secret: new_secret(),
                message_id: "msg_1".into(),
                timestamp: 1,
            },
            Duration::from_secs(1),
            2,
        )
        .await;
    assert_eq!(status, None);
    assert_eq!(attempts.len(), 1);
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn allow_loopback_reaches_loopback_but_not_private() {
    let server = serve(vec![reply(200, r#"{"hi": 1}"#)]).await;
    let client = client(AddressPolicy::AllowLoopback);
    let port = server.addr.port();
    for url in [format!("http://127.0.0.1:{port}/"), format!("http://localhost:{port}/")] {
        let (outcome, _) = client.call(&call(HttpMethod::Get, &url, None), None).await;
        assert_eq!(
            outcome,
            WebhookOutcome::Response {
                status: 200,
                body: json!({"hi": 1})
            },
            "{url}"
        );
    }
    let (outcome, _) = client
        .call(&call(HttpMethod::Get, "http://192.168.1.1/", None), None)
        .await;
    let reason = failed_reason(&outcome);
    assert!(reason.contains("192.168.1.1 is a private address"), "{reason}");
}

#[tokio::test]
async fn post_signed_returns_status() {
    let server = serve(vec![reply(500, ""), reply(204, "")]).await;
    let signing = Signing {
        secret: new_secret(),
        message_id: "evt_1".into(),
        timestamp: 1_700_000_000,
    };
    let (status, attempts) = client(AddressPolicy::AllowLoopback)
        .post_signed(
            &server.url("/events"),
            r#"{"type": "conversation.handed_over"}"#,
            &signing,
            Duration::from_secs(2),
            2,
        )
        .await;
    assert_eq!(status, Some(204));
    assert_eq!(attempts.len(), 2);
    let req = &server.requests()[1];
    assert_eq!(req.method, "POST");
    assert_eq!(req.headers["content-type"], "application/json");
    assert!(verify(
        &signing.secret,
        (
            &req.headers["webhook-id"],
            &req.headers["webhook-timestamp"],
            &req.headers["webhook-signature"],
        ),
        &req.body,
        1_700_000_000,
        60,
    ));
}

#[tokio::test]
async fn bad_input_fails_instead_of_panicking() {
    let client = client(AddressPolicy::AllowAll);
    let cases: Vec<(WebhookCall, &str)> = vec![
        (call(HttpMethod::Get, "not a url", None), "invalid URL"),
        (call(HttpMethod::Get, "ftp://example.com/x", None), "scheme"),
        (call(HttpMethod::Get, "file:///etc/passwd", None), "scheme"),
        (call(HttpMethod::Get, "", None), "invalid URL"),
        (
            {
                let mut c = call(HttpMethod::Get, "http://127.0.0.1:9/", None);
                c.headers.insert("bad header".into(), "x".into());
                c
            },
            "invalid header name",
        ),
        (
            {
                let mut c = call(HttpMethod::Get, "http://127.0.0.1:9/", None);
                c.headers.insert("x-ok".into(), "line\r\nbreak".into());
                c
            },
            "invalid value for header",
        ),
    ];
    for (c, expected) in cases {
        let (outcome, attempts) = client.call(&c, None).await;
        let reason = failed_reason(&outcome);
        assert!(reason.contains(expected), "{}: {reason}", c.url);
        assert_eq!(attempts.len(), 1);
    }
    // A broken secret fails the call too.
    let c = call(HttpMethod::Post, "http://127.0.0.1:9/", Some("{}"));
    let bad = Signing {
        secret: "whsec_%%%".into(),
        message_id: "m".into(),
        timestamp: 0,
    };
    let (outcome, _) = client.call(&c, Some(&bad)).await;
    assert!(failed_reason(&outcome).contains("cannot sign"));
}

#[test]
fn address_policy_table() {
    use AddressPolicy::*;
    // (address, PublicOnly, AllowLoopback, AllowAll)
    let table: &[(&str, bool, bool, bool)] = &[
        ("8.8.8.8", true, true, true),
        ("1.1.1.1", true, true, true),
        ("93.184.216.34", true, true, true),
        ("127.0.0.1", false, true, true),
        ("127.255.0.9", false, true, true),
        ("10.1.2.3", false, false, true),
        ("172.16.0.1", false, false, true),
        ("172.31.255.255", false, false, true),
        ("172.32.0.1", true, true, true),
        ("192.168.0.1", false, false, true),
        ("169.254.169.254", false, false, true),
        ("100.64.0.1", false, false, true),
        ("100.127.255.255", false, false, true),
        ("100.128.0.1", true, true, true),
        ("0.0.0.0", false, false, true),
        ("0.1.2.3", false, false, true),
        ("255.255.255.255", false, false, true),
        ("224.0.0.1", false, false, true),
        ("239.255.255.250", false, false, true),
        ("240.0.0.1", false, false, true),
        ("192.0.2.1", false, false, true),
        ("198.51.100.1", false, false, true),
        ("203.0.113.1", false, false, true),
        ("198.18.0.1", false, false, true),
        ("::1", false, true, true),
        ("::", false, false, true),
        ("2606:4700:4700::1111", true, true, true),
        ("2001:4860:4860::8888", true, true, true),
        ("fc00::1", false, false, true),
        ("fd12:3456::1", false, false, true),
        ("fe80::1", false, false, true),
        ("ff02::1", false, false, true),
        ("2001:db8::1", false, false, true),
        ("::ffff:127.0.0.1", false, true, true),
        ("::ffff:10.0.0.1", false, false, true),
        ("::ffff:8.8.8.8", true, true, true),
        ("64:ff9b::a00:1", false, false, true),
        ("64:ff9b::808:808", true, true, true),
        ("2002:a00:1::1", false, false, true),
        ("::127.0.0.1", false, false, true),
    ];
    for (addr, public_only, allow_loopback, allow_all) in table {
        let ip: IpAddr = addr.parse().unwrap();
        assert_eq!(is_allowed_ip(ip, &PublicOnly), *public_only, "{addr} PublicOnly");
        assert_eq!(
            is_allowed_ip(ip, &AllowLoopback),
            *allow_loopback,
            "{addr} AllowLoopback"
        );
        assert_eq!(is_allowed_ip(ip, &AllowAll), *allow_all, "{addr} AllowAll");
    }
}
