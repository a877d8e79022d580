//! Let AI Answer, offline: extractive answers from the knowledge base.
//!
//! The question (with the previous customer turn when it reads as a follow-up) retrieves
//! passages; within the best passages every sentence is scored by how much of the question it
//! covers (its own words count most, the article title and heading help) and, with
//! embeddings, by how close its meaning is to the question's. Questions in the
//! articles are never used as answers. The answer is the best sentence with the lines it
//! introduces (a sentence ending in ':' brings its list), and a close second sentence — all
//! copied from the article, never written. Below the confidence threshold the node is
//! `unanswered`; "I want a person" is `human` and "that solved it" is `resolved`.

use crate::embed::dot;
use crate::kb::{answerable_sentence, semantic_confidence, Knowledge, Passage, Query};
use crate::{intent, text, Role, Turn};
use baton_flow::runtime::{AiOutcome, AnswerIntent, Source};
use std::collections::BTreeSet;

/// Used when the node sets no threshold (measured on examples/kb/questions.jsonl, docs/ai.md).
pub const DEFAULT_THRESHOLD: f64 = 0.6;
/// Words of an answer at most (whole sentences; the first is always kept).
const MAX_ANSWER_WORDS: usize = 90;

/// With embeddings, the share of a sentence's score that is its closeness in meaning to the
/// question (the rest is the question's words it covers). Chosen on the dev halves of
/// `evals/` with `examples/answer_sweep.rs` (docs/ai.md).
const SEMANTIC_SHARE: f64 = 0.4;

/// Pronouns and openings that make a question lean on the one before.
const FOLLOW_UP: &[&str] = &[
    "it",
    "that",
    "this",
    "they",
    "them",
    "those",
    "these",
    "there",
    "and",
    "also",
    "what about",
    "how about",
    "same",
    "one",
];

/// The result of answering, with what it was based on.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub outcome: AiOutcome,
    pub confidence: f64,
    /// The passages considered, best first.
    pub passages: Vec<Passage>,
}

/// Answers a question from the knowledge base.
pub fn answer(
    question: &str,
    transcript: &[Turn],
    knowledge: Option<&Knowledge>,
    collections: &[String],
    threshold: f64,
) -> Answer {
    let refuse = |confidence: f64, passages: Vec<Passage>| Answer {
        outcome: AiOutcome::Answer {
            text: String::new(),
            sources: Vec::new(),
            intent: AnswerIntent::Unanswered,
        },
        confidence,
        passages,
    };
    if let Some(i) = intent::detect(question) {
        return Answer {
            outcome: AiOutcome::Answer {
                text: String::new(),
                sources: Vec::new(),
                intent: i,
            },
            confidence: 1.0,
            passages: Vec::new(),
        };
    }
    let Some(knowledge) = knowledge else {
        return refuse(0.0, Vec::new());
    };
    let query = retrieval_query(question, transcript, collections, 4);
    let passages = knowledge.search(&query);
    let previous = last_bot_text(transcript);
    let weights = QueryWeights::new(knowledge, question, &query.context);
    let mut best: Option<(f64, String, usize)> = None;
    // In a multi-turn conversation, say something new if something new is good enough.
    for avoid in [previous.as_deref(), None] {
        for (p_index, p) in passages.iter().enumerate().take(3) {
            let Some((score, text)) = compose(p, &weights, avoid) else {
                continue;
            };
            // The passage must match, and so must the sentences taken from it.
            let confidence = 0.35 * p.confidence + 0.65 * score;
            if best.as_ref().is_none_or(|b| confidence > b.0 + 1e-9) {
                best = Some((confidence, text, p_index));
            }
        }
        if best.as_ref().is_some_and(|b| b.0 >= threshold) || avoid.is_none() {
            break;
        }
        best = None;
    }
    let Some((confidence, answer_text, p_index)) = best else {
        return refuse(0.0, passages);
    };
    if confidence < threshold {
        return refuse(confidence, passages);
    }
    let p = &passages[p_index];
    let sources = vec![Source {
        title: p.title.clone(),
        url: p.url.clone(),
    }];
    Answer {
        outcome: AiOutcome::Answer {
            text: answer_text,
            sources,
            intent: AnswerIntent::Answered,
        },
        confidence,
        passages,
    }
}

