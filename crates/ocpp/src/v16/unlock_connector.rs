//! UnlockConnector (us → charger): release the cable lock of a connector.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to UnlockConnector.
    pub enum UnlockStatus {
        Unlocked,
        UnlockFailed,
        NotSupported,
    }
}

/// UnlockConnector.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockConnectorRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
}

/// UnlockConnector.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockConnectorResponse {
    pub status: UnlockStatus,
}

impl OcppRequest for UnlockConnectorRequest {
    const ACTION: &'static str = "UnlockConnector";
    type Response = UnlockConnectorResponse;
}

impl Validate for UnlockConnectorRequest {
    fn validate(&self, check: &mut Check) {
        check.min("connectorId", self.connector_id.into(), 1);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::strict::from_api;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        let req: UnlockConnectorRequest = round_trip(json!({"connectorId": 2}));
        assert_eq!(req.connector_id, 2);
        let conf: UnlockConnectorResponse = round_trip(json!({"status": "UnlockFailed"}));
        assert_eq!(conf.status, UnlockStatus::UnlockFailed);
    }

    #[test]
    fn connector_zero_cannot_be_unlocked() {
        let err = from_api::<UnlockConnectorRequest>(&json!({"connectorId": 0})).unwrap_err();
        assert_eq!(err.field, "connectorId");
    }
}
