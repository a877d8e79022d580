//! `baton eval classify` and `baton eval answer`: measure the offline AI on labelled data
//! (`baton eval escapes`: eval_escapes.rs).

use anyhow::{bail, Context, Result};
use baton_ai::eval;
use baton_ai::{AiProvider, Embedder, Knowledge, KnowledgeBase, OfflineProvider, OpenAiCompatible, OpenAiConfig};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Classification accuracy on labelled texts (CSV `text,category`, as Banking77).
    Classify(ClassifyArgs),
    /// Let AI Answer on a questions file (JSONL) against a knowledge base.
    Answer(AnswerArgs),
    /// Escapes at a question (a person, cancel, start over) on customers' messages (JSONL).
    Escapes(crate::eval_escapes::EscapesArgs),
}

#[derive(Args)]
pub struct ModelArgs {
    /// Directory of all-MiniLM-L6-v2 (config.json, tokenizer.json, model.safetensors) for
    /// embeddings; without it (and without BATON_MINILM_DIR) the evaluation is lexical only.
    #[arg(long, env = "BATON_MINILM_DIR", value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// Lexical only, even when a model directory is known.
    #[arg(long)]
    no_embeddings: bool,
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// Training examples: CSV with a header, `text,category`.
    #[arg(long, value_name = "FILE")]
    examples: PathBuf,
    /// Test texts (same format). Without it, a stratified part of --examples is held out.
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,
    /// Share of every category held out for testing when there is no --test file.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// Seed of the held-out split and of --per-category sampling.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Use at most this many training examples per category.
    #[arg(long, value_name = "N")]
    per_category: Option<usize>,
    /// Test at most this many texts per category.
    #[arg(long, value_name = "N")]
    test_per_category: Option<usize>,
    /// How many of the worst confusions to print.
    #[arg(long, default_value_t = 10)]
    worst: usize,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
pub struct AnswerArgs {
    /// A folder of Markdown files, one Markdown file, or ABCD's guidelines.json.
    #[arg(long, value_name = "PATH")]
    kb: PathBuf,
    /// A questions file (repeat for several sets, each reported apart), one JSON object per
    /// line: {"question", "expect": [facts], "article"} or {"question", "answerable": false}.
    #[arg(long, value_name = "FILE", required = true)]
    questions: Vec<PathBuf>,
    /// Who answers: the offline provider (extractive, or the embedded model with --model) or
    /// an OpenAI-compatible endpoint (--base-url, --endpoint-model).
    #[arg(long, value_enum, default_value = "offline")]
    provider: ProviderChoice,
    /// With the offline provider: a GGUF instruct model that writes the answers
    /// (scripts/fetch-model.sh). Without it, answers are extractive.
    #[arg(long, env = "BATON_MODEL", value_name = "FILE")]
    model: Option<PathBuf>,
    /// With the embedded model: seconds a whole answer may take before the extractive answer
    /// is used.
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// With the embedded model: the extractive answer's confidence from which the model is
    /// asked to write the answer (default: the default threshold, 0.6).
    #[arg(long, value_name = "CONFIDENCE")]
    min_confidence: Option<f64>,
    /// With the embedded model: words of each passage the model reads at most, the sentences
    /// closest to the question (default 80).
    #[arg(long, value_name = "WORDS")]
    passage_words: Option<usize>,
    /// The endpoint's base URL, up to the API version (e.g. http://localhost:8080/v1).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The endpoint's model name.
    #[arg(long, value_name = "NAME")]
    endpoint_model: Option<String>,
    /// The endpoint's key.
    #[arg(long, env = "BATON_AI_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Confidence below which the answer is refused (default: the provider's).
    #[arg(long)]
    threshold: Option<f64>,
    /// Print every question, not only the ones handled wrong.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    embeddings: ModelArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderChoice {
    Offline,
    Openai,
}

pub fn run(command: EvalCommand) -> Result<ExitCode> {
    match command {
        EvalCommand::Classify(args) => classify(args),
        EvalCommand::Answer(args) => answer(args),
        EvalCommand::Escapes(args) => crate::eval_escapes::run(args),
    }
}

/// The embedding model, when asked for and available.
pub fn load_embedder(model: &ModelArgs) -> Result<Option<Arc<dyn Embedder>>> {
    if model.no_embeddings {
        return Ok(None);
    }
    let Some(dir) = &model.model_dir else {
        return Ok(None);
    };
    load_model_dir(dir).map(Some)
}

#[cfg(feature = "embeddings")]
pub fn load_model_dir(dir: &Path) -> Result<Arc<dyn Embedder>> {
    let started = std::time::Instant::now();
    let m = baton_ai::embed::MiniLm::load(dir).with_context(|| format!("loading the model in {}", dir.display()))?;
    eprintln!(
        "embeddings: {} from {} (loaded in {} ms)",
        m.id(),
        dir.display(),
        started.elapsed().as_millis()
    );
    Ok(Arc::new(m))
}

#[cfg(not(feature = "embeddings"))]
pub fn load_model_dir(_dir: &Path) -> Result<Arc<dyn Embedder>> {
    bail!("this baton was built without the `embeddings` feature")
}

fn classify(args: ClassifyArgs) -> Result<ExitCode> {
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout must be at least 0 and below 1");
    }
    let examples = eval::read_labeled_csv(&args.examples)?;
    let (mut train, mut test) = match &args.test {
        Some(path) => (examples, eval::read_labeled_csv(path)?),
        None => eval::stratified_split(&examples, args.holdout, args.seed),
    };
    if let Some(n) = args.per_category {
        train = eval::stratified_sample(&train, n, args.seed);
    }
    if let Some(n) = args.test_per_category {
        test = eval::stratified_sample(&test, n, args.seed.wrapping_add(1));
    }
    if train.is_empty() || test.is_empty() {
        bail!("nothing to train on or nothing to test");
    }
    let embedder = load_embedder(&args.model)?;
    let provider = match embedder {
        Some(e) => OfflineProvider::with_embedder(e),
        None => OfflineProvider::new(),
    };
    eprintln!(
        "training on {} examples in {} categories…",
        train.len(),
        eval::categories_from(&train).len()
    );
    let mut bar = Progress::new("classifying");
    let report = eval::evaluate_classifier(&provider, &train, &test, &mut |done, total| bar.set(done, total));
    bar.finish();
    print!("{}", report.render(args.worst));
    Ok(ExitCode::SUCCESS)
}

