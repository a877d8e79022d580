//! The OpenAI-compatible provider against a real HTTP server on loopback that imitates the
//! chat-completions API: structured output, a streamed answer, retries after a 500, timeouts.

use baton_ai::{AiContext, AiProvider, Article, Knowledge, KnowledgeBase, OpenAiCompatible, OpenAiConfig, Turn};
use baton_flow::document::{Category, ExtractField, ExtractKind};
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, AnswerIntent};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// What the fake server does with a request.
enum Reply {
    /// A chat completion whose message content is this text.
    Content(String),
    /// Any status and JSON body.
    Status(u16, Value),
    /// Server-sent events: these content deltas, then `[DONE]`.
    Stream(Vec<String>),
    /// Wait this long before answering (longer than the client's timeout).
    Hang(Duration),
}

type Script = Arc<dyn Fn(usize, &Seen) -> Reply + Send + Sync>;

struct Fake {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Script = Arc::new(script);
        let seen2 = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen2.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, seen, script).await;
                });
            }
        });
        Fake {
            base_url: format!("http://{addr}/v1"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn config(&self) -> OpenAiConfig {
        OpenAiConfig::new(&self.base_url, "test-model")
            .with_api_key("sk-test")
            .with_timeout(Duration::from_secs(5))
            .with_retries(2, Duration::from_millis(10))
    }
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>, script: Script) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    let mut length = 0;
    let mut authorization = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    while buf.len() < head_end + length {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    let request = Seen {
        path,
        authorization,
        body,
    };
    let index = {
        let mut s = seen.lock().expect("lock");
        s.push(request.clone());
        s.len() - 1
    };
    match script(index, &request) {
        Reply::Content(text) => {
            let body = json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
            })
            .to_string();
            write_json(&mut stream, 200, &body).await?;
        }
        Reply::Status(status, body) => write_json(&mut stream, status, &body.to_string()).await?,
        Reply::Stream(deltas) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            for d in deltas {
                let event = json!({"choices": [{"index": 0, "delta": {"content": d}}]});
                stream.write_all(format!("data: {event}\n\n").as_bytes()).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            stream.write_all(b"data: [DONE]\n\n").await?;
        }
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            write_json(&mut stream, 200, "{}").await?;
        }
    }
    stream.shutdown().await
}

async fn write_json(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await
}

fn request(query: AiQuery) -> AiRequest {
    AiRequest {
        request: 1,
        node: "ai".into(),
        query,
    }
}

fn categories() -> Vec<Category> {
    vec![
        Category {
            id: "refund".into(),
            description: Some("money back".into()),
            examples: vec!["I want my money back".into()],
        },
        Category {
            id: "shipping".into(),
            description: None,
            examples: vec!["where is my parcel".into()],
        },
    ]
}

fn knowledge() -> Knowledge {
    let mut kb = KnowledgeBase::new();
    kb.upsert(Article {
        id: "shipping-cost".into(),
        collection: "help".into(),
        title: "Shipping Cost".into(),
        url: Some("https://help.example.com/shipping".into()),
        markdown: "# Shipping Cost\n\nStandard shipping is $8.00. Overnight shipping is $25.".into(),
    })
    .expect("article");
    Knowledge::new(kb)
}

