//! MeterValues (charger → us): sampled meter values for a connector, optionally
//! within a transaction. Answered with an empty object.

use serde::{Deserialize, Serialize};

use super::common::MeterValue;
use crate::lenient;
use crate::OcppRequest;

/// MeterValues.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValuesRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub transaction_id: Option<i32>,
    pub meter_value: Vec<MeterValue>,
}

/// MeterValues.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeterValuesResponse {}

impl OcppRequest for MeterValuesRequest {
    const ACTION: &'static str = "MeterValues";
    type Response = MeterValuesResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::v16::{Measurand, ReadingContext};
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: MeterValuesRequest = round_trip(json!({
            "connectorId": 1,
            "transactionId": 42,
            "meterValue": [{
                "timestamp": "2024-05-01T10:00:00Z",
                "sampledValue": [
                    {"value": "1500", "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}
                ]
            }]
        }));
        assert_eq!(req.transaction_id, Some(42));
        let sampled = &req.meter_value[0].sampled_value;
        assert_eq!(sampled[0].context, Some(ReadingContext::SamplePeriodic));
        assert_eq!(sampled[1].measurand, Some(Measurand::PowerActiveImport));
        round_trip::<MeterValuesResponse>(json!({}));
    }

    #[test]
    fn string_connector_and_transaction_ids_are_read_as_numbers() {
        let req: MeterValuesRequest = parse_payload(&json!({
            "connectorId": "1",
            "transactionId": "42",
            "meterValue": [{"timestamp": "2024-05-01T10:00:00Z", "sampledValue": [{"value": 1500}]}]
        }))
        .unwrap();
        assert_eq!(req.connector_id, 1);
        assert_eq!(req.transaction_id, Some(42));
        assert_eq!(req.meter_value[0].sampled_value[0].value, "1500");
    }

    #[test]
    fn missing_sampled_value_value_is_a_protocol_error() {
        let err = parse_payload::<MeterValuesRequest>(&json!({
            "connectorId": 1,
            "meterValue": [{"timestamp": "2024-05-01T10:00:00Z", "sampledValue": [{"unit": "Wh"}]}]
        }))
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }

    #[test]
    fn object_connector_id_is_a_type_constraint_violation() {
        let err =
            parse_payload::<MeterValuesRequest>(&json!({"connectorId": {}, "meterValue": []}))
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
    }
}
