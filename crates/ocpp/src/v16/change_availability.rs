//! ChangeAvailability (us → charger): make a connector (or the whole charger, 0)
//! operative or inoperative. Written strictly; the answer is read leniently.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The availability asked for.
    pub enum AvailabilityType {
        Inoperative,
        Operative,
    }
}

lenient_enum! {
    /// The charger's answer to ChangeAvailability.
    pub enum AvailabilityStatus {
        Accepted,
        Rejected,
        Scheduled,
    }
}

/// ChangeAvailability.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAvailabilityRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    /// `type` on the wire.
    #[serde(rename = "type")]
    pub kind: AvailabilityType,
}

/// ChangeAvailability.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAvailabilityResponse {
    pub status: AvailabilityStatus,
}

impl OcppRequest for ChangeAvailabilityRequest {
    const ACTION: &'static str = "ChangeAvailability";
    type Response = ChangeAvailabilityResponse;
}

impl Validate for ChangeAvailabilityRequest {
    fn validate(&self, check: &mut Check) {
        check.min("connectorId", self.connector_id.into(), 0);
        check.known("type", self.kind.is_known(), AvailabilityType::KNOWN);
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
        let req: ChangeAvailabilityRequest =
            round_trip(json!({"connectorId": 1, "type": "Inoperative"}));
        assert_eq!(req.kind, AvailabilityType::Inoperative);
        let conf: ChangeAvailabilityResponse = round_trip(json!({"status": "Scheduled"}));
        assert_eq!(conf.status, AvailabilityStatus::Scheduled);
    }

    #[test]
    fn unknown_types_are_refused_when_sending() {
        let err = from_api::<ChangeAvailabilityRequest>(&json!({"connectorId": 1, "type": "Off"}))
            .unwrap_err();
        assert_eq!(err.field, "type");
    }
}
