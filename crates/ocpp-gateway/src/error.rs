//! Errors of the gateway: why an outbound CALL produced no usable answer.

use ocpp::ErrorCode;

/// Why an outbound CALL to a charger failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallFailure {
    /// The charger is not connected to this instance.
    #[error("chargestation is not connected")]
    NotConnected,
    /// No answer before the deadline.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// The connection closed before the answer came.
    #[error("the connection closed before the answer came")]
    Disconnected,
    /// The charger answered with a CALLERROR.
    #[error("{code}: {description}")]
    CallError {
        code: ErrorCode,
        description: String,
    },
    /// The charger answered with a payload we could not read.
    #[error("unreadable answer: {0}")]
    BadResponse(String),
}

impl CallFailure {
    /// The `response_data.error` value of a failed action (CONTRACT §3).
    pub fn error_name(&self) -> String {
        match self {
            CallFailure::NotConnected | CallFailure::Disconnected => "Disconnected".into(),
            CallFailure::Timeout(_) => "Timeout".into(),
            CallFailure::CallError { code, .. } => code.as_str().into(),
            CallFailure::BadResponse(_) => ErrorCode::FormationViolation.as_str().into(),
        }
    }
}
