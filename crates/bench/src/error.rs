//! The one error type of the suite.

/// Why a benchmark step failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file, process or socket operation failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A REST call failed at the HTTP level.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// A server could not be started or did not become ready.
    #[error("server {label}: {reason}")]
    Server {
        /// Which server (`baseline`, `csms/sqlite`, ...).
        label: String,
        /// What went wrong.
        reason: String,
    },
    /// A scenario did not reach its outcome (chargers not booted, webhook never
    /// received, a REST call refused, ...).
    #[error("{0}")]
    Failed(String),
}

/// Shorthand for results of this crate.
pub type BenchResult<T> = Result<T, BenchError>;

impl BenchError {
    /// A scenario failure with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        BenchError::Failed(message.into())
    }
}
