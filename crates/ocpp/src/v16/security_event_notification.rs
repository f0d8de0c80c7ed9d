//! SecurityEventNotification (charger → us, security extension): a security-relevant
//! event on the charger. `type` is free text in the specification's catalogue (e.g.
//! `"FirmwareUpdated"`), kept as a string. Answered with an empty object.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::OcppRequest;

ci_strings! {
    fn event_type("type", 50);
    fn tech_info("techInfo", 255);
}

/// SecurityEventNotification.req.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventNotificationRequest {
    /// The event type (`type` on the wire).
    #[serde(rename = "type", deserialize_with = "event_type")]
    pub kind: String,
    /// When the event happened (as sent).
    #[serde(deserialize_with = "lenient::string")]
    pub timestamp: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "tech_info"
    )]
    pub tech_info: Option<String>,
}

/// SecurityEventNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SecurityEventNotificationResponse {}

impl OcppRequest for SecurityEventNotificationRequest {
    const ACTION: &'static str = "SecurityEventNotification";
    type Response = SecurityEventNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: SecurityEventNotificationRequest = round_trip(json!({
            "type": "FirmwareUpdated",
            "timestamp": "2024-05-01T10:00:00Z",
            "techInfo": "1.2.3 -> 1.2.4"
        }));
        assert_eq!(req.kind, "FirmwareUpdated");
        round_trip::<SecurityEventNotificationRequest>(
            json!({"type": "StartupOfTheDevice", "timestamp": "t"}),
        );
        round_trip::<SecurityEventNotificationResponse>(json!({}));
    }

    #[test]
    fn missing_type_is_a_protocol_error() {
        let err = parse_payload::<SecurityEventNotificationRequest>(&json!({"timestamp": "t"}))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
