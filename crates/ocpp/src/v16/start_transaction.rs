//! StartTransaction (charger → us): a charging session began; answered with the
//! idTag's status and the transaction id we assign.

use serde::{Deserialize, Serialize};

use super::common::IdTagInfo;
use crate::lenient::{self, ci_strings};
use crate::OcppRequest;

ci_strings! {
    fn id_tag("idTag", 20);
}

/// StartTransaction.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    #[serde(deserialize_with = "id_tag")]
    pub id_tag: String,
    /// Meter reading at the start, in Wh.
    #[serde(deserialize_with = "lenient::int")]
    pub meter_start: i64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub reservation_id: Option<i32>,
    /// When the transaction started (as sent).
    #[serde(deserialize_with = "lenient::string")]
    pub timestamp: String,
}

/// StartTransaction.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionResponse {
    pub id_tag_info: IdTagInfo,
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_id: i32,
}

impl OcppRequest for StartTransactionRequest {
    const ACTION: &'static str = "StartTransaction";
    type Response = StartTransactionResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::v16::AuthorizationStatus;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_and_response_round_trip() {
        let req: StartTransactionRequest = round_trip(json!({
            "connectorId": 1,
            "idTag": "04A2B3C4",
            "meterStart": 12345,
            "reservationId": 7,
            "timestamp": "2024-05-01T10:00:00Z"
        }));
        assert_eq!(req.meter_start, 12345);
        let conf: StartTransactionResponse =
            round_trip(json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 1001}));
        assert_eq!(conf.transaction_id, 1001);
        assert_eq!(conf.id_tag_info.status, AuthorizationStatus::Accepted);
    }

    #[test]
    fn numeric_strings_and_numeric_id_tag_are_accepted() {
        let req: StartTransactionRequest = parse_payload(&json!({
            "connectorId": "2",
            "idTag": 987654,
            "meterStart": "100",
            "timestamp": "2024-05-01T10:00:00Z"
        }))
        .unwrap();
        assert_eq!(
            (req.connector_id, req.id_tag.as_str(), req.meter_start),
            (2, "987654", 100)
        );
    }

    #[test]
    fn missing_meter_start_is_a_protocol_error() {
        let err = parse_payload::<StartTransactionRequest>(&json!({
            "connectorId": 1, "idTag": "A", "timestamp": "2024-05-01T10:00:00Z"
        }))
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
