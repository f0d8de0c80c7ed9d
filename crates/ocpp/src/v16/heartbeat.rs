//! Heartbeat (charger → us): `{}`, answered with our current time.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::OcppRequest;

/// Heartbeat.req: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HeartbeatRequest {}

/// Heartbeat.conf.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatResponse {
    /// Our current time (RFC 3339 date-time).
    #[serde(deserialize_with = "lenient::string")]
    pub current_time: String,
}

impl OcppRequest for HeartbeatRequest {
    const ACTION: &'static str = "Heartbeat";
    type Response = HeartbeatResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<HeartbeatRequest>(json!({}));
        let conf: HeartbeatResponse = round_trip(json!({"currentTime": "2024-05-01T10:00:00Z"}));
        assert_eq!(conf.current_time, "2024-05-01T10:00:00Z");
    }

    #[test]
    fn request_with_extra_fields_is_accepted() {
        let req: HeartbeatRequest = crate::parse_payload(&json!({"uptime": 12})).unwrap();
        assert_eq!(req, HeartbeatRequest {});
    }
}
