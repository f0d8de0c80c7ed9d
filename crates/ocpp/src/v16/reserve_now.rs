//! ReserveNow (us → charger): reserve a connector (0 = any) for an idTag until a time.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn id_tag("idTag", 20);
    fn parent_id_tag("parentIdTag", 20);
}

lenient_enum! {
    /// The charger's answer to ReserveNow.
    pub enum ReservationStatus {
        Accepted,
        Faulted,
        Occupied,
        Rejected,
        Unavailable,
    }
}

/// ReserveNow.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveNowRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    #[serde(deserialize_with = "lenient::string")]
    pub expiry_date: String,
    #[serde(deserialize_with = "id_tag")]
    pub id_tag: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "parent_id_tag"
    )]
    pub parent_id_tag: Option<String>,
    #[serde(deserialize_with = "lenient::int")]
    pub reservation_id: i32,
}

/// ReserveNow.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveNowResponse {
    pub status: ReservationStatus,
}

impl OcppRequest for ReserveNowRequest {
    const ACTION: &'static str = "ReserveNow";
    type Response = ReserveNowResponse;
}

impl Validate for ReserveNowRequest {
    fn validate(&self, check: &mut Check) {
        check.min("connectorId", self.connector_id.into(), 0);
        check.date_time("expiryDate", &self.expiry_date);
        check.max_len("idTag", &self.id_tag, 20);
        check.opt_max_len("parentIdTag", self.parent_id_tag.as_deref(), 20);
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
            "expiryDate": "2030-01-01T00:00:00Z",
            "idTag": "TAG1",
            "parentIdTag": "GROUP",
            "reservationId": 5
        });
        round_trip::<ReserveNowRequest>(body.clone());
        from_api::<ReserveNowRequest>(&body).unwrap();
        let conf: ReserveNowResponse = round_trip(json!({"status": "Occupied"}));
        assert_eq!(conf.status, ReservationStatus::Occupied);
    }

    #[test]
    fn expiry_dates_must_be_date_times() {
        let err = from_api::<ReserveNowRequest>(&json!({
            "connectorId": 1, "expiryDate": "tomorrow", "idTag": "T", "reservationId": 1
        }))
        .unwrap_err();
        assert_eq!(err.field, "expiryDate");
    }
}
