//! The offline provider: no network, no key, deterministic. Classification with a linear model
//! over the category examples (plus embeddings when configured), extraction by patterns,
//! extractive summaries, a sentiment lexicon, and extractive answers from the knowledge base.

use crate::classify::{ClassifierCache, ClassifierOptions};
use crate::embed::Embedder;
use crate::{answer, extract, sentiment, summary, AiContext, AiProvider};
use baton_flow::document::Category;
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest};
use std::sync::Arc;

/// Settings of the offline provider.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfflineOptions {
    /// Let AI Answer's threshold when the node sets none.
    pub answer_threshold: f64,
    /// Classify's threshold when the node sets none.
    pub classify_threshold: f64,
    pub classifier: ClassifierOptions,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions {
            answer_threshold: answer::DEFAULT_THRESHOLD,
            classify_threshold: 0.3,
            classifier: ClassifierOptions::default(),
        }
    }
}

struct Inner {
    embedder: Option<Arc<dyn Embedder>>,
    classifiers: ClassifierCache,
    options: OfflineOptions,
    /// The embedded language model, when one is loaded.
    #[cfg(feature = "generation")]
    local: Option<crate::local::Local>,
}

/// The default provider. Cheap to clone (shared caches).
#[derive(Clone)]
pub struct OfflineProvider {
    inner: Arc<Inner>,
}

impl Default for OfflineProvider {
    fn default() -> Self {
        OfflineProvider::new()
    }
}

impl std::fmt::Debug for OfflineProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineProvider")
            .field("embedder", &self.inner.embedder.as_ref().map(|e| e.id().to_string()))
            .field("options", &self.inner.options)
            .field("model", &self.model_id())
            .finish()
    }
}

impl OfflineProvider {
    /// Lexical only.
    pub fn new() -> OfflineProvider {
        OfflineProvider::build(None, OfflineOptions::default())
    }

    /// With sentence embeddings for classification (the knowledge base has its own embedder).
    pub fn with_embedder(embedder: Arc<dyn Embedder>) -> OfflineProvider {
        OfflineProvider::build(Some(embedder), OfflineOptions::default())
    }

    pub fn build(embedder: Option<Arc<dyn Embedder>>, options: OfflineOptions) -> OfflineProvider {
        OfflineProvider {
            inner: Arc::new(Inner {
                embedder,
                classifiers: ClassifierCache::default(),
                options,
                #[cfg(feature = "generation")]
                local: None,
            }),
        }
    }

    /// With an embedded language model for answers, instructions and summaries.
    #[cfg(feature = "generation")]
    pub fn with_local(self, local: crate::local::Local) -> OfflineProvider {
        OfflineProvider {
            inner: Arc::new(Inner {
                embedder: self.inner.embedder.clone(),
                classifiers: ClassifierCache::default(),
                options: self.inner.options,
                local: Some(local),
            }),
        }
    }

    /// The embedded language model's name, when one is loaded.
    pub fn model_id(&self) -> Option<String> {
        #[cfg(feature = "generation")]
        if let Some(local) = &self.inner.local {
            return Some(local.model.id().to_string());
        }
        None
    }

