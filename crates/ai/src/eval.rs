//! Evaluation of the offline provider: classification on labelled texts (Banking77's
//! `text,category` CSV) and Let AI Answer on a questions file. Used by `baton eval` and tests.

use crate::kb::Knowledge;
use crate::{answer, AiContext, AiError, AiProvider, OfflineProvider, Turn};
use baton_flow::document::Category;
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, AnswerIntent};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labeled {
    pub text: String,
    pub label: String,
}

/// Reads a CSV whose first two columns are text and label, with a header line (RFC 4180
/// quoting).
pub fn read_labeled_csv(path: &Path) -> Result<Vec<Labeled>, AiError> {
    let data = std::fs::read_to_string(path).map_err(|e| AiError::io(path, e))?;
    parse_labeled_csv(&data).map_err(|m| AiError::format(path, m))
}

pub fn parse_labeled_csv(data: &str) -> Result<Vec<Labeled>, String> {
    let records = parse_csv(data)?;
    let mut out = Vec::new();
    for (i, r) in records.into_iter().enumerate().skip(1) {
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if r.len() < 2 {
            return Err(format!("record {}: expected text,category", i + 1));
        }
        out.push(Labeled {
            text: r[0].clone(),
            label: r[1].trim().to_string(),
        });
    }
    Ok(out)
}

fn parse_csv(data: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = data.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_start = true;
            }
            _ => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// A deterministic shuffle (SplitMix64 + Fisher–Yates).
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed ^ 0x6a09_e667_f3bc_c909;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn by_label(items: &[Labeled]) -> BTreeMap<String, Vec<Labeled>> {
    let mut m: BTreeMap<String, Vec<Labeled>> = BTreeMap::new();
    for it in items {
        m.entry(it.label.clone()).or_default().push(it.clone());
    }
    m
}

/// Splits every label's items: `holdout` of them (rounded, at least one when a label has two or
/// more) go to the test part. Deterministic for a seed.
pub fn stratified_split(items: &[Labeled], holdout: f64, seed: u64) -> (Vec<Labeled>, Vec<Labeled>) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (k, (_, mut group)) in by_label(items).into_iter().enumerate() {
        shuffle(&mut group, seed.wrapping_add(k as u64));
        let mut n = (group.len() as f64 * holdout.clamp(0.0, 1.0)).round() as usize;
        if n == 0 && group.len() >= 2 && holdout > 0.0 {
            n = 1;
        }
        let n = n.min(group.len().saturating_sub(1));
        test.extend(group.drain(..n));
        train.extend(group);
    }
    (train, test)
}

/// At most `per_label` items of every label (a deterministic sample).
pub fn stratified_sample(items: &[Labeled], per_label: usize, seed: u64) -> Vec<Labeled> {
    let mut out = Vec::new();
    for (k, (_, mut group)) in by_label(items).into_iter().enumerate() {
        shuffle(&mut group, seed.wrapping_add(k as u64));
        group.truncate(per_label);
        out.extend(group);
    }
    out
}

/// Categories with the training texts as examples, sorted by id.
pub fn categories_from(train: &[Labeled]) -> Vec<Category> {
    by_label(train)
        .into_iter()
        .map(|(label, items)| Category {
            id: label,
            description: None,
            examples: items.into_iter().map(|i| i.text).collect(),
        })
        .collect()
}

/// Precision, recall, F1 of one label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelStats {
    pub label: String,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// The result of [`evaluate_classifier`].
#[derive(Debug, Clone, Serialize)]
pub struct ClassifyReport {
    pub train: usize,
    pub test: usize,
    pub categories: usize,
    pub correct: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// (expected, predicted, count), most frequent first.
    pub confusions: Vec<(String, String, usize)>,
    pub per_label: Vec<LabelStats>,
    /// Training the model (once), milliseconds.
    pub build_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_max_ms: f64,
    pub embeddings: bool,
}