/// The articles of the passages a question retrieves, best first, each once (recall@k), with
/// the best passage's retrieval confidence.
pub fn ranked_articles(
    question: &str,
    transcript: &[Turn],
    knowledge: &Knowledge,
    collections: &[String],
) -> (Vec<String>, f64) {
    let passages = knowledge.search(&retrieval_query(question, transcript, collections, 10));
    let best = passages.first().map_or(0.0, |p| p.confidence);
    let mut out: Vec<String> = Vec::new();
    for p in passages {
        if !out.contains(&p.article_id) {
            out.push(p.article_id);
        }
    }
    (out, best)
}

/// The search for a question: with the previous customer message when it is a follow-up.
fn retrieval_query(question: &str, transcript: &[Turn], collections: &[String], limit: usize) -> Query {
    Query {
        text: question.to_string(),
        context: follow_up_context(question, transcript),
        collections: collections.to_vec(),
        limit,
    }
}

/// Earlier customer turns to search with, when the question leans on them.
pub fn follow_up_context(question: &str, transcript: &[Turn]) -> Vec<String> {
    let words = text::words(question);
    let content = text::terms(question).len();
    let joined = format!(" {} ", words.join(" "));
    let leans = content <= 2 || FOLLOW_UP.iter().any(|f| joined.contains(&format!(" {f} ")));
    if !leans {
        return Vec::new();
    }
    let q = question.trim();
    transcript
        .iter()
        .rev()
        .filter(|t| t.role == Role::Customer && t.text.trim() != q && intent::detect(&t.text).is_none())
        .take(1)
        .map(|t| t.text.clone())
        .collect()
}

fn last_bot_text(transcript: &[Turn]) -> Option<String> {
    transcript
        .iter()
        .rev()
        .find(|t| t.role == Role::Bot)
        .map(|t| t.text.clone())
}

/// The question's terms weighted by how rare they are in the knowledge base (an earlier
/// customer turn's terms count for less), to score sentences with.
struct QueryWeights {
    terms: Vec<(String, f64)>,
    total: f64,
}

impl QueryWeights {
    fn new(knowledge: &Knowledge, question: &str, context: &[String]) -> QueryWeights {
        let terms = knowledge.read(|kb| {
            let mut w: Vec<(String, f64)> = Vec::new();
            let mut seen = BTreeSet::new();
            for t in text::terms(question) {
                if seen.insert(t.clone()) {
                    let idf = kb.idf(&t);
                    w.push((t, idf));
                }
            }
            for c in context {
                for t in text::terms(c) {
                    if seen.insert(t.clone()) {
                        let idf = kb.idf(&t) * 0.35;
                        w.push((t, idf));
                    }
                }
            }
            w
        });
        let total = terms.iter().map(|(_, w)| w).sum::<f64>().max(1e-9);
        QueryWeights { terms, total }
    }
}

/// Scores a passage's sentences against the question: the question's words a sentence covers
/// (its own words count most, the article title and heading help) and, with embeddings, how
/// close its meaning is.
struct SentenceScorer<'a> {
    weights: &'a QueryWeights,
    /// The title's and heading's terms.
    context: BTreeSet<String>,
    /// Each sentence's closeness in meaning to the question (0..1), with embeddings.
    closeness: Vec<Option<f64>>,
    /// Each sentence's terms.
    terms: Vec<BTreeSet<String>>,
    /// Whether each sentence has a digit (a figure helps an answer a little).
    digits: Vec<bool>,
}

