//! Findings about a flow: every problem has a code, a severity, a place and a sentence a support
//! lead understands. Codes are documented in `docs/validation.md`.

use crate::document::AcceptedWarning;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publishing.
    Error,
    /// Worth a look; does not block.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable, documented code, e.g. `missing_information`.
    pub code: String,
    pub severity: Severity,
    /// The node the finding is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The port, for findings about a port or edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Where in the document, e.g. `nodes[3].variable` or `edges[2]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What is wrong, in words a support lead understands.
    pub message: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A warning the document's `accepted` list marks as intended: reported, not counted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub accepted: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    fn new(code: &str, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: code.to_string(),
            severity,
            node: None,
            port: None,
            location: None,
            message: message.into(),
            hint: None,
            accepted: false,
        }
    }

    pub fn at_node(mut self, node: impl Into<String>) -> Diagnostic {
        self.node = Some(node.into());
        self
    }

    pub fn at_port(mut self, port: impl Into<String>) -> Diagnostic {
        self.port = Some(port.into());
        self
    }

    pub fn at(mut self, location: impl Into<String>) -> Diagnostic {
        self.location = Some(location.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How many findings of each kind a list has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub errors: usize,
    /// Warnings not accepted.
    pub warnings: usize,
    pub accepted: usize,
}

/// Counts errors, warnings still to look at, and accepted warnings.
pub fn counts(diagnostics: &[Diagnostic]) -> Counts {
    let mut out = Counts::default();
    for d in diagnostics {
        match (d.severity, d.accepted) {
            (Severity::Error, _) => out.errors += 1,
            (Severity::Warning, true) => out.accepted += 1,
            (Severity::Warning, false) => out.warnings += 1,
        }
    }
    out
}

/// Marks the warnings that an entry of the document's `accepted` list names: same code, same
/// node (or both about the whole flow) and, when the entry names a port, the same port. Errors
/// stay errors.
pub fn mark_accepted(diagnostics: &mut [Diagnostic], accepted: &[AcceptedWarning]) {
    for d in diagnostics.iter_mut().filter(|d| d.severity == Severity::Warning) {
        d.accepted = accepted
            .iter()
            .any(|a| a.code == d.code && a.node == d.node && (a.port.is_none() || a.port == d.port));
    }
}

/// True when any finding blocks publishing.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