#[tokio::test]
async fn classify_asks_for_a_json_schema() {
    let fake = Fake::start(|_, _| Reply::Content(r#"{"category": "refund", "confidence": 0.92}"#.into())).await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let out = provider
        .run(
            &request(AiQuery::Classify {
                text: "give me my money back".into(),
                categories: categories(),
                threshold: None,
            }),
            &AiContext::default(),
        )
        .await;
    assert_eq!(
        out,
        AiOutcome::Category {
            category: Some("refund".into()),
            confidence: 0.92
        }
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test"));
    let body = &seen[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"],
        json!(["refund", "shipping", "unknown"])
    );
    assert!(body["messages"][0]["content"]
        .as_str()
        .is_some_and(|s| s.contains("I want my money back")));
}

#[tokio::test]
async fn classify_below_threshold_or_unknown_is_no_category() {
    let fake = Fake::start(|i, _| {
        Reply::Content(if i == 0 {
            r#"{"category": "shipping", "confidence": 0.4}"#.into()
        } else {
            r#"{"category": "unknown", "confidence": 0.9}"#.into()
        })
    })
    .await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let ask = |threshold| {
        request(AiQuery::Classify {
            text: "hmm".into(),
            categories: categories(),
            threshold,
        })
    };
    let a = provider.run(&ask(Some(0.6)), &AiContext::default()).await;
    assert_eq!(
        a,
        AiOutcome::Category {
            category: None,
            confidence: 0.4
        }
    );
    let b = provider.run(&ask(None), &AiContext::default()).await;
    assert!(matches!(b, AiOutcome::Category { category: None, .. }), "{b:?}");
}

#[tokio::test]
async fn extract_and_sentiment_are_checked() {
    let fake = Fake::start(|_, seen| {
        let name = seen.body["response_format"]["json_schema"]["name"]
            .as_str()
            .unwrap_or("");
        Reply::Content(match name {
            "extraction" => {
                r#"{"email": "ANA@Example.COM", "order": "A-123", "when": null, "phone": "not a phone"}"#.into()
            }
            _ => r#"{"sentiment": "negative", "frustrated": true}"#.into(),
        })
    })
    .await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let field = |variable: &str, kind| ExtractField {
        variable: variable.into(),
        kind,
        pattern: None,
        description: None,
    };
    let out = provider
        .run(
            &request(AiQuery::Extract {
                text: "ana@example.com, order A-123".into(),
                fields: vec![
                    field("email", ExtractKind::Email),
                    field("order", ExtractKind::OrderId),
                    field("when", ExtractKind::Date),
                    field("phone", ExtractKind::Phone),
                ],
            }),
            &AiContext::default(),
        )
        .await;
    let AiOutcome::Fields { values } = out else {
        panic!("fields expected: {out:?}")
    };
    assert_eq!(values.get("email"), Some(&json!("ana@example.com")));
    assert_eq!(values.get("order"), Some(&json!("A-123")));
    assert!(!values.contains_key("when"));
    assert!(!values.contains_key("phone"), "an invalid phone is dropped");
    let schema = &fake.seen()[0].body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["when"]["type"], json!(["string", "null"]));
    let s = provider
        .run(
            &request(AiQuery::Sentiment {
                text: "third time!!".into(),
            }),
            &AiContext::default(),
        )
        .await;
    assert_eq!(
        s,
        AiOutcome::Sentiment {
            sentiment: "negative".into(),
            frustrated: true
        }
    );
}

fn answer_request(question: &str) -> AiRequest {
    request(AiQuery::Answer {
        question: question.into(),
        collections: Vec::new(),
        threshold: None,
    })
}

#[tokio::test]
async fn answers_stream_with_sources() {
    let fake = Fake::start(|_, _| {
        Reply::Stream(vec![
            "Standard ".into(),
            "shipping is ".into(),
            "$8.00 [".into(),
            "1]".into(),
            ".".into(),
        ])
    })
    .await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let context = AiContext::default().with_knowledge(knowledge()).with_transcript(vec![
        Turn::bot("Hi! Ask me anything."),
        Turn::customer("How much is standard shipping?"),
    ]);
    let mut streamed: Vec<String> = Vec::new();
    let out = provider
        .run_streaming(
            &answer_request("How much is standard shipping?"),
            &context,
            &mut |d: &str| streamed.push(d.to_string()),
        )
        .await;
    assert_eq!(
        out,
        AiOutcome::Answer {
            text: "Standard shipping is $8.00.".into(),
            sources: vec![baton_ai::Source {
                title: "Shipping Cost".into(),
                url: Some("https://help.example.com/shipping".into())
            }],
            intent: AnswerIntent::Answered
        }
    );
    assert_eq!(streamed.concat(), "Standard shipping is $8.00.");
    assert!(streamed.len() >= 2, "streamed in pieces: {streamed:?}");
    let body = &fake.seen()[0].body;
    assert_eq!(body["stream"], true);
    let messages = body["messages"].as_array().expect("messages");
    assert!(messages[0]["content"]
        .as_str()
        .is_some_and(|s| s.contains("[1] Shipping Cost") && s.contains("Standard shipping is $8.00.")));
    // History without the question twice, then the question.
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(
        messages.last().map(|m| m["content"].clone()),
        Some(json!("How much is standard shipping?"))
    );
    assert_eq!(messages.len(), 3);
}

#[tokio::test]
async fn i_dont_know_is_unanswered_and_never_streamed() {
    let fake = Fake::start(|_, _| Reply::Stream(vec!["I don't ".into(), "know.".into()])).await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let context = AiContext::default().with_knowledge(knowledge());
    let mut streamed = String::new();
    let out = provider
        .run_streaming(
            &answer_request("How much is overnight shipping to Mars?"),
            &context,
            &mut |d: &str| streamed.push_str(d),
        )
        .await;
    assert!(
        matches!(
            out,
            AiOutcome::Answer {
                intent: AnswerIntent::Unanswered,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(streamed, "");
}

#[tokio::test]
async fn nothing_retrieved_or_a_person_asked_for_needs_no_call() {
    let fake = Fake::start(|_, _| Reply::Content("should not be asked".into())).await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let context = AiContext::default().with_knowledge(knowledge());
    let a = provider.run(&answer_request("Do you sell bicycles?"), &context).await;
    assert!(
        matches!(
            a,
            AiOutcome::Answer {
                intent: AnswerIntent::Unanswered,
                ..
            }
        ),
        "{a:?}"
    );
    let b = provider.run(&answer_request("can I talk to a human"), &context).await;
    assert!(
        matches!(
            b,
            AiOutcome::Answer {
                intent: AnswerIntent::Human,
                ..
            }
        ),
        "{b:?}"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn a_500_is_retried() {
    let fake = Fake::start(|i, _| {
        if i == 0 {
            Reply::Status(500, json!({"error": {"message": "overloaded"}}))
        } else {
            Reply::Content("Hello there".into())
        }
    })
    .await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let out = provider
        .run(
            &request(AiQuery::Instruction {
                instruction: "Greet".into(),
                text: "hi".into(),
            }),
            &AiContext::default(),
        )
        .await;
    assert_eq!(
        out,
        AiOutcome::Text {
            text: "Hello there".into()
        }
    );
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn a_streamed_answer_is_retried_after_a_500() {
    let fake = Fake::start(|i, _| {
        if i == 0 {
            Reply::Status(503, json!({"error": {"message": "warming up"}}))
        } else {
            Reply::Stream(vec!["Overnight shipping is $25 [1].".into()])
        }
    })
    .await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let context = AiContext::default().with_knowledge(knowledge());
    let mut streamed = String::new();
    let out = provider
        .run_streaming(
            &answer_request("How much is overnight shipping?"),
            &context,
            &mut |d: &str| streamed.push_str(d),
        )
        .await;
    assert!(
        matches!(&out, AiOutcome::Answer { intent: AnswerIntent::Answered, text, .. } if text == "Overnight shipping is $25."),
        "{out:?}"
    );
    assert_eq!(streamed, "Overnight shipping is $25.");
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn timeouts_fail_with_the_reason_after_the_retries() {
    let fake = Fake::start(|_, _| Reply::Hang(Duration::from_secs(3))).await;
    let config = fake
        .config()
        .with_timeout(Duration::from_millis(300))
        .with_retries(1, Duration::from_millis(10));
    let provider = OpenAiCompatible::new(config).expect("config");
    let started = Instant::now();
    let out = provider
        .run(
            &request(AiQuery::Sentiment { text: "hello".into() }),
            &AiContext::default(),
        )
        .await;
    let AiOutcome::Failed { reason } = out else {
        panic!("a failure expected: {out:?}")
    };
    assert!(
        reason.contains("timed out") && reason.contains("after 2 attempts"),
        "{reason}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let fake = Fake::start(|_, _| Reply::Status(401, json!({"error": {"message": "bad key"}}))).await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let out = provider
        .run(
            &request(AiQuery::Sentiment { text: "hello".into() }),
            &AiContext::default(),
        )
        .await;
    assert_eq!(
        out,
        AiOutcome::Failed {
            reason: "the model endpoint answered 401: bad key".into()
        }
    );
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let config = OpenAiConfig::new(format!("http://{addr}/v1"), "m").with_retries(1, Duration::from_millis(10));
    let provider = OpenAiCompatible::new(config).expect("config");
    let out = provider
        .run(
            &request(AiQuery::Sentiment { text: "hello".into() }),
            &AiContext::default(),
        )
        .await;
    assert!(
        matches!(&out, AiOutcome::Failed { reason } if reason.starts_with("cannot reach the model endpoint")),
        "{out:?}"
    );
}

#[tokio::test]
async fn bad_json_from_the_model_fails() {
    let fake = Fake::start(|_, _| Reply::Content("I think it's a refund".into())).await;
    let provider = OpenAiCompatible::new(fake.config()).expect("config");
    let out = provider
        .run(
            &request(AiQuery::Classify {
                text: "money".into(),
                categories: categories(),
                threshold: None,
            }),
            &AiContext::default(),
        )
        .await;
    assert!(
        matches!(&out, AiOutcome::Failed { reason } if reason.contains("not JSON")),
        "{out:?}"
    );
}
