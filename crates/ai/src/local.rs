//! What the offline provider does with an embedded model ([`LocalModel`]): Let AI Answer writes
//! a short answer from the passages retrieval found, instructions run, and the hand-over
//! summary is written by the model. Whether a question is answerable at all is decided before
//! the model runs, by the extractive answer's confidence (small models do not refuse
//! reliably): below `min_confidence` (by default the threshold) the extractive outcome stands
//! without the model. The
//! model then rewrites the answer from the passages; when it says "I don't know", states a
//! number that is not in the passages or the conversation, says nothing the passages say
//! beyond the question, or runs out of time, the extractive answer is given instead.

use crate::answer;
use crate::generate::{Limits, LocalModel, Stop};
use crate::prompt::{self, cited_sources, is_dont_know, strip_citations, AnswerFilter, ChatMessage};
use crate::{summary, text, AiContext};
use baton_flow::runtime::{AiOutcome, AnswerIntent};
use std::collections::HashSet;
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
    /// Words of each passage the model reads at most: the sentences closest to the question
    /// ([`answer::focus`]).
    pub passage_words: usize,
    /// The extractive answer's confidence from which the model is asked to write the answer
    /// (below it, the extractive outcome stands: a refusal under the node's threshold).
    pub min_confidence: f64,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            time_limit: Duration::from_secs(8),
            max_tokens: 160,
            passages: 3,
            passage_words: answer::FOCUS_WORDS,
            min_confidence: crate::answer::DEFAULT_THRESHOLD,
        }
    }
}

/// The embedded model with its settings.
#[derive(Debug, Clone)]
pub struct Local {
    pub model: Arc<LocalModel>,
    pub options: LocalOptions,
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

/// The share of an answer's terms that may be in neither the passages nor the conversation
/// (the model's own "make sure", "you can").
const UNSUPPORTED_SHARE: f64 = 0.2;

/// The answer says something the passages say: at least one of its terms is in the passages
/// and not in the conversation, and few of its terms are in neither. Small models answer by
/// turning the question around ("No, the token does not expire") or fill in what the passages
/// lack ("a built-in Slack integration").
fn supported(answer: &str, passages: &str, conversation: &str) -> bool {
    let read: HashSet<String> = text::terms(passages).into_iter().collect();
    let said: HashSet<String> = text::terms(conversation).into_iter().collect();
    let terms = text::terms(answer);
    let new_from_passages = terms.iter().filter(|t| read.contains(*t) && !said.contains(*t)).count();
    let unsupported = terms
        .iter()
        .filter(|t| !read.contains(*t) && !said.contains(*t))
        .count();
    new_from_passages > 0 && unsupported as f64 <= UNSUPPORTED_SHARE * terms.len() as f64
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
        // "I want a person" and "that solved it" need no model; nor does a question the
        // knowledge base does not answer well enough for an extractive answer (small models do
        // not refuse reliably, so they never decide that a question is answerable).
        if matches!(
            base.outcome,
            AiOutcome::Answer {
                intent: AnswerIntent::Human | AnswerIntent::Resolved,
                ..
            }
        ) || base.confidence < self.options.min_confidence
        {
            return base.outcome;
        }
        let Some(knowledge) = context.knowledge.as_ref() else {
            return base.outcome;
        };
        if base.passages.is_empty() {
            return base.outcome;
        }
        let best = &base.passages[..base.passages.len().min(self.options.passages)];
        let passages = answer::focus(
            best,
            question,
            &context.transcript,
            knowledge,
            self.options.passage_words,
        );
        let messages = prompt::answer_messages(question, &context.transcript, &passages, 4);
        let mut filter = AnswerFilter::new(on_text);
        let generation = self
            .model
            .generate(&messages, self.limits(), &mut |d: &str| filter.push(d));
        let generation = match generation {
            Ok(g) => g,
            Err(_) => return base.outcome,
        };
        if generation.stop == Stop::Deadline {
            return base.outcome;
        }
        filter.finish();
        let raw = generation.text;
        if is_dont_know(&raw) || raw.trim().is_empty() {
            return base.outcome;
        }
        let read: String = passages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n");
        let said: String = context
            .transcript
            .iter()
            .map(|t| t.text.as_str())
            .chain([question])
            .collect::<Vec<_>>()
            .join("\n");
        let text = strip_citations(&raw);
        if !grounded(&text, &format!("{read}\n{said}")) || !supported(&text, &read, &said) {
            return base.outcome;
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

    #[test]
    fn an_answer_must_say_what_the_passages_say() {
        let passages = "The conversation token is sent once, when the conversation starts. Keep it with the chat.";
        let question = "does the conversation token ever expire?";
        assert!(supported(
            "It is sent once, when the conversation starts.",
            passages,
            question
        ));
        // The question turned around, and what the passages do not say.
        assert!(!supported(
            "No, the conversation token does not expire.",
            passages,
            question
        ));
        assert!(!supported(
            "Yes, there is a built-in Slack integration that posts to your channel.",
            passages,
            question
        ));
    }
}
