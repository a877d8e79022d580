//! Escapes at a waiting step: at a question (Options, Collect Input) the customer can ask for a
//! person, start over, cancel, or correct an earlier answer ("actually my email is …"). What
//! they typed is then never stored as the answer.
//!
//! Detection reads the text alone, so it is pure: a message asks for an escape when it is one of
//! the workspace's phrases (a small typo allowed), or contains one and is short (a long answer
//! that happens to contain "cancel" is an answer). Corrections need a marker ("actually",
//! "sorry", "I meant", …) and "my <what> is <value>", where <what> names an earlier question's
//! variable and <value> passes that question's check.

use crate::document::{EscapeKind, InputKind};
use crate::matching::{edit_distance, normalize, validate_input};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A message with more words than a phrase plus this many is an answer, not an escape: asking
/// for a person is rarely an answer, so it is read in longer messages than "cancel" ("I want
/// to cancel the order" answers "Why are you writing?").
fn extra_words(kind: EscapeKind) -> usize {
    match kind {
        EscapeKind::Human => 6,
        _ => 3,
    }
}

/// The workspace's escapes (a node may offer fewer: its `escapes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscapeSettings {
    /// Phrases that ask for a person (empty: this escape is off).
    pub human: Vec<String>,
    /// Phrases that start the flow over.
    pub start_over: Vec<String>,
    /// Phrases that cancel the flow.
    pub cancel: Vec<String>,
    /// "Actually my email is …" corrects an earlier answer.
    pub corrections: bool,
    /// Said when the customer cancels, before the flow ends.
    pub cancel_message: String,
    /// Said before the flow starts over.
    pub start_over_message: String,
    /// Said after a correction, before the question is asked again (`{{ corrected }}`: what
    /// was corrected, e.g. "email").
    pub correction_message: String,
}

impl Default for EscapeSettings {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        EscapeSettings {
            human: list(&[
                "human",
                "a human",
                "real person",
                "a person",
                "someone real",
                "talk to someone",
                "speak to someone",
                "talk to a person",
                "speak to a person",
                "talk to a human",
                "speak to a human",
                "an agent",
                "live agent",
                "human agent",
                "real agent",
                "representative",
                "operator",
                "customer service",
                "customer support",
            ]),
            start_over: list(&[
                "start over",
                "start again",
                "restart",
                "begin again",
                "from the beginning",
                "reset",
            ]),
            cancel: list(&["cancel", "stop", "never mind", "nevermind", "forget it", "quit", "exit"]),
            corrections: true,
            cancel_message: "Okay, I've stopped here. Write again any time.".into(),
            start_over_message: "Sure, let's start over.".into(),
            correction_message: "Thanks, I've updated your {{ corrected }}.".into(),
        }
    }
}

/// Most phrases in one list.
pub const MAX_PHRASES: usize = 50;
const MAX_PHRASE_CHARS: usize = 100;
const MAX_MESSAGE_CHARS: usize = 1000;

impl EscapeSettings {
    /// Lists and texts within their limits: `Err((field, message))` names the first that is not.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (field, phrases) in [
            ("human", &self.human),
            ("start_over", &self.start_over),
            ("cancel", &self.cancel),
        ] {
            if phrases.len() > MAX_PHRASES {
                return Err((field.into(), format!("at most {MAX_PHRASES} phrases")));
            }
            for (i, p) in phrases.iter().enumerate() {
                if normalize(p).is_empty() || p.chars().count() > MAX_PHRASE_CHARS {
                    return Err((
                        format!("{field}[{i}]"),
                        format!("a phrase has letters or digits and at most {MAX_PHRASE_CHARS} characters"),
                    ));
                }
            }
        }
        for (field, text) in [
            ("cancel_message", &self.cancel_message),
            ("start_over_message", &self.start_over_message),
            ("correction_message", &self.correction_message),
        ] {
            if text.chars().count() > MAX_MESSAGE_CHARS {
                return Err((field.into(), format!("at most {MAX_MESSAGE_CHARS} characters")));
            }
        }
        Ok(())
    }

    fn phrases(&self, kind: EscapeKind) -> &[String] {
        match kind {
            EscapeKind::Human => &self.human,
            EscapeKind::StartOver => &self.start_over,
            EscapeKind::Cancel => &self.cancel,
            EscapeKind::Correction => &[],
        }
    }

    /// Whether the workspace has this escape on.
    pub fn is_on(&self, kind: EscapeKind) -> bool {
        match kind {
            EscapeKind::Correction => self.corrections,
            _ => !self.phrases(kind).is_empty(),
        }
    }
}

