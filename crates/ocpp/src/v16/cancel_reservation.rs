//! CancelReservation (us → charger): cancel a reservation made with ReserveNow.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to CancelReservation.
    pub enum CancelReservationStatus {
        Accepted,
        Rejected,
    }
}

/// CancelReservation.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelReservationRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub reservation_id: i32,
}

/// CancelReservation.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelReservationResponse {
    pub status: CancelReservationStatus,
}

impl OcppRequest for CancelReservationRequest {
    const ACTION: &'static str = "CancelReservation";
    type Response = CancelReservationResponse;
}

impl Validate for CancelReservationRequest {
    fn validate(&self, _check: &mut Check) {}
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<CancelReservationRequest>(json!({"reservationId": 5}));
        let conf: CancelReservationResponse = round_trip(json!({"status": "Rejected"}));
        assert_eq!(conf.status, CancelReservationStatus::Rejected);
    }
}
