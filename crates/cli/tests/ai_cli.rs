//! `baton eval` and `baton kb` end to end (lexical: no model needed).

use std::path::PathBuf;
use std::process::Command;

fn baton() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.env_remove("BATON_MINILM_DIR");
    c
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(c: &mut Command) -> String {
    let out = c.output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn eval_classify_prints_the_accuracy_line() {
    let data = root().join("crates/ai/tests/data");
    let out = run(baton()
        .args(["eval", "classify", "--examples"])
        .arg(data.join("banking77-train-subset.csv"))
        .arg("--test")
        .arg(data.join("banking77-test-subset.csv"))
        .args(["--per-category", "8", "--test-per-category", "2", "--worst", "3"]));
    assert!(out.contains("worst confusions"), "{out}");
    assert!(out.contains("latency per classify: p50"), "{out}");
    let last = out.lines().last().unwrap_or("");
    let value = last.strip_prefix("accuracy: ").expect("an accuracy line last");
    assert_eq!(value.len(), 5, "{last}");
    let accuracy: f64 = value.parse().expect("a number");
    assert!((0.5..=1.0).contains(&accuracy), "{accuracy}");
}

#[test]
fn eval_answer_and_kb_import() {
    let out = run(baton()
        .args(["eval", "answer", "--kb"])
        .arg(root().join("examples/kb/abcd"))
        .arg("--questions")
        .arg(root().join("examples/kb/questions.jsonl")));
    assert!(
        out.contains("questions.jsonl: not answerable 15/15 refused (1.000), 0 invented"),
        "{out}"
    );
    // Several sets, each reported apart with recall of the source article, accuracy last.
    let out = run(baton()
        .args(["eval", "answer", "--no-embeddings", "--kb"])
        .arg(root().join("evals/baton-docs/kb"))
        .arg("--questions")
        .arg(root().join("evals/baton-docs/dev.jsonl"))
        .arg("--questions")
        .arg(root().join("evals/baton-docs/test.jsonl")));
    for set in ["dev.jsonl", "test.jsonl"] {
        assert!(
            out.lines()
                .any(|l| l.contains(set) && l.contains("answerable ") && l.contains(" invented")),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.contains(set) && l.contains("recall@1 ") && l.contains("(30 questions)")),
            "{out}"
        );
    }
    assert!(out.lines().last().unwrap_or("").starts_with("accuracy: 0."), "{out}");
    let out = run(baton()
        .args(["kb", "import"])
        .arg(root().join("examples/kb/abcd"))
        .args(["--collection", "help"]));
    assert!(out.starts_with("55 articles, "), "{out}");
}

#[test]
fn kb_convert_abcd_writes_articles() {
    let dir = std::env::temp_dir().join(format!("baton-ai-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let guidelines = dir.join("guidelines.json");
    std::fs::write(
        &guidelines,
        r#"{"Shipping Issue": {"description": "shipments", "subflows": {"Shipping Cost": {
            "actions": [{"type": "interaction", "button": "Offer Refund", "text": "Refund part of the fee", "subtext": ["Standard shipping is $8.00"]}],
            "instructions": ["The cost of shipping is too high."]}}}}"#,
    )
    .expect("write");
    let out_dir = dir.join("kb");
    let out = run(baton().args(["kb", "convert-abcd"]).arg(&guidelines).arg(&out_dir));
    assert!(out.starts_with("1 articles written"), "{out}");
    let md = std::fs::read_to_string(out_dir.join("shipping-issue/shipping-cost.md")).expect("article");
    assert!(
        md.starts_with("---\ntitle: Shipping Cost\ncollection: shipping-issue\n---\n# Shipping Cost"),
        "{md}"
    );
    assert!(md.contains("- Standard shipping is $8.00.\n"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
