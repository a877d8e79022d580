//! Helpers shared by the flow crate's integration tests: loading a flow from JSON and running a
//! scripted test with its transcript in the failure message.
#![allow(dead_code)]

use baton_flow::script::{run_test, TestCase, TestResult};
use baton_flow::Flow;
use serde_json::Value;

/// A flow from a JSON document; panics with the findings when it does not load.
pub fn flow(doc: Value) -> Flow {
    match Flow::from_json(&doc.to_string()) {
        Ok(f) => f,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

/// Runs a scripted test (JSON); panics with the failing step and the transcript.
pub fn run(flow: &Flow, test: Value) -> TestResult {
    let test: TestCase = serde_json::from_value(test).expect("test parses");
    let result = run_test(flow, &test);
    if let Some(f) = &result.failure {
        let transcript: Vec<String> = result
            .transcript
            .iter()
            .map(|l| format!("{}ms {:?}: {}", l.at_ms, l.speaker, l.text))
            .collect();
        panic!(
            "test `{}` failed at step {} {}\n expected: {}\n   actual: {}\ntranscript:\n{}",
            result.name,
            f.step,
            f.step_text,
            f.expected,
            f.actual,
            transcript.join("\n")
        );
    }
    result
}
