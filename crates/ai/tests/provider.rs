//! The offline provider through the `AiProvider` trait, as the server will call it.

use baton_ai::{AiContext, AiProvider, Article, Knowledge, KnowledgeBase, OfflineProvider, Turn};
use baton_flow::document::{Category, ExtractField, ExtractKind};
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, AnswerIntent};
use serde_json::json;

fn request(query: AiQuery) -> AiRequest {
    AiRequest {
        request: 7,
        node: "n".into(),
        query,
    }
}

fn knowledge() -> Knowledge {
    let mut kb = KnowledgeBase::new();
    kb.upsert(Article {
        id: "returns".into(),
        collection: "policies".into(),
        title: "Returns".into(),
        url: Some("https://help.example.com/returns".into()),
        markdown: "# Returns\n\nYou can return an item within 30 days of delivery.\n\n## Refunds\n\nRefunds reach your card within 5 business days.".into(),
    })
    .expect("article");
    kb.upsert(Article {
        id: "shipping".into(),
        collection: "shipping".into(),
        title: "Shipping".into(),
        url: None,
        markdown: "Standard shipping takes 3 to 5 days.\n\nStandard shipping costs $8.".into(),
    })
    .expect("article");
    Knowledge::new(kb)
}

#[tokio::test]
async fn a_conversation_with_let_ai_answer() {
    let provider: Box<dyn AiProvider> = Box::new(OfflineProvider::new());
    assert_eq!(provider.name(), "offline");
    let mut transcript = vec![Turn::customer("How long do I have to return an item?")];
    let ask = |q: &str| {
        request(AiQuery::Answer {
            question: q.into(),
            collections: vec!["policies".into()],
            threshold: None,
        })
    };
    let context = AiContext::default()
        .with_knowledge(knowledge())
        .with_transcript(transcript.clone());
    let mut streamed = String::new();
    let first = provider
        .run_streaming(
            &ask("How long do I have to return an item?"),
            &context,
            &mut |d: &str| streamed.push_str(d),
        )
        .await;
    let AiOutcome::Answer { text, sources, intent } = &first else {
        panic!("an answer: {first:?}")
    };
    assert_eq!(*intent, AnswerIntent::Answered);
    assert_eq!(text, "You can return an item within 30 days of delivery.");
    assert_eq!(streamed, *text);
    assert_eq!(sources[0].url.as_deref(), Some("https://help.example.com/returns"));
    // The collection filter keeps shipping out.
    let other = provider
        .run(&ask("How long does standard shipping take?"), &context)
        .await;
    assert!(
        matches!(
            &other,
            AiOutcome::Answer {
                intent: AnswerIntent::Unanswered,
                ..
            }
        ),
        "{other:?}"
    );
    // A follow-up leans on the previous question.
    let ask_all = |q: &str| {
        request(AiQuery::Answer {
            question: q.into(),
            collections: Vec::new(),
            threshold: None,
        })
    };
    transcript.push(Turn::bot(text.clone()));
    transcript.push(Turn::customer("How long does standard shipping take?"));
    let context = AiContext::default()
        .with_knowledge(knowledge())
        .with_transcript(transcript.clone());
    let shipping = provider
        .run(&ask_all("How long does standard shipping take?"), &context)
        .await;
    assert!(
        matches!(&shipping, AiOutcome::Answer { text, .. } if text == "Standard shipping takes 3 to 5 days."),
        "{shipping:?}"
    );
    transcript.push(Turn::bot("Standard shipping takes 3 to 5 days."));
    transcript.push(Turn::customer("and how much does it cost?"));
    let context = AiContext::default()
        .with_knowledge(knowledge())
        .with_transcript(transcript.clone());
    let cost = provider.run(&ask_all("and how much does it cost?"), &context).await;
    assert!(
        matches!(&cost, AiOutcome::Answer { text, intent: AnswerIntent::Answered, .. } if text == "Standard shipping costs $8."),
        "{cost:?}"
    );
    let human = provider.run(&ask("agent please"), &context).await;
    assert!(matches!(
        &human,
        AiOutcome::Answer {
            intent: AnswerIntent::Human,
            ..
        }
    ));
    let done = provider.run(&ask("thanks, that fixed it"), &context).await;
    assert!(matches!(
        &done,
        AiOutcome::Answer {
            intent: AnswerIntent::Resolved,
            ..
        }
    ));
    // Without a knowledge base nothing is answered.
    let none = provider
        .run(&ask("How long do I have to return an item?"), &AiContext::default())
        .await;
    assert!(matches!(
        &none,
        AiOutcome::Answer {
            intent: AnswerIntent::Unanswered,
            ..
        }
    ));
}

