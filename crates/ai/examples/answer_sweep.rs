//! Tuning aid for the extractive answer (scaffolding, not shipped): answers every question of
//! a dev set at threshold 0 and prints, per threshold, how many answerable questions would be
//! answered with every fact and how many unanswerable ones would be answered (invented).
//! Use it on dev halves only.
//!
//! cargo run --release -p baton-ai --example answer_sweep -- KB_PATH QUESTIONS.jsonl [MINILM_DIR]

use baton_ai::eval::{normalize_fact, read_questions};
use baton_ai::kb::{Knowledge, KnowledgeBase};
use baton_ai::{answer, import, Turn};
use baton_flow::runtime::{AiOutcome, AnswerIntent};
use std::path::Path;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let kb_path = args.get(1).ok_or("KB_PATH")?;
    let questions = read_questions(Path::new(args.get(2).ok_or("QUESTIONS")?))?;
    let mut kb = match args.get(3) {
        Some(dir) => KnowledgeBase::with_embedder(Arc::new(baton_ai::embed::MiniLm::load(Path::new(dir))?)),
        None => KnowledgeBase::new(),
    };
    for a in import::load_articles(Path::new(kb_path), "kb")? {
        kb.upsert(a)?;
    }
    let knowledge = Knowledge::new(kb);
    // (answerable, confidence, all facts found)
    let mut rows: Vec<(bool, f64, bool)> = Vec::new();
    for q in &questions {
        let mut transcript: Vec<Turn> = q.context.iter().map(Turn::customer).collect();
        transcript.push(Turn::customer(&q.question));
        let a = answer::answer(&q.question, &transcript, Some(&knowledge), &q.collections, 0.0);
        let (text, intent) = match &a.outcome {
            AiOutcome::Answer { text, intent, .. } => (text.clone(), *intent),
            _ => (String::new(), AnswerIntent::Unanswered),
        };
        let hay = normalize_fact(&text);
        let facts = intent == AnswerIntent::Answered && q.expect.iter().all(|f| f.found_in(&hay));
        if std::env::var("VERBOSE").is_ok() {
            println!(
                "{} {:.3} {} {:?}\n    -> {}",
                if q.answerable { "A" } else { "U" },
                a.confidence,
                if facts { "facts" } else { "-" },
                q.question,
                text.replace('\n', " / ")
            );
        }
        rows.push((q.answerable, a.confidence, facts));
    }
    let answerable = rows.iter().filter(|r| r.0).count();
    let not = rows.len() - answerable;
    let ceiling = rows.iter().filter(|r| r.0 && r.2).count();
    println!("{answerable} answerable ({ceiling} with every fact at threshold 0), {not} not");
    for t in (20..=90).step_by(5) {
        let t = f64::from(t) / 100.0;
        let good = rows.iter().filter(|r| r.0 && r.2 && r.1 >= t).count();
        let invented = rows.iter().filter(|r| !r.0 && r.1 >= t).count();
        println!("threshold {t:.2}: answered with facts {good}/{answerable}, invented {invented}/{not}");
    }
    Ok(())
}
