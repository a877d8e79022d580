//! Text helpers shared by retrieval, classification and the other offline tasks: a simple
//! English tokenizer, stop words, a light stemmer and a sentence splitter. Everything here is
//! deterministic and allocation-light; inputs are cut at [`MAX_TEXT_CHARS`].

/// Longest text looked at by any offline task (longer input is cut).
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Lower-cased words: runs of letters and digits; an apostrophe inside a word is dropped
/// ("don't" → "dont", "customer's" → "customers" before stemming).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().take(MAX_TEXT_CHARS).peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’') && !cur.is_empty() && chars.peek().is_some_and(|n| n.is_alphabetic()) {
            // inside a word: skip the apostrophe
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Retrieval terms: words without stop words, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stop(w))
        .map(|w| stem(&w))
        .filter(|w| !w.is_empty())
        .collect()
}

const STOP: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "else",
    "ever",
    "few",
    "for",
    "from",
    "further",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "ive",
    "just",
    "let",
    "lets",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "thats",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "whats",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "youre",
    "yours",
    "yourself",
    "yourselves",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "ok",
    "okay",
    "want",
    "need",
    "know",
    "tell",
    "like",
    "would",
    "way",
    "there",
    "much",
    "many",
    "one",
    "dont",
    "doesnt",
    "didnt",
    "cant",
    "cannot",
    "isnt",
    "arent",
    "wasnt",
    "werent",
    "wont",
    "havent",
    "hasnt",
    "id",
    "ill",
    "youll",
    "theyre",
    "whos",
    "already",
    "still",
    "even",
    "yet",
    "really",
    "long",
    "soon",
    "often",
];

/// Common English words that carry little meaning for retrieval.
pub fn is_stop(word: &str) -> bool {
    STOP.contains(&word)
}

/// A light English stemmer: plural and verb endings and a few suffixes, so that "refunds",
/// "refunded" and "refunding" meet "refund". Not Porter: fast, predictable, good enough for
/// matching a question against an article.
pub fn stem(word: &str) -> String {
    let w = word;
    let n = w.chars().count();
    if n <= 3 || !w.is_ascii() {
        return w.to_string();
    }
    let mut s = w.to_string();
    if let Some(b) = s.strip_suffix("ies").filter(|b| b.len() >= 2) {
        s = format!("{b}y");
    } else if let Some(b) = s.strip_suffix("sses") {
        s = format!("{b}ss");
    } else if s.ends_with("ss") || s.ends_with("us") || s.ends_with("is") {
        // class, status, this
    } else if let Some(b) = s
        .strip_suffix("es")
        .filter(|b| b.ends_with("ch") || b.ends_with("sh") || b.ends_with('x'))
    {
        s = b.to_string();
    } else if let Some(b) = s.strip_suffix('s') {
        s = b.to_string();
    }
    if let Some(b) = s.strip_suffix("ied").filter(|b| b.len() >= 2) {
        s = format!("{b}y");
    } else if let Some(b) = s.strip_suffix("ing").filter(|b| b.len() >= 3 && has_vowel(b)) {
        s = undouble(b);
    } else if let Some(b) = s.strip_suffix("ed").filter(|b| b.len() >= 3 && has_vowel(b)) {
        s = undouble(b);
    }
    for (suffix, min) in [
        ("ment", 3),
        ("ness", 4),
        ("ly", 4),
        ("ation", 3),
        ("ational", 3),
        ("er", 4),
    ] {
        if let Some(b) = s.strip_suffix(suffix).filter(|b| b.len() >= min) {
            s = b.to_string();
            break;
        }
    }
    if s.len() > 3 && s.ends_with('e') && !s.ends_with("ee") {
        s.pop();
    }
    s
}

fn has_vowel(s: &str) -> bool {
    s.chars().any(|c| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
}

fn undouble(b: &str) -> String {
    let bytes = b.as_bytes();
    let l = bytes.len();
    if l >= 2 && bytes[l - 1] == bytes[l - 2] && !matches!(bytes[l - 1], b'l' | b's' | b'z') {
        b[..l - 1].to_string()
    } else {
        b.to_string()
    }
}

/// Splits plain text into sentences: at `.`, `!`, `?` followed by whitespace, and at line
/// breaks. Abbreviations like "e.g." and numbers like "8.00" are kept whole.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if matches!(c, '.' | '!' | '?') {
                let mut j = i + 1;
                while j < chars.len() && matches!(chars[j], '.' | '!' | '?' | '"' | '\'' | ')' | '’' | '”') {
                    j += 1;
                }
                let at_space = j >= chars.len() || chars[j].is_whitespace();
                let prev_word: String = chars[start..i]
                    .iter()
                    .rev()
                    .take_while(|c| !c.is_whitespace())
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let abbreviation = c == '.' && {
                    let p = prev_word.to_lowercase();
                    matches!(
                        p.as_str(),
                        "e.g" | "i.e" | "etc" | "vs" | "mr" | "mrs" | "ms" | "dr" | "no" | "st"
                    ) || (p.len() == 1 && p.chars().all(char::is_alphabetic))
                };
                if at_space && !abbreviation {
                    let s: String = chars[start..j].iter().collect();
                    let s = s.trim();
                    if !s.is_empty() {
                        out.push(s.to_string());
                    }
                    start = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        let s: String = chars[start..].iter().collect();
        let s = s.trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    out
}

/// Word count of a text.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// An FNV-1a 64-bit hash: stable across runs and platforms (used for cache keys).
pub fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_punctuation_and_apostrophes() {
        assert_eq!(words("Don't ask: it's $8.00!"), ["dont", "ask", "its", "8", "00"]);
    }

    #[test]
    fn stems_meet() {
        for (a, b) in [
            ("refunds", "refund"),
            ("refunded", "refunding"),
            ("charges", "charged"),
            ("cards", "card"),
            ("deliveries", "delivery"),
            ("shipping", "shipped"),
            ("payment", "pay"),
            ("quickly", "quick"),
            ("status", "status"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
    }

    #[test]
    fn sentences_split_and_keep_numbers() {
        let s = sentences("Standard shipping is $8.00, so enter 8. Then click e.g. Offer Refund! Done?\nNext line");
        assert_eq!(
            s,
            [
                "Standard shipping is $8.00, so enter 8.",
                "Then click e.g. Offer Refund!",
                "Done?",
                "Next line"
            ]
        );
    }

    #[test]
    fn stop_words_removed() {
        assert_eq!(terms("How do I get a refund for my order?"), ["refund", "order"]);
    }
}
