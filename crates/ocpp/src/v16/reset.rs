//! Reset (us → charger): ask for a hard or soft reboot. The request is written
//! strictly; the charger's answer is read leniently.

use serde::{Deserialize, Serialize};

use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The kind of reset.
    pub enum ResetType {
        Hard,
        Soft,
    }
}

lenient_enum! {
    /// The charger's answer to Reset.
    pub enum ResetStatus {
        Accepted,
        Rejected,
    }
}

/// Reset.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetRequest {
    /// `type` on the wire.
    #[serde(rename = "type")]
    pub kind: ResetType,
}

/// Reset.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetResponse {
    pub status: ResetStatus,
}

impl OcppRequest for ResetRequest {
    const ACTION: &'static str = "Reset";
    type Response = ResetResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse_payload;
    use crate::testing::round_trip;

    #[test]
    fn request_is_written_exactly() {
        let req = ResetRequest {
            kind: ResetType::Soft,
        };
        assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"type":"Soft"}"#);
        assert_eq!(
            round_trip::<ResetRequest>(json!({"type": "Hard"})).kind,
            ResetType::Hard
        );
    }

    #[test]
    fn response_round_trips_and_reads_any_case() {
        let conf: ResetResponse = round_trip(json!({"status": "Rejected"}));
        assert_eq!(conf.status, ResetStatus::Rejected);
        let conf: ResetResponse = parse_payload(&json!({"status": "ACCEPTED"})).unwrap();
        assert_eq!(conf.status, ResetStatus::Accepted);
    }
}
