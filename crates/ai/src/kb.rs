//! The knowledge base: Markdown articles in collections, cut into chunks and indexed for
//! retrieval — BM25 over a light English analysis, plus sentence embeddings when an
//! [`Embedder`] is configured (hybrid scoring). Adding, replacing or removing an article updates
//! the index at once.

use crate::embed::{dot, Embedder};
use crate::{markdown, text, AiError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// BM25 parameters.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// Longest article accepted, in bytes of Markdown.
pub const MAX_ARTICLE_BYTES: usize = 1 << 20;

/// A knowledge-base article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Unique in the knowledge base (e.g. a slug or a file path).
    pub id: String,
    pub collection: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub markdown: String,
}

impl Article {
    fn check(&self) -> Result<(), AiError> {
        let bad = |message: &str| {
            Err(AiError::InvalidArticle {
                id: self.id.clone(),
                message: message.to_string(),
            })
        };
        if self.id.trim().is_empty() {
            return bad("the id is empty");
        }
        if self.title.trim().is_empty() {
            return bad("the title is empty");
        }
        if self.markdown.len() > MAX_ARTICLE_BYTES {
            return bad("longer than 1 MiB");
        }
        Ok(())
    }
}

/// A retrieved piece of an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    pub article_id: String,
    pub collection: String,
    pub title: String,
    pub url: Option<String>,
    /// The heading the text sits under.
    pub heading: String,
    pub text: String,
    /// Ranking score (higher first).
    pub score: f64,
    /// How well the passage covers the query, 0 to 1: the idf-weighted share of the query's
    /// terms found in it, averaged with the embedding similarity when embeddings are on.
    pub confidence: f64,
    /// Cosine similarity with the query (embeddings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// The text's sentences (list items are sentences too), with their vectors when
    /// embeddings are on, for composing an answer.
    #[serde(skip)]
    pub sentences: Arc<[Sentence]>,
    /// The query's vector (embeddings only), to compare with the sentences'.
    #[serde(skip)]
    pub query_vector: Option<Arc<[f32]>>,
}

/// A sentence of a chunk: the line of the chunk's text it is on, its text, and its vector
/// (embedded with the article title and heading, when embeddings are on).
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub line: usize,
    pub text: String,
    pub vector: Option<Vec<f32>>,
}

/// The sentences of a chunk's text with their line numbers (no vectors yet).
fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    for (line, l) in text.lines().enumerate() {
        for text in text::sentences(l) {
            out.push(Sentence {
                line,
                text,
                vector: None,
            });
        }
    }
    out
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The question.
    pub text: String,
    /// Earlier turns that give context (a follow-up question); their terms count less.
    pub context: Vec<String>,
    /// Only these collections (empty: all).
    pub collections: Vec<String>,
    /// At most this many passages (0: 5).
    pub limit: usize,
}

/// An article cut into chunks, with their vectors: ready to insert (the slow part — embedding —
/// happens here, outside any lock).
#[derive(Debug, Clone)]
pub struct PreparedArticle {
    article: Article,
    chunks: Vec<markdown::TextChunk>,
    /// Each chunk's sentences (with their vectors once embedded).
    sentences: Vec<Vec<Sentence>>,
    /// One vector per chunk, once embedded.
    vectors: Option<Vec<Vec<f32>>>,
}