/// Loads articles from a path into a knowledge base.
pub fn load_knowledge(path: &Path, embedder: Option<Arc<dyn Embedder>>) -> Result<(Knowledge, usize, usize)> {
    let collection = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "default".into());
    let articles = crate::abcd::load_articles(path, &collection)?;
    let mut kb = match embedder {
        Some(e) => KnowledgeBase::with_embedder(e),
        None => KnowledgeBase::new(),
    };
    let mut bar = Progress::new("indexing");
    let total = articles.len();
    let mut chunks = 0;
    for (i, a) in articles.into_iter().enumerate() {
        chunks += kb.upsert(a)?;
        bar.set(i + 1, total);
    }
    bar.finish();
    Ok((Knowledge::new(kb), total, chunks))
}

/// The offline provider with the models asked for: sentence embeddings, and the embedded
/// language model from a GGUF file.
/// Settings of the embedded model given on the command line (None: the default).
#[derive(Default, Clone, Copy)]
pub struct LocalSettings {
    pub time_limit: Option<f64>,
    pub min_confidence: Option<f64>,
    pub passage_words: Option<usize>,
}

pub fn offline_provider(
    embedder: Option<Arc<dyn Embedder>>,
    model: Option<&Path>,
    settings: LocalSettings,
) -> Result<OfflineProvider> {
    let provider = match embedder {
        Some(e) => OfflineProvider::with_embedder(e),
        None => OfflineProvider::new(),
    };
    let Some(path) = model else {
        return Ok(provider);
    };
    with_local_model(provider, path, settings)
}

