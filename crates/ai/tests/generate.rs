//! The embedded language model (BATON_TEST_MODEL, a GGUF file; CI uses SmolLM2-135M): it loads with
//! the tokenizer built from the file, writes a reply within its limits, streams what it writes,
//! and Let AI Answer with it answers from the knowledge base with a source, refuses what the
//! knowledge base does not hold, and passes "I want a person" on as `human` without the model.
#![cfg(feature = "generation")]

mod common;

use baton_ai::generate::{Limits, LocalModel, Stop};
use baton_ai::local::{Local, LocalOptions};
use baton_ai::prompt::ChatMessage;
use baton_ai::{
    AiContext, AiOutcome, AiProvider, AiQuery, AiRequest, Article, Knowledge, KnowledgeBase, OfflineProvider, Turn,
};
use baton_flow::runtime::AnswerIntent;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn model(test: &str) -> Option<Arc<LocalModel>> {
    let file = common::model_file(test)?;
    match LocalModel::load(&file) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => panic!("{test}: cannot load {}: {e}", file.display()),
    }
}

#[test]
fn writes_within_its_limits_and_streams_what_it_writes() {
    let Some(model) = model("writes_within_its_limits") else {
        return;
    };
    assert!(!model.id().is_empty());
    // The tokenizer round-trips text, special tokens stay whole.
    assert!(model.count_tokens("Standard shipping costs $8.") >= 5);
    assert_eq!(model.count_tokens("<|im_start|>"), 1);
    let messages = [
        ChatMessage::system("You are a helpful assistant. Answer in one short sentence."),
        ChatMessage::user("What is the capital of France?"),
    ];
    let mut streamed = String::new();
    let limits = Limits {
        max_tokens: 24,
        deadline: Instant::now() + Duration::from_secs(120),
    };
    let g = model
        .generate(&messages, limits, &mut |d: &str| streamed.push_str(d))
        .expect("generates");
    assert!(g.tokens >= 1 && g.tokens <= 24, "{g:?}");
    assert!(g.prompt_tokens > 10, "{g:?}");
    assert_eq!(streamed, g.text, "the stream is the text");
    assert!(g.first_token.is_some());
    assert!(g.text.to_lowercase().contains("paris"), "{:?}", g.text);
    // A deadline already past: nothing is written.
    let past = Limits {
        max_tokens: 24,
        deadline: Instant::now(),
    };
    let g = model.generate(&messages, past, &mut |_: &str| {}).expect("returns");
    assert_eq!((g.stop, g.tokens), (Stop::Deadline, 0));
}

fn knowledge() -> Knowledge {
    let mut kb = KnowledgeBase::new();
    for (id, title, md) in [
        (
            "shipping",
            "Shipping costs",
            "# Shipping costs\n\nStandard shipping costs $8 and takes 5 business days. Overnight shipping costs $20 and arrives the next business day.",
        ),
        (
            "returns",
            "Returns",
            "# Returns\n\nItems can be returned within 30 days of delivery for a full refund. Gold members can return items within 90 days.",
        ),
    ] {
        kb.upsert(Article {
            id: id.into(),
            collection: "help".into(),
            title: title.into(),
            url: Some(format!("https://help.example.com/{id}")),
            markdown: md.into(),
        })
        .expect("article");
    }
    Knowledge::new(kb)
}

