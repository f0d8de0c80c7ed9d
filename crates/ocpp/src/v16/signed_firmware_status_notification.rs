//! SignedFirmwareStatusNotification (charger → us, security extension): progress of a
//! signed firmware update. Answered with an empty object.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The state of a signed firmware update (the extension's `FirmwareStatusEnumType`).
    pub enum SignedFirmwareStatus {
        Downloaded,
        DownloadFailed,
        Downloading,
        DownloadScheduled,
        DownloadPaused,
        Idle,
        InstallationFailed,
        Installing,
        Installed,
        InstallRebooting,
        InstallScheduled,
        InstallVerificationFailed,
        InvalidSignature,
        SignatureVerified,
    }
}

/// SignedFirmwareStatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedFirmwareStatusNotificationRequest {
    pub status: SignedFirmwareStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub request_id: Option<i32>,
}

/// SignedFirmwareStatusNotification.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignedFirmwareStatusNotificationResponse {}

impl OcppRequest for SignedFirmwareStatusNotificationRequest {
    const ACTION: &'static str = "SignedFirmwareStatusNotification";
    type Response = SignedFirmwareStatusNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_empty_response_round_trip() {
        let req: SignedFirmwareStatusNotificationRequest =
            round_trip(json!({"status": "SignatureVerified", "requestId": 3}));
        assert_eq!(req.status, SignedFirmwareStatus::SignatureVerified);
        round_trip::<SignedFirmwareStatusNotificationRequest>(
            json!({"status": "InstallRebooting"}),
        );
        round_trip::<SignedFirmwareStatusNotificationResponse>(json!({}));
    }
}
