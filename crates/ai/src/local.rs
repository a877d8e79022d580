//! What the offline provider does with an embedded model ([`LocalModel`]): Let AI Answer writes
//! a short answer from the passages retrieval found (or refuses), instructions run, and the
//! hand-over summary is written by the model. Whether a question is answerable at all is
//! decided before the model runs, by retrieval (small models do not refuse reliably); the
//! model may still refuse ("I don't know"). An answer whose numbers are not in the passages or
//! the question, or one the time limit cut, is replaced by the extractive answer (or a
//! refusal when there is none).

use crate::answer::{self, Answer};
use crate::generate::{Limits, LocalModel, Stop};
use crate::prompt::{self, cited_sources, is_dont_know, strip_citations, AnswerFilter, ChatMessage};
use crate::{summary, text, AiContext};
use baton_flow::runtime::{AiOutcome, AnswerIntent};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of the embedded model's tasks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalOptions {
    /// A whole answer (or summary, or instruction) must be written within this; then the
    /// extractive path answers.
    pub time_limit: Duration,
    /// New tokens at most per answer.
    pub max_tokens: usize,
    /// Passages given to the model.
    pub passages: usize,
    /// The best passage's retrieval confidence from which the model is asked at all (below it
    /// the question is refused without the model; the model itself refuses the rest).
    pub min_retrieval: f64,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            time_limit: Duration::from_secs(8),
            max_tokens: 160,
            passages: 3,
            min_retrieval: 0.2,
        }
    }
}

/// The embedded model with its settings.
#[derive(Debug, Clone)]
pub struct Local {
    pub model: Arc<LocalModel>,
    pub options: LocalOptions,
}

fn refusal() -> AiOutcome {
    AiOutcome::Answer {
        text: String::new(),
        sources: Vec::new(),
        intent: AnswerIntent::Unanswered,
    }
}

/// The extractive answer when it clears the node's threshold, else a refusal.
fn extractive(base: &Answer, threshold: f64) -> AiOutcome {
    if base.confidence >= threshold {
        base.outcome.clone()
    } else {
        refusal()
    }
}

/// The numbers a text states ("$1,299.50" → 1299.5, "8.00" → 8), for the grounding check.
fn numbers(s: &str) -> Vec<f64> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut digits = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next_is_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if c.is_ascii_digit() {
                digits.push(c);
            } else if c == ',' && next_is_digit {
            } else if c == '.' && next_is_digit && !digits.contains('.') {
                digits.push('.');
            } else {
                break;
            }
            i += 1;
        }
        if let Ok(n) = digits.parse::<f64>() {
            out.push(n);
        }
    }
    out
}

/// Every number the answer states is in the passages or the conversation, or is the sum,
/// difference or product of two of theirs (a total, a price difference, a date).
fn grounded(answer: &str, sources: &str) -> bool {
    let known = numbers(sources);
    let same = |a: f64, b: f64| (a - b).abs() < 1e-6;
    numbers(answer).iter().all(|&n| {
        known.iter().any(|&k| same(k, n))
            || known.iter().enumerate().any(|(i, &a)| {
                known[i + 1..]
                    .iter()
                    .any(|&b| same(a + b, n) || same((a - b).abs(), n) || same(a * b, n))
            })
    })
}

impl Local {
    fn limits(&self) -> Limits {
        Limits {
            max_tokens: self.options.max_tokens,
            deadline: Instant::now() + self.options.time_limit,
        }
    }

    /// Let AI Answer with the model; `on_text` sees the answer as it is written (never an
    /// "I don't know", never citation markers).
    pub fn answer(
        &self,
        question: &str,
        context: &AiContext,
        collections: &[String],
        threshold: f64,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> AiOutcome {
        let base = answer::answer(
            question,
            &context.transcript,
            context.knowledge.as_ref(),
            collections,
            threshold,
        );
        // "I want a person" and "that solved it" need no model.
        if let AiOutcome::Answer {
            intent: AnswerIntent::Human | AnswerIntent::Resolved,
            ..
        } = &base.outcome
        {
            return base.outcome;
        }
        let passages: Vec<_> = base
            .passages
            .iter()
            .take(self.options.passages)
            .filter(|p| p.confidence >= self.options.min_retrieval)
            .cloned()
            .collect();
        if passages.is_empty() {
            return refusal();
        }
        let messages = prompt::answer_messages(question, &context.transcript, &passages, 4);
        let mut filter = AnswerFilter::new(on_text);
        let generation = self
            .model
            .generate(&messages, self.limits(), &mut |d: &str| filter.push(d));
        let generation = match generation {
            Ok(g) => g,
            Err(_) => return extractive(&base, threshold),
        };
        if generation.stop == Stop::Deadline {
            return extractive(&base, threshold);
        }
        filter.finish();
        let raw = generation.text;
        if is_dont_know(&raw) || raw.trim().is_empty() {
            return refusal();
        }
        let known: String = passages
            .iter()
            .map(|p| p.text.as_str())
            .chain(context.transcript.iter().map(|t| t.text.as_str()))
            .chain([question])
            .collect::<Vec<_>>()
            .join("\n");
        let text = strip_citations(&raw);
        if !grounded(&text, &known) {
            return extractive(&base, threshold);
        }
        AiOutcome::Answer {
            text,
            sources: cited_sources(&raw, &passages),
            intent: AnswerIntent::Answered,
        }
    }

    /// The hand-over card's summary by the model; the extractive summary when it fails or
    /// runs out of time.
    pub fn summarize(&self, context: &AiContext) -> AiOutcome {
        let fallback = || AiOutcome::Text {
            text: summary::summarize(&context.transcript, &context.variables),
        };
        let Some(messages) = prompt::summary_messages(&context.transcript, &context.variables) else {
            return fallback();
        };
        match self.model.generate(&messages, self.limits(), &mut |_: &str| {}) {
            Ok(g) if g.stop != Stop::Deadline && !g.text.trim().is_empty() => AiOutcome::Text {
                text: g.text.trim().to_string(),
            },
            _ => fallback(),
        }
    }

    /// An instruction of AI Actions: the model's text, or a failure (→ `error`).
    pub fn instruction(&self, instruction: &str, input: &str) -> AiOutcome {
        let messages: Vec<ChatMessage> = prompt::instruction_messages(instruction, input);
        match self.model.generate(&messages, self.limits(), &mut |_: &str| {}) {
            Ok(g) if g.stop == Stop::Deadline => AiOutcome::Failed {
                reason: format!(
                    "the embedded model did not finish within {} s",
                    self.options.time_limit.as_secs()
                ),
            },
            Ok(g) if text::word_count(&g.text) == 0 => AiOutcome::Failed {
                reason: "the embedded model wrote nothing".into(),
            },
            Ok(g) => AiOutcome::Text {
                text: g.text.trim().to_string(),
            },
            Err(e) => AiOutcome::Failed { reason: e.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_against_the_sources() {
        assert_eq!(numbers("$1,299.50 in 30 days, 8."), vec![1299.5, 30.0, 8.0]);
        assert!(grounded("Standard shipping is $8.", "Standard shipping costs $8.00."));
        assert!(!grounded("It takes 5 days.", "It takes 3 days."));
        assert!(grounded("That comes to $28.", "Shipping is $8; the jacket costs $20."));
        assert!(grounded("No numbers here.", "3 days"));
    }
}