#[tokio::test]
async fn actions() {
    let provider = OfflineProvider::new();
    let categories = vec![
        Category {
            id: "billing".into(),
            description: Some("invoices, charges and payments".into()),
            examples: vec!["I was charged twice".into(), "where is my invoice".into()],
        },
        Category {
            id: "tech".into(),
            description: Some("the app does not work".into()),
            examples: vec!["the app crashes".into(), "I cannot log in".into()],
        },
    ];
    let c = provider
        .run(
            &request(AiQuery::Classify {
                text: "why was I charged two times?".into(),
                categories: categories.clone(),
                threshold: None,
            }),
            &AiContext::default(),
        )
        .await;
    assert!(
        matches!(&c, AiOutcome::Category { category: Some(x), .. } if x == "billing"),
        "{c:?}"
    );
    let u = provider
        .run(
            &request(AiQuery::Classify {
                text: "do you like penguins".into(),
                categories,
                threshold: None,
            }),
            &AiContext::default(),
        )
        .await;
    assert!(matches!(&u, AiOutcome::Category { category: None, .. }), "{u:?}");
    let f = provider
        .run(
            &request(AiQuery::Extract {
                text: "I'm Ana Lopez, ana@example.com, order #55123, delivered on 2 March".into(),
                fields: vec![
                    ExtractField {
                        variable: "name".into(),
                        kind: ExtractKind::Name,
                        pattern: None,
                        description: None,
                    },
                    ExtractField {
                        variable: "email".into(),
                        kind: ExtractKind::Email,
                        pattern: None,
                        description: None,
                    },
                    ExtractField {
                        variable: "order".into(),
                        kind: ExtractKind::OrderId,
                        pattern: None,
                        description: None,
                    },
                    ExtractField {
                        variable: "when".into(),
                        kind: ExtractKind::Date,
                        pattern: None,
                        description: None,
                    },
                ],
            }),
            &AiContext::default().with_today("2026-04-10"),
        )
        .await;
    let AiOutcome::Fields { values } = f else {
        panic!("fields: {f:?}")
    };
    assert_eq!(values.get("name"), Some(&json!("Ana Lopez")));
    assert_eq!(values.get("email"), Some(&json!("ana@example.com")));
    assert_eq!(values.get("order"), Some(&json!("55123")));
    assert_eq!(values.get("when"), Some(&json!("2026-03-02")));
    let s = provider
        .run(
            &request(AiQuery::Sentiment {
                text: "This is the THIRD time I ask, absolutely ridiculous!!".into(),
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
    let summary = provider
        .run(
            &request(AiQuery::Summarize),
            &AiContext::default().with_transcript(vec![
                Turn::customer("hi"),
                Turn::customer("my order 55123 arrived broken and I want a refund"),
            ]),
        )
        .await;
    assert!(
        matches!(&summary, AiOutcome::Text { text } if text.contains("my order 55123 arrived broken") && text.contains("order id: 55123")),
        "{summary:?}"
    );
    let instr = provider
        .run(
            &request(AiQuery::Instruction {
                instruction: "Translate".into(),
                text: "hola".into(),
            }),
            &AiContext::default(),
        )
        .await;
    assert!(matches!(instr, AiOutcome::Failed { .. }));
}

#[test]
fn offline_answers_are_deterministic() {
    let provider = OfflineProvider::new();
    let context = AiContext::default().with_knowledge(knowledge());
    let req = request(AiQuery::Answer {
        question: "refund to my card how long".into(),
        collections: Vec::new(),
        threshold: None,
    });
    let first = provider.run_blocking(&req, &context);
    for _ in 0..5 {
        assert_eq!(provider.run_blocking(&req, &context), first);
    }
}

#[test]
fn odd_inputs_never_panic() {
    let provider = OfflineProvider::new();
    let context = AiContext::default()
        .with_knowledge(knowledge())
        .with_transcript(vec![Turn::customer("İİİ my name is İstanbul"), Turn::bot("?")])
        .with_today("not a date");
    let long = "ß".repeat(50_000);
    let inputs = [
        "",
        " ",
        "İİİ my name is İstanbul ŞEN",
        "my name is",
        "order #",
        "[[[]]]] ((( *** ### ``` ---",
        "\u{0}\u{feff}\u{202e}",
        "1/1/1 99/99/9999 2024-02-30 March 99",
        long.as_str(),
        "?!?!?!",
        "😀😀 order 😀12345",
    ];
    let field = |kind| ExtractField {
        variable: "v".into(),
        kind,
        pattern: Some("(".into()),
        description: None,
    };
    for text in inputs {
        let queries = vec![
            AiQuery::Classify {
                text: text.into(),
                categories: vec![Category {
                    id: "a".into(),
                    description: None,
                    examples: vec![text.into()],
                }],
                threshold: Some(2.0),
            },
            AiQuery::Extract {
                text: text.into(),
                fields: [
                    ExtractKind::Email,
                    ExtractKind::Phone,
                    ExtractKind::OrderId,
                    ExtractKind::Name,
                    ExtractKind::Number,
                    ExtractKind::Date,
                    ExtractKind::Text,
                    ExtractKind::Regex,
                ]
                .into_iter()
                .map(field)
                .collect(),
            },
            AiQuery::Sentiment { text: text.into() },
            AiQuery::Summarize,
            AiQuery::Answer {
                question: text.into(),
                collections: vec![text.into()],
                threshold: Some(-1.0),
            },
        ];
        for q in queries {
            let _ = provider.run_blocking(&request(q), &context);
        }
    }
    // Markdown of any shape chunks without panicking.
    for md in inputs {
        let mut kb = KnowledgeBase::new();
        let _ = kb.upsert(Article {
            id: "x".into(),
            collection: "c".into(),
            title: "t".into(),
            url: None,
            markdown: format!("# {md}\n\n- {md}\n1. {md}\n| {md} |\n```\n{md}"),
        });
    }
}