fn ask(provider: &OfflineProvider, question: &str) -> (AiOutcome, String) {
    let context = AiContext::default()
        .with_transcript(vec![Turn::customer(question)])
        .with_knowledge(knowledge());
    let request = AiRequest {
        request: 1,
        node: "faq".into(),
        query: AiQuery::Answer {
            question: question.into(),
            collections: Vec::new(),
            threshold: None,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().build().expect("runtime");
    let mut streamed = String::new();
    let outcome = runtime.block_on(provider.run_streaming(&request, &context, &mut |d: &str| streamed.push_str(d)));
    (outcome, streamed)
}

#[test]
fn let_ai_answer_writes_from_the_knowledge_base_or_refuses() {
    let Some(model) = model("let_ai_answer_with_the_model") else {
        return;
    };
    let provider = OfflineProvider::new().with_local(Local {
        model,
        options: LocalOptions {
            time_limit: Duration::from_secs(120),
            ..LocalOptions::default()
        },
    });
    assert!(provider.name().starts_with("offline+"), "{}", provider.name());
    let (outcome, streamed) = ask(&provider, "how much is overnight shipping?");
    let AiOutcome::Answer { text, sources, intent } = outcome else {
        panic!("an answer: {outcome:?}")
    };
    assert_eq!(intent, AnswerIntent::Answered, "{text}");
    assert!(text.contains("20"), "the answer states the fact: {text}");
    assert_eq!(sources[0].title, "Shipping costs");
    assert!(!text.contains("[1]"), "citation markers are removed: {text}");
    assert!(!streamed.is_empty(), "the answer was streamed");
    let (outcome, streamed) = ask(&provider, "do you sell gift cards for birthdays?");
    assert!(
        matches!(
            outcome,
            AiOutcome::Answer {
                intent: AnswerIntent::Unanswered,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(streamed.is_empty(), "nothing shown for a refusal: {streamed}");
    let (outcome, _) = ask(&provider, "can I talk to a person please");
    assert!(
        matches!(
            outcome,
            AiOutcome::Answer {
                intent: AnswerIntent::Human,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_time_limit_falls_back_to_the_extractive_answer() {
    let Some(model) = model("time_limit_falls_back") else {
        return;
    };
    let provider = OfflineProvider::new().with_local(Local {
        model,
        options: LocalOptions {
            time_limit: Duration::from_millis(1),
            ..LocalOptions::default()
        },
    });
    let (outcome, _) = ask(&provider, "How much does standard shipping cost?");
    let AiOutcome::Answer { text, intent, .. } = outcome else {
        panic!("an answer")
    };
    assert_eq!(intent, AnswerIntent::Answered);
    assert!(
        text.starts_with("Standard shipping costs $8"),
        "the article's own sentence: {text}"
    );
}

/// With llama.cpp built in, it is the runtime `load` picks, and candle reads the same file the
/// same way: the same prompt tokens, the same greedy reply.
#[cfg(feature = "llama-cpp")]
#[test]
fn llama_cpp_and_candle_read_the_same_file_alike() {
    use baton_ai::generate::Runtime;
    let Some(file) = common::model_file("llama_cpp_and_candle") else {
        return;
    };
    let llama = LocalModel::load(&file).expect("loads on llama.cpp");
    assert_eq!(llama.runtime(), Runtime::LlamaCpp);
    let candle = LocalModel::load_on(&file, Runtime::Candle).expect("loads on candle");
    assert_eq!(candle.runtime(), Runtime::Candle);
    assert_eq!(llama.id(), candle.id());
    let text = "Standard shipping costs $8 and takes 5 business days. <|im_start|>user";
    assert_eq!(llama.count_tokens(text), candle.count_tokens(text));
    let messages = [
        ChatMessage::system("You are a helpful assistant. Answer in one short sentence."),
        ChatMessage::user("What is the capital of France?"),
    ];
    let limits = || Limits {
        max_tokens: 16,
        deadline: Instant::now() + Duration::from_secs(120),
    };
    let mut streamed = String::new();
    let from_llama = llama
        .generate(&messages, limits(), &mut |d: &str| streamed.push_str(d))
        .expect("llama.cpp generates");
    let from_candle = candle
        .generate(&messages, limits(), &mut |_: &str| {})
        .expect("candle generates");
    assert_eq!(streamed, from_llama.text, "the stream is the text");
    assert_eq!(from_llama.prompt_tokens, from_candle.prompt_tokens);
    assert!(
        from_llama.text.to_lowercase().contains("paris"),
        "{:?}",
        from_llama.text
    );
    // Greedy decoding on two kernels' arithmetic: the first words agree.
    let start = |t: &str| t.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    assert_eq!(start(&from_llama.text), start(&from_candle.text));
}

/// Without llama.cpp built in, asking for it is an error that says how to get it.
#[cfg(not(feature = "llama-cpp"))]
#[test]
fn llama_cpp_without_the_feature_says_how_to_build_it() {
    use baton_ai::generate::Runtime;
    let Some(file) = common::model_file("llama_cpp_without_the_feature") else {
        return;
    };
    let e = LocalModel::load_on(&file, Runtime::LlamaCpp).expect_err("not built in");
    assert!(e.to_string().contains("llama-cpp"), "{e}");
}
