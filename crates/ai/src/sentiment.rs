//! Sentiment and frustration, offline: a small lexicon with negation ("not happy"), intensity
//! ("really", "so"), exclamation marks and capitals; frustration cues ("again", "still
//! waiting", "third time", "ridiculous").

use crate::text;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Negative words and their strength.
const NEGATIVE: &[(&str, f64)] = &[
    ("angry", 2.5),
    ("annoyed", 2.0),
    ("annoying", 2.0),
    ("awful", 3.0),
    ("bad", 1.5),
    ("broken", 1.5),
    ("complain", 1.5),
    ("complaint", 1.5),
    ("confused", 1.0),
    ("crap", 2.5),
    ("damaged", 1.5),
    ("disappointed", 2.0),
    ("disappointing", 2.0),
    ("disgusting", 3.0),
    ("dissatisfied", 2.0),
    ("error", 1.0),
    ("fail", 1.5),
    ("failed", 1.5),
    ("frustrated", 2.5),
    ("frustrating", 2.5),
    ("furious", 3.0),
    ("garbage", 2.5),
    ("hate", 3.0),
    ("horrible", 3.0),
    ("incompetent", 3.0),
    ("issue", 0.5),
    ("joke", 1.5),
    ("lost", 1.0),
    ("mad", 2.0),
    ("mess", 1.5),
    ("missing", 1.0),
    ("nightmare", 3.0),
    ("pathetic", 3.0),
    ("poor", 1.5),
    ("problem", 1.0),
    ("rude", 2.5),
    ("ridiculous", 3.0),
    ("sad", 1.5),
    ("scam", 3.0),
    ("shame", 2.0),
    ("sick", 1.5),
    ("slow", 1.0),
    ("stupid", 2.5),
    ("terrible", 3.0),
    ("unacceptable", 3.0),
    ("unhappy", 2.0),
    ("upset", 2.0),
    ("useless", 3.0),
    ("waste", 2.0),
    ("worse", 2.0),
    ("worst", 3.0),
    ("wrong", 1.5),
    ("wtf", 3.0),
];

const POSITIVE: &[(&str, f64)] = &[
    ("amazing", 3.0),
    ("appreciate", 2.0),
    ("awesome", 3.0),
    ("brilliant", 3.0),
    ("excellent", 3.0),
    ("fantastic", 3.0),
    ("fine", 0.5),
    ("glad", 2.0),
    ("good", 1.5),
    ("great", 2.5),
    ("happy", 2.0),
    ("helpful", 2.0),
    ("love", 3.0),
    ("lovely", 2.5),
    ("nice", 1.5),
    ("perfect", 3.0),
    ("pleased", 2.0),
    ("quick", 1.0),
    ("resolved", 1.5),
    ("satisfied", 2.0),
    ("solved", 1.5),
    ("thank", 1.5),
    ("thanks", 1.5),
    ("wonderful", 3.0),
    ("works", 1.0),
];

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant", "cannot", "wont",
    "wouldnt", "shouldnt", "havent", "hasnt", "hadnt", "nothing", "nobody", "neither", "nor", "without", "hardly",
];

const INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "super",
    "totally",
    "absolutely",
    "completely",
    "incredibly",
    "utterly",
    "truly",
    "too",
    "seriously",
];

/// Phrases that say a customer has lost patience.
const FRUSTRATION: &[&str] = &[
    "again",
    "still",
    "already",
    "third time",
    "second time",
    "how many times",
    "how long",
    "fed up",
    "sick of",
    "tired of",
    "waste of time",
    "no one",
    "nobody",
    "every time",
    "keep getting",
    "keeps",
    "for weeks",
    "for days",
    "for hours",
    "ridiculous",
    "unacceptable",
    "useless",
    "waiting",
    "cancel my account",
    "speak to a manager",
    "worst",
    "never again",
    "joke",
];

/// The result of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentimentScore {
    /// Sum of signed strengths (negative < 0).
    pub score: f64,
    pub frustrated: bool,
}

impl SentimentScore {
    /// "positive", "neutral" or "negative".
    pub fn label(&self) -> &'static str {
        if self.frustrated || self.score <= -1.0 {
            "negative"
        } else if self.score >= 1.0 {
            "positive"
        } else {
            "neutral"
        }
    }
}

/// A lexicon's entries found by word and by stem (each the first entry that has it), built
/// once: scoring looks up every word of a transcript.
struct Lexicon {
    values: &'static [(&'static str, f64)],
    by_word: HashMap<&'static str, usize>,
    by_stem: HashMap<String, usize>,
}

impl Lexicon {
    fn new(values: &'static [(&'static str, f64)]) -> Lexicon {
        let mut by_word = HashMap::new();
        let mut by_stem = HashMap::new();
        for (i, (word, _)) in values.iter().enumerate() {
            by_word.entry(*word).or_insert(i);
            by_stem.entry(text::stem(word)).or_insert(i);
        }
        Lexicon {
            values,
            by_word,
            by_stem,
        }
    }

    /// The value of the first entry that is `word` or shares its stem.
    fn value(&self, word: &str, stemmed: &str) -> Option<f64> {
        let first = [self.by_word.get(word), self.by_stem.get(stemmed)]
            .into_iter()
            .flatten()
            .min()?;
        Some(self.values[*first].1)
    }
}