#[cfg(feature = "generation")]
fn with_local_model(provider: OfflineProvider, path: &Path, settings: LocalSettings) -> Result<OfflineProvider> {
    use baton_ai::local::{Local, LocalOptions};
    let started = std::time::Instant::now();
    let model = baton_ai::generate::LocalModel::load(path)?;
    eprintln!(
        "language model: {} on {} from {} (loaded in {} ms)",
        model.id(),
        model.runtime().name(),
        path.display(),
        started.elapsed().as_millis()
    );
    let mut options = LocalOptions::default();
    if let Some(min) = settings.min_confidence {
        if !(0.0..=1.0).contains(&min) {
            bail!("--min-confidence must be between 0 and 1");
        }
        options.min_confidence = min;
    }
    if let Some(seconds) = settings.time_limit {
        if !(seconds > 0.0 && seconds <= 600.0) {
            bail!("--time-limit must be above 0 and at most 600 seconds");
        }
        options.time_limit = std::time::Duration::from_secs_f64(seconds);
    }
    if let Some(words) = settings.passage_words {
        if words == 0 {
            bail!("--passage-words must be at least 1");
        }
        options.passage_words = words;
    }
    Ok(provider.with_local(Local {
        model: Arc::new(model),
        options,
    }))
}

#[cfg(not(feature = "generation"))]
fn with_local_model(_provider: OfflineProvider, _path: &Path, _settings: LocalSettings) -> Result<OfflineProvider> {
    bail!("this baton was built without the `generation` feature")
}

fn answer(args: AnswerArgs) -> Result<ExitCode> {
    let embedder = load_embedder(&args.embeddings)?;
    let (knowledge, articles, chunks) = load_knowledge(&args.kb, embedder.clone())?;
    eprintln!("knowledge base: {articles} articles, {chunks} chunks");
    let mut sets = Vec::new();
    for path in &args.questions {
        let cases = eval::read_questions(path)?;
        if cases.is_empty() {
            bail!("{} has no questions", path.display());
        }
        let name = path
            .strip_prefix(std::env::current_dir().unwrap_or_default())
            .unwrap_or(path)
            .display()
            .to_string();
        sets.push((name, cases));
    }
    let provider: Box<dyn AiProvider> = match args.provider {
        ProviderChoice::Offline => Box::new(offline_provider(
            embedder,
            args.model.as_deref(),
            LocalSettings {
                time_limit: args.time_limit,
                min_confidence: args.min_confidence,
                passage_words: args.passage_words,
            },
        )?),
        ProviderChoice::Openai => {
            let (Some(base_url), Some(model)) = (&args.base_url, &args.endpoint_model) else {
                bail!("--provider openai needs --base-url and --endpoint-model");
            };
            let mut config = OpenAiConfig::new(base_url, model);
            config.api_key = args.api_key.clone();
            Box::new(OpenAiCompatible::new(config)?)
        }
    };
    eprintln!("provider: {}", provider.name());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut correct = 0;
    let mut total = 0;
    let mut summaries = String::new();
    for (name, cases) in &sets {
        let report = runtime.block_on(eval::evaluate_answers(
            provider.as_ref(),
            &knowledge,
            cases,
            args.threshold,
        ));
        print!("{}", report.render_cases(args.verbose));
        summaries.push_str(&report.render_summary(name));
        correct += report.answered_correctly + report.refused_correctly;
        total += report.cases.len();
    }
    print!("{summaries}");
    println!("accuracy: {:.3}", correct as f64 / total.max(1) as f64);
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on standard error when it is a terminal; silent otherwise.
pub struct Progress {
    label: &'static str,
    tty: bool,
    last: usize,
}

impl Progress {
    pub fn new(label: &'static str) -> Progress {
        Progress {
            label,
            tty: std::io::stderr().is_terminal(),
            last: usize::MAX,
        }
    }

    pub fn set(&mut self, done: usize, total: usize) {
        if !self.tty || total == 0 {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        if filled == self.last && done != total {
            return;
        }
        self.last = filled;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r{} [{}{}] {done}/{total}",
            self.label,
            "#".repeat(filled),
            "-".repeat(width - filled)
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.tty && self.last != usize::MAX {
            eprintln!();
        }
    }
}
