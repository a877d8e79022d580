//! `baton eval escapes`: the escapes at a question (a person, cancel, start over), by phrase and
//! by the intent classifier, on messages customers type (evals/escapes). Each message is typed
//! at a one-question flow of its kind through the flow runtime, the classifier answering as on
//! the server; reported: escapes taken right, missed or taken wrong, and answers read as
//! escapes.

use crate::eval::{load_embedder, ModelArgs};
use anyhow::{bail, Context, Result};
use baton_ai::OfflineProvider;
use baton_flow::document::Category;
use baton_flow::escape::ESCAPE_CONFIDENCE;
use baton_flow::runtime::{AiOutcome, AiRequest, Effect, IntentClassifier, StaticWorld, WebhookCall, WebhookOutcome};
use baton_flow::sim::{Executor, Line, Simulator};
use baton_flow::Flow;
use clap::Args;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Args)]
pub struct EscapesArgs {
    /// A set of messages (JSON Lines: `question`, `input`, `options`, `message`, `label`); repeat
    /// for several sets, each reported apart.
    #[arg(long = "set", value_name = "FILE", required = true)]
    sets: Vec<PathBuf>,
    /// Confidence the classifier must reach (default: the server's).
    #[arg(long)]
    threshold: Option<f64>,
    /// Phrases only: no classifier.
    #[arg(long)]
    no_classifier: bool,
    /// Print every message, not only the ones read wrong.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Deserialize)]
struct Item {
    id: String,
    input: String,
    #[serde(default)]
    options: Vec<String>,
    message: String,
    label: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// The one-question flows call no webhook and ask no AI.
struct NoEffects;

impl Executor for NoEffects {
    fn webhook(&mut self, _call: &WebhookCall) -> WebhookOutcome {
        WebhookOutcome::Failed {
            reason: "no webhooks here".into(),
        }
    }

    fn ai(&mut self, _request: &AiRequest, _transcript: &[Line]) -> AiOutcome {
        AiOutcome::Failed {
            reason: "no AI here".into(),
        }
    }
}

/// A flow of one question of the item's kind; every escape port is left open, so each does
/// its default.
fn question_flow(item: &Item) -> Result<Flow> {
    let question = if item.input == "options" {
        let options: Vec<Value> = item
            .options
            .iter()
            .enumerate()
            .map(|(n, label)| json!({"id": format!("option_{n}"), "label": label}))
            .collect();
        json!({"id": "ask", "type": "options", "text": "Pick one", "options": options})
    } else {
        json!({"id": "ask", "type": "collect_input", "text": "Your answer?", "variable": "answer", "input": item.input})
    };
    let mut edges = vec![json!({"from": "start", "port": "next", "to": "ask"})];
    let ports: Vec<String> = if item.input == "options" {
        (0..item.options.len())
            .map(|n| format!("option_{n}"))
            .chain(["no_match".to_string()])
            .collect()
    } else {
        vec!["next".into(), "invalid".into()]
    };
    for port in ports {
        edges.push(json!({"from": "ask", "port": port, "to": "done"}));
    }
    let doc = json!({
        "format": 1, "name": "escape eval",
        "nodes": [{"id": "start", "type": "trigger"}, question, {"id": "done", "type": "end"}],
        "edges": edges
    });
    Flow::from_json(&doc.to_string()).map_err(|d| anyhow::anyhow!("{}: the question does not load: {d:?}", item.id))
}

/// What the runtime made of the message: the escape it took (`human`, `cancel`,
/// `start_over`) or `answer`; and whether the classifier was asked.
fn read(item: &Item, provider: &OfflineProvider, args: &EscapesArgs) -> Result<(String, bool)> {
    let flow = question_flow(item)?;
    let asked = Arc::new(AtomicBool::new(false));
    let threshold = args.threshold.unwrap_or(ESCAPE_CONFIDENCE);
    let classifier = {
        let (provider, asked) = (provider.clone(), asked.clone());
        IntentClassifier(Arc::new(move |text: &str, categories: &[Category]| {
            asked.store(true, Ordering::Relaxed);
            match provider.classify(text, categories, Some(threshold)) {
                AiOutcome::Category { category, .. } => category,
                _ => None,
            }
        }))
    };
    let world = StaticWorld {
        intent: (!args.no_classifier).then_some(classifier),
        ..StaticWorld::default()
    };
    let mut sim = Simulator::new(&flow, world);
    let mut ex = NoEffects;
    sim.start(BTreeMap::new(), None, &mut ex);
    sim.say(&item.message, &mut ex);
    let taken = sim.effects.iter().find_map(|e| match e {
        Effect::Route { from, port, .. } if from == "ask" => port.strip_prefix("escape_").map(str::to_string),
        _ => None,
    });
    Ok((taken.unwrap_or_else(|| "answer".into()), asked.load(Ordering::Relaxed)))
}

#[derive(Default)]
struct Tally {
    escapes: usize,
    escapes_right: usize,
    by_phrase: usize,
    by_classifier: usize,
    wrong_kind: usize,
    answers: usize,
    answers_as_escapes: usize,
    hard_negatives: usize,
    hard_negatives_as_escapes: usize,
}

pub fn run(args: EscapesArgs) -> Result<ExitCode> {
    let provider = match load_embedder(&args.model)? {
        Some(e) => OfflineProvider::with_embedder(e),
        None => OfflineProvider::new(),
    };
    let mut all_right = 0;
    let mut all = 0;
    for path in &args.sets {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut tally = Tally::default();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let item: Item =
                serde_json::from_str(line).with_context(|| format!("{}:{}: not an item", path.display(), n + 1))?;
            if !["human", "cancel", "start_over", "answer"].contains(&item.label.as_str()) {
                bail!("{}:{}: unknown label {}", path.display(), n + 1, item.label);
            }
            let (got, asked) = read(&item, &provider, &args)?;
            let right = got == item.label;
            if item.label == "answer" {
                tally.answers += 1;
                let hard = item.tags.iter().any(|t| t == "hard_negative");
                tally.hard_negatives += usize::from(hard);
                if !right {
                    tally.answers_as_escapes += 1;
                    tally.hard_negatives_as_escapes += usize::from(hard);
                }
            } else {
                tally.escapes += 1;
                if right {
                    tally.escapes_right += 1;
                    if asked {
                        tally.by_classifier += 1;
                    } else {
                        tally.by_phrase += 1;
                    }
                } else if got != "answer" {
                    tally.wrong_kind += 1;
                }
            }
            if !right || args.verbose {
                let mark = if right { "ok " } else { "BAD" };
                println!(
                    "{mark} {:<12} {:<8} expected {:<10} got {:<10} {:?}",
                    item.id, item.input, item.label, got, item.message
                );
            }
            all += 1;
            all_right += usize::from(right);
        }
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        println!("== {}", path.display());
        println!(
            "escapes taken right: {}/{} ({:.3}): {} by phrase, {} by the classifier; {} taken as another escape",
            tally.escapes_right,
            tally.escapes,
            share(tally.escapes_right, tally.escapes),
            tally.by_phrase,
            tally.by_classifier,
            tally.wrong_kind
        );
        println!(
            "answers read as escapes: {}/{} ({:.3}); of the hard negatives {}/{}",
            tally.answers_as_escapes,
            tally.answers,
            share(tally.answers_as_escapes, tally.answers),
            tally.hard_negatives_as_escapes,
            tally.hard_negatives
        );
    }
    println!(
        "accuracy: {:.3}",
        if all == 0 { 0.0 } else { all_right as f64 / all as f64 }
    );
    Ok(ExitCode::SUCCESS)
}
