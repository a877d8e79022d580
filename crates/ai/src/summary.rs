//! An extractive summary of a conversation for the hand-over card: the customer's key
//! sentences (the problem, not the greetings), the facts collected (the flow's variables and
//! what the customer's messages contain: name, email, phone, order id) and the mood.

use crate::{extract, sentiment, text, Role, Turn};
use baton_flow::document::ExtractKind;
use serde_json::Value;
use std::collections::BTreeMap;

/// Words that mark the customer's problem or request.
const PROBLEM: &[&str] = &[
    "not", "cant", "cannot", "never", "wrong", "broken", "missing", "refund", "charged", "charge", "cancel", "late",
    "help", "issue", "problem", "error", "want", "need", "lost", "damaged", "return", "change", "update", "stolen",
    "declined", "failed", "didnt", "doesnt", "hasnt", "wont", "still", "why", "how", "where", "when",
];

/// Sentences kept at most.
const MAX_SENTENCES: usize = 3;
/// Characters kept of one sentence.
const MAX_SENTENCE_CHARS: usize = 200;

/// The summary text.
pub fn summarize(transcript: &[Turn], variables: &BTreeMap<String, Value>) -> String {
    let customer: Vec<&str> = transcript
        .iter()
        .filter(|t| t.role == Role::Customer)
        .map(|t| t.text.as_str())
        .collect();
    let mut lines = Vec::new();
    // Key sentences.
    let mut candidates: Vec<(usize, f64, String)> = Vec::new();
    let mut order = 0;
    for (m, message) in customer.iter().enumerate() {
        for s in text::sentences(message) {
            let words = text::words(&s);
            let content = words.iter().filter(|w| !text::is_stop(w)).count();
            let mut score = content.min(12) as f64 / 4.0;
            score += words.iter().filter(|w| PROBLEM.contains(&w.as_str())).count() as f64;
            if s.chars().any(|c| c.is_ascii_digit()) {
                score += 0.5;
            }
            if m == 0 {
                score += 0.5;
            }
            if words.len() < 3 || crate::intent::detect(&s).is_some() {
                score -= 3.0;
            }
            if score > 0.5 {
                let mut cut: String = s.chars().take(MAX_SENTENCE_CHARS).collect();
                if cut.len() < s.len() {
                    cut.push('…');
                }
                candidates.push((order, score, cut));
            }
            order += 1;
        }
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    candidates.truncate(MAX_SENTENCES);
    candidates.sort_by_key(|c| c.0);
    candidates.dedup_by(|a, b| a.2 == b.2);
    if candidates.is_empty() {
        if customer.is_empty() {
            lines.push("The customer has not written anything yet.".to_string());
        } else {
            let last: String = customer
                .iter()
                .rev()
                .take(2)
                .rev()
                .copied()
                .collect::<Vec<_>>()
                .join(" / ");
            lines.push(format!("The customer wrote: {}", truncate(&last, 300)));
        }
    } else {
        let said: Vec<String> = candidates.into_iter().map(|c| c.2).collect();
        lines.push(format!("The customer wrote: {}", said.join(" ")));
    }
    // Facts: variables first, then what the messages contain.
    let mut facts: Vec<(String, String)> = Vec::new();
    for (k, v) in variables.iter().take(12) {
        let shown = match v {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::String(s) => truncate(s, 80),
            other => truncate(&other.to_string(), 80),
        };
        facts.push((k.replace('_', " "), shown));
    }
    let all = customer.join("\n");
    for (label, kind) in [
        ("name", ExtractKind::Name),
        ("email", ExtractKind::Email),
        ("phone", ExtractKind::Phone),
        ("order id", ExtractKind::OrderId),
    ] {
        let found = customer
            .iter()
            .find_map(|m| extract::extract_one(m, kind, None, None))
            .or_else(|| extract::extract_one(&all, kind, None, None));
        if let Some(Value::String(v)) = found {
            if !facts.iter().any(|(_, x)| x.eq_ignore_ascii_case(&v)) {
                facts.push((label.to_string(), v));
            }
        }
    }
    if !facts.is_empty() {
        let f: Vec<String> = facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        lines.push(format!("Facts: {}.", f.join("; ")));
    }
    if !customer.is_empty() {
        let recent: String = customer
            .iter()
            .rev()
            .take(3)
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        let s = sentiment::analyze(&recent);
        let mood = if s.frustrated {
            "negative, frustrated".to_string()
        } else {
            s.label().to_string()
        };
        lines.push(format!("Mood: {mood}."));
    }
    lines.join("\n")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_problem_and_the_facts() {
        let transcript = vec![
            Turn::bot("Hi! How can I help?"),
            Turn::customer("hello"),
            Turn::customer("My jacket arrived with a stain and I want a refund. Order AB-12345."),
            Turn::bot("Sorry to hear that. What's your email?"),
            Turn::customer("ana@example.com"),
            Turn::customer("This is the second time this happens, ridiculous!!"),
        ];
        let mut vars = BTreeMap::new();
        vars.insert("contact_name".to_string(), Value::String("Ana Lopez".into()));
        let s = summarize(&transcript, &vars);
        assert!(s.contains("My jacket arrived with a stain and I want a refund."), "{s}");
        assert!(!s.contains("hello"), "{s}");
        assert!(s.contains("contact name: Ana Lopez"), "{s}");
        assert!(s.contains("email: ana@example.com"), "{s}");
        assert!(s.contains("order id: AB-12345"), "{s}");
        assert!(s.contains("Mood: negative, frustrated."), "{s}");
    }

    #[test]
    fn empty_conversation() {
        assert_eq!(
            summarize(&[], &BTreeMap::new()),
            "The customer has not written anything yet."
        );
    }
}