/// Embeds an article's chunks, and the sentences of each chunk that can be part of an answer
/// (questions and sentences under three words never are), filling in the sentences' vectors.
/// Two calls: a batch of short sentences padded to a chunk's length would cost several times
/// as much.
fn embed_article(
    e: &dyn Embedder,
    title: &str,
    chunks: &[markdown::TextChunk],
    sentences: &mut [Vec<Sentence>],
) -> Result<Vec<Vec<f32>>, AiError> {
    let texts: Vec<String> = chunks.iter().map(|c| embed_text(title, c)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let chunk_vectors = e.embed(&refs)?;
    let mut wanted: Vec<&mut Sentence> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for (c, chunk_sentences) in chunks.iter().zip(sentences.iter_mut()) {
        for s in chunk_sentences.iter_mut().filter(|s| answerable_sentence(&s.text)) {
            texts.push(sentence_embed_text(title, &c.heading, &s.text));
            wanted.push(s);
        }
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = if refs.is_empty() { Vec::new() } else { e.embed(&refs)? };
    for (s, v) in wanted.into_iter().zip(vectors) {
        s.vector = Some(v);
    }
    Ok(chunk_vectors)
}

/// Whether a sentence may be (part of) an answer: not a question, three words at least.
pub fn answerable_sentence(s: &str) -> bool {
    !s.trim_end().ends_with('?') && text::word_count(s) >= 3
}

impl PreparedArticle {
    pub fn new(article: Article, embedder: Option<&dyn Embedder>) -> Result<PreparedArticle, AiError> {
        article.check()?;
        let chunks = markdown::chunk(&article.markdown);
        let mut sentences: Vec<Vec<Sentence>> = chunks.iter().map(|c| split_sentences(&c.text)).collect();
        let vectors = match embedder {
            Some(e) if !chunks.is_empty() => Some(embed_article(e, &article.title, &chunks, &mut sentences)?),
            _ => None,
        };
        Ok(PreparedArticle {
            article,
            chunks,
            sentences,
            vectors,
        })
    }

    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    pub fn chunks(&self) -> &[markdown::TextChunk] {
        &self.chunks
    }
}

/// A sentence is embedded under its article's title and heading, so that a short list item
/// ("- Waterproof?") keeps what it is about.
fn sentence_embed_text(title: &str, heading: &str, sentence: &str) -> String {
    let sentence = sentence.trim_start_matches("- ");
    if heading.is_empty() || heading == title {
        format!("{title}: {sentence}")
    } else {
        format!("{title} › {heading}: {sentence}")
    }
}

fn embed_text(title: &str, c: &markdown::TextChunk) -> String {
    if c.heading.is_empty() || c.heading == title {
        format!("{title}\n{}", c.text)
    } else {
        format!("{title} › {}\n{}", c.heading, c.text)
    }
}

#[derive(Debug)]
struct IndexedChunk {
    article: String,
    heading: String,
    text: String,
    len: u32,
    terms: Vec<(u32, u32)>,
    vector: Option<Vec<f32>>,
    sentences: Arc<[Sentence]>,
}

#[derive(Debug)]
struct StoredArticle {
    article: Article,
    slots: Vec<usize>,
}

/// Articles and their index.
#[derive(Default)]
pub struct KnowledgeBase {
    articles: BTreeMap<String, StoredArticle>,
    chunks: Vec<Option<IndexedChunk>>,
    free: Vec<usize>,
    vocab: HashMap<String, u32>,
    df: Vec<u32>,
    postings: Vec<Vec<(u32, u32)>>,
    docs: u32,
    total_len: u64,
    embedder: Option<Arc<dyn Embedder>>,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("articles", &self.articles.len())
            .field("chunks", &self.docs)
            .field("embedder", &self.embedder.as_ref().map(|e| e.id().to_string()))
            .finish()
    }
}

impl KnowledgeBase {
    /// An empty knowledge base with lexical retrieval only.
    pub fn new() -> KnowledgeBase {
        KnowledgeBase::default()
    }

    /// An empty knowledge base that also embeds chunks and queries (hybrid retrieval).
    pub fn with_embedder(embedder: Arc<dyn Embedder>) -> KnowledgeBase {
        KnowledgeBase {
            embedder: Some(embedder),
            ..KnowledgeBase::default()
        }
    }

    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// Adds an article, or replaces the one with the same id. Returns its chunk count.
    pub fn upsert(&mut self, article: Article) -> Result<usize, AiError> {
        let prepared = PreparedArticle::new(article, self.embedder.as_deref())?;
        Ok(self.insert(prepared))
    }

    /// Inserts a prepared article (replacing one with the same id). Returns its chunk count.
    /// Vectors are dropped if this base has no embedder; chunks are embedded here if it has
    /// one and the article was prepared without.
    pub fn insert(&mut self, prepared: PreparedArticle) -> usize {
        let PreparedArticle {
            article,
            chunks,
            mut sentences,
            mut vectors,
        } = prepared;
        self.remove(&article.id);
        match (&self.embedder, &vectors) {
            (None, _) => {
                vectors = None;
                sentences.iter_mut().flatten().for_each(|s| s.vector = None);
            }
            (Some(e), None) if !chunks.is_empty() => {
                vectors = embed_article(e.as_ref(), &article.title, &chunks, &mut sentences).ok();
            }
            _ => {}
        }
        let title_terms = text::terms(&article.title);
        let mut slots = Vec::with_capacity(chunks.len());
        for ((i, c), chunk_sentences) in chunks.into_iter().enumerate().zip(sentences) {
            let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
            let mut len = 0u32;
            let all = title_terms
                .iter()
                .cloned()
                .chain(text::terms(&c.heading))
                .chain(text::terms(&c.text));
            for t in all {
                let id = self.term_id(t);
                *counts.entry(id).or_default() += 1;
                len += 1;
            }
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.chunks.push(None);
                    self.chunks.len() - 1
                }
            };
            for (&t, &tf) in &counts {
                self.df[t as usize] += 1;
                self.postings[t as usize].push((slot as u32, tf));
            }
            self.docs += 1;
            self.total_len += u64::from(len);
            self.chunks[slot] = Some(IndexedChunk {
                article: article.id.clone(),
                heading: c.heading,
                text: c.text,
                len,
                terms: counts.into_iter().collect(),
                vector: vectors.as_ref().and_then(|v| v.get(i).cloned()),
                sentences: chunk_sentences.into(),
            });
            slots.push(slot);
        }
        let n = slots.len();
        self.articles
            .insert(article.id.clone(), StoredArticle { article, slots });
        n
    }

    fn term_id(&mut self, t: String) -> u32 {
        if let Some(&id) = self.vocab.get(&t) {
            return id;
        }
        let id = self.df.len() as u32;
        self.vocab.insert(t, id);
        self.df.push(0);
        self.postings.push(Vec::new());
        id
    }

    /// Removes an article and its chunks from the index. False if there was none.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(stored) = self.articles.remove(id) else {
            return false;
        };
        for slot in stored.slots {
            let Some(chunk) = self.chunks.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            for (t, _) in &chunk.terms {
                let t = *t as usize;
                self.df[t] = self.df[t].saturating_sub(1);
                self.postings[t].retain(|(s, _)| *s as usize != slot);
            }
            self.docs = self.docs.saturating_sub(1);
            self.total_len = self.total_len.saturating_sub(u64::from(chunk.len));
            self.free.push(slot);
        }
        true
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        self.articles.get(id).map(|s| &s.article)
    }

    pub fn articles(&self) -> impl Iterator<Item = &Article> {
        self.articles.values().map(|s| &s.article)
    }

    pub fn article_count(&self) -> usize {
        self.articles.len()
    }

    pub fn chunk_count(&self) -> usize {
        self.docs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// Inverse document frequency of an analysed term (a term found nowhere gets the highest).
    pub fn idf(&self, term: &str) -> f64 {
        let n = f64::from(self.docs);
        let df = self.vocab.get(term).map_or(0.0, |&t| f64::from(self.df[t as usize]));
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The passages that best answer the query, best first.
    pub fn search(&self, query: &Query) -> Vec<Passage> {
        let limit = if query.limit == 0 { 5 } else { query.limit };
        if self.docs == 0 {
            return Vec::new();
        }
        // Query terms and their weights: the question counts fully, context less.
        let mut weights: BTreeMap<String, f64> = BTreeMap::new();
        for t in text::terms(&query.text) {
            weights.insert(t, 1.0);
        }
        for c in &query.context {
            for t in text::terms(c) {
                weights.entry(t).or_insert(0.35);
            }
        }
        if weights.is_empty() {
            return Vec::new();
        }
        let avg_len = self.total_len as f64 / f64::from(self.docs.max(1));
        let mut bm25: HashMap<usize, f64> = HashMap::new();
        let mut covered: HashMap<usize, f64> = HashMap::new();
        let mut total_weight = 0.0;
        for (t, w) in &weights {
            let idf = self.idf(t);
            total_weight += w * idf;
            let Some(&id) = self.vocab.get(t) else { continue };
            for &(slot, tf) in &self.postings[id as usize] {
                let slot = slot as usize;
                let Some(chunk) = self.chunks[slot].as_ref() else {
                    continue;
                };
                let tf = f64::from(tf);
                let norm = K1 * (1.0 - B + B * f64::from(chunk.len) / avg_len);
                *bm25.entry(slot).or_default() += w * idf * tf * (K1 + 1.0) / (tf + norm);
                *covered.entry(slot).or_default() += w * idf;
            }
        }
        let allowed = |slot: usize| -> bool {
            if query.collections.is_empty() {
                return true;
            }
            self.chunks[slot]
                .as_ref()
                .and_then(|c| self.articles.get(&c.article))
                .is_some_and(|a| query.collections.contains(&a.article.collection))
        };
        // Embedding similarity, for every chunk when an embedder is configured.
        let mut similarity: HashMap<usize, f64> = HashMap::new();
        let query_vector: Option<Arc<[f32]>> = self.embedder.as_ref().and_then(|e| {
            let own_terms = weights.values().filter(|w| **w >= 1.0).count();
            let text = if query.context.is_empty() || own_terms >= 4 {
                query.text.clone()
            } else {
                format!("{} {}", query.context.join(" "), query.text)
            };
            e.embed(&[&text]).ok()?.pop().map(Arc::from)
        });
        if let Some(q) = &query_vector {
            for (slot, chunk) in self.chunks.iter().enumerate() {
                if let Some(cv) = chunk.as_ref().and_then(|c| c.vector.as_ref()) {
                    similarity.insert(slot, f64::from(dot(q, cv)));
                }
            }
        }
        let max_bm25 = bm25.values().cloned().fold(0.0, f64::max).max(1e-9);
        let mut candidates: Vec<usize> = bm25.keys().chain(similarity.keys()).copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut scored: Vec<(usize, f64, f64, Option<f64>)> = candidates
            .into_iter()
            .filter(|&s| allowed(s))
            .map(|slot| {
                let coverage = covered.get(&slot).copied().unwrap_or(0.0) / total_weight.max(1e-9);
                let lexical = bm25.get(&slot).copied().unwrap_or(0.0) / max_bm25;
                let sim = similarity.get(&slot).copied();
                let (confidence, score) = match sim {
                    Some(s) => {
                        let sem = semantic_confidence(s);
                        (0.5 * coverage + 0.5 * sem, 0.35 * coverage + 0.15 * lexical + 0.5 * sem)
                    }
                    None => (coverage, 0.7 * coverage + 0.3 * lexical),
                };
                (slot, score, confidence, sim)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
            .into_iter()
            .take(limit)
            .filter_map(|(slot, score, confidence, sim)| {
                let c = self.chunks[slot].as_ref()?;
                let a = &self.articles.get(&c.article)?.article;
                Some(Passage {
                    article_id: a.id.clone(),
                    collection: a.collection.clone(),
                    title: a.title.clone(),
                    url: a.url.clone(),
                    heading: c.heading.clone(),
                    text: c.text.clone(),
                    score,
                    confidence: confidence.clamp(0.0, 1.0),
                    similarity: sim,
                    sentences: c.sentences.clone(),
                    query_vector: query_vector.clone(),
                })
            })
            .collect()
    }
}

/// Maps a cosine similarity of all-MiniLM-L6-v2 to 0..1: 0.2 or less is unrelated, 0.7 or more
/// is a close match.
pub fn semantic_confidence(cosine: f64) -> f64 {
    ((cosine - 0.2) / 0.5).clamp(0.0, 1.0)
}

/// A knowledge base shared between tasks: reads in parallel, edits one at a time; embedding
/// of a new article happens before the write lock is taken.
#[derive(Clone, Default, Debug)]
pub struct Knowledge {
    inner: Arc<RwLock<KnowledgeBase>>,
}

impl Knowledge {
    pub fn new(base: KnowledgeBase) -> Knowledge {
        Knowledge {
            inner: Arc::new(RwLock::new(base)),
        }
    }

    /// Runs `f` with the knowledge base for reading.
    pub fn read<R>(&self, f: impl FnOnce(&KnowledgeBase) -> R) -> R {
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Adds or replaces an article; returns its chunk count.
    pub fn upsert(&self, article: Article) -> Result<usize, AiError> {
        let embedder = self.read(|kb| kb.embedder.clone());
        let prepared = PreparedArticle::new(article, embedder.as_deref())?;
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        Ok(guard.insert(prepared))
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        guard.remove(id)
    }

    pub fn search(&self, query: &Query) -> Vec<Passage> {
        self.read(|kb| kb.search(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str, collection: &str, title: &str, md: &str) -> Article {
        Article {
            id: id.into(),
            collection: collection.into(),
            title: title.into(),
            url: Some(format!("https://help.example.com/{id}")),
            markdown: md.into(),
        }
    }

    fn kb() -> KnowledgeBase {
        let mut kb = KnowledgeBase::new();
        kb.upsert(article(
            "shipping",
            "help",
            "Shipping costs",
            "Standard shipping is $8.00. Overnight shipping costs $25.",
        ))
        .ok();
        kb.upsert(article(
            "returns",
            "help",
            "Returns",
            "You can return any item within 30 days for a refund.",
        ))
        .ok();
        kb.upsert(article(
            "jobs",
            "about",
            "Careers",
            "We are hiring engineers in Lisbon.",
        ))
        .ok();
        kb
    }

    fn q(text: &str) -> Query {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }

    #[test]
    fn finds_the_right_article() {
        let kb = kb();
        let hits = kb.search(&q("How much is overnight shipping?"));
        assert_eq!(hits[0].article_id, "shipping");
        assert!(hits[0].confidence > 0.9, "{}", hits[0].confidence);
        let hits = kb.search(&q("can I return my item?"));
        assert_eq!(hits[0].article_id, "returns");
    }

    #[test]
    fn unknown_words_lower_confidence() {
        let kb = kb();
        let hits = kb.search(&q("Do you ship to Mars by rocket?"));
        assert!(hits.is_empty() || hits[0].confidence < 0.5, "{hits:?}");
    }

    #[test]
    fn collections_filter() {
        let kb = kb();
        let mut query = q("hiring engineers");
        query.collections = vec!["help".into()];
        assert!(kb.search(&query).iter().all(|p| p.collection == "help"));
    }

    #[test]
    fn edits_keep_the_index_up_to_date() {
        let mut kb = kb();
        assert!(kb.search(&q("Lisbon")).iter().any(|p| p.article_id == "jobs"));
        kb.upsert(article("jobs", "about", "Careers", "We are hiring designers in Porto."))
            .ok();
        assert!(kb.search(&q("Lisbon")).is_empty());
        assert_eq!(kb.search(&q("Porto designers"))[0].article_id, "jobs");
        assert!(kb.remove("jobs"));
        assert!(kb.search(&q("Porto")).is_empty());
        assert_eq!(kb.article_count(), 2);
        assert_eq!(kb.chunk_count(), 2);
        kb.upsert(article("jobs2", "about", "Careers", "Remote work is possible."))
            .ok();
        assert_eq!(kb.search(&q("remote work"))[0].article_id, "jobs2");
    }

    #[test]
    fn bad_articles_are_refused() {
        let mut kb = KnowledgeBase::new();
        assert!(kb.upsert(article("", "c", "t", "x")).is_err());
        assert!(kb.upsert(article("a", "c", " ", "x")).is_err());
    }
}
