//! FirmwareStatusNotification (charger → us): progress of a firmware update.
//! Answered with an empty object.

use serde::{Deserialize, Serialize};

use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The state of a firmware update.
    pub enum FirmwareStatus {
        Downloaded,
        DownloadFailed,
        Downloading,
        Idle,
        InstallationFailed,
        Installing,
        Installed,
    }
}

/// FirmwareStatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareStatusNotificationRequest {
    pub status: FirmwareStatus,
}

/// FirmwareStatusNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FirmwareStatusNotificationResponse {}

impl OcppRequest for FirmwareStatusNotificationRequest {
    const ACTION: &'static str = "FirmwareStatusNotification";
    type Response = FirmwareStatusNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: FirmwareStatusNotificationRequest = round_trip(json!({"status": "Installing"}));
        assert_eq!(req.status, FirmwareStatus::Installing);
        round_trip::<FirmwareStatusNotificationResponse>(json!({}));
    }

    #[test]
    fn lower_case_status_is_read() {
        let req: FirmwareStatusNotificationRequest =
            crate::parse_payload(&json!({"status": "downloadfailed"})).unwrap();
        assert_eq!(req.status, FirmwareStatus::DownloadFailed);
    }
}
