//! What a turn can fail with. Routes turn it into an HTTP answer (`From<TurnError> for
//! ApiError` in `error.rs`); nothing here knows about HTTP.

use baton_flow::handover::Refusal;
use baton_store::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TurnError {
    /// The store failed: the batch is retried turn by turn, then the caller is told to retry.
    #[error("storage: {0}")]
    Store(String),
    /// The hand-over lifecycle refused the action (the conversation is unchanged).
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// A conversation or member the input names does not exist here (`field`: the input's
    /// field that named it).
    #[error("{what} not found")]
    NotFound {
        what: &'static str,
        field: Option<&'static str>,
    },
    /// A field of the input is not usable.
    #[error("{message}")]
    InvalidField { field: String, message: String },
    /// Resolving a conversation that has ended.
    #[error("the conversation has ended")]
    AlreadyResolved,
    /// Not applied now; the same input may be sent again.
    #[error("{0}")]
    Unavailable(String),
    /// Something the server holds is broken (an unreadable state, a missing flow version).
    #[error("{0}")]
    Internal(String),
}

impl TurnError {
    pub fn not_found(what: &'static str) -> TurnError {
        TurnError::NotFound { what, field: None }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> TurnError {
        TurnError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A turn's failure inside a batch: a store error sinks the batch's transaction (it is retried
/// turn by turn); any other error fails only its own turn.
pub(super) enum JobError {
    Turn(TurnError),
    Store(StoreError),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> JobError {
        JobError::Store(e)
    }
}

impl From<TurnError> for JobError {
    fn from(e: TurnError) -> JobError {
        JobError::Turn(e)
    }
}

impl From<Refusal> for JobError {
    fn from(e: Refusal) -> JobError {
        JobError::Turn(TurnError::Refused(e))
    }
}

impl From<crate::settings::SettingsError> for JobError {
    fn from(e: crate::settings::SettingsError) -> JobError {
        match e {
            crate::settings::SettingsError::Store(e) => JobError::Store(e),
            crate::settings::SettingsError::NoWorkspace => JobError::Turn(TurnError::not_found("workspace")),
        }
    }
}
