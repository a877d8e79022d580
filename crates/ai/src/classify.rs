//! Offline classification into categories given example phrases.
//!
//! Features: TF-IDF over word unigrams and bigrams (lightly stemmed, stop words kept) and over
//! character 3–5-grams within words, each part L2-normalised; with an embedder, the sentence
//! embedding is appended. A one-vs-rest linear SVM (L2-regularised, squared hinge loss, trained
//! by dual coordinate descent as in LIBLINEAR) scores the categories. The category ids and
//! descriptions count as examples too.
//!
//! Confidence: a softmax over the SVM scores, times how close the text is to the nearest
//! example of the chosen category (so a text unlike every example is `unknown` even when one
//! category wins). A model is built once per category set; [`ClassifierCache`] keeps them.

use crate::embed::{dot, Embedder};
use crate::text;
use baton_flow::document::Category;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Tunables of the classifier (the defaults are what docs/ai.md measured).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierOptions {
    /// SVM regularisation: higher fits the examples more closely.
    pub c: f64,
    /// Weight of the word n-gram part of the features.
    pub word_weight: f32,
    /// Weight of the character n-gram part.
    pub char_weight: f32,
    /// Weight of the embedding part (when an embedder is given).
    pub embedding_weight: f32,
    /// Softmax temperature over SVM scores.
    pub temperature: f64,
    /// Passes of coordinate descent at most.
    pub max_passes: usize,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        ClassifierOptions {
            c: 1.0,
            word_weight: 0.6,
            char_weight: 0.8,
            embedding_weight: 1.0,
            temperature: 4.0,
            max_passes: 30,
        }
    }
}

/// The result of classifying one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index of the best category.
    pub best: usize,
    /// Category id of the best category.
    pub category: String,
    /// 0 to 1.
    pub confidence: f64,
}

/// Sparse vector: sorted (feature, value).
type Sparse = Vec<(u32, f32)>;
/// One class's trained weights: sparse part, dense part, bias.
type ClassWeights = (Vec<f32>, Vec<f32>, f32);

/// A trained classifier for one category set.
pub struct Classifier {
    ids: Vec<String>,
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
    /// weights[feature * classes + class]
    weights: Vec<f32>,
    /// Dense (embedding) weights: dense[class * dim + j]
    dense: Vec<f32>,
    bias: Vec<f32>,
    dim: usize,
    embedder: Option<Arc<dyn Embedder>>,
    options: ClassifierOptions,
    /// Training examples per class, for the closeness part of the confidence.
    examples: Vec<Vec<Example>>,
}

/// A training example as the closeness part of the confidence compares with it; its squared
/// lengths are computed once, not at every prediction.
struct Example {
    features: Sparse,
    embedding: Option<Vec<f32>>,
    features_sq: f32,
    embedding_sq: f32,
}

/// The dot product of two sparse vectors sorted by feature.
fn sparse_dot(a: &Sparse, b: &Sparse) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while let (Some(&(fa, va)), Some(&(fb, vb))) = (a.get(i), b.get(j)) {
        match fa.cmp(&fb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += va * vb;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("categories", &self.ids.len())
            .field("features", &self.vocab.len())
            .field("embeddings", &self.dim)
            .finish()
    }
}

/// Feature strings of a text: "w:" words, "b:" bigrams, "c:" character n-grams.
fn features(text: &str) -> (Vec<String>, Vec<String>) {
    let words: Vec<String> = text::words(text).into_iter().map(|w| text::stem(&w)).collect();
    let mut word_feats = Vec::with_capacity(words.len() * 2 + 1);
    for w in &words {
        word_feats.push(format!("w:{w}"));
    }
    for pair in words.windows(2) {
        word_feats.push(format!("b:{} {}", pair[0], pair[1]));
    }
    let mut char_feats = Vec::new();
    for w in text::words(text) {
        let padded: Vec<char> = format!(" {w} ").chars().collect();
        for n in 3..=5 {
            if padded.len() < n {
                continue;
            }
            for win in padded.windows(n) {
                let mut s = String::with_capacity(n + 2);
                s.push_str("c:");
                s.extend(win.iter());
                char_feats.push(s);
            }
        }
    }
    (word_feats, char_feats)
}

