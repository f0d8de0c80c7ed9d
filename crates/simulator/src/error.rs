//! The simulator's one error type.

/// Why a simulator operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The server answered the WebSocket handshake with this HTTP status instead of 101.
    #[error("handshake refused with HTTP {status}")]
    Handshake { status: u16 },
    /// The TCP connection or the handshake could not be completed (bad URL, refused,
    /// timed out, I/O error).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The connection is closed (or closed while waiting for an answer).
    #[error("connection closed")]
    Closed,
    /// No answer (or no awaited event) within the deadline.
    #[error("timed out")]
    Timeout,
    /// The server answered our CALL with a CALLERROR.
    #[error("CALLERROR {code}: {description}")]
    CallError {
        code: ocpp::ErrorCode,
        description: String,
    },
    /// The server broke the protocol (WebSocket or OCPP-J), e.g. a wrong subprotocol.
    #[error("protocol error: {0}")]
    Protocol(String),
}
