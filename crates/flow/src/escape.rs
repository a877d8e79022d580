//! Escapes at a waiting step: at a question (Options, Collect Input) the customer can ask for a
//! person, start over, cancel, or correct an earlier answer ("actually my email is …"). What
//! they typed is then never stored as the answer.
//!
//! Detection reads the text alone, so it is pure: a message asks for an escape when it is one of
//! the workspace's phrases (a small typo allowed), or contains one and is short (a long answer
//! that happens to contain "cancel" is an answer). Corrections need a marker ("actually",
//! "sorry", "I meant", …) and "my <what> is <value>", where <what> names an earlier question's
//! variable and <value> passes that question's check.

use crate::document::{Category, EscapeKind, InputKind};
use crate::matching::{edit_distance, normalize, validate_input};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most words a message may have besides the phrase: asking for a person is rarely an answer,
/// so it is read in longer messages than "cancel".
fn extra_words(kind: EscapeKind) -> usize {
    match kind {
        EscapeKind::Human => 6,
        _ => 3,
    }
}

/// Words that may stand around a phrase without making the message an answer ("can I talk to
/// a real person please", "ok cancel"). Any other word makes it one: "cancel my order",
/// "reset my password" and "the operator was rude" are answers.
const FILLER: [&str; 58] = [
    "i", "im", "i'm", "id", "me", "my", "we", "you", "u", "want", "wanna", "would", "like", "need", "can", "could",
    "may", "please", "pls", "plz", "let", "lets", "s", "to", "talk", "speak", "chat", "with", "a", "an", "the", "some",
    "someone", "somebody", "real", "actual", "live", "now", "just", "ok", "okay", "so", "hey", "hi", "hello", "get",
    "give", "put", "through", "connect", "do", "it", "this", "all", "again", "over", "thanks", "thank",
];

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
    /// When a typed text is not an answer to the question (no option matches, the input does
    /// not validate, a "name" reads like a sentence) and no phrase is in it, the intent
    /// classifier is asked whether it asks for a person, to cancel or to start over.
    pub classify: bool,
    /// Said when the customer cancels, before the flow ends.
    pub cancel_message: String,
    /// Said before the flow starts over.
    pub start_over_message: String,
    /// Said after a correction, before the question is asked again (`{{ corrected }}`: what
    /// was corrected, e.g. "email").
    pub correction_message: String,
    /// The three lists, normalised at their first use (settings are read at every answer to a
    /// question and never changed once read).
    #[serde(skip)]
    normalized: NormalizedPhrases,
}

/// A phrase as detection reads it: normalised once, split into words, its length known.
#[derive(Debug, Clone)]
struct Phrase {
    text: String,
    words: Vec<String>,
    chars: usize,
}

impl Phrase {
    fn new(written: &str) -> Phrase {
        let text = normalize(written);
        Phrase {
            words: text.split(' ').map(str::to_string).collect(),
            chars: text.chars().count(),
            text,
        }
    }
}

/// The human, cancel and start-over phrases, normalised.
#[derive(Debug, Clone, Default)]
struct NormalizedPhrases(std::sync::OnceLock<[Vec<Phrase>; 3]>);

/// Derived from the lists, so it never makes two settings differ.
impl PartialEq for NormalizedPhrases {
    fn eq(&self, _: &Self) -> bool {
        true
    }
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
            classify: true,
            cancel_message: "Okay, I've stopped here. Write again any time.".into(),
            start_over_message: "Sure, let's start over.".into(),
            correction_message: "Thanks, I've updated your {{ corrected }}.".into(),
            normalized: NormalizedPhrases::default(),
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