/// Term counts → sublinear TF × IDF, L2-normalised, scaled by `weight`.
fn vectorize(feats: &[String], vocab: &HashMap<String, u32>, idf: &[f32], weight: f32, out: &mut HashMap<u32, f32>) {
    let mut counts: HashMap<u32, f32> = HashMap::new();
    for f in feats {
        if let Some(&id) = vocab.get(f) {
            *counts.entry(id).or_default() += 1.0;
        }
    }
    let mut norm = 0.0f32;
    for (id, v) in counts.iter_mut() {
        *v = (1.0 + v.ln()) * idf[*id as usize];
        norm += *v * *v;
    }
    let norm = norm.sqrt();
    if norm > 0.0 {
        for (id, v) in counts {
            *out.entry(id).or_default() += weight * v / norm;
        }
    }
}

impl Classifier {
    /// Trains a classifier for `categories`. Texts embed with `embedder` when given (the
    /// `embed_cache` avoids embedding the same example twice across models).
    pub fn train(
        categories: &[Category],
        embedder: Option<Arc<dyn Embedder>>,
        options: ClassifierOptions,
        embed_cache: Option<&EmbeddingCache>,
    ) -> Classifier {
        let ids: Vec<String> = categories.iter().map(|c| c.id.clone()).collect();
        let mut texts: Vec<(usize, String)> = Vec::new();
        for (k, c) in categories.iter().enumerate() {
            texts.push((k, c.id.replace(['_', '-'], " ")));
            if let Some(d) = &c.description {
                if !d.trim().is_empty() {
                    texts.push((k, d.clone()));
                }
            }
            for e in &c.examples {
                if !e.trim().is_empty() {
                    texts.push((k, e.clone()));
                }
            }
        }
        // Vocabulary and document frequencies.
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        let feats: Vec<(Vec<String>, Vec<String>)> = texts.iter().map(|(_, t)| features(t)).collect();
        for (w, c) in &feats {
            let mut seen: Vec<u32> = Vec::new();
            for f in w.iter().chain(c.iter()) {
                let next = vocab.len() as u32;
                let id = *vocab.entry(f.clone()).or_insert(next);
                if id as usize == df.len() {
                    df.push(0);
                }
                seen.push(id);
            }
            seen.sort_unstable();
            seen.dedup();
            for id in seen {
                df[id as usize] += 1;
            }
        }
        let n = texts.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0).collect();
        let sparse: Vec<Sparse> = feats
            .iter()
            .map(|(w, c)| {
                let mut m = HashMap::new();
                vectorize(w, &vocab, &idf, options.word_weight, &mut m);
                vectorize(c, &vocab, &idf, options.char_weight, &mut m);
                let mut v: Sparse = m.into_iter().collect();
                v.sort_unstable_by_key(|x| x.0);
                v
            })
            .collect();
        // Embeddings.
        let mut dense: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        let mut dim = 0;
        let embedder = embedder.filter(|e| {
            let refs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = match embed_cache {
                Some(cache) => cache.embed(e.as_ref(), &refs),
                None => e.embed(&refs).ok(),
            };
            match vectors {
                Some(v) if v.len() == texts.len() => {
                    dim = e.dim();
                    let w = options.embedding_weight;
                    for (slot, mut vec) in dense.iter_mut().zip(v) {
                        vec.iter_mut().for_each(|x| *x *= w);
                        *slot = Some(vec);
                    }
                    true
                }
                _ => false,
            }
        });
        let classes = ids.len();
        let nfeat = vocab.len();
        let labels: Vec<usize> = texts.iter().map(|(k, _)| *k).collect();
        let (weights, dense_w, bias) = train_ovr(&sparse, &dense, &labels, classes, nfeat, dim, &options);
        let mut examples: Vec<Vec<Example>> = (0..classes).map(|_| Vec::new()).collect();
        for ((k, s), d) in labels.iter().zip(sparse).zip(dense) {
            examples[*k].push(Example {
                features_sq: s.iter().map(|(_, v)| v * v).sum(),
                embedding_sq: d.as_ref().map_or(0.0, |d| d.iter().map(|v| v * v).sum()),
                features: s,
                embedding: d,
            });
        }
        Classifier {
            ids,
            vocab,
            idf,
            weights,
            dense: dense_w,
            bias,
            dim,
            embedder,
            options,
            examples,
        }
    }

    pub fn categories(&self) -> &[String] {
        &self.ids
    }

    pub fn uses_embeddings(&self) -> bool {
        self.embedder.is_some()
    }

    fn vector(&self, text: &str) -> (Sparse, Option<Vec<f32>>) {
        let (w, c) = features(text);
        let mut m = HashMap::new();
        vectorize(&w, &self.vocab, &self.idf, self.options.word_weight, &mut m);
        vectorize(&c, &self.vocab, &self.idf, self.options.char_weight, &mut m);
        let mut m: Sparse = m.into_iter().collect();
        m.sort_unstable_by_key(|x| x.0);
        let d = self.embedder.as_ref().and_then(|e| {
            let mut v = e.embed(&[text]).ok()?.pop()?;
            v.iter_mut().for_each(|x| *x *= self.options.embedding_weight);
            Some(v)
        });
        (m, d)
    }

    /// SVM score per category.
    pub fn scores(&self, text: &str) -> Vec<f64> {
        let (x, d) = self.vector(text);
        self.scores_of(&x, d.as_deref())
    }

    fn scores_of(&self, x: &Sparse, d: Option<&[f32]>) -> Vec<f64> {
        let classes = self.ids.len();
        let mut s: Vec<f32> = self.bias.clone();
        for &(f, v) in x {
            let row = &self.weights[f as usize * classes..(f as usize + 1) * classes];
            for (acc, w) in s.iter_mut().zip(row) {
                *acc += v * w;
            }
        }
        if let Some(d) = d {
            if self.dim > 0 && d.len() == self.dim {
                for (k, acc) in s.iter_mut().enumerate() {
                    *acc += dot(&self.dense[k * self.dim..(k + 1) * self.dim], d);
                }
            }
        }
        s.into_iter().map(f64::from).collect()
    }

    /// The best category and the confidence in it; None without categories.
    pub fn predict(&self, text: &str) -> Option<Prediction> {
        if self.ids.is_empty() {
            return None;
        }
        let (x, d) = self.vector(text);
        let scores = self.scores_of(&x, d.as_deref());
        let (best, &top) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))?;
        let t = self.options.temperature;
        let z: f64 = scores.iter().map(|s| ((s - top) * t).exp()).sum();
        let p = 1.0 / z;
        // Closeness to the nearest example of the chosen class (cosine of the full vectors).
        let xnorm = (x.iter().map(|(_, v)| v * v).sum::<f32>()
            + d.as_ref().map_or(0.0, |d| d.iter().map(|v| v * v).sum::<f32>()))
        .sqrt()
        .max(1e-9);
        let mut near = 0.0f32;
        for example in &self.examples[best] {
            let mut dp = sparse_dot(&x, &example.features);
            let mut en = example.features_sq;
            if let (Some(a), Some(b)) = (d.as_deref(), example.embedding.as_deref()) {
                dp += dot(a, b);
                en += example.embedding_sq;
            }
            near = near.max(dp / (xnorm * en.sqrt().max(1e-9)));
        }
        let closeness = f64::from((near / 0.5).clamp(0.0, 1.0));
        Some(Prediction {
            best,
            category: self.ids[best].clone(),
            confidence: (p * closeness).clamp(0.0, 1.0),
        })
    }
}

