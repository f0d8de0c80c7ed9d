//! SetChargingProfile (us → charger): install a charging profile on a connector.

use serde::{Deserialize, Serialize};

use super::smart_charging::ChargingProfile;
use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to SetChargingProfile.
    pub enum ChargingProfileStatus {
        Accepted,
        Rejected,
        NotSupported,
    }
}

/// SetChargingProfile.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfileRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    pub cs_charging_profiles: ChargingProfile,
}

/// SetChargingProfile.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfileResponse {
    pub status: ChargingProfileStatus,
}

impl OcppRequest for SetChargingProfileRequest {
    const ACTION: &'static str = "SetChargingProfile";
    type Response = SetChargingProfileResponse;
}

impl Validate for SetChargingProfileRequest {
    fn validate(&self, check: &mut Check) {
        check.min("connectorId", self.connector_id.into(), 0);
        check.nested("csChargingProfiles", &self.cs_charging_profiles);
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
        let body = json!({
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "transactionId": 12,
                "chargingSchedule": {
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]
                }
            }
        });
        round_trip::<SetChargingProfileRequest>(body.clone());
        from_api::<SetChargingProfileRequest>(&body).unwrap();
        let conf: SetChargingProfileResponse = round_trip(json!({"status": "NotSupported"}));
        assert_eq!(conf.status, ChargingProfileStatus::NotSupported);
    }

    #[test]
    fn a_missing_profile_is_named() {
        let err = from_api::<SetChargingProfileRequest>(&json!({"connectorId": 1})).unwrap_err();
        assert_eq!(err.to_string(), "'csChargingProfiles' is required");
    }
}
