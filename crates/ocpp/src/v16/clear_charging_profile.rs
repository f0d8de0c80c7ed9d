//! ClearChargingProfile (us → charger): remove charging profiles matching the criteria
//! (all of them when none is given).

use serde::{Deserialize, Serialize};

use super::smart_charging::ChargingProfilePurpose;
use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to ClearChargingProfile (`Unknown`: no profile matched).
    pub enum ClearChargingProfileStatus {
        Accepted,
        NoMatch = "Unknown",
    }
}

/// ClearChargingProfile.req.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearChargingProfileRequest {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub id: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub connector_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub charging_profile_purpose: Option<ChargingProfilePurpose>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub stack_level: Option<i32>,
}

/// ClearChargingProfile.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearChargingProfileResponse {
    pub status: ClearChargingProfileStatus,
}

impl OcppRequest for ClearChargingProfileRequest {
    const ACTION: &'static str = "ClearChargingProfile";
    type Response = ClearChargingProfileResponse;
}

impl Validate for ClearChargingProfileRequest {
    fn validate(&self, check: &mut Check) {
        check.opt_min("connectorId", self.connector_id.map(i64::from), 0);
        check.opt_min("stackLevel", self.stack_level.map(i64::from), 0);
        if let Some(purpose) = &self.charging_profile_purpose {
            check.known(
                "chargingProfilePurpose",
                purpose.is_known(),
                ChargingProfilePurpose::KNOWN,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        assert_eq!(
            serde_json::to_string(&ClearChargingProfileRequest::default()).unwrap(),
            "{}"
        );
        round_trip::<ClearChargingProfileRequest>(json!({
            "id": 3, "connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 2
        }));
        let conf: ClearChargingProfileResponse = round_trip(json!({"status": "Unknown"}));
        assert_eq!(conf.status, ClearChargingProfileStatus::NoMatch);
    }
}
