//! UpdateFirmware (us → charger): download firmware from `location` after
//! `retrieveDate` and install it; progress comes as FirmwareStatusNotification.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::OcppRequest;

/// UpdateFirmware.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFirmwareRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub location: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retries: Option<i32>,
    #[serde(deserialize_with = "lenient::string")]
    pub retrieve_date: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retry_interval: Option<i32>,
}

/// UpdateFirmware.conf: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateFirmwareResponse {}

impl OcppRequest for UpdateFirmwareRequest {
    const ACTION: &'static str = "UpdateFirmware";
    type Response = UpdateFirmwareResponse;
}

impl Validate for UpdateFirmwareRequest {
    fn validate(&self, check: &mut Check) {
        check.uri("location", &self.location);
        check.date_time("retrieveDate", &self.retrieve_date);
        check.opt_min("retries", self.retries.map(i64::from), 0);
        check.opt_min("retryInterval", self.retry_interval.map(i64::from), 0);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::strict::from_api;
    use crate::testing::round_trip;

    #[test]
    fn request_and_empty_response_round_trip() {
        let body = json!({
            "location": "https://example.com/fw.bin",
            "retries": 3,
            "retrieveDate": "2024-05-01T10:00:00Z",
            "retryInterval": 60
        });
        round_trip::<UpdateFirmwareRequest>(body.clone());
        from_api::<UpdateFirmwareRequest>(&body).unwrap();
        round_trip::<UpdateFirmwareResponse>(json!({}));
    }

    #[test]
    fn locations_must_be_uris() {
        let err = from_api::<UpdateFirmwareRequest>(
            &json!({"location": "fw.bin", "retrieveDate": "2024-05-01T10:00:00Z"}),
        )
        .unwrap_err();
        assert_eq!(err.field, "location");
    }
}
