//! The dispatcher's error type: why a command was not accepted.

use model::ModelError;

/// Why a command could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The chargestation does not exist.
    #[error("chargestation not found")]
    NotFound,
    /// The chargestation is offline or inactive (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// A value failed a check; the message names the field and the rule (422).
    #[error("{0}")]
    Invalid(String),
    /// The chargestation's queue is full (429).
    #[error("{0}")]
    QueueFull(String),
    /// Storage failed.
    #[error(transparent)]
    Model(ModelError),
}

impl From<ModelError> for DispatchError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::NotFound(_) => DispatchError::NotFound,
            ModelError::QueueFull(message) => DispatchError::QueueFull(message),
            ModelError::Invalid(message) => DispatchError::Invalid(message),
            other => DispatchError::Model(other),
        }
    }
}