/// Quantile of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Trains on `train` (once, timed) and classifies every `test` text, timing each call.
/// `progress` is told after every text (done, total).
pub fn evaluate_classifier(
    provider: &OfflineProvider,
    train: &[Labeled],
    test: &[Labeled],
    progress: &mut dyn FnMut(usize, usize),
) -> ClassifyReport {
    let categories = categories_from(train);
    let started = Instant::now();
    // Warm the cache: the first call trains the model.
    let _ = provider.classify("warm up", &categories, Some(0.0));
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut latencies = Vec::with_capacity(test.len());
    let mut predictions: Vec<Option<String>> = Vec::with_capacity(test.len());
    for (i, item) in test.iter().enumerate() {
        let t = Instant::now();
        let outcome = provider.classify(&item.text, &categories, Some(0.0));
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        predictions.push(match outcome {
            AiOutcome::Category { category, .. } => category,
            _ => None,
        });
        progress(i + 1, test.len());
    }
    latencies.sort_by(f64::total_cmp);
    let labels: Vec<String> = categories.iter().map(|c| c.id.clone()).collect();
    let mut tp: HashMap<&str, usize> = HashMap::new();
    let mut fp: HashMap<&str, usize> = HashMap::new();
    let mut support: HashMap<&str, usize> = HashMap::new();
    let mut confusions: HashMap<(String, String), usize> = HashMap::new();
    let mut correct = 0;
    for (item, pred) in test.iter().zip(&predictions) {
        *support.entry(item.label.as_str()).or_default() += 1;
        let p = pred.as_deref().unwrap_or("(unknown)");
        if p == item.label {
            correct += 1;
            *tp.entry(item.label.as_str()).or_default() += 1;
        } else {
            *fp.entry(p).or_default() += 1;
            *confusions.entry((item.label.clone(), p.to_string())).or_default() += 1;
        }
    }
    let mut per_label = Vec::new();
    let mut f1_sum = 0.0;
    let mut f1_n = 0;
    for l in &labels {
        let s = support.get(l.as_str()).copied().unwrap_or(0);
        let t = tp.get(l.as_str()).copied().unwrap_or(0) as f64;
        let f = fp.get(l.as_str()).copied().unwrap_or(0) as f64;
        let precision = if t + f > 0.0 { t / (t + f) } else { 0.0 };
        let recall = if s > 0 { t / s as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if s > 0 {
            f1_sum += f1;
            f1_n += 1;
        }
        per_label.push(LabelStats {
            label: l.clone(),
            support: s,
            precision,
            recall,
            f1,
        });
    }
    let mut confusions: Vec<(String, String, usize)> = confusions.into_iter().map(|((a, b), n)| (a, b, n)).collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    ClassifyReport {
        train: train.len(),
        test: test.len(),
        categories: labels.len(),
        correct,
        accuracy: if test.is_empty() {
            0.0
        } else {
            correct as f64 / test.len() as f64
        },
        macro_f1: if f1_n == 0 { 0.0 } else { f1_sum / f1_n as f64 },
        confusions,
        per_label,
        build_ms,
        latency_p50_ms: quantile(&latencies, 0.5),
        latency_p95_ms: quantile(&latencies, 0.95),
        latency_max_ms: latencies.last().copied().unwrap_or(0.0),
        embeddings: provider.embedder().is_some(),
    }
}

impl ClassifyReport {
    /// The report as text; its last line is `accuracy: 0.912`.
    pub fn render(&self, worst: usize) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "classify: {} categories, {} training examples, {} test texts, {}\n",
            self.categories,
            self.train,
            self.test,
            if self.embeddings {
                "lexical + embeddings"
            } else {
                "lexical only"
            }
        ));
        s.push_str(&format!("model built in {:.0} ms\n", self.build_ms));
        s.push_str(&format!(
            "correct: {}/{}   macro-F1: {:.3}\n",
            self.correct, self.test, self.macro_f1
        ));
        s.push_str(&format!(
            "latency per classify: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms\n",
            self.latency_p50_ms, self.latency_p95_ms, self.latency_max_ms
        ));
        if !self.confusions.is_empty() {
            s.push_str("worst confusions (expected → predicted):\n");
            for (a, b, n) in self.confusions.iter().take(worst) {
                s.push_str(&format!("  {n:>4}  {a} → {b}\n"));
            }
        }
        s.push_str(&format!("accuracy: {:.3}\n", self.accuracy));
        s
    }
}

