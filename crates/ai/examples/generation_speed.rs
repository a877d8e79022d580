//! How fast the embedded model reads a prompt and writes, on this machine:
//! `cargo run --release -p baton-ai --example generation_speed -- MODEL.gguf [PROMPT_WORDS] [RUNS] [RUNTIME]`.
//! The prompt is a support-answer prompt with about PROMPT_WORDS words of passages (default
//! 300, about three passages); prints prefill and decode tokens per second for each run.
//! RUNTIME is `candle` or `llama.cpp` (with `--features llama-cpp`); the best one built by default.

use baton_ai::generate::{Limits, LocalModel, Runtime};
use baton_ai::prompt::ChatMessage;
use std::time::{Duration, Instant};

const PASSAGE: &str = "Standard shipping costs $8 and takes 5 business days. Overnight shipping costs $20 \
and arrives the next business day. Gold members get free overnight shipping on every order. Items can be \
returned within 30 days of delivery for a full refund; gold members have 90 days. A refund goes back to the \
card used for the order within 5 to 7 business days. ";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: generation_speed MODEL.gguf [PROMPT_WORDS] [RUNS] [candle|llama.cpp]")?;
    let words: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(300);
    let runs: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let runtime = match args.get(4).map(String::as_str) {
        None => Runtime::best_available(),
        Some("candle") => Runtime::Candle,
        Some("llama.cpp") => Runtime::LlamaCpp,
        Some(other) => return Err(format!("unknown runtime {other}: candle or llama.cpp").into()),
    };
    let started = Instant::now();
    let model = LocalModel::load_on(std::path::Path::new(path), runtime)?;
    println!(
        "{} on {}: loaded in {} ms",
        model.id(),
        model.runtime().name(),
        started.elapsed().as_millis()
    );
    let per = PASSAGE.split_whitespace().count();
    let passages = PASSAGE.repeat(words.div_ceil(per));
    for run in 0..runs {
        let messages = [
            ChatMessage::system(format!(
                "You are a customer support assistant. Answer using only these passages.\n\n[{run}] {passages}"
            )),
            ChatMessage::user("how long do i have to send back a jacket if im gold?"),
        ];
        let limits = Limits {
            max_tokens: 48,
            deadline: Instant::now() + Duration::from_secs(300),
        };
        let g = model.generate(&messages, limits, &mut |_: &str| {})?;
        let first = g.first_token.unwrap_or(g.total).as_secs_f64();
        let decode = (g.total.as_secs_f64() - first).max(1e-9);
        println!(
            "run {run}: prompt {} tokens, first token after {:.2} s ({:.0} tok/s), {} tokens at {:.1} tok/s, whole {:.2} s: {:?}",
            g.prompt_tokens,
            first,
            g.prompt_tokens as f64 / first,
            g.tokens,
            (g.tokens.saturating_sub(1)) as f64 / decode,
            g.total.as_secs_f64(),
            g.text.chars().take(80).collect::<String>()
        );
    }
    Ok(())
}