static LEXICONS: LazyLock<(Lexicon, Lexicon)> = LazyLock::new(|| (Lexicon::new(NEGATIVE), Lexicon::new(POSITIVE)));

/// The frustration cues with a space either side, as they are looked for in the words.
static PADDED_CUES: LazyLock<Vec<String>> = LazyLock::new(|| FRUSTRATION.iter().map(|c| format!(" {c} ")).collect());

/// A word's value: the first negative lexicon word that is it or shares its stem (negated),
/// else the first such positive one.
fn lexicon_value(word: &str, stemmed: &str) -> Option<f64> {
    let (negative, positive) = &*LEXICONS;
    negative
        .value(word, stemmed)
        .map(|v| -v)
        .or_else(|| positive.value(word, stemmed))
}

/// Scores a text.
pub fn analyze(input: &str) -> SentimentScore {
    let input: String = input.chars().take(text::MAX_TEXT_CHARS).collect();
    let words = text::words(&input);
    let raw_words: Vec<&str> = input.split_whitespace().collect();
    let caps_words = raw_words
        .iter()
        .filter(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase())
        })
        .count();
    let letters = input.chars().filter(|c| c.is_alphabetic()).count();
    let upper = input.chars().filter(|c| c.is_uppercase()).count();
    let shouting = letters >= 12 && upper * 10 >= letters * 7;
    let exclaims = input.matches('!').count();
    let interrobang = input.contains("?!") || input.contains("!?") || input.contains("??");

    let mut score = 0.0;
    let mut negative_hits = 0;
    // Negation and intensity reach within a clause only.
    for clause in input.split(['.', ',', ';', '!', '?', '\n']) {
        let words = text::words(clause);
        for (i, w) in words.iter().enumerate() {
            let Some(mut v) = lexicon_value(w, &text::stem(w)) else {
                continue;
            };
            let window = &words[i.saturating_sub(3)..i];
            if window.iter().any(|p| INTENSIFIERS.contains(&p.as_str())) {
                v *= 1.5;
            }
            if window.iter().any(|p| NEGATIONS.contains(&p.as_str())) {
                // "not good" is bad; "not bad" is mildly good.
                v = if v > 0.0 { -v * 0.8 } else { -v * 0.4 };
            }
            if v < 0.0 {
                negative_hits += 1;
            }
            score += v;
        }
    }
    if score < 0.0 {
        score *= 1.0 + 0.2 * exclaims.min(5) as f64 + if shouting { 0.5 } else { 0.0 };
    } else if score > 0.0 && exclaims > 0 {
        score *= 1.2;
    }
    let lower = format!(" {} ", words.join(" "));
    let cues = PADDED_CUES.iter().filter(|c| lower.contains(c.as_str())).count();
    // Complaint language without a sentiment word ("still waiting for weeks!!") counts too.
    if score <= 0.0 && cues > 0 {
        score -= 0.5 * cues as f64;
    }
    let loud = shouting || exclaims >= 2 || interrobang || caps_words >= 2;
    let frustrated = (score <= -1.0 && (cues > 0 || loud))
        || score <= -4.0
        || (cues >= 2 && score < 0.0)
        || (shouting && (negative_hits > 0 || cues > 0));
    SentimentScore { score, frustrated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(analyze("Thanks, that was really helpful!").label(), "positive");
        assert_eq!(analyze("Where is my order?").label(), "neutral");
        assert_eq!(analyze("The jacket arrived damaged").label(), "negative");
        assert_eq!(analyze("not bad at all").label(), "neutral");
        assert_eq!(analyze("I am not happy with this").label(), "negative");
    }

    /// Each lexicon entry is found by its word and by another word with its stem, with the value
    /// of the first entry that matches either way, as a scan of the list in order finds it.
    #[test]
    fn lookups_match_a_scan_of_the_lexicon() {
        let scan = |word: &str, stemmed: &str| {
            let find = |lexicon: &[(&str, f64)]| {
                lexicon
                    .iter()
                    .find(|(x, _)| *x == word || text::stem(x) == stemmed)
                    .map(|(_, v)| *v)
            };
            find(NEGATIVE).map(|v| -v).or_else(|| find(POSITIVE))
        };
        let words = NEGATIVE
            .iter()
            .chain(POSITIVE)
            .flat_map(|(w, _)| [w.to_string(), format!("{w}s"), format!("{w}ed"), format!("{w}ing")])
            .chain(["order", "the", "works", "worse", "worst", "fail", "failing"].map(String::from));
        for word in words {
            let stemmed = text::stem(&word);
            assert_eq!(lexicon_value(&word, &stemmed), scan(&word, &stemmed), "{word}");
        }
    }

    #[test]
    fn frustration() {
        assert!(analyze("This is RIDICULOUS, I have been waiting for weeks!!").frustrated);
        assert!(analyze("Third time I'm asking, still nothing. Useless.").frustrated);
        assert!(analyze("WHY IS MY ORDER STILL NOT HERE").frustrated);
        assert!(!analyze("The item is a bit too small").frustrated);
        assert!(!analyze("Great, thank you so much!").frustrated);
    }
}
