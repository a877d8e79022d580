//! Let AI Answer, offline, on the ABCD guidelines (examples/kb/abcd, ASAPP Research, MIT) with
//! the questions in examples/kb/questions.jsonl: every question the knowledge base cannot answer
//! is refused, and most answerable ones are answered with the expected facts.

mod common;

use baton_ai::eval::{evaluate_answers, read_questions, AnswerReport};
use baton_ai::import::load_articles;
use baton_ai::{Knowledge, KnowledgeBase, OfflineProvider};
use std::sync::Arc;

fn evaluate(embedder: Option<Arc<dyn baton_ai::Embedder>>) -> AnswerReport {
    let root = common::root();
    let articles = load_articles(&root.join("examples/kb/abcd"), "abcd").expect("articles");
    assert_eq!(articles.len(), 55);
    let mut kb = match &embedder {
        Some(e) => KnowledgeBase::with_embedder(e.clone()),
        None => KnowledgeBase::new(),
    };
    for a in articles {
        kb.upsert(a).expect("article");
    }
    let cases = read_questions(&root.join("examples/kb/questions.jsonl")).expect("questions");
    assert!(cases.len() >= 30 && cases.iter().filter(|c| !c.answerable).count() >= 8);
    let provider = match embedder {
        Some(e) => OfflineProvider::with_embedder(e),
        None => OfflineProvider::new(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let report = runtime.block_on(evaluate_answers(&provider, &Knowledge::new(kb), &cases, None));
    eprintln!("{}", report.render(false));
    report
}

fn check(report: &AnswerReport, floor: f64) {
    let wrongly_answered: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| !c.answerable && c.answered)
        .map(|c| c.question.as_str())
        .collect();
    assert!(
        wrongly_answered.is_empty(),
        "answered without the fact: {wrongly_answered:?}"
    );
    assert!(
        report.answer_accuracy() >= floor,
        "answer accuracy {:.3} below {floor}",
        report.answer_accuracy()
    );
}

#[test]
fn refuses_every_question_the_knowledge_base_cannot_answer() {
    check(&evaluate(None), 0.74);
}

#[cfg(feature = "embeddings")]
#[test]
fn refuses_every_question_the_knowledge_base_cannot_answer_with_embeddings() {
    let Some(model) = common::minilm("answers_with_embeddings") else {
        return;
    };
    check(&evaluate(Some(model)), 0.77);
}