    pub fn options(&self) -> &OfflineOptions {
        &self.inner.options
    }

    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.inner.embedder.as_ref()
    }

    /// Classifies a text: `Category { category: None }` below the threshold.
    /// The escape category (or `answer`) a text at a question reads as, at the escape confidence
    /// (`baton_flow::escape::classifier_categories`); None when nothing is sure enough.
    pub fn escape_intent(&self, text: &str, categories: &[Category]) -> Option<String> {
        match self.classify(text, categories, Some(baton_flow::escape::ESCAPE_CONFIDENCE)) {
            AiOutcome::Category { category, .. } => category,
            _ => None,
        }
    }

    /// A new workspace's world for simulations (`baton test`, saved tests, `baton chat`), its
    /// escapes read with this provider as on the server.
    pub fn default_world(&self) -> baton_flow::runtime::StaticWorld {
        baton_flow::runtime::StaticWorld {
            intent: Some(self.intent_classifier()),
            ..baton_flow::runtime::StaticWorld::default()
        }
    }

    /// This provider as the intent classifier a simulated world reads escapes with.
    pub fn intent_classifier(&self) -> baton_flow::runtime::IntentClassifier {
        let provider = self.clone();
        baton_flow::runtime::IntentClassifier(Arc::new(move |text: &str, categories: &[Category]| {
            provider.escape_intent(text, categories)
        }))
    }

    pub fn classify(&self, text: &str, categories: &[Category], threshold: Option<f64>) -> AiOutcome {
        if categories.is_empty() {
            return AiOutcome::Failed {
                reason: "no categories to classify into".into(),
            };
        }
        let model = self
            .inner
            .classifiers
            .get(categories, self.inner.embedder.as_ref(), self.inner.options.classifier);
        let min = threshold.unwrap_or(self.inner.options.classify_threshold);
        match model.predict(text) {
            Some(p) if p.confidence >= min && !text.trim().is_empty() => AiOutcome::Category {
                category: Some(p.category),
                confidence: round3(p.confidence),
            },
            Some(p) => AiOutcome::Category {
                category: None,
                confidence: round3(p.confidence),
            },
            None => AiOutcome::Category {
                category: None,
                confidence: 0.0,
            },
        }
    }

    /// Answers a request on the calling thread (the CLI, the simulator, tests).
    pub fn run_blocking(&self, request: &AiRequest, context: &AiContext) -> AiOutcome {
        self.run_blocking_streaming(request, context, &mut |_: &str| {})
    }

    /// Like [`OfflineProvider::run_blocking`], telling an answer's text as the embedded model
    /// writes it (the extractive path tells nothing: its answer comes whole).
    #[cfg_attr(not(feature = "generation"), allow(unused_variables))]
    pub fn run_blocking_streaming(
        &self,
        request: &AiRequest,
        context: &AiContext,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> AiOutcome {
        #[cfg(feature = "generation")]
        if let Some(local) = &self.inner.local {
            match &request.query {
                AiQuery::Answer {
                    question,
                    collections,
                    threshold,
                } => {
                    let threshold = threshold.unwrap_or(self.inner.options.answer_threshold);
                    return local.answer(question, context, collections, threshold, on_text);
                }
                AiQuery::Summarize => return local.summarize(context),
                AiQuery::Instruction { instruction, text } => return local.instruction(instruction, text),
                _ => {}
            }
        }
        match &request.query {
            AiQuery::Classify {
                text,
                categories,
                threshold,
            } => self.classify(text, categories, *threshold),
            AiQuery::Extract { text, fields } => AiOutcome::Fields {
                values: extract::extract(text, fields, context.today.as_deref()),
            },
            AiQuery::Summarize => AiOutcome::Text {
                text: summary::summarize(&context.transcript, &context.variables),
            },
            AiQuery::Sentiment { text } => {
                let s = sentiment::analyze(text);
                AiOutcome::Sentiment {
                    sentiment: s.label().to_string(),
                    frustrated: s.frustrated,
                }
            }
            AiQuery::Instruction { .. } => AiOutcome::Failed {
                reason: "instructions need a language model: start the server with the embedded model (--model) or \
                         configure an OpenAI-compatible provider for this workspace"
                    .into(),
            },
            AiQuery::Answer {
                question,
                collections,
                threshold,
            } => {
                answer::answer(
                    question,
                    &context.transcript,
                    context.knowledge.as_ref(),
                    collections,
                    threshold.unwrap_or(self.inner.options.answer_threshold),
                )
                .outcome
            }
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[async_trait::async_trait]
impl AiProvider for OfflineProvider {
    fn name(&self) -> String {
        let mut name = String::from("offline");
        if let Some(e) = &self.inner.embedder {
            name.push('+');
            name.push_str(e.id());
        }
        if let Some(m) = self.model_id() {
            name.push('+');
            name.push_str(&m);
        }
        name
    }

    /// Runs on tokio's blocking pool when inside a runtime (training a classifier for a large
    /// category set the first time takes seconds), else on the calling thread.
    async fn run(&self, request: &AiRequest, context: &AiContext) -> AiOutcome {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.run_blocking(request, context);
        }
        let this = self.clone();
        let request = request.clone();
        let context = context.clone();
        match tokio::task::spawn_blocking(move || this.run_blocking(&request, &context)).await {
            Ok(outcome) => outcome,
            Err(e) => AiOutcome::Failed {
                reason: format!("the offline AI stopped: {e}"),
            },
        }
    }

    /// With the embedded model, the answer's text comes as the model writes it: the model runs
    /// on tokio's blocking pool and its text crosses to the caller over a channel.
    async fn run_streaming(
        &self,
        request: &AiRequest,
        context: &AiContext,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> AiOutcome {
        if self.model_id().is_none() || tokio::runtime::Handle::try_current().is_err() {
            let outcome = self.run(request, context).await;
            crate::tell_answer(&outcome, on_text);
            return outcome;
        }
        let this = self.clone();
        let request = request.clone();
        let context = context.clone();
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
        let task = tokio::task::spawn_blocking(move || {
            this.run_blocking_streaming(&request, &context, &mut |d: &str| {
                let _ = sender.send(d.to_string());
            })
        });
        while let Some(delta) = receiver.recv().await {
            on_text(&delta);
        }
        match task.await {
            Ok(outcome) => outcome,
            Err(e) => AiOutcome::Failed {
                reason: format!("the offline AI stopped: {e}"),
            },
        }
    }
}