impl<'a> SentenceScorer<'a> {
    fn new(p: &Passage, weights: &'a QueryWeights) -> SentenceScorer<'a> {
        SentenceScorer {
            weights,
            context: text::terms(&p.title)
                .into_iter()
                .chain(text::terms(&p.heading))
                .collect(),
            closeness: p
                .sentences
                .iter()
                .map(|s| {
                    let (q, v) = (p.query_vector.as_deref()?, s.vector.as_deref()?);
                    Some(semantic_confidence(f64::from(dot(q, v))))
                })
                .collect(),
            terms: p
                .sentences
                .iter()
                .map(|s| text::terms(&s.text).into_iter().collect())
                .collect(),
            digits: p
                .sentences
                .iter()
                .map(|s| s.text.chars().any(|c| c.is_ascii_digit()))
                .collect(),
        }
    }

    /// The words score of a set of terms (a sentence's, or two sentences' together).
    fn lexical(&self, own: &BTreeSet<String>, digits: bool) -> f64 {
        let mut own_cov = 0.0;
        let mut ctx_cov = 0.0;
        for (t, w) in &self.weights.terms {
            if own.contains(t) {
                own_cov += w;
                ctx_cov += w;
            } else if self.context.contains(t) {
                ctx_cov += w;
            }
        }
        let mut score = 0.65 * own_cov / self.weights.total + 0.35 * ctx_cov / self.weights.total;
        if digits {
            score += 0.03;
        }
        score.min(1.0)
    }

    /// The words score mixed with the closest meaning among sentences `first..=last`.
    fn mix(&self, lexical: f64, first: usize, last: usize) -> f64 {
        match (first..=last).filter_map(|j| self.closeness[j]).reduce(f64::max) {
            Some(c) => SEMANTIC_SHARE * c + (1.0 - SEMANTIC_SHARE) * lexical,
            None => lexical,
        }
    }

    /// One sentence's score.
    fn sentence(&self, i: usize) -> f64 {
        self.mix(self.lexical(&self.terms[i], self.digits[i]), i, i)
    }

    /// Two neighbouring sentences' score together.
    fn pair(&self, i: usize) -> f64 {
        let both: BTreeSet<String> = self.terms[i].union(&self.terms[i + 1]).cloned().collect();
        self.mix(self.lexical(&both, self.digits[i] || self.digits[i + 1]), i, i + 1)
    }
}

/// The best sentences of a passage for the query terms: (score 0..1, text). A window of two
/// sentences of one paragraph may win over one ("We trust our gold members. Thus, they …").
fn compose(p: &Passage, weights: &QueryWeights, said: Option<&str>) -> Option<(f64, String)> {
    let scorer = SentenceScorer::new(p, weights);
    // Sentences with the line they come from, to keep lists together.
    let sentences = &p.sentences;
    let usable: Vec<bool> = sentences
        .iter()
        .map(|s| answerable_sentence(&s.text) && !said.is_some_and(|p| p.contains(s.text.as_str())))
        .collect();
    // (score, first, last) over single sentences and pairs on one line.
    let mut windows: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..sentences.len() {
        if !usable[i] {
            continue;
        }
        windows.push((scorer.sentence(i), i, i));
        if i + 1 < sentences.len() && usable[i + 1] && sentences[i + 1].line == sentences[i].line {
            windows.push((0.92 * scorer.pair(i), i, i + 1));
        }
    }
    let &(best_score, first, last) = windows
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)))?;
    if best_score <= 0.0 {
        return None;
    }
    let mut keep: BTreeSet<usize> = (first..=last).collect();
    // A sentence that introduces a list brings the list (the first sentence of each item).
    if sentences[last].text.trim_end().ends_with(':') {
        let mut line = sentences[last].line;
        for (j, s) in sentences.iter().enumerate().skip(last + 1) {
            if s.line == line {
                continue;
            }
            if !s.text.starts_with("- ") || keep.len() >= 8 {
                break;
            }
            line = s.line;
            keep.insert(j);
        }
    }
    // A close second elsewhere in the passage.
    if let Some(&(_, a, b)) = windows
        .iter()
        .filter(|(s, a, b)| {
            a == b && !keep.contains(a) && *s >= 0.8 * best_score && *s > 0.3 && (*a + 1 < first || *b > last + 1)
        })
        .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)))
    {
        keep.extend(a..=b);
    }
    let mut out: Vec<&str> = Vec::new();
    let mut words = 0;
    for &j in &keep {
        let s = sentences[j].text.as_str();
        let w = text::word_count(s);
        if !out.is_empty() && words + w > MAX_ANSWER_WORDS {
            continue;
        }
        words += w;
        out.push(s);
    }
    Some((best_score, join_sentences(&out)))
}

/// Sentences put back together: a list item, or what follows a line ending in ':', on a line of
/// its own.
fn join_sentences(sentences: &[&str]) -> String {
    let mut text = String::new();
    for (i, s) in sentences.iter().enumerate() {
        if i > 0 {
            let prev = sentences[i - 1];
            text.push(if prev.ends_with(':') || s.starts_with("- ") {
                '\n'
            } else {
                ' '
            });
        }
        text.push_str(s);
    }
    text
}

