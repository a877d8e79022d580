//! The example flows in `examples/`: each one loads without validation errors, every scripted
//! test saved in it passes, and together its tests run through every node and every wired port.
//! Also: every JSON example in `docs/flow-format.md` and `docs/scripted-tests.md` is real.

use baton_flow::script::{run_test, TestCase, TestFile, TestResult, TestStep};
use baton_flow::sim::Coverage;
use baton_flow::{Flow, Severity};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The examples the product ships: fewer than this means some went missing.
const MIN_EXAMPLES: usize = 5;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Every `examples/*.flow.json`, sorted by name.
fn example_files() -> Vec<PathBuf> {
    let dir = examples_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read the examples directory {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".flow.json"))
        })
        .collect();
    files.sort();
    files
}

fn name_of(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string()
}

fn describe_failure(file: &str, result: &TestResult) -> String {
    let mut out = String::new();
    if let Some(f) = &result.failure {
        out.push_str(&format!(
            "{file}: test `{}` failed at step {} {}\n expected: {}\n   actual: {}\ntranscript:\n",
            result.name,
            f.step + 1,
            f.step_text,
            f.expected,
            f.actual
        ));
    }
    for line in &result.transcript {
        let buttons: Vec<&str> = line.buttons.iter().map(|b| b.label.as_str()).collect();
        let buttons = if buttons.is_empty() {
            String::new()
        } else {
            format!("  [{}]", buttons.join(" | "))
        };
        out.push_str(&format!(
            "  {:>7}ms {:?}: {}{buttons}\n",
            line.at_ms, line.speaker, line.text
        ));
    }
    out
}

#[test]
fn there_are_at_least_five_examples() {
    let files = example_files();
    assert!(
        files.len() >= MIN_EXAMPLES,
        "expected at least {MIN_EXAMPLES} flows in {}, found {}: {:?}",
        examples_dir().display(),
        files.len(),
        files.iter().map(|p| name_of(p)).collect::<Vec<_>>()
    );
}

#[test]
fn examples_are_listed_in_the_readme() {
    let readme =
        std::fs::read_to_string(examples_dir().join("README.md")).expect("examples/README.md describes the examples");
    for file in example_files() {
        let name = name_of(&file);
        assert!(readme.contains(&name), "examples/README.md does not mention {name}");
    }
}

