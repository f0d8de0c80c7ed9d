//! The one error type of the data layer.

use sea_orm::DbErr;

/// What can go wrong in `model`.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is already taken.
    #[error("{0}")]
    Conflict(String),
    /// A chargestation's command queue is full.
    #[error("{0}")]
    QueueFull(String),
    /// A value failed validation; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// A part of the data layer that writes on the caller's behalf (the group commit)
    /// has stopped: the app is shutting down.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A stored JSON column could not be read back (a bug or a hand-edited row).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<serde_json::Error> for ModelError {
    fn from(e: serde_json::Error) -> Self {
        ModelError::Corrupt(e.to_string())
    }
}

/// Shorthand for results of the data layer.
pub type ModelResult<T> = Result<T, ModelError>;
