//! GetLog (us → charger, security extension): upload a diagnostics or security log;
//! progress comes as LogStatusNotification.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn remote_location("remoteLocation", 512);
    fn filename("filename", 255);
}

lenient_enum! {
    /// Which log to upload.
    pub enum LogType {
        DiagnosticsLog,
        SecurityLog,
    }
}

lenient_enum! {
    /// The charger's answer to GetLog.
    pub enum LogStatus {
        Accepted,
        Rejected,
        AcceptedCanceled,
    }
}

/// Where to upload the log and which period it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogParameters {
    #[serde(deserialize_with = "remote_location")]
    pub remote_location: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub oldest_timestamp: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub latest_timestamp: Option<String>,
}

/// GetLog.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRequest {
    pub log: LogParameters,
    pub log_type: LogType,
    #[serde(deserialize_with = "lenient::int")]
    pub request_id: i32,
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
}

/// GetLog.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogResponse {
    pub status: LogStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "filename"
    )]
    pub filename: Option<String>,
}

impl OcppRequest for GetLogRequest {
    const ACTION: &'static str = "GetLog";
    type Response = GetLogResponse;
}

impl Validate for LogParameters {
    fn validate(&self, check: &mut Check) {
        check.max_len("remoteLocation", &self.remote_location, 512);
        check.uri("remoteLocation", &self.remote_location);
        check.opt_date_time("oldestTimestamp", self.oldest_timestamp.as_deref());
        check.opt_date_time("latestTimestamp", self.latest_timestamp.as_deref());
    }
}

impl Validate for GetLogRequest {
    fn validate(&self, check: &mut Check) {
        check.nested("log", &self.log);
        check.known("logType", self.log_type.is_known(), LogType::KNOWN);
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
    fn request_and_response_round_trip() {
        let body = json!({
            "log": {"remoteLocation": "https://example.com/logs", "oldestTimestamp": "2024-05-01T00:00:00Z"},
            "logType": "SecurityLog",
            "requestId": 9,
            "retries": 2
        });
        round_trip::<GetLogRequest>(body.clone());
        from_api::<GetLogRequest>(&body).unwrap();
        let conf: GetLogResponse =
            round_trip(json!({"status": "AcceptedCanceled", "filename": "security.log"}));
        assert_eq!(conf.status, LogStatus::AcceptedCanceled);
    }
}
