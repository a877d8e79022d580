//! `baton validate FILE…`

use crate::report::{format_diagnostic, read_limited};
use crate::OutputFormat;
use anyhow::Result;
use baton_flow::diagnostic::has_errors;
use baton_flow::{check, Diagnostic};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(files: &[PathBuf], format: OutputFormat) -> Result<ExitCode> {
    let mut failed = false;
    let mut reports = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let diagnostics: Vec<Diagnostic> = match read_limited(path) {
            Err(e) => vec![Diagnostic::error("unreadable_file", format!("{e:#}"))],
            Ok(text) => match check(&text) {
                Ok(checked) => checked.diagnostics,
                Err(e) => vec![Diagnostic::error(e.code(), e.to_string()).at("(document)")],
            },
        };
        failed |= has_errors(&diagnostics);
        reports.push((name, diagnostics));
    }
    match format {
        OutputFormat::Json => {
            let files: Vec<_> = reports
                .iter()
                .map(|(file, d)| json!({ "file": file, "ok": !has_errors(d), "diagnostics": d }))
                .collect();
            println!("{}", serde_json::to_string_pretty(&json!({ "files": files }))?);
        }
        OutputFormat::Text => {
            for (file, diagnostics) in &reports {
                for d in diagnostics {
                    println!("{}", format_diagnostic(file, d));
                }
                let counts = baton_flow::diagnostic::counts(diagnostics);
                let verdict = if counts.errors > 0 { "FAIL" } else { "ok" };
                let accepted = match counts.accepted {
                    0 => String::new(),
                    n => format!(", {n} accepted"),
                };
                println!(
                    "{file}: {verdict} ({} errors, {} warnings{accepted})",
                    counts.errors, counts.warnings
                );
            }
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