#[test]
fn examples_load_pass_their_tests_and_cover_the_flow() {
    let files = example_files();
    let mut problems: Vec<String> = Vec::new();
    if files.len() < MIN_EXAMPLES {
        problems.push(format!(
            "expected at least {MIN_EXAMPLES} example flows, found {}",
            files.len()
        ));
    }
    for path in &files {
        let file = name_of(path);
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let checked = match baton_flow::check(&text) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("{file}: the document does not load: {e}"));
                continue;
            }
        };
        for d in &checked.diagnostics {
            let line = format!(
                "{file}: {} {} at {}{}: {}",
                d.severity.as_str(),
                d.code,
                d.node.as_deref().unwrap_or("(flow)"),
                d.port.as_deref().map(|p| format!(".{p}")).unwrap_or_default(),
                d.message
            );
            if d.severity == Severity::Error {
                problems.push(line);
            } else {
                // Warnings do not fail the examples, but they are worth seeing.
                eprintln!("{line}");
            }
        }
        let Some(flow) = checked.flow else {
            problems.push(format!("{file}: the flow's structure does not hold"));
            continue;
        };

        // The canvas: every node placed, no two on the same spot.
        let mut spots = std::collections::BTreeMap::new();
        for node in flow.nodes() {
            let key = (node.position.x as i64, node.position.y as i64);
            if let Some(other) = spots.insert(key, node.id.clone()) {
                problems.push(format!(
                    "{file}: nodes `{other}` and `{}` sit on the same canvas position {key:?}",
                    node.id
                ));
            }
        }

        if flow.tests().len() < 2 {
            problems.push(format!(
                "{file}: has {} scripted tests; an example shows several",
                flow.tests().len()
            ));
        }
        let mut coverage = Coverage::default();
        let mut names = std::collections::BTreeSet::new();
        for test in flow.tests() {
            if !names.insert(test.name.clone()) {
                problems.push(format!("{file}: two tests are named `{}`", test.name));
            }
            let result = run_test(&flow, test);
            if !result.passed {
                problems.push(describe_failure(&file, &result));
            }
            coverage.merge(&result.coverage);
        }
        let summary = coverage.summary(&flow);
        eprintln!(
            "{file}: {} tests, nodes {}/{}, wired ports {}/{}",
            flow.tests().len(),
            summary.nodes_covered,
            summary.nodes_total,
            summary.ports_covered,
            summary.ports_total
        );
        if !summary.uncovered_nodes.is_empty() {
            problems.push(format!(
                "{file}: no test reaches these nodes: {}",
                summary.uncovered_nodes.join(", ")
            ));
        }
        if !summary.uncovered_ports.is_empty() {
            problems.push(format!(
                "{file}: no test leaves through these wired ports: {}",
                summary.uncovered_ports.join(", ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in examples/:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The JSON examples in the docs
// ---------------------------------------------------------------------------------------------

/// The documents whose ```json blocks must all be real.
const DOCS: [&str; 2] = ["docs/flow-format.md", "docs/scripted-tests.md"];

/// Every ```json block of a Markdown text, with the line it starts on.
fn json_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.take() {
            None => {
                if trimmed.starts_with("```json") {
                    current = Some((n + 1, String::new()));
                }
            }
            Some((start, mut text)) => {
                if trimmed.starts_with("```") {
                    blocks.push((start, text));
                } else {
                    text.push_str(line);
                    text.push('\n');
                    current = Some((start, text));
                }
            }
        }
    }
    blocks
}

fn error_diagnostics(diagnostics: &[baton_flow::Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

/// Checks one JSON example: a whole flow loads without errors and its tests pass; a node loads
/// in a flow of its own; an edge, a test file, a test, a setup or fixtures, or a step parses.
fn check_example(value: &Value) -> Result<&'static str, String> {
    let has = |key: &str| value.get(key).is_some();
    if let Value::Array(items) = value {
        for item in items {
            check_example(item)?;
        }
        return Ok("list");
    }
    if has("format") && has("nodes") {
        let checked = baton_flow::check(&value.to_string()).map_err(|e| e.to_string())?;
        let errors = error_diagnostics(&checked.diagnostics);
        if !errors.is_empty() {
            return Err(format!("the flow has errors: {}", errors.join("; ")));
        }
        let flow = checked.flow.ok_or("the flow does not load")?;
        for test in flow.tests() {
            let result = run_test(&flow, test);
            if !result.passed {
                return Err(describe_failure("(docs)", &result));
            }
        }
        return Ok("flow");
    }
    if has("format") && has("tests") {
        serde_json::from_value::<TestFile>(value.clone()).map_err(|e| e.to_string())?;
        return Ok("tests file");
    }
    if has("id") && has("type") {
        let doc = json!({"format": 1, "name": "snippet", "nodes": [value]});
        let loaded = Flow::load(&doc.to_string()).map_err(|e| e.to_string())?;
        let errors = error_diagnostics(&loaded.diagnostics);
        if !errors.is_empty() || loaded.flow.is_none() {
            return Err(format!("the node does not load: {}", errors.join("; ")));
        }
        return Ok("node");
    }
    if has("from") && has("port") && has("to") {
        baton_flow::document::parse_edge(value)?;
        return Ok("edge");
    }
    if has("steps") && has("name") {
        serde_json::from_value::<TestCase>(value.clone()).map_err(|e| e.to_string())?;
        return Ok("test");
    }
    if let Value::Object(map) = value {
        if !map.is_empty() && map.keys().all(|k| k == "setup" || k == "fixtures") {
            let mut test = map.clone();
            test.insert("name".into(), json!("snippet"));
            test.insert("steps".into(), json!([]));
            serde_json::from_value::<TestCase>(Value::Object(test)).map_err(|e| e.to_string())?;
            return Ok("setup or fixtures");
        }
    }
    serde_json::from_value::<TestStep>(value.clone())
        .map(|_| "step")
        .map_err(|e| format!("not a flow, node, edge, test or step: {e}"))
}

#[test]
fn json_examples_in_the_docs_are_real() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root.join(doc)).unwrap_or_else(|e| panic!("cannot read {doc}: {e}"));
        let blocks = json_blocks(&text);
        assert!(!blocks.is_empty(), "{doc} has no ```json examples");
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for (line, block) in blocks {
            let value: Value = match serde_json::from_str(&block) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{doc}:{line}: not JSON: {e}"));
                    continue;
                }
            };
            match check_example(&value) {
                Ok(kind) => *kinds.entry(kind).or_default() += 1,
                Err(e) => problems.push(format!("{doc}:{line}: {e}")),
            }
        }
        eprintln!("{doc}: JSON examples checked: {kinds:?}");
    }
    assert!(
        problems.is_empty(),
        "{} JSON example(s) in the docs are not real:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
