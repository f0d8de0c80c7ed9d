//! OCPP 1.6J: typed payloads and the OCPP-J frame codec.
//!
//! Pure: no I/O, no database, no async. Lenient when reading what chargers send,
//! strict when writing what we send.
//!
//! - [`frame`]: the OCPP-J array codec (CALL / CALLRESULT / CALLERROR).
//! - [`lenient`]: lenient readers, [`lenient_enum!`] and [`parse_payload`].
//! - [`v16`]: one module per OCPP 1.6 action, with its request and response types.
//! - [`strict`]: strict reading of API bodies we are asked to send (422 naming the field).
//! - [`OcppRequest`]: ties a request to its action name and response type.

mod error_code;
pub mod frame;
pub mod lenient;
pub mod messages;
pub mod strict;
pub mod v16;

pub use error_code::ErrorCode;
pub use frame::{Call, CallError, CallResult, Frame, FrameError};
pub use lenient::{parse_payload, PayloadError};
pub use messages::OcppRequest;

#[cfg(test)]
pub(crate) mod testing {
    //! Test helpers shared by the per-action tests.

    use std::fmt::Debug;

    use serde::{de::DeserializeOwned, Serialize};
    use serde_json::Value;

    /// Parses `json` as `T` and checks that serialising it gives `json` back exactly.
    pub fn round_trip<T>(json: Value) -> T
    where
        T: DeserializeOwned + Serialize + PartialEq + Debug,
    {
        let parsed: T = crate::parse_payload(&json).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), json);
        let again: T = crate::parse_payload(&json).unwrap();
        assert_eq!(again, parsed);
        parsed
    }
}
