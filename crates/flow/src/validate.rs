//! Validation: every finding about a flow at once. Structural findings come from loading
//! ([`crate::flow`]); the graph and data-flow rules live here.

use crate::diagnostic::Diagnostic;
use crate::document::DocumentError;
use crate::flow::Flow;

/// The result of checking a flow document.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The loaded flow, when its structure holds.
    pub flow: Option<Flow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads and validates a flow document's text.
pub fn check(text: &str) -> Result<Checked, DocumentError> {
    let loaded = Flow::load(text)?;
    let mut diagnostics = loaded.diagnostics;
    if let Some(flow) = &loaded.flow {
        diagnostics.extend(validate(flow));
    }
    Ok(Checked {
        flow: loaded.flow,
        diagnostics,
    })
}

/// The graph and data-flow rules on a loaded flow.
pub fn validate(_flow: &Flow) -> Vec<Diagnostic> {
    Vec::new()
}