/// Words of each passage an embedded model reads at most ([`focus`]).
pub const FOCUS_WORDS: usize = 80;

/// The passages cut to their run of sentences closest to the question, at most `max_words`
/// words each (a shorter passage is kept whole, a longer first sentence alone): what an
/// embedded model reads, since on a CPU every word of its prompt delays the answer's first one.
pub fn focus(
    passages: &[Passage],
    question: &str,
    transcript: &[Turn],
    knowledge: &Knowledge,
    max_words: usize,
) -> Vec<Passage> {
    let weights = QueryWeights::new(knowledge, question, &follow_up_context(question, transcript));
    passages
        .iter()
        .map(|p| {
            let words: Vec<usize> = p.sentences.iter().map(|s| text::word_count(&s.text)).collect();
            if words.iter().sum::<usize>() <= max_words {
                return p.clone();
            }
            let scorer = SentenceScorer::new(p, &weights);
            let scores: Vec<f64> = (0..p.sentences.len()).map(|i| scorer.sentence(i)).collect();
            // The run of whole sentences within the budget whose scores add up the most (the
            // first and shortest of equals: what adds nothing to the score only adds reading).
            let mut best: Option<(f64, usize, usize)> = None;
            for first in 0..p.sentences.len() {
                let (mut total, mut used) = (0.0, 0);
                for last in first..p.sentences.len() {
                    used += words[last];
                    if used > max_words && last > first {
                        break;
                    }
                    total += scores[last];
                    if best.is_none_or(|b| total > b.0 + 1e-9) {
                        best = Some((total, first, last));
                    }
                }
            }
            let Some((_, first, last)) = best else {
                return p.clone();
            };
            let kept: Vec<&str> = p.sentences[first..=last].iter().map(|s| s.text.as_str()).collect();
            Passage {
                text: join_sentences(&kept),
                sentences: p.sentences[first..=last].into(),
                ..p.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{Article, KnowledgeBase};

    fn knowledge() -> Knowledge {
        let mut kb = KnowledgeBase::new();
        for (id, title, md) in [
            (
                "shipping-cost",
                "Shipping Cost",
                "# Shipping Cost\n\nStandard shipping is $8.00. Overnight shipping is $25.\n\nQuestions customers ask:\n\n- Price of gift wrapping?\n",
            ),
            (
                "refund",
                "Initiate Refund",
                "# Initiate Refund\n\nValid refund methods are:\n\n- Gift card\n- Paper check\n- Credit card\n\nIf the customer does not know the amount, the default amount is $50.",
            ),
        ] {
            kb.upsert(Article {
                id: id.into(),
                collection: "help".into(),
                title: title.into(),
                url: Some(format!("https://help.example.com/{id}")),
                markdown: md.into(),
            })
            .ok();
        }
        Knowledge::new(kb)
    }

    fn ask(q: &str, transcript: &[Turn]) -> Answer {
        answer(q, transcript, Some(&knowledge()), &[], DEFAULT_THRESHOLD)
    }

    fn text_of(a: &Answer) -> (&str, AnswerIntent) {
        match &a.outcome {
            AiOutcome::Answer { text, intent, .. } => (text.as_str(), *intent),
            _ => ("", AnswerIntent::Unanswered),
        }
    }

    #[test]
    fn the_model_reads_the_run_of_sentences_closest_to_the_question() {
        let mut kb = KnowledgeBase::new();
        let filler = "Our team reviews every request with care and patience. ".repeat(6);
        let markdown =
            format!("# Returns\n\n{filler}Gold members may return items within 90 days. Others have 30 days. {filler}");
        kb.upsert(Article {
            id: "returns".into(),
            collection: "help".into(),
            title: "Returns".into(),
            url: None,
            markdown,
        })
        .ok();
        let knowledge = Knowledge::new(kb);
        let q = "how long do gold members have to return stuff";
        let a = answer(q, &[], Some(&knowledge), &[], 0.0);
        let whole = &a.passages[0];
        assert!(text::word_count(&whole.text) > 40, "{whole:?}");
        let focused = focus(&a.passages, q, &[], &knowledge, 20);
        let text = &focused[0].text;
        assert!(text.contains("Gold members may return items within 90 days."), "{text}");
        assert!(text::word_count(text) <= 20, "{text}");
        assert_eq!(focused[0].sentences.len(), text::sentences(text).len(), "{focused:?}");
        // A passage within the budget is kept whole.
        assert_eq!(focus(&a.passages, q, &[], &knowledge, 1000)[0].text, whole.text);
    }

    #[test]
    fn answers_with_the_sentence_and_source() {
        let a = ask("How much is standard shipping?", &[]);
        let (t, i) = text_of(&a);
        assert_eq!(i, AnswerIntent::Answered, "{a:?}");
        assert!(t.starts_with("Standard shipping is $8.00."), "{t}");
        let AiOutcome::Answer { sources, .. } = &a.outcome else {
            panic!("an answer")
        };
        assert_eq!(sources[0].title, "Shipping Cost");
    }

    #[test]
    fn lists_come_with_their_introduction() {
        let a = ask("What refund methods are valid?", &[]);
        let (t, _) = text_of(&a);
        assert_eq!(
            t, "Valid refund methods are:\n- Gift card\n- Paper check\n- Credit card",
            "{a:?}"
        );
    }

    #[test]
    fn refuses_without_the_fact() {
        for q in [
            "How much does gift wrapping cost?",
            "Do you sell bicycles?",
            "What is the weather in Paris?",
        ] {
            let a = ask(q, &[]);
            assert_eq!(text_of(&a).1, AnswerIntent::Unanswered, "{q}: {a:?}");
        }
    }

    #[test]
    fn intents() {
        assert_eq!(text_of(&ask("can I talk to someone", &[])).1, AnswerIntent::Human);
        assert_eq!(text_of(&ask("thanks, that's all", &[])).1, AnswerIntent::Resolved);
    }

    /// Vectors by meaning for a handful of words: money coming back, and a parcel.
    struct Concepts;

    impl crate::embed::Embedder for Concepts {
        fn id(&self) -> &str {
            "concepts"
        }

        fn dim(&self) -> usize {
            3
        }

        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, crate::AiError> {
            Ok(texts
                .iter()
                .map(|t| {
                    let t = t.to_lowercase();
                    let has = |words: &[&str]| f32::from(u8::from(words.iter().any(|w| t.contains(w))));
                    let mut v = vec![has(&["refund", "money back"]), has(&["parcel", "package"]), 0.1];
                    crate::embed::normalize(&mut v);
                    v
                })
                .collect())
        }
    }

    #[test]
    fn with_embeddings_the_sentence_closest_in_meaning_wins() {
        let md =
            "# Orders\n\nYour order is sent as one parcel within 5 days.\n\nRefunds reach your card within 5 days.";
        let ask_with = |kb: KnowledgeBase| {
            let mut kb = kb;
            kb.upsert(Article {
                id: "orders".into(),
                collection: "help".into(),
                title: "Orders".into(),
                url: None,
                markdown: md.into(),
            })
            .ok();
            let a = answer(
                "within how many days do I get my money back?",
                &[],
                Some(&Knowledge::new(kb)),
                &[],
                0.0,
            );
            text_of(&a).0.to_string()
        };
        // Words alone tie ("within", "days"), and the first sentence is taken.
        assert!(ask_with(KnowledgeBase::new()).starts_with("Your order"));
        let with_meaning = ask_with(KnowledgeBase::with_embedder(std::sync::Arc::new(Concepts)));
        assert!(with_meaning.starts_with("Refunds reach your card"), "{with_meaning}");
    }

    #[test]
    fn follow_up_questions_use_the_previous_turn() {
        let transcript = vec![
            Turn::customer("What refund methods are valid?"),
            Turn::bot("Valid refund methods are:\n- Gift card\n- Paper check\n- Credit card"),
            Turn::customer("and what amount if I don't know it?"),
        ];
        let a = ask("and what amount if I don't know it?", &transcript);
        let (t, i) = text_of(&a);
        assert_eq!(i, AnswerIntent::Answered, "{a:?}");
        assert!(t.contains("default amount is $50"), "{t}");
    }
}
