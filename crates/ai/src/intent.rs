//! What the customer wants from Let AI Answer besides an answer: a person ("can I talk to
//! someone", "agent please") or to stop because it is solved ("that fixed it", "thanks, that's
//! all"). Negated forms ("I don't need a human") do not count.

use baton_flow::runtime::AnswerIntent;

/// Words for a person.
const PEOPLE: &[&str] = &[
    "human",
    "humans",
    "person",
    "people",
    "someone",
    "somebody",
    "agent",
    "agents",
    "representative",
    "rep",
    "operator",
    "staff",
    "manager",
    "supervisor",
    "employee",
    "advisor",
    "consultant",
];

const CONTACT_VERBS: &[&str] = &[
    "talk", "speak", "chat", "connect", "transfer", "put", "get", "reach", "contact", "escalate", "call", "need",
    "want", "give",
];

const NEGATIONS: &[&str] = &[
    "not", "dont", "no", "never", "without", "doesnt", "didnt", "wont", "neednt",
];

/// Whole messages that ask for a person.
const HUMAN_MESSAGES: &[&str] = &[
    "human",
    "agent",
    "operator",
    "representative",
    "person",
    "real person",
    "live agent",
    "live person",
    "human please",
    "agent please",
    "operator please",
    "representative please",
    "person please",
    "speak to agent",
    "talk to agent",
    "customer service",
    "customer support",
    "support please",
    "help me human",
];

const HUMAN_PHRASES: &[&str] = &[
    "real person",
    "real human",
    "actual person",
    "actual human",
    "live agent",
    "live person",
    "live chat",
    "human being",
    "not a bot",
    "not a robot",
    "stop the bot",
    "are you a bot",
    "are you a robot",
    "speak to a manager",
    "talk to a manager",
];

const RESOLVED_PHRASES: &[&str] = &[
    "that solved it",
    "that solves it",
    "that fixed it",
    "that fixes it",
    "that helped",
    "that helps",
    "that did it",
    "that did the trick",
    "that works",
    "that worked",
    "it worked",
    "it works now",
    "works now",
    "problem solved",
    "issue solved",
    "issue resolved",
    "problem resolved",
    "all good",
    "all sorted",
    "all set",
    "thats all",
    "that is all",
    "thats it",
    "that answers my question",
    "that answered my question",
    "you answered my question",
    "got it thanks",
    "got it thank you",
    "perfect thanks",
    "perfect thank you",
    "great thanks",
    "great thank you",
    "nothing else",
    "no more questions",
    "no further questions",
    "im good",
    "i am good",
    "makes sense thanks",
    "understood thanks",
    "solved",
    "resolved",
    "sorted",
];

/// Whole messages that close the conversation.
const RESOLVED_MESSAGES: &[&str] = &[
    "thanks",
    "thank you",
    "thank you so much",
    "thanks a lot",
    "many thanks",
    "ok thanks",
    "ok thank you",
    "okay thanks",
    "cool thanks",
    "thx",
    "ty",
    "perfect",
    "great",
    "awesome",
    "got it",
    "no thanks",
    "no thank you",
    "bye",
    "goodbye",
];

fn negated(words: &[String], at: usize) -> bool {
    words[at.saturating_sub(4)..at]
        .iter()
        .any(|w| NEGATIONS.contains(&w.as_str()))
}

/// `Human`, `Resolved` or None (a question to answer).
pub fn detect(text: &str) -> Option<AnswerIntent> {
    let words = crate::text::words(text);
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    let padded = format!(" {joined} ");
    // A person.
    if HUMAN_MESSAGES.contains(&joined.as_str()) {
        return Some(AnswerIntent::Human);
    }
    for p in HUMAN_PHRASES {
        if let Some(pos) = padded.find(&format!(" {p} ")) {
            let before = padded[..pos].split_whitespace().count();
            if !p.starts_with("not ") && negated(&words, before) {
                continue;
            }
            return Some(AnswerIntent::Human);
        }
    }
    for (i, w) in words.iter().enumerate() {
        if !PEOPLE.contains(&w.as_str()) {
            continue;
        }
        // A contact verb shortly before the person word: "can I talk to someone",
        // "connect me with an agent", "I need a human".
        let window = &words[i.saturating_sub(5)..i];
        let verb_at = window.iter().rposition(|x| CONTACT_VERBS.contains(&x.as_str()));
        if let Some(v) = verb_at {
            let at = i.saturating_sub(5) + v;
            // "people" after "need"/"want" is ambiguous ("I want people to know"): only with a
            // contact verb.
            let verb = words[at].as_str();
            let weak = matches!(verb, "need" | "want" | "get" | "give") && w == "people";
            if weak && !window.iter().any(|x| matches!(x.as_str(), "talk" | "speak" | "chat")) {
                continue;
            }
            if negated(&words, at) {
                continue;
            }
            return Some(AnswerIntent::Human);
        }
    }
    // Solved.
    let question = text.contains('?');
    if RESOLVED_MESSAGES.contains(&joined.as_str()) {
        return Some(AnswerIntent::Resolved);
    }
    if !question {
        for p in RESOLVED_PHRASES {
            if let Some(pos) = padded.find(&format!(" {p} ")) {
                let before = padded[..pos].split_whitespace().count();
                if negated(&words, before) || (before > 0 && words[before - 1] == "not") {
                    continue;
                }
                // "how is it resolved" / "when will it be sorted" are questions without '?'.
                if words
                    .first()
                    .is_some_and(|f| matches!(f.as_str(), "how" | "when" | "why" | "what" | "will" | "can" | "is"))
                {
                    continue;
                }
                return Some(AnswerIntent::Resolved);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people() {
        for t in [
            "I want a person",
            "can I talk to someone?",
            "agent please",
            "Connect me with a human",
            "let me speak to a real person",
            "HUMAN!",
            "I need to talk to an agent now",
            "representative",
        ] {
            assert_eq!(detect(t), Some(AnswerIntent::Human), "{t}");
        }
        for t in [
            "I don't want to talk to a human",
            "someone stole my card",
            "my travel agent booked it",
            "how do I reset my password?",
        ] {
            assert_eq!(detect(t), None, "{t}");
        }
    }

    #[test]
    fn solved() {
        for t in [
            "that solved it",
            "That fixed it, thanks!",
            "thanks, that's all",
            "Perfect, thank you",
            "ok it works now",
            "thank you",
        ] {
            assert_eq!(detect(t), Some(AnswerIntent::Resolved), "{t}");
        }
        for t in [
            "that didn't help",
            "it is not solved",
            "thanks! how long does shipping take?",
            "how is it resolved",
            "that is not all",
        ] {
            assert_eq!(detect(t), None, "{t}");
        }
    }
}
