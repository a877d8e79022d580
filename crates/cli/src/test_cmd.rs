//! `baton test FLOW [TESTS…]`

use crate::report::{format_diagnostic, read_limited};
use crate::OutputFormat;
use anyhow::{bail, Context, Result};
use baton_flow::script::{run_test_in, TestCase, TestFile, TestResult};
use baton_flow::sim::{Coverage, Line, Speaker};
use baton_flow::{check, Flow};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(flow_path: &Path, test_paths: &[PathBuf], format: OutputFormat, verbose: bool) -> Result<ExitCode> {
    let name = flow_path.display().to_string();
    let text = read_limited(flow_path)?;
    let checked = check(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let Some(flow) = checked.flow else {
        for d in &checked.diagnostics {
            eprintln!("{}", format_diagnostic(&name, d));
        }
        bail!("{name} cannot run: fix the errors above");
    };
    let tests = collect_tests(&flow, test_paths)?;
    if tests.is_empty() {
        bail!("{name} has no tests: add a \"tests\" list to the flow or pass a tests file");
    }
    // Escapes the phrases miss are read by the offline classifier, as on the server.
    let world = baton_ai::OfflineProvider::new().default_world();
    let results: Vec<TestResult> = tests.iter().map(|t| run_test_in(&flow, t, world.clone())).collect();
    let mut coverage = Coverage::default();
    for r in &results {
        coverage.merge(&r.coverage);
    }
    let summary = coverage.summary(&flow);
    let failed = results.iter().filter(|r| !r.passed).count();
    match format {
        OutputFormat::Json => {
            let out = json!({
                "flow": name,
                "passed": results.len() - failed,
                "failed": failed,
                "tests": results,
                "coverage": summary,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        OutputFormat::Text => {
            for r in &results {
                print_result(r, verbose);
            }
            let pct = |a: usize, b: usize| {
                if b == 0 {
                    100.0
                } else {
                    a as f64 * 100.0 / b as f64
                }
            };
            println!(
                "coverage: nodes {}/{} ({:.0}%), ports {}/{} ({:.0}%)",
                summary.nodes_covered,
                summary.nodes_total,
                pct(summary.nodes_covered, summary.nodes_total),
                summary.ports_covered,
                summary.ports_total,
                pct(summary.ports_covered, summary.ports_total)
            );
            if !summary.uncovered_nodes.is_empty() {
                println!("  nodes not reached: {}", summary.uncovered_nodes.join(", "));
            }
            if !summary.uncovered_ports.is_empty() {
                println!("  ports not taken: {}", summary.uncovered_ports.join(", "));
            }
            println!("{} passed, {} failed", results.len() - failed, failed);
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn collect_tests(flow: &Flow, paths: &[PathBuf]) -> Result<Vec<TestCase>> {
    let mut tests: Vec<TestCase> = flow.tests().to_vec();
    for path in paths {
        let text = read_limited(path)?;
        let file: TestFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a tests file ({{\"format\": 1, \"tests\": [...]}})",
                path.display()
            )
        })?;
        if file.format != 1 {
            bail!(
                "{}: `format` is {}; this version reads format 1",
                path.display(),
                file.format
            );
        }
        tests.extend(file.tests);
    }
    Ok(tests)
}

fn print_result(r: &TestResult, verbose: bool) {
    match &r.failure {
        None => {
            println!("PASS {}", r.name);
            if verbose {
                print_transcript(&r.transcript);
            }
        }
        Some(f) => {
            println!("FAIL {}", r.name);
            println!("  at step {}: {}", f.step + 1, f.step_text);
            println!("  - expected: {}", f.expected);
            println!("  + actual:   {}", f.actual);
            println!("  transcript:");
            print_transcript(&r.transcript);
        }
    }
}

fn print_transcript(lines: &[Line]) {
    for l in lines {
        let who = match l.speaker {
            Speaker::Customer => "customer",
            Speaker::Bot => "bot",
            Speaker::Agent => "agent",
            Speaker::Event => "*",
        };
        let mut text = l.text.replace('\n', "\n             ");
        if !l.buttons.is_empty() {
            let labels: Vec<&str> = l.buttons.iter().map(|b| b.label.as_str()).collect();
            text.push_str(&format!(" [{}]", labels.join(" | ")));
        }
        println!("    {who:>8}: {text}");
    }
}
