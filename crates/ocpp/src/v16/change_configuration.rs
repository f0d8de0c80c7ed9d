//! ChangeConfiguration (us → charger): set one configuration key. The request is
//! written strictly; the charger's answer is read leniently.

use serde::{Deserialize, Serialize};

use crate::lenient::ci_strings;
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn key("key", 50);
    fn value("value", 500);
}

/// ChangeConfiguration.req. Callers keep `key` ≤ 50 and `value` ≤ 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeConfigurationRequest {
    #[serde(deserialize_with = "key")]
    pub key: String,
    #[serde(deserialize_with = "value")]
    pub value: String,
}

lenient_enum! {
    /// The charger's answer to ChangeConfiguration.
    pub enum ConfigurationStatus {
        Accepted,
        Rejected,
        RebootRequired,
        NotSupported,
    }
}

/// ChangeConfiguration.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeConfigurationResponse {
    pub status: ConfigurationStatus,
}

impl OcppRequest for ChangeConfigurationRequest {
    const ACTION: &'static str = "ChangeConfiguration";
    type Response = ChangeConfigurationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_is_written_exactly_and_round_trips() {
        let req = ChangeConfigurationRequest {
            key: "HeartbeatInterval".into(),
            value: "300".into(),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"key":"HeartbeatInterval","value":"300"}"#
        );
        assert_eq!(
            round_trip::<ChangeConfigurationRequest>(serde_json::to_value(&req).unwrap()),
            req
        );
    }

    #[test]
    fn every_response_status_round_trips() {
        for status in ConfigurationStatus::KNOWN {
            let conf: ChangeConfigurationResponse = round_trip(json!({"status": status}));
            assert!(conf.status.is_known());
        }
    }

    #[test]
    fn lower_case_and_unknown_statuses_are_read() {
        let conf: ChangeConfigurationResponse =
            parse_payload(&json!({"status": "accepted"})).unwrap();
        assert_eq!(conf.status, ConfigurationStatus::Accepted);
        let conf: ChangeConfigurationResponse =
            parse_payload(&json!({"status": "Pending"})).unwrap();
        assert_eq!(conf.status, ConfigurationStatus::Unknown("Pending".into()));
    }

    #[test]
    fn response_without_status_is_a_protocol_error() {
        let err = parse_payload::<ChangeConfigurationResponse>(&json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