    /// The phrases of `kind` as detection reads them (phrases that normalise to nothing are
    /// refused by [`EscapeSettings::check`], and skipped here).
    fn normalized(&self, kind: EscapeKind) -> &[Phrase] {
        let [human, cancel, start_over] = self.normalized.0.get_or_init(|| {
            [&self.human, &self.cancel, &self.start_over].map(|list| {
                list.iter()
                    .map(|p| Phrase::new(p))
                    .filter(|p| !p.text.is_empty())
                    .collect()
            })
        });
        match kind {
            EscapeKind::Human => human,
            EscapeKind::Cancel => cancel,
            EscapeKind::StartOver => start_over,
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

/// How sure the intent classifier must be that a text asks for an escape (tuned on the dev half
/// of evals/escapes; docs/ai.md).
pub const ESCAPE_CONFIDENCE: f64 = 0.5;

/// The classifier's category for a text that is an answer after all.
pub const ANSWER_CATEGORY: &str = "answer";

/// Sentences that teach the intent classifier each escape beyond the workspace's phrases, and
/// answers that only look like one ("cancel my order", "the agent was rude"), so it can tell
/// them apart. Written before the evaluation set (evals/escapes) was read.
const CLASSIFIER_EXAMPLES: [(EscapeKind, &[&str]); 3] = [
    (
        EscapeKind::Human,
        &[
            "can I speak with someone from your team",
            "I need to talk to a real human being",
            "get me a manager",
            "transfer me to your support staff",
            "is there a person I can chat with",
            "connect me with an agent please",
            "I'd rather talk to someone",
            "let me talk to your supervisor",
            "this bot is not helping I want a person",
            "can someone call me back",
            "I want to speak to a representative",
            "put me through to customer service",
        ],
    ),
    (
        EscapeKind::Cancel,
        &[
            "never mind I don't need help anymore",
            "stop this conversation",
            "I'm done here",
            "forget about it",
            "I want to quit this chat",
            "no thanks, I do not need this anymore",
            "I changed my mind, leave it",
            "don't bother",
        ],
    ),
    (
        EscapeKind::StartOver,
        &[
            "let's begin again from the start",
            "go back to the beginning",
            "can we start from scratch",
            "I made a mistake, restart please",
            "back to the main menu",
            "start the whole thing again",
        ],
    ),
];

const ANSWER_EXAMPLES: &[&str] = &[
    "yes",
    "no",
    "my order number is 48213",
    "jane.doe@example.com",
    "John Smith",
    "+1 415 555 0199",
    "last tuesday",
    "I was charged twice for the same order",
    "my parcel arrived broken",
    "I want to cancel my subscription",
    "please cancel my order",
    "the agent I spoke to yesterday was rude",
    "your rep promised me a refund",
    "I need to reset my password",
    "my router keeps restarting",
    "stop charging my card",
    "the delivery is late",
    "billing",
    "it's about my account",
    "I can't log in",
    "I don't remember it",
    "I'm not sure",
    "I don't know",
    "I can't find it",
    "I don't have one",
    "the one from last week",
    "the big order from March",
    "let me check",
];

/// Whether a text has words enough to be a request the classifier can read: two words of
/// letters at least. A code ("A-1234"), a number or a single word is an answer or nothing; a
/// single word that is an escape is one of the phrases.
pub fn reads_like_a_request(text: &str) -> bool {
    text.split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !w.chars().any(|c| c.is_ascii_digit()))
        .count()
        >= 2
}

/// The categories the intent classifier chooses among for a text that is not an answer at a
/// question offering `offered`: one per escape the workspace has on (its phrases and the
/// sentences above), and [`ANSWER_CATEGORY`]. None when the classifier is off or no such escape
/// is offered.
pub fn classifier_categories(settings: &EscapeSettings, offered: &[EscapeKind]) -> Option<Vec<Category>> {
    if !settings.classify {
        return None;
    }
    let mut categories: Vec<Category> = CLASSIFIER_EXAMPLES
        .iter()
        .filter(|(kind, _)| offered.contains(kind) && settings.is_on(*kind))
        .map(|(kind, sentences)| Category {
            id: kind.as_str().to_string(),
            description: None,
            examples: settings
                .phrases(*kind)
                .iter()
                .cloned()
                .chain(sentences.iter().map(|s| s.to_string()))
                .collect(),
        })
        .collect();
    if categories.is_empty() {
        return None;
    }
    categories.push(Category {
        id: ANSWER_CATEGORY.to_string(),
        description: None,
        examples: ANSWER_EXAMPLES.iter().map(|s| s.to_string()).collect(),
    });
    Some(categories)
}

/// The escape (person, start over, cancel) a message asks for among `offered`, if any. A person
/// is looked for first: "cancel this, get me a human" asks for a person.
pub fn detect(text: &str, settings: &EscapeSettings, offered: &[EscapeKind]) -> Option<EscapeKind> {
    let t = normalize(text);
    if t.is_empty() {
        return None;
    }
    let words: Vec<&str> = t.split(' ').collect();
    let t_chars = t.chars().count();
    [EscapeKind::Human, EscapeKind::Cancel, EscapeKind::StartOver]
        .into_iter()
        .filter(|k| offered.contains(k))
        .find(|k| {
            settings
                .normalized(*k)
                .iter()
                .any(|p| says(&t, t_chars, &words, p, extra_words(*k)))
        })
}

/// `t` (normalised, and its `words`) is the phrase, the phrase with a small typo, or a short
/// message with the phrase in it as whole words. Runs at every answer to a question.
fn says(t: &str, t_chars: usize, words: &[&str], p: &Phrase, extra_words: usize) -> bool {
    if t == p.text {
        return true;
    }
    let phrase_words = p.words.len();
    if words.len() <= phrase_words + extra_words {
        // The phrase's first place as whole words; every other word must be filler.
        let at = (0..=words.len().saturating_sub(phrase_words)).find(|&at| {
            words
                .get(at..at + phrase_words)
                .is_some_and(|w| w.iter().zip(&p.words).all(|(a, b)| a == b))
        });
        if let Some(at) = at {
            let rest = words[..at].iter().chain(&words[at + phrase_words..]);
            if rest.into_iter().all(|w| FILLER.contains(w)) {
                return true;
            }
        }
    }
    // A slip of a letter or two in a long phrase ("representitive"); short words are left
    // alone ("rest" is not "reset").
    let allowed = match p.chars {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    };
    // The distance is at least the difference in length of what it compares (the first 64
    // characters): most phrases are ruled out without computing it.
    allowed > 0
        && words.len() == phrase_words
        && t_chars.min(64).abs_diff(p.chars.min(64)) <= allowed
        && edit_distance(t, &p.text) <= allowed
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
    // Most answers name nothing: they end here, before anything else is computed.
    let (named, value) = split_is(&lower, text)?;
    let normalized = normalize(&lower);
    let marked = MARKERS.iter().any(|m| {
        normalized
            .strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    });
    if !marked && !lower.contains(" is actually ") && !lower.contains(" should be ") {
        return None;
    }
    // What is named, without the marker and "my"/"the": "actually, my email" → "email".
    let mut named = normalize(named);
    for m in MARKERS {
        if let Some(rest) = named.strip_prefix(m).and_then(|rest| rest.strip_prefix(' ')) {
            named = rest.to_string();
            break;
        }
    }
    let named = ["my ", "the "]
        .iter()
        .find_map(|p| named.strip_prefix(p))
        .unwrap_or(&named)
        .to_string();
    // The candidates in order (the question being asked comes first); the name must be the
    // variable's or its kind's, exactly.
    candidates.iter().find_map(|c| {
        if !names_of(c).contains(&named) {
            return None;
        }
        // A name or a free text is a few words; a sentence is not a corrected value ("no, my
        // name is spelled wrong on the invoice").
        let free = matches!(c.input, InputKind::Name | InputKind::Text);
        if free && value.split_whitespace().count() > 4 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_all(text: &str) -> Option<EscapeKind> {
        detect(text, &EscapeSettings::default(), &EscapeKind::ALL)
    }

    #[test]
    fn a_typo_is_forgiven_only_within_the_length_a_phrase_allows() {
        let human = |text: &str| detect(text, &EscapeSettings::default(), &[EscapeKind::Human]);
        assert_eq!(human("representativ"), Some(EscapeKind::Human));
        assert_eq!(human("reppresentativee"), Some(EscapeKind::Human));
        assert_eq!(human("representativeeee"), None);
    }

    #[test]
    fn phrases_are_read_normalised_and_the_normalised_copy_is_not_part_of_the_settings() {
        // Settings written with capitals and punctuation still match.
        let settings = EscapeSettings {
            human: vec!["Talk to a HUMAN!".into()],
            ..EscapeSettings::default()
        };
        assert_eq!(
            detect("please talk to a human", &settings, &EscapeKind::ALL),
            Some(EscapeKind::Human)
        );
        assert_eq!(
            detect("Talk-to a human", &settings, &EscapeKind::ALL),
            Some(EscapeKind::Human)
        );
        // Settings that have been read equal settings that have not, and are written the same.
        let fresh = EscapeSettings {
            human: vec!["Talk to a HUMAN!".into()],
            ..EscapeSettings::default()
        };
        assert_eq!(settings, fresh);
        assert_eq!(serde_json::to_value(&settings).ok(), serde_json::to_value(&fresh).ok());
        assert!(serde_json::to_value(&settings).is_ok_and(|v| v.get("normalized").is_none()));
    }

    #[test]
    fn only_words_are_read_as_requests() {
        for text in ["A-1234", "12345", "agent", "nvm", "INV 204518", "ana@example.com"] {
            assert!(!reads_like_a_request(text), "{text}");
        }
        for text in ["talk to rep", "get me a manger", "I don't remember it", "oh leave it"] {
            assert!(reads_like_a_request(text), "{text}");
        }
    }

    #[test]
    fn escapes_are_phrases_with_filler_around_them_and_answers_are_not() {
        for (text, kind) in [
            ("can I talk to a real person pls", EscapeKind::Human),
            ("representitive", EscapeKind::Human),
            ("i need a human", EscapeKind::Human),
            ("ok cancel", EscapeKind::Cancel),
            ("never mind", EscapeKind::Cancel),
            ("let's start over", EscapeKind::StartOver),
        ] {
            assert_eq!(detect_all(text), Some(kind), "{text}");
        }
        for text in [
            "cancel my order",
            "stop my subscription",
            "reset my password",
            "restart doesn't work",
            "the operator was rude",
            "rest",
            "I want to cancel my order because the parcel arrived broken",
        ] {
            assert_eq!(detect_all(text), None, "{text}");
        }
    }

    #[test]
    fn a_correction_names_the_variable_exactly_and_prefers_the_question_asked() {
        let order = Correctable {
            variable: "order_number",
            input: InputKind::Text,
            pattern: None,
        };
        let phone = Correctable {
            variable: "phone",
            input: InputKind::Phone,
            pattern: None,
        };
        let name = Correctable {
            variable: "customer_name",
            input: InputKind::Name,
            pattern: None,
        };
        // The question being asked comes first: "order number" is the order's, not the phone's.
        assert_eq!(
            correction("Actually my order number is 12345678", &[order.clone(), phone.clone()]),
            Some(("order_number".into(), Value::String("12345678".into())))
        );
        assert_eq!(
            correction("sorry, my phone is +44 20 7946 0958", &[order, phone]),
            Some(("phone".into(), Value::String("+442079460958".into())))
        );
        assert_eq!(
            correction("actually my name is Ana Lima", std::slice::from_ref(&name)),
            Some(("customer_name".into(), Value::String("Ana Lima".into())))
        );
        assert_eq!(correction("No, my name is spelled wrong on the invoice", &[name]), None);
    }
}
