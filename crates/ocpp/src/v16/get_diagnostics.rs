//! GetDiagnostics (us → charger): upload a diagnostics file to `location`; progress
//! comes as DiagnosticsStatusNotification.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::OcppRequest;

ci_strings! {
    fn file_name("fileName", 255);
}

/// GetDiagnostics.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDiagnosticsRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub location: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retries: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retry_interval: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub start_time: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub stop_time: Option<String>,
}

/// GetDiagnostics.conf (no `fileName`: nothing to upload).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDiagnosticsResponse {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "file_name"
    )]
    pub file_name: Option<String>,
}

impl OcppRequest for GetDiagnosticsRequest {
    const ACTION: &'static str = "GetDiagnostics";
    type Response = GetDiagnosticsResponse;
}

impl Validate for GetDiagnosticsRequest {
    fn validate(&self, check: &mut Check) {
        check.uri("location", &self.location);
        check.opt_min("retries", self.retries.map(i64::from), 0);
        check.opt_min("retryInterval", self.retry_interval.map(i64::from), 0);
        check.opt_date_time("startTime", self.start_time.as_deref());
        check.opt_date_time("stopTime", self.stop_time.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<GetDiagnosticsRequest>(json!({
            "location": "ftp://example.com/uploads/",
            "retries": 1,
            "retryInterval": 30,
            "startTime": "2024-05-01T00:00:00Z",
            "stopTime": "2024-05-02T00:00:00Z"
        }));
        let conf: GetDiagnosticsResponse = round_trip(json!({"fileName": "diag.zip"}));
        assert_eq!(conf.file_name.as_deref(), Some("diag.zip"));
        round_trip::<GetDiagnosticsResponse>(json!({}));
    }
}
