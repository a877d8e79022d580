//! What the language models are told, shared by the embedded model and OpenAI-compatible
//! endpoints: the chat messages of an answer from passages, a hand-over summary and an
//! instruction; and what is done with the reply (citations, "I don't know", streaming filter).

use crate::kb::Passage;
use crate::{Role, Turn};
use baton_flow::runtime::Source;
use serde_json::Value;
use std::collections::BTreeMap;

/// The answer the model gives when the passages do not hold the answer.
pub const I_DONT_KNOW: &str = "I don't know";

/// Who says a message of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    System,
    User,
    Assistant,
}

impl Speaker {
    /// The role's name in chat APIs and templates.
    pub fn role(self) -> &'static str {
        match self {
            Speaker::System => "system",
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        }
    }
}

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub speaker: Speaker,
    pub text: String,
}

impl ChatMessage {
    pub fn system(text: impl Into<String>) -> ChatMessage {
        ChatMessage {
            speaker: Speaker::System,
            text: text.into(),
        }
    }
    pub fn user(text: impl Into<String>) -> ChatMessage {
        ChatMessage {
            speaker: Speaker::User,
            text: text.into(),
        }
    }
    pub fn assistant(text: impl Into<String>) -> ChatMessage {
        ChatMessage {
            speaker: Speaker::Assistant,
            text: text.into(),
        }
    }
}

/// The passages numbered for the model: `[1] Title › Heading` then the text.
pub fn numbered_passages(passages: &[Passage]) -> String {
    let mut out = String::new();
    for (i, p) in passages.iter().enumerate() {
        let heading = if p.heading.is_empty() || p.heading == p.title {
            p.title.clone()
        } else {
            format!("{} › {}", p.title, p.heading)
        };
        out.push_str(&format!("[{}] {}\n{}\n\n", i + 1, heading, p.text));
    }
    out
}

/// Let AI Answer: answer the customer's last message from the numbered passages only, cite
/// them, or say exactly "I don't know". The conversation's last turns (people's and the bot's,
/// not the inbox's) come as chat history.
pub fn answer_messages(
    question: &str,
    transcript: &[Turn],
    passages: &[Passage],
    history_turns: usize,
) -> Vec<ChatMessage> {
    let system = format!(
        "You are a customer support assistant. Answer the customer's last message using only the passages \
         below. Be brief and friendly. Cite the passages you used like [1]. If the passages do not contain \
         the answer, reply exactly: {I_DONT_KNOW}\n\nPassages:\n{}",
        numbered_passages(passages)
    );
    let mut messages = vec![ChatMessage::system(system)];
    let q = question.trim();
    let history: Vec<&Turn> = transcript.iter().filter(|t| t.role != Role::Agent).collect();
    let mut history: Vec<&Turn> = history.into_iter().rev().take(history_turns).collect();
    history.reverse();
    if history
        .last()
        .is_some_and(|t| t.role == Role::Customer && t.text.trim() == q)
    {
        history.pop();
    }
    for t in history {
        messages.push(if t.role == Role::Customer {
            ChatMessage::user(&t.text)
        } else {
            ChatMessage::assistant(&t.text)
        });
    }
    messages.push(ChatMessage::user(question));
    messages
}

/// The hand-over card's summary; `None` when there is nothing to summarise (no transcript and
/// no collected facts).
pub fn summary_messages(transcript: &[Turn], variables: &BTreeMap<String, Value>) -> Option<Vec<ChatMessage>> {
    let mut lines = String::new();
    for t in transcript.iter().rev().take(40).rev() {
        let who = match t.role {
            Role::Customer => "Customer",
            Role::Bot => "Bot",
            Role::Agent => "Agent",
        };
        lines.push_str(&format!("{who}: {}\n", t.text));
    }
    let mut facts = String::new();
    for (k, v) in variables {
        if !v.is_null() {
            facts.push_str(&format!("{k}: {v}\n"));
        }
    }
    let system = "Summarise this support conversation for the agent who takes it over, in at most three \
                  short sentences: what the customer wants, the facts given (ids, emails, amounts), \
                  and their mood. Do not invent anything.";
    let user = if facts.is_empty() {
        lines
    } else {
        format!("{lines}\nCollected facts:\n{facts}")
    };
    if user.trim().is_empty() {
        return None;
    }
    Some(vec![ChatMessage::system(system), ChatMessage::user(user)])
}

/// An AI Actions instruction applied to a text.
pub fn instruction_messages(instruction: &str, text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage::system(instruction), ChatMessage::user(text)]
}

pub(crate) fn is_dont_know(text: &str) -> bool {
    let t: String = crate::text::words(text).join(" ");
    t.starts_with("i dont know") || t.starts_with("i do not know") || t == "unknown"
}

/// Passage numbers cited as `[1]`, `[2, 3]`.
pub(crate) fn citations(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit() || c == ',' || c == ' ') {
            for n in inner.split(',').filter_map(|n| n.trim().parse::<usize>().ok()) {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        rest = &after[end + 1..];
    }
    out
}

