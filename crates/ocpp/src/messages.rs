//! What ties an OCPP request type to its action name and its response type.
//!
//! Implemented by every request in [`crate::v16`]; the gateway uses it to send typed
//! CALLs and read typed answers, the handlers to route inbound CALLs. No I/O here.

/// An OCPP request (the payload of a CALL) and the response that answers it.
pub trait OcppRequest: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {
    /// The action name, spelled exactly as on the wire (`"BootNotification"`).
    const ACTION: &'static str;
    /// The payload of the CALLRESULT that answers this request.
    type Response: serde::Serialize + serde::de::DeserializeOwned + Send + 'static;
}
