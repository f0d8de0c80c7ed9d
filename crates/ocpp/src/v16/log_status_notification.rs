//! LogStatusNotification (charger → us, security extension): progress of a log
//! upload. Answered with an empty object.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The state of a log upload (`UploadLogStatusEnumType`).
    pub enum UploadLogStatus {
        BadMessage,
        Idle,
        NotSupportedOperation,
        PermissionDenied,
        Uploaded,
        UploadFailure,
        Uploading,
    }
}

/// LogStatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStatusNotificationRequest {
    pub status: UploadLogStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub request_id: Option<i32>,
}

/// LogStatusNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogStatusNotificationResponse {}

impl OcppRequest for LogStatusNotificationRequest {
    const ACTION: &'static str = "LogStatusNotification";
    type Response = LogStatusNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: LogStatusNotificationRequest =
            round_trip(json!({"status": "Uploading", "requestId": 12}));
        assert_eq!(req.request_id, Some(12));
        round_trip::<LogStatusNotificationRequest>(json!({"status": "Idle"}));
        round_trip::<LogStatusNotificationResponse>(json!({}));
    }

    #[test]
    fn string_request_id_is_read_as_a_number() {
        let req: LogStatusNotificationRequest =
            crate::parse_payload(&json!({"status": "uploaded", "requestId": "12"})).unwrap();
        assert_eq!(
            (req.status, req.request_id),
            (UploadLogStatus::Uploaded, Some(12))
        );
    }
}