/// One-vs-rest L2-loss linear SVMs by dual coordinate descent; classes in parallel.
fn train_ovr(
    sparse: &[Sparse],
    dense: &[Option<Vec<f32>>],
    labels: &[usize],
    classes: usize,
    nfeat: usize,
    dim: usize,
    options: &ClassifierOptions,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let per_class: Vec<ClassWeights> = if threads == 1 || classes < 4 {
        (0..classes)
            .map(|k| train_one(k, sparse, dense, labels, nfeat, dim, options))
            .collect()
    } else {
        let mut results: Vec<Option<ClassWeights>> = vec![None; classes];
        std::thread::scope(|scope| {
            let chunks: Vec<Vec<usize>> = (0..threads)
                .map(|t| (0..classes).filter(|k| k % threads == t).collect())
                .collect();
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|ks| {
                    scope.spawn(move || {
                        ks.into_iter()
                            .map(|k| (k, train_one(k, sparse, dense, labels, nfeat, dim, options)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                if let Ok(done) = h.join() {
                    for (k, r) in done {
                        results[k] = Some(r);
                    }
                }
            }
        });
        results
            .into_iter()
            .enumerate()
            .map(|(k, r)| r.unwrap_or_else(|| train_one(k, sparse, dense, labels, nfeat, dim, options)))
            .collect()
    };
    let mut weights = vec![0.0f32; nfeat * classes];
    let mut dense_w = vec![0.0f32; dim * classes];
    let mut bias = vec![0.0f32; classes];
    for (k, (w, d, b)) in per_class.into_iter().enumerate() {
        for (f, v) in w.into_iter().enumerate() {
            weights[f * classes + k] = v;
        }
        dense_w[k * dim..(k + 1) * dim].copy_from_slice(&d);
        bias[k] = b;
    }
    (weights, dense_w, bias)
}

/// A small deterministic generator for the visiting order.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The bias is a constant feature of this value.
const BIAS: f32 = 1.0;

fn train_one(
    k: usize,
    sparse: &[Sparse],
    dense: &[Option<Vec<f32>>],
    labels: &[usize],
    nfeat: usize,
    dim: usize,
    options: &ClassifierOptions,
) -> ClassWeights {
    let n = sparse.len();
    let mut w = vec![0.0f32; nfeat];
    let mut wd = vec![0.0f32; dim];
    let mut b = 0.0f32;
    let mut alpha = vec![0.0f64; n];
    let diag = 0.5 / options.c;
    let qii: Vec<f64> = (0..n)
        .map(|i| {
            let s: f32 = sparse[i].iter().map(|(_, v)| v * v).sum();
            let d: f32 = dense[i].as_ref().map_or(0.0, |d| d.iter().map(|v| v * v).sum());
            f64::from(s + d + BIAS * BIAS) + diag
        })
        .collect();
    let y: Vec<f32> = labels.iter().map(|&l| if l == k { 1.0 } else { -1.0 }).collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix(0x5eed ^ k as u64);
    for _pass in 0..options.max_passes {
        for i in (1..n).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut max_pg = f64::NEG_INFINITY;
        let mut min_pg = f64::INFINITY;
        for &i in &order {
            let mut wx: f32 = sparse[i].iter().map(|&(f, v)| w[f as usize] * v).sum();
            if let Some(d) = &dense[i] {
                wx += dot(&wd, d);
            }
            wx += b * BIAS;
            let g = f64::from(y[i] * wx) - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            max_pg = max_pg.max(pg);
            min_pg = min_pg.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qii[i]).max(0.0);
                let delta = ((alpha[i] - old) as f32) * y[i];
                if delta != 0.0 {
                    for &(f, v) in &sparse[i] {
                        w[f as usize] += delta * v;
                    }
                    if let Some(d) = &dense[i] {
                        for (a, v) in wd.iter_mut().zip(d) {
                            *a += delta * v;
                        }
                    }
                    b += delta * BIAS;
                }
            }
        }
        if max_pg - min_pg < 0.1 {
            break;
        }
    }
    (w, wd, b)
}

/// Embeddings of texts seen before (example phrases), so that editing one category does not
/// embed every example again. Bounded: cleared when full.
#[derive(Default)]
pub struct EmbeddingCache {
    map: Mutex<HashMap<(String, String), Vec<f32>>>,
}

/// Texts kept at most in an [`EmbeddingCache`].
const EMBED_CACHE_MAX: usize = 100_000;

impl EmbeddingCache {
    pub fn embed(&self, embedder: &dyn Embedder, texts: &[&str]) -> Option<Vec<Vec<f32>>> {
        let id = embedder.id().to_string();
        let missing: Vec<&str> = {
            let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            let mut m: Vec<&str> = texts
                .iter()
                .copied()
                .filter(|t| !map.contains_key(&(id.clone(), (*t).to_string())))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        let fresh = if missing.is_empty() {
            Vec::new()
        } else {
            embedder.embed(&missing).ok()?
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut local: HashMap<&str, Vec<f32>> = HashMap::new();
        for (t, v) in missing.iter().zip(fresh) {
            local.insert(t, v);
        }
        if map.len() + local.len() > EMBED_CACHE_MAX {
            map.clear();
        }
        let out = texts
            .iter()
            .map(|t| {
                local
                    .get(t)
                    .cloned()
                    .or_else(|| map.get(&(id.clone(), (*t).to_string())).cloned())
            })
            .collect::<Option<Vec<_>>>()?;
        for (t, v) in local {
            map.insert((id.clone(), t.to_string()), v);
        }
        Some(out)
    }
}

/// Classifiers by a hash of their category set (and embedder), most recent kept.
pub struct ClassifierCache {
    capacity: usize,
    entries: Mutex<VecDeque<(u64, Arc<Classifier>)>>,
    embeddings: EmbeddingCache,
}

impl Default for ClassifierCache {
    fn default() -> Self {
        ClassifierCache::new(32)
    }
}

impl ClassifierCache {
    pub fn new(capacity: usize) -> ClassifierCache {
        ClassifierCache {
            capacity: capacity.max(1),
            entries: Mutex::new(VecDeque::new()),
            embeddings: EmbeddingCache::default(),
        }
    }

    /// The cache key of a category set.
    pub fn key(categories: &[Category], embedder: Option<&dyn Embedder>, options: &ClassifierOptions) -> u64 {
        let mut h = text::fnv1a(format!("{options:?}").as_bytes(), 0);
        h = text::fnv1a(embedder.map_or("", |e| e.id()).as_bytes(), h);
        for c in categories {
            h = text::fnv1a(c.id.as_bytes(), h);
            h = text::fnv1a(&[0], h);
            h = text::fnv1a(c.description.as_deref().unwrap_or("").as_bytes(), h);
            for e in &c.examples {
                h = text::fnv1a(&[1], h);
                h = text::fnv1a(e.as_bytes(), h);
            }
            h = text::fnv1a(&[2], h);
        }
        h
    }

    /// The classifier for these categories, trained now if not cached.
    pub fn get(
        &self,
        categories: &[Category],
        embedder: Option<&Arc<dyn Embedder>>,
        options: ClassifierOptions,
    ) -> Arc<Classifier> {
        let key = ClassifierCache::key(categories, embedder.map(|e| e.as_ref()), &options);
        {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pos) = entries.iter().position(|(k, _)| *k == key) {
                if let Some(entry) = entries.remove(pos) {
                    let model = entry.1.clone();
                    entries.push_front(entry);
                    return model;
                }
            }
        }
        let model = Arc::new(Classifier::train(
            categories,
            embedder.cloned(),
            options,
            Some(&self.embeddings),
        ));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| *k != key);
        entries.push_front((key, model.clone()));
        entries.truncate(self.capacity);
        model
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(id: &str, examples: &[&str]) -> Category {
        Category {
            id: id.into(),
            description: None,
            examples: examples.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn cats() -> Vec<Category> {
        vec![
            cat(
                "refund",
                &[
                    "I want my money back",
                    "refund my order",
                    "can I get a refund",
                    "return for a refund",
                ],
            ),
            cat(
                "shipping",
                &[
                    "where is my package",
                    "my parcel has not arrived",
                    "track my delivery",
                    "when will it ship",
                ],
            ),
            cat(
                "password",
                &[
                    "I forgot my password",
                    "reset my password",
                    "can't log in",
                    "locked out of my account",
                ],
            ),
        ]
    }

    #[test]
    fn picks_the_category() {
        let m = Classifier::train(&cats(), None, ClassifierOptions::default(), None);
        for (text, want) in [
            ("I'd like a refund please", "refund"),
            ("my package never arrived", "shipping"),
            ("how do I reset the password", "password"),
        ] {
            let p = m.predict(text).expect("categories");
            assert_eq!(p.category, want, "{text}");
            assert!(p.confidence > 0.3, "{text}: {}", p.confidence);
        }
    }

    #[test]
    fn unrelated_text_has_low_confidence() {
        let m = Classifier::train(&cats(), None, ClassifierOptions::default(), None);
        let p = m.predict("what a lovely sunny afternoon").expect("categories");
        assert!(p.confidence < 0.3, "{p:?}");
        let single = Classifier::train(&cats()[..1], None, ClassifierOptions::default(), None);
        assert!(single.predict("zebra crossing").expect("one").confidence < 0.3);
        assert!(single.predict("I want a refund").expect("one").confidence > 0.3);
    }

    #[test]
    fn cache_reuses_models() {
        let cache = ClassifierCache::new(2);
        let a = cache.get(&cats(), None, ClassifierOptions::default());
        let b = cache.get(&cats(), None, ClassifierOptions::default());
        assert!(Arc::ptr_eq(&a, &b));
        let mut other = cats();
        other[0].examples.push("money back now".into());
        let c = cache.get(&other, None, ClassifierOptions::default());
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(cache.len(), 2);
    }
}