/// The escape (person, start over, cancel) a message asks for among `offered`, if any. A person
/// is looked for first: "cancel this, get me a human" asks for a person.
pub fn detect(text: &str, settings: &EscapeSettings, offered: &[EscapeKind]) -> Option<EscapeKind> {
    let t = normalize(text);
    if t.is_empty() {
        return None;
    }
    [EscapeKind::Human, EscapeKind::Cancel, EscapeKind::StartOver]
        .into_iter()
        .filter(|k| offered.contains(k))
        .find(|k| settings.phrases(*k).iter().any(|p| says(&t, p, extra_words(*k))))
}

/// `t` (normalised) is the phrase, the phrase with a small typo, or a short message with the
/// phrase in it as whole words.
fn says(t: &str, phrase: &str, extra_words: usize) -> bool {
    let p = normalize(phrase);
    if p.is_empty() {
        return false;
    }
    if t == p {
        return true;
    }
    let words = t.split(' ').count();
    let phrase_words = p.split(' ').count();
    if words <= phrase_words + extra_words && format!(" {t} ").contains(&format!(" {p} ")) {
        return true;
    }
    let allowed = match p.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    };
    allowed > 0 && words == phrase_words && edit_distance(t, &p) <= allowed
}

/// An earlier question a correction may change.
#[derive(Debug, Clone)]
pub struct Correctable<'a> {
    pub variable: &'a str,
    pub input: InputKind,
    pub pattern: Option<&'a regex::Regex>,
}

/// Words that say the customer is correcting something.
const MARKERS: [&str; 9] = [
    "actually",
    "sorry",
    "correction",
    "i meant",
    "i mean",
    "oops",
    "wait",
    "no",
    "my mistake",
];

/// A correction: the variable and its new value, when the message corrects one of `candidates`.
pub fn correction(text: &str, candidates: &[Correctable<'_>]) -> Option<(String, Value)> {
    let text = text.trim();
    // ASCII lower case keeps byte offsets, so the value is cut from the text as written.
    let lower = text.to_ascii_lowercase();
    let normalized = normalize(&lower);
    let marked = MARKERS
        .iter()
        .any(|m| normalized == *m || normalized.starts_with(&format!("{m} ")));
    let (named, value) = split_is(&lower, text)?;
    let named = normalize(named);
    let named = named.strip_prefix("my ").unwrap_or(&named);
    if !marked && !lower.contains(" is actually ") && !lower.contains(" should be ") {
        return None;
    }
    // The last words before "is" name the variable: "actually my email is …", "sorry, the order
    // id should be …".
    candidates.iter().find_map(|c| {
        let names = names_of(c);
        let hit = names
            .iter()
            .any(|n| named == n.as_str() || named.ends_with(&format!(" {n}")));
        if !hit {
            return None;
        }
        validate_input(c.input, value, c.pattern)
            .ok()
            .map(|v| (c.variable.to_string(), v))
    })
}

/// "… my email is X" → ("… my email", "X"): the name from `lower`, the value from `text` (the
/// same text, ASCII lower-cased); also "is actually", "should be", "'s", "=", ":".
fn split_is<'t>(lower: &'t str, text: &'t str) -> Option<(&'t str, &'t str)> {
    for sep in [" is actually ", " should be ", " is ", "'s ", " = ", ": "] {
        if let Some(at) = lower.find(sep) {
            let value = text.get(at + sep.len()..)?.trim().trim_end_matches(['.', '!']);
            if !value.is_empty() {
                return Some((&lower[..at], value));
            }
        }
    }
    None
}

/// How a customer may name a question's variable: its own words, and its kind's.
fn names_of(c: &Correctable<'_>) -> Vec<String> {
    let own = c.variable.replace(['_', '.'], " ");
    let mut names = vec![normalize(&own)];
    let kind: &[&str] = match c.input {
        InputKind::Email => &["email", "email address", "e mail", "mail"],
        InputKind::Phone => &["phone", "phone number", "number", "mobile", "cell"],
        InputKind::Name => &["name", "full name"],
        InputKind::Date => &["date"],
        InputKind::Number | InputKind::Text | InputKind::Regex => &[],
    };
    names.extend(kind.iter().map(|k| k.to_string()));
    // "customer_name" is named "name" too.
    if let Some(last) = own.split_whitespace().last() {
        names.push(normalize(last));
    }
    names.retain(|n| !n.is_empty());
    names
}