/// A fact an answer must contain: one text, or any one of several ways to write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fact {
    One(String),
    AnyOf(Vec<String>),
}

impl Fact {
    /// Whether the (normalised) answer contains this fact.
    pub fn found_in(&self, normalized_answer: &str) -> bool {
        match self {
            Fact::One(f) => normalized_answer.contains(&normalize_fact(f)),
            Fact::AnyOf(v) => v.iter().any(|f| normalized_answer.contains(&normalize_fact(f))),
        }
    }

    fn label(&self) -> String {
        match self {
            Fact::One(f) => f.clone(),
            Fact::AnyOf(v) => v.join(" | "),
        }
    }
}

/// A question of an answer evaluation (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionCase {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub question: String,
    /// Facts the answer must contain (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Fact>,
    /// False: the knowledge base does not hold the answer; the right result is a refusal.
    #[serde(default = "yes")]
    pub answerable: bool,
    /// Earlier customer messages (a follow-up question).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// Restrict to these collections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<String>,
    /// The id of the article that holds the answer (for recall@k).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    /// Kinds of question: typo, followup, tier, arithmetic, multi, slang, config.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// For a question that cannot be answered: what the knowledge base lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

fn yes() -> bool {
    true
}

/// Reads a JSONL questions file (blank lines and lines starting with `#` are skipped).
pub fn read_questions(path: &Path) -> Result<Vec<QuestionCase>, AiError> {
    let data = std::fs::read_to_string(path).map_err(|e| AiError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let case: QuestionCase =
            serde_json::from_str(t).map_err(|e| AiError::format(path, format!("line {}: {e}", i + 1)))?;
        out.push(case);
    }
    Ok(out)
}

/// How one question went.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerCaseResult {
    pub id: String,
    pub question: String,
    pub answerable: bool,
    pub answered: bool,
    /// Answerable and answered with every expected fact, or not answerable and refused.
    pub correct: bool,
    pub missing: Vec<String>,
    pub text: String,
    pub source: Option<String>,
    pub intent: String,
    /// Where the source article ranked among the retrieved passages' articles (1 = first).
    pub article_rank: Option<usize>,
    /// The best retrieved passage's confidence (0..1).
    pub retrieval: f64,
    pub latency_ms: f64,
    /// Time to the first streamed text, when the provider streams.
    pub first_text_ms: Option<f64>,
}

/// The result of [`evaluate_answers`].
#[derive(Debug, Clone, Serialize)]
pub struct AnswerReport {
    pub cases: Vec<AnswerCaseResult>,
    pub answerable: usize,
    pub answered_correctly: usize,
    /// Answerable, answered, but a fact is missing.
    pub answered_incompletely: usize,
    pub not_answerable: usize,
    pub refused_correctly: usize,
    /// Not answerable and answered anyway.
    pub invented: usize,
    /// Questions that name their source article, and how many had it first / in the top 3.
    pub with_article: usize,
    pub recall_at_1: usize,
    pub recall_at_3: usize,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub first_text_p50_ms: Option<f64>,
    pub first_text_p95_ms: Option<f64>,
}

impl AnswerReport {
    /// Share of answerable questions answered with the expected facts.
    pub fn answer_accuracy(&self) -> f64 {
        ratio(self.answered_correctly, self.answerable)
    }

    /// Share of not-answerable questions refused.
    pub fn refuse_accuracy(&self) -> f64 {
        ratio(self.refused_correctly, self.not_answerable)
    }

    /// Share of all questions handled right.
    pub fn accuracy(&self) -> f64 {
        ratio(self.answered_correctly + self.refused_correctly, self.cases.len())
    }

