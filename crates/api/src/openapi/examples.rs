//! The JSON examples of eDRV's guide, as the OpenAPI document shows them. The text is
//! [`model::guide`]'s verbatim copy (one copy in the repository); `tests/e2e/openapi.rs`
//! checks that [`all`] is still the guide's and that every one is in `/openapi.json`.

use model::guide;
use serde_json::Value;

/// A guide example as JSON. The texts are JSON (the e2e test parses the guide and
/// compares); `null` would show there, never here as a panic.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `POST /v1.1/chargestations/{id}/configurations`: the request body.
pub fn change_configuration_request() -> Value {
    parse(guide::CHANGE_CONFIGURATION_REQUEST)
}

/// `POST /v1.1/chargestations/{id}/configurations`: the answer, the queued action.
pub fn change_configuration_response() -> Value {
    parse(guide::CHANGE_CONFIGURATION_RESPONSE)
}

/// The webhook events of a configuration change: requested, completed, rejected.
pub fn webhook_events() -> Vec<Value> {
    [
        guide::EVENT_REQUESTED,
        guide::EVENT_COMPLETED,
        guide::EVENT_REJECTED,
    ]
    .into_iter()
    .map(parse)
    .collect()
}

/// `GET /v1.1/chargestations/{id}/configurations/details`: the answer.
pub fn configuration_details_response() -> Value {
    parse(guide::CONFIGURATION_DETAILS_RESPONSE)
}

/// Every example of the guide, in the guide's order.
pub fn all() -> Vec<Value> {
    guide::ALL.into_iter().map(parse).collect()
}
