//! GetConfiguration (us → charger): read some or all configuration keys. The request
//! is written strictly (`key` omitted for "all keys"); the charger's answer is read
//! leniently (`readonly` as a string, over-long keys and values accepted).

use serde::{Deserialize, Serialize};

use super::common::KeyValue;
use crate::lenient::ci_strings;
use crate::OcppRequest;

ci_strings! {
    fn key("key", 50);
    fn unknown_key("unknownKey", 50);
}

/// GetConfiguration.req. `key: None` asks for every key and is written as `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigurationRequest {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "key"
    )]
    pub key: Option<Vec<String>>,
}

/// GetConfiguration.conf.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigurationResponse {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub configuration_key: Option<Vec<KeyValue>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "unknown_key"
    )]
    pub unknown_key: Option<Vec<String>>,
}

impl OcppRequest for GetConfigurationRequest {
    const ACTION: &'static str = "GetConfiguration";
    type Response = GetConfigurationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_for_all_keys_is_an_empty_object() {
        let req = GetConfigurationRequest { key: None };
        assert_eq!(serde_json::to_string(&req).unwrap(), "{}");
        assert_eq!(round_trip::<GetConfigurationRequest>(json!({})), req);
    }

    #[test]
    fn request_for_some_keys_round_trips() {
        let req: GetConfigurationRequest =
            round_trip(json!({"key": ["HeartbeatInterval", "MeterValueSampleInterval"]}));
        assert_eq!(req.key.map(|k| k.len()), Some(2));
    }

    #[test]
    fn response_round_trips() {
        let conf: GetConfigurationResponse = round_trip(json!({
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": true, "value": "2"},
                {"key": "AuthorizationKey", "readonly": false}
            ],
            "unknownKey": ["Bogus"]
        }));
        assert_eq!(conf.configuration_key.map(|k| k.len()), Some(3));
        assert_eq!(conf.unknown_key, Some(vec!["Bogus".to_owned()]));
        round_trip::<GetConfigurationResponse>(json!({}));
    }

    #[test]
    fn sloppy_response_is_read() {
        let long_value = "v".repeat(600);
        let conf: GetConfigurationResponse = parse_payload(&json!({
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": "FALSE", "value": 300},
                {"key": "Custom", "readonly": "True", "value": long_value, "vendorExtra": 1}
            ],
            "unknownKey": [42]
        }))
        .unwrap();
        let keys = conf.configuration_key.unwrap();
        assert_eq!(keys[0].value.as_deref(), Some("300"));
        assert!(!keys[0].readonly);
        assert!(keys[1].readonly);
        assert_eq!(keys[1].value.as_deref().map(str::len), Some(600));
        assert_eq!(conf.unknown_key, Some(vec!["42".to_owned()]));
    }

    #[test]
    fn key_value_without_readonly_is_a_protocol_error() {
        let err =
            parse_payload::<GetConfigurationResponse>(&json!({"configurationKey": [{"key": "K"}]}))
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }
}
