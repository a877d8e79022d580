//! The `baton` binary end to end: validate, test, schema and chat (with a real webhook receiver
//! on loopback).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;

fn baton() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baton"))
}

fn write_temp(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A hand-over that promises the agent an email no path collects, and a dead end.
fn broken_flow() -> Value {
    json!({
        "format": 1, "name": "Broken escalation",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "hello", "type": "message", "text": "Hi!"},
            {"id": "human", "type": "handover", "context": ["email"]},
            {"id": "lonely", "type": "message", "text": "Nobody comes here"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "hello"},
            {"from": "hello", "port": "next", "to": "human"}
        ]
    })
}

fn good_flow(url: &str) -> Value {
    json!({
        "format": 1, "name": "Order status",
        "variables": [{"name": "order_status"}],
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask_order", "type": "collect_input", "text": "Your order number?", "variable": "order_id",
             "input": "regex", "pattern": "[0-9]{5}"},
            {"id": "lookup", "type": "webhook", "url": url, "body": {"order": "{{ order_id }}"},
             "response_mapping": {"order_status": "order.status"}, "retries": 0},
            {"id": "tell", "type": "message", "text": "Order {{ order_id }} is {{ order_status }}."},
            {"id": "sorry", "type": "end", "message": "Our order system is down.", "resolve": false},
            {"id": "bye", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask_order"},
            {"from": "ask_order", "port": "next", "to": "lookup"},
            {"from": "ask_order", "port": "invalid", "to": "sorry"},
            {"from": "lookup", "port": "success", "to": "tell"},
            {"from": "lookup", "port": "failure", "to": "sorry"},
            {"from": "tell", "port": "next", "to": "bye"}
        ],
        "tests": [
            {"name": "order found",
             "fixtures": {"webhooks": {"lookup": [{"status": 200, "body": {"order": {"status": "shipped"}}}]}},
             "steps": [{"say": "12345"}, {"expect_reply": "Your order number?"},
                       {"expect_reply": "Order 12345 is shipped."}, {"expect_end": {"resolved": true}}]},
            {"name": "order system down",
             "fixtures": {"webhooks": {"lookup": [{"error": "timeout"}]}},
             "steps": [{"say": "12345"}, {"expect_reply": "Your order number?"},
                       {"expect_reply": "Our order system is down."}]}
        ]
    })
}

#[test]
fn validate_explains_a_broken_escalation_path_and_exits_1() {
    let path = write_temp("broken.flow.json", &broken_flow().to_string());
    let out = baton().arg("validate").arg(&path).output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("missing_information"), "{t}");
    assert!(t.contains("node `human`"), "{t}");
    assert!(t.contains("email"), "{t}");
    assert!(t.contains("hint:"), "{t}");

    let out = baton()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).expect("json output");
    let diags = report["files"][0]["diagnostics"].as_array().unwrap();
    assert!(diags
        .iter()
        .any(|d| d["code"] == "missing_information" && d["node"] == "human"));
    assert!(diags
        .iter()
        .any(|d| d["code"] == "unreachable_node" && d["node"] == "lonely"));
    assert_eq!(report["files"][0]["ok"], false);
}

#[test]
fn validate_reports_unreadable_documents_clearly() {
    let cases = [
        ("{ not json", "invalid_json"),
        (r#"{"format": 2, "name": "x", "nodes": []}"#, "unsupported_format"),
        (
            r#"{"format": 1, "name": "x", "nodes": [{"id": "a", "type": "teleport"}]}"#,
            "unknown_node_type",
        ),
        (
            r#"{"format": 1, "name": "x", "nodes": [{"id": "a", "type": "trigger"}, {"id": "a", "type": "end"}]}"#,
            "duplicate_node_id",
        ),
        (
            r#"{"format": 1, "name": "x", "nodes": [{"id": "a", "type": "trigger"}], "edges": [{"from": "a", "port": "next", "to": "zz"}]}"#,
            "edge_unknown_node",
        ),
        (
            r#"{"format": 1, "name": "x", "nodes": [{"id": "a", "type": "trigger"}, {"id": "b", "type": "end"}], "edges": [{"from": "a", "port": "yes", "to": "b"}]}"#,
            "edge_unknown_port",
        ),
    ];
    for (i, (doc, code)) in cases.iter().enumerate() {
        let path = write_temp(&format!("bad{i}.json"), doc);
        let out = baton().arg("validate").arg(&path).output().unwrap();
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{doc}: {t}");
        assert!(t.contains(code), "{doc}: expected {code} in {t}");
    }
}

#[test]
fn test_runs_scripted_tests_with_coverage_and_fails_with_a_diff() {
    let path = write_temp("good.flow.json", &good_flow("http://127.0.0.1:9/orders").to_string());
    let out = baton().arg("test").arg(&path).output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("PASS order found"), "{t}");
    assert!(t.contains("coverage: nodes 6/6"), "{t}");
    assert!(t.contains("2 passed, 0 failed"), "{t}");

    let failing = json!({"format": 1, "tests": [{"name": "wrong words",
        "fixtures": {"webhooks": {"lookup": [{"status": 200, "body": {"order": {"status": "lost"}}}]}},
        "steps": [{"say": "12345"}, {"expect_reply": "Your order number?"}, {"expect_reply": "Order 12345 is shipped."}]}]});
    let tests = write_temp("failing.tests.json", &failing.to_string());
    let out = baton().arg("test").arg(&path).arg(&tests).output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL wrong words"), "{t}");
    assert!(t.contains("- expected: \"Order 12345 is shipped.\""), "{t}");
    assert!(t.contains("+ actual:   \"Order 12345 is lost.\""), "{t}");
    assert!(t.contains("2 passed, 1 failed"), "{t}");
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let out = baton().arg("schema").output().unwrap();
    let stored = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/flow.schema.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), stored);
}

