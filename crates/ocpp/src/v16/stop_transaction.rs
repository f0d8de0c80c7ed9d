//! StopTransaction (charger → us): a charging session ended, with the final meter
//! reading and optionally the transaction's meter values.

use serde::{Deserialize, Serialize};

use super::common::{IdTagInfo, MeterValue};
use crate::lenient::{self, ci_strings};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn id_tag("idTag", 20);
}

lenient_enum! {
    /// Why a transaction stopped.
    pub enum Reason {
        EmergencyStop,
        EVDisconnected,
        HardReset,
        Local,
        Other,
        PowerLoss,
        Reboot,
        Remote,
        SoftReset,
        UnlockCommand,
        DeAuthorized,
    }
}

/// StopTransaction.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransactionRequest {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "id_tag"
    )]
    pub id_tag: Option<String>,
    /// Meter reading at the end, in Wh.
    #[serde(deserialize_with = "lenient::int")]
    pub meter_stop: i64,
    /// When the transaction stopped (as sent).
    #[serde(deserialize_with = "lenient::string")]
    pub timestamp: String,
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_id: i32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transaction_data: Option<Vec<MeterValue>>,
}

/// StopTransaction.conf.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransactionResponse {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id_tag_info: Option<IdTagInfo>,
}

impl OcppRequest for StopTransactionRequest {
    const ACTION: &'static str = "StopTransaction";
    type Response = StopTransactionResponse;
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
        let req: StopTransactionRequest = round_trip(json!({
            "idTag": "04A2B3C4",
            "meterStop": 23456,
            "timestamp": "2024-05-01T11:00:00Z",
            "transactionId": 1001,
            "reason": "EVDisconnected",
            "transactionData": [{
                "timestamp": "2024-05-01T11:00:00Z",
                "sampledValue": [{"value": "23456", "context": "Transaction.End", "unit": "Wh"}]
            }]
        }));
        assert_eq!(req.reason, Some(Reason::EVDisconnected));
        round_trip::<StopTransactionRequest>(json!({
            "meterStop": 1, "timestamp": "2024-05-01T11:00:00Z", "transactionId": 5
        }));
        let conf: StopTransactionResponse =
            round_trip(json!({"idTagInfo": {"status": "Accepted"}}));
        assert_eq!(
            conf.id_tag_info.map(|i| i.status),
            Some(AuthorizationStatus::Accepted)
        );
        round_trip::<StopTransactionResponse>(json!({}));
    }

    #[test]
    fn empty_response_is_an_empty_object() {
        assert_eq!(
            serde_json::to_string(&StopTransactionResponse::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn string_numbers_and_wrong_case_reason_are_accepted() {
        let req: StopTransactionRequest = parse_payload(&json!({
            "meterStop": "2000",
            "timestamp": "2024-05-01T11:00:00Z",
            "transactionId": "1001",
            "reason": "local"
        }))
        .unwrap();
        assert_eq!((req.meter_stop, req.transaction_id), (2000, 1001));
        assert_eq!(req.reason, Some(Reason::Local));
    }

    #[test]
    fn missing_transaction_id_is_a_protocol_error() {
        let err =
            parse_payload::<StopTransactionRequest>(&json!({"meterStop": 1, "timestamp": "t"}))
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
