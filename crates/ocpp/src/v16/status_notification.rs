//! StatusNotification (charger → us): a connector's (or, for connector 0, the
//! charger's) status and error code. Answered with an empty object.

use serde::{Deserialize, Serialize};

use super::common::{ChargePointErrorCode, ChargePointStatus};
use crate::lenient::{self, ci_strings};
use crate::OcppRequest;

ci_strings! {
    fn info("info", 50);
    fn vendor_id("vendorId", 255);
    fn vendor_error_code("vendorErrorCode", 50);
}

/// StatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotificationRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    pub error_code: ChargePointErrorCode,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "info"
    )]
    pub info: Option<String>,
    pub status: ChargePointStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub timestamp: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "vendor_id"
    )]
    pub vendor_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "vendor_error_code"
    )]
    pub vendor_error_code: Option<String>,
}

/// StatusNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusNotificationResponse {}

impl OcppRequest for StatusNotificationRequest {
    const ACTION: &'static str = "StatusNotification";
    type Response = StatusNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: StatusNotificationRequest = round_trip(json!({
            "connectorId": 1,
            "errorCode": "GroundFailure",
            "info": "RCD tripped",
            "status": "Faulted",
            "timestamp": "2024-05-01T10:00:00Z",
            "vendorId": "com.vendor",
            "vendorErrorCode": "E42"
        }));
        assert_eq!(req.status, ChargePointStatus::Faulted);
        assert_eq!(req.error_code, ChargePointErrorCode::GroundFailure);
        round_trip::<StatusNotificationRequest>(
            json!({"connectorId": 0, "errorCode": "NoError", "status": "Available"}),
        );
        round_trip::<StatusNotificationResponse>(json!({}));
    }

    #[test]
    fn wrong_case_unknown_values_and_string_connector_are_accepted() {
        let req: StatusNotificationRequest = parse_payload(&json!({
            "connectorId": "1",
            "errorCode": "noerror",
            "status": "Occupied",
            "info": "i".repeat(80)
        }))
        .unwrap();
        assert_eq!(req.connector_id, 1);
        assert_eq!(req.error_code, ChargePointErrorCode::NoError);
        assert_eq!(req.status, ChargePointStatus::Unknown("Occupied".into()));
        assert_eq!(req.info.map(|i| i.len()), Some(80));
    }

    #[test]
    fn object_connector_id_is_a_type_constraint_violation() {
        let err = parse_payload::<StatusNotificationRequest>(&json!({
            "connectorId": {}, "errorCode": "NoError", "status": "Available"
        }))
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
    }

    #[test]
    fn missing_status_is_a_protocol_error() {
        let err = parse_payload::<StatusNotificationRequest>(
            &json!({"connectorId": 1, "errorCode": "NoError"}),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
