//! Classification accuracy on a small stratified subset of Banking77 (PolyAI, CC BY 4.0; see
//! tests/data/README.md): 77 intents, 20 training and 6 test texts each. The floors are the
//! measured accuracies (docs/ai.md) less 3 points.

mod common;

use baton_ai::eval::{evaluate_classifier, read_labeled_csv};
use baton_ai::OfflineProvider;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn run(provider: &OfflineProvider) -> baton_ai::eval::ClassifyReport {
    let train = read_labeled_csv(&data("banking77-train-subset.csv")).expect("train subset");
    let test = read_labeled_csv(&data("banking77-test-subset.csv")).expect("test subset");
    assert_eq!((train.len(), test.len()), (1540, 462));
    let report = evaluate_classifier(provider, &train, &test, &mut |_, _| {});
    eprintln!("{}", report.render(5));
    report
}

#[test]
fn banking77_subset_lexical() {
    let report = run(&OfflineProvider::new());
    assert_eq!(report.categories, 77);
    assert!(
        report.accuracy >= 0.79,
        "accuracy {:.3} below the floor 0.79",
        report.accuracy
    );
    assert!(report.macro_f1 >= 0.78, "macro-F1 {:.3}", report.macro_f1);
}

#[cfg(feature = "embeddings")]
#[test]
fn banking77_subset_with_embeddings() {
    let Some(model) = common::minilm("banking77_subset_with_embeddings") else {
        return;
    };
    let report = run(&OfflineProvider::with_embedder(model));
    assert!(report.embeddings);
    assert!(
        report.accuracy >= 0.87,
        "accuracy {:.3} below the floor 0.87",
        report.accuracy
    );
}