/// The articles of the passages a reply cites (the first passage's when it cites none), each
/// once.
pub(crate) fn cited_sources(reply: &str, passages: &[Passage]) -> Vec<Source> {
    let cited = citations(reply);
    let chosen: Vec<usize> = if cited.is_empty() { vec![1] } else { cited };
    let mut sources: Vec<Source> = Vec::new();
    for n in chosen {
        if let Some(p) = passages.get(n.wrapping_sub(1)) {
            if !sources.iter().any(|s| s.title == p.title) {
                sources.push(Source {
                    title: p.title.clone(),
                    url: p.url.clone(),
                });
            }
        }
    }
    sources
}

/// The text without citation markers.
pub(crate) fn strip_citations(text: &str) -> String {
    let mut f = CitationStripper::default();
    let mut out = f.push(text);
    out.push_str(&f.finish());
    out.trim().to_string()
}

/// Removes `[n]` markers (and the spaces before them) from streamed text, holding back only
/// trailing spaces and an unclosed `[`.
#[derive(Default)]
struct CitationStripper {
    spaces: String,
    pending: String,
}

impl CitationStripper {
    fn push(&mut self, delta: &str) -> String {
        let mut out = String::new();
        for c in delta.chars() {
            if !self.pending.is_empty() {
                self.pending.push(c);
                if c == ']' {
                    let inner = &self.pending[1..self.pending.len() - 1];
                    let marker = !inner.is_empty() && inner.chars().all(|x| x.is_ascii_digit() || x == ',' || x == ' ');
                    if !marker {
                        out.push_str(&self.spaces);
                        out.push_str(&self.pending);
                    }
                    self.spaces.clear();
                    self.pending.clear();
                } else if !(c.is_ascii_digit() || c == ',' || c == ' ') || self.pending.len() > 12 {
                    out.push_str(&self.spaces);
                    out.push_str(&self.pending);
                    self.spaces.clear();
                    self.pending.clear();
                }
                continue;
            }
            if c == '[' {
                self.pending.push(c);
            } else if c == ' ' {
                self.spaces.push(c);
            } else {
                out.push_str(&self.spaces);
                self.spaces.clear();
                out.push(c);
            }
        }
        out
    }

    fn finish(&mut self) -> String {
        let mut rest = std::mem::take(&mut self.spaces);
        rest.push_str(&std::mem::take(&mut self.pending));
        rest
    }
}

/// What the widget sees of a streamed answer: citation markers removed, and nothing while the
/// text may still turn out to be "I don't know".
pub(crate) struct AnswerFilter<'a> {
    sink: &'a mut (dyn for<'s> FnMut(&'s str) + Send),
    citations: CitationStripper,
    held: String,
    open: bool,
}

impl<'a> AnswerFilter<'a> {
    pub(crate) fn new(sink: &'a mut (dyn for<'s> FnMut(&'s str) + Send)) -> AnswerFilter<'a> {
        AnswerFilter {
            sink,
            citations: CitationStripper::default(),
            held: String::new(),
            open: false,
        }
    }

    pub(crate) fn push(&mut self, delta: &str) {
        let clean = self.citations.push(delta);
        if self.open {
            if !clean.is_empty() {
                (self.sink)(&clean);
            }
            return;
        }
        self.held.push_str(&clean);
        let words = crate::text::words(&self.held).join(" ");
        let could_be_idk = ["i dont know", "i do not know"]
            .iter()
            .any(|p| p.starts_with(words.as_str()) || words.starts_with(p));
        if !could_be_idk || self.held.len() > 40 {
            if is_dont_know(&self.held) {
                return; // keep holding: it is "I don't know …"
            }
            self.open = true;
            let text = std::mem::take(&mut self.held);
            let text = text.trim_start();
            if !text.is_empty() {
                (self.sink)(text);
            }
        }
    }

    pub(crate) fn finish(&mut self) {
        let rest = self.citations.finish();
        if self.open {
            if !rest.is_empty() {
                (self.sink)(&rest);
            }
        } else {
            self.held.push_str(&rest);
            if !is_dont_know(&self.held) {
                let text = self.held.trim().to_string();
                if !text.is_empty() {
                    (self.sink)(&text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_found_and_stripped() {
        assert_eq!(citations("Shipping is $8 [1]. Returns [2, 3]. [x]"), vec![1, 2, 3]);
        assert_eq!(
            strip_citations("Shipping is $8 [1]. Returns [2, 3] ok [x]"),
            "Shipping is $8. Returns ok [x]"
        );
        let mut s = CitationStripper::default();
        let mut out = String::new();
        for d in ["Costs $8 [", "1", "]. Done"] {
            out.push_str(&s.push(d));
        }
        out.push_str(&s.finish());
        assert_eq!(out, "Costs $8. Done");
    }

    #[test]
    fn dont_know_is_held_back() {
        let mut seen = String::new();
        {
            let mut sink = |d: &str| seen.push_str(d);
            let mut f = AnswerFilter::new(&mut sink);
            for d in ["I ", "don't ", "know", "."] {
                f.push(d);
            }
            f.finish();
        }
        assert_eq!(seen, "");
        let mut seen = String::new();
        {
            let mut sink = |d: &str| seen.push_str(d);
            let mut f = AnswerFilter::new(&mut sink);
            for d in ["I ", "think ", "shipping is $8 [1]", "."] {
                f.push(d);
            }
            f.finish();
        }
        assert_eq!(seen, "I think shipping is $8.");
    }
}
