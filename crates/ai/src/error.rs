//! Errors of the AI crate. Provider failures are not errors: they come back as
//! `AiOutcome::Failed { reason }` so the flow leaves through `error`/`unanswered`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AiError {
    #[error("article `{id}`: {message}")]
    InvalidArticle { id: String, message: String },
    #[error("embedding model: {0}")]
    Embedding(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("language model: {0}")]
    Model(String),
    #[error("provider configuration: {0}")]
    Config(String),
}

impl AiError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> AiError {
        AiError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    pub(crate) fn format(path: &std::path::Path, e: impl std::fmt::Display) -> AiError {
        AiError::Format {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}