/// A one-request HTTP server on loopback: answers with `response` and sends the request it got.
fn receiver(response: &'static str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/orders", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{response}",
                response.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
            tx.send(format!("{head}\n{}", String::from_utf8_lossy(&body))).unwrap();
        }
    });
    (url, rx)
}

#[test]
fn chat_calls_a_real_webhook_and_plays_the_agent() {
    let (url, requests) = receiver(r#"{"order": {"status": "on its way"}}"#);
    let path = write_temp("chat.flow.json", &good_flow(&url).to_string());
    let mut child = baton()
        .arg("chat")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"abc\n12345\n/vars\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("bot> Your order number?"), "{t}");
    assert!(
        t.contains("bot> Sorry, that doesn't look right"),
        "re-prompt on invalid input: {t}"
    );
    assert!(t.contains("bot> Order 12345 is on its way."), "{t}");
    assert!(t.contains("order_status = \"on its way\""), "{t}");
    assert!(
        t.contains("path: ask_order -next-> lookup -success-> tell -next-> bye"),
        "{t}"
    );
    let request = requests.recv().unwrap();
    assert!(request.starts_with("POST /orders"), "{request}");
    assert!(request.ends_with(r#"{"order":"12345"}"#), "{request}");
}

#[test]
fn chat_plays_agent_and_clock() {
    let flow = json!({
        "format": 1, "name": "Handover",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask_email", "type": "collect_input", "text": "Email?", "variable": "email", "input": "email"},
            {"id": "human", "type": "handover", "context": ["email"], "stalling_seconds": 60, "max_wait_seconds": 3600},
            {"id": "back", "type": "message", "text": "Back with the bot. Ticket {{ ticket }}."},
            {"id": "bye", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask_email"},
            {"from": "ask_email", "port": "next", "to": "human"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "back", "port": "next", "to": "bye"}
        ]
    });
    let path = write_temp("agent.flow.json", &flow.to_string());
    let mut child = baton()
        .arg("chat")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ana@example.com\n/wait 2m\nhello?\n/takeover Sam\n/reply Hi Ana\n/handback ticket=T-9\n/nonsense\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert!(t.contains("[queued at human]"), "{t}");
    assert!(t.contains("still in the queue"), "stalling message after /wait: {t}");
    assert!(t.contains("Sam took over"), "{t}");
    assert!(t.contains("agent> Hi Ana"), "{t}");
    assert!(t.contains("bot> Back with the bot. Ticket T-9."), "{t}");
    assert!(t.contains("unknown command /nonsense"), "{t}");
    let after_question = t.split("hello?").nth(1).unwrap_or("");
    assert!(
        !after_question.contains("Email?"),
        "the bot stays silent while queued: {t}"
    );
}

#[test]
fn chat_answers_from_a_knowledge_base_folder() {
    let dir = std::env::temp_dir().join(format!("baton-cli-kb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("shipping.md"),
        "# Shipping costs\n\nStandard shipping costs $8 and takes 3 to 5 business days.\n\nExpress shipping costs $20 and arrives the next business day.\n",
    )
    .unwrap();
    let flow = json!({
        "format": 1, "name": "FAQ",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "faq", "type": "ai_answer", "intro": "Ask me.", "answer_last_message": false},
            {"id": "human", "type": "end", "message": "A person will call you.", "resolve": false},
            {"id": "done", "type": "end", "message": "Bye!"},
            {"id": "unknown", "type": "end", "message": "I don't know.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "faq"},
            {"from": "faq", "port": "resolved", "to": "done"},
            {"from": "faq", "port": "unanswered", "to": "unknown"},
            {"from": "faq", "port": "human", "to": "human"}
        ]
    });
    let path = write_temp("kb.flow.json", &flow.to_string());
    let mut child = baton()
        .arg("chat")
        .arg(&path)
        .arg("--kb")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"How much is express shipping?\nI want to talk to a person\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert!(t.contains("Knowledge base: 1 articles"), "{t}");
    assert!(t.contains("$20"), "the answer comes from the article: {t}");
    assert!(
        t.contains("A person will call you."),
        "asking for a person leaves through human: {t}"
    );
}
