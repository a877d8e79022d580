//! Reading flow files and printing findings.

use anyhow::{bail, Context, Result};
use baton_flow::document::MAX_DOCUMENT_BYTES;
use baton_flow::Diagnostic;
use std::path::Path;

/// Reads a file with the document size limit.
pub fn read_limited(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_DOCUMENT_BYTES as u64 {
        bail!(
            "{} is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
            path.display(),
            meta.len()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// One finding as a readable block: `file: error[code] at node `x` (port y): message` + hint.
pub fn format_diagnostic(file: &str, d: &Diagnostic) -> String {
    let mut place = String::new();
    if let Some(node) = &d.node {
        place.push_str(&format!(" node `{node}`"));
    }
    if let Some(port) = &d.port {
        place.push_str(&format!(" port `{port}`"));
    }
    if place.is_empty() {
        if let Some(loc) = &d.location {
            place.push_str(&format!(" {loc}"));
        }
    }
    let severity = if d.accepted {
        "accepted warning"
    } else {
        d.severity.as_str()
    };
    let mut out = format!("{file}: {severity}[{}]{place}: {}", d.code, d.message);
    if let Some(h) = &d.hint {
        out.push_str(&format!("\n    hint: {h}"));
    }
    out
}