    /// The per-question lines (all, or only the wrong ones).
    pub fn render_cases(&self, verbose: bool) -> String {
        let mut s = String::new();
        for c in &self.cases {
            if !verbose && c.correct {
                continue;
            }
            let mark = if c.correct { "ok  " } else { "FAIL" };
            let rank = c.article_rank.map(|r| format!(" rank {r}")).unwrap_or_default();
            s.push_str(&format!(
                "{mark} {} {} [{}{rank}, retrieval {:.2}]\n",
                c.id, c.question, c.intent, c.retrieval
            ));
            if !c.text.is_empty() {
                let shown: String = c.text.replace('\n', " / ").chars().take(200).collect();
                s.push_str(&format!("       → {shown}"));
                if let Some(src) = &c.source {
                    s.push_str(&format!("  ({src})"));
                }
                s.push('\n');
            }
            if !c.missing.is_empty() {
                s.push_str(&format!("       missing: {}\n", c.missing.join(", ")));
            }
        }
        s
    }

    /// The summary lines of a set, each prefixed with `name`.
    pub fn render_summary(&self, name: &str) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "{name}: answerable {}/{} answered with all facts ({:.3}), {} answered without a fact, {} refused\n",
            self.answered_correctly,
            self.answerable,
            self.answer_accuracy(),
            self.answered_incompletely,
            self.answerable - self.answered_correctly - self.answered_incompletely,
        ));
        s.push_str(&format!(
            "{name}: not answerable {}/{} refused ({:.3}), {} invented\n",
            self.refused_correctly,
            self.not_answerable,
            self.refuse_accuracy(),
            self.invented
        ));
        if self.with_article > 0 {
            s.push_str(&format!(
                "{name}: source article recall@1 {:.3}, recall@3 {:.3} ({} questions)\n",
                ratio(self.recall_at_1, self.with_article),
                ratio(self.recall_at_3, self.with_article),
                self.with_article
            ));
        }
        s.push_str(&format!(
            "{name}: latency per answer p50 {:.1} ms, p95 {:.1} ms",
            self.latency_p50_ms, self.latency_p95_ms
        ));
        if let (Some(p50), Some(p95)) = (self.first_text_p50_ms, self.first_text_p95_ms) {
            s.push_str(&format!("; first text p50 {p50:.1} ms, p95 {p95:.1} ms"));
        }
        s.push('\n');
        s
    }

    pub fn render(&self, verbose: bool) -> String {
        let mut s = self.render_cases(verbose);
        s.push_str(&self.render_summary("all"));
        s.push_str(&format!("accuracy: {:.3}\n", self.accuracy()));
        s
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn normalize_fact(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asks every question of `cases` with `provider`, one after the other, each in a conversation
/// of its own (its `context` as earlier customer messages).
pub async fn evaluate_answers(
    provider: &dyn AiProvider,
    knowledge: &Knowledge,
    cases: &[QuestionCase],
    threshold: Option<f64>,
) -> AnswerReport {
    let mut results = Vec::new();
    let mut latencies = Vec::new();
    let mut first_texts = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut transcript: Vec<Turn> = case.context.iter().map(Turn::customer).collect();
        transcript.push(Turn::customer(&case.question));
        let (ranked, retrieval) = answer::ranked_articles(&case.question, &transcript, knowledge, &case.collections);
        let article_rank = case
            .article
            .as_ref()
            .and_then(|id| ranked.iter().position(|a| a == id).map(|p| p + 1));
        let context = AiContext::default()
            .with_transcript(transcript)
            .with_knowledge(knowledge.clone());
        let request = AiRequest {
            request: i as u64 + 1,
            node: "answer".into(),
            query: AiQuery::Answer {
                question: case.question.clone(),
                collections: case.collections.clone(),
                threshold,
            },
        };
        let t = Instant::now();
        let mut first_text: Option<f64> = None;
        let mut on_text = |_: &str| {
            first_text.get_or_insert_with(|| t.elapsed().as_secs_f64() * 1000.0);
        };
        let outcome = provider.run_streaming(&request, &context, &mut on_text).await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        latencies.push(ms);
        if let Some(f) = first_text {
            first_texts.push(f);
        }
        let (text, source, intent) = match &outcome {
            AiOutcome::Answer { text, sources, intent } => {
                (text.clone(), sources.first().map(|s| s.title.clone()), *intent)
            }
            AiOutcome::Failed { reason } => (format!("(failed: {reason})"), None, AnswerIntent::Unanswered),
            _ => (String::new(), None, AnswerIntent::Unanswered),
        };
        let answered = intent == AnswerIntent::Answered;
        let hay = normalize_fact(&text);
        let missing: Vec<String> = case
            .expect
            .iter()
            .filter(|f| !answered || !f.found_in(&hay))
            .map(Fact::label)
            .collect();
        let correct = if case.answerable {
            answered && missing.is_empty()
        } else {
            !answered
        };
        results.push(AnswerCaseResult {
            id: if case.id.is_empty() {
                format!("#{}", i + 1)
            } else {
                case.id.clone()
            },
            question: case.question.clone(),
            answerable: case.answerable,
            answered,
            correct,
            missing: if case.answerable { missing } else { Vec::new() },
            text,
            source,
            intent: format!("{intent:?}").to_lowercase(),
            article_rank,
            retrieval,
            latency_ms: ms,
            first_text_ms: first_text,
        });
    }
    latencies.sort_by(f64::total_cmp);
    first_texts.sort_by(f64::total_cmp);
    let answerable = results.iter().filter(|r| r.answerable).count();
    let answered_correctly = results.iter().filter(|r| r.answerable && r.correct).count();
    let answered_incompletely = results
        .iter()
        .filter(|r| r.answerable && r.answered && !r.correct)
        .count();
    let not_answerable = results.len() - answerable;
    let refused_correctly = results.iter().filter(|r| !r.answerable && r.correct).count();
    let with_article = cases.iter().filter(|c| c.article.is_some()).count();
    let recall_at = |k: usize| {
        results
            .iter()
            .filter(|r| r.article_rank.is_some_and(|p| p <= k))
            .count()
    };
    let first_text_quantile = |q: f64| (!first_texts.is_empty()).then(|| quantile(&first_texts, q));
    AnswerReport {
        answerable,
        answered_correctly,
        answered_incompletely,
        not_answerable,
        refused_correctly,
        invented: not_answerable - refused_correctly,
        with_article,
        recall_at_1: recall_at(1),
        recall_at_3: recall_at(3),
        latency_p50_ms: quantile(&latencies, 0.5),
        latency_p95_ms: quantile(&latencies, 0.95),
        first_text_p50_ms: first_text_quantile(0.5),
        first_text_p95_ms: first_text_quantile(0.95),
        cases: results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes() {
        let rows = parse_labeled_csv("text,category\n\"Hi, \"\"there\"\"\",greet\nplain,x\r\n").expect("parses");
        assert_eq!(
            rows,
            vec![
                Labeled {
                    text: "Hi, \"there\"".into(),
                    label: "greet".into()
                },
                Labeled {
                    text: "plain".into(),
                    label: "x".into()
                }
            ]
        );
    }

    #[test]
    fn split_is_stratified_and_deterministic() {
        let items: Vec<Labeled> = (0..50)
            .map(|i| Labeled {
                text: format!("t{i}"),
                label: format!("l{}", i % 5),
            })
            .collect();
        let (train, test) = stratified_split(&items, 0.2, 7);
        assert_eq!(train.len(), 40);
        assert_eq!(test.len(), 10);
        for l in 0..5 {
            assert_eq!(test.iter().filter(|t| t.label == format!("l{l}")).count(), 2);
        }
        assert_eq!(stratified_split(&items, 0.2, 7).1, test);
        assert_ne!(stratified_split(&items, 0.2, 8).1, test);
    }

    #[test]
    fn quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
    }
}
