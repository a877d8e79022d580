//! The extractive summary and sentiment of a hand-over's context package (until an AI provider
//! writes better ones).

use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest};
use baton_flow::sim::baseline_ai;

/// Most characters of the summary.
const SUMMARY_CHARS: usize = 600;

/// What the customer said, oldest first, cut to a readable length.
pub fn summary(said: &[&str]) -> String {
    if said.is_empty() {
        return "The customer has not written anything.".into();
    }
    let mut out = String::from("The customer wrote: ");
    for (i, s) in said.iter().enumerate() {
        if i > 0 {
            out.push_str(" / ");
        }
        out.push_str(s.trim());
        if out.chars().count() > SUMMARY_CHARS {
            let cut: String = out.chars().take(SUMMARY_CHARS).collect();
            return cut + "…";
        }
    }
    out
}

/// (sentiment, frustrated) of everything the customer said.
pub fn sentiment(said: &[&str]) -> (String, bool) {
    let request = AiRequest {
        request: 0,
        node: String::new(),
        query: AiQuery::Sentiment { text: said.join("\n") },
    };
    match baseline_ai(&request, &[]) {
        AiOutcome::Sentiment { sentiment, frustrated } => (sentiment, frustrated),
        _ => ("neutral".into(), false),
    }
}
