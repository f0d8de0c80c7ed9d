//! What the commands whose API body is an OCPP request share: the strict check that
//! turns the body into the payload to send (CONTRACT §9: validated against the 1.6
//! schema before anything is queued, 422 naming the field).

use ocpp::strict::{from_api, Validate};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::DispatchError;

/// Reads `body` strictly as the OCPP request `R` and returns the payload to send, in
/// exact OCPP spelling.
///
/// # Errors
/// [`DispatchError::Invalid`] naming the first field that is missing, mistyped, unknown
/// or breaking a rule of `R`.
pub(crate) fn strict<R>(body: &Value) -> Result<Value, DispatchError>
where
    R: DeserializeOwned + Serialize + Validate,
{
    let request: R = from_api(body).map_err(|e| DispatchError::Invalid(e.to_string()))?;
    serde_json::to_value(&request)
        .map_err(|e| DispatchError::Invalid(format!("the request cannot be written: {e}")))
}
