//! DiagnosticsStatusNotification (charger → us): progress of a diagnostics upload.
//! Answered with an empty object.

use serde::{Deserialize, Serialize};

use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The state of a diagnostics upload.
    pub enum DiagnosticsStatus {
        Idle,
        Uploaded,
        UploadFailed,
        Uploading,
    }
}

/// DiagnosticsStatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsStatusNotificationRequest {
    pub status: DiagnosticsStatus,
}

/// DiagnosticsStatusNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DiagnosticsStatusNotificationResponse {}

impl OcppRequest for DiagnosticsStatusNotificationRequest {
    const ACTION: &'static str = "DiagnosticsStatusNotification";
    type Response = DiagnosticsStatusNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: DiagnosticsStatusNotificationRequest =
            round_trip(json!({"status": "UploadFailed"}));
        assert_eq!(req.status, DiagnosticsStatus::UploadFailed);
        round_trip::<DiagnosticsStatusNotificationResponse>(json!({}));
    }

    #[test]
    fn unknown_status_is_kept() {
        let req: DiagnosticsStatusNotificationRequest =
            crate::parse_payload(&json!({"status": "Compressing"})).unwrap();
        assert_eq!(req.status, DiagnosticsStatus::Unknown("Compressing".into()));
    }
}
