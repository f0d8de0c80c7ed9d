//! Authorize (charger → us): may this idTag be used? Answered with an `IdTagInfo`.

use serde::{Deserialize, Serialize};

use super::common::IdTagInfo;
use crate::lenient::ci_strings;
use crate::OcppRequest;

ci_strings! {
    fn id_tag("idTag", 20);
}

/// Authorize.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeRequest {
    #[serde(deserialize_with = "id_tag")]
    pub id_tag: String,
}

/// Authorize.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeResponse {
    pub id_tag_info: IdTagInfo,
}

impl OcppRequest for AuthorizeRequest {
    const ACTION: &'static str = "Authorize";
    type Response = AuthorizeResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::v16::AuthorizationStatus;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_and_response_round_trip() {
        let req: AuthorizeRequest = round_trip(json!({"idTag": "04A2B3C4D5E6F7"}));
        assert_eq!(req.id_tag, "04A2B3C4D5E6F7");
        let conf: AuthorizeResponse = round_trip(json!({"idTagInfo": {"status": "Accepted"}}));
        assert_eq!(conf.id_tag_info.status, AuthorizationStatus::Accepted);
    }

    #[test]
    fn numeric_id_tag_is_read_as_text() {
        let req: AuthorizeRequest = parse_payload(&json!({"idTag": 123456})).unwrap();
        assert_eq!(req.id_tag, "123456");
    }

    #[test]
    fn over_long_id_tag_is_accepted() {
        let long = "X".repeat(64);
        let req: AuthorizeRequest = parse_payload(&json!({"idTag": long})).unwrap();
        assert_eq!(req.id_tag, long);
    }

    #[test]
    fn missing_id_tag_is_a_protocol_error() {
        let err = parse_payload::<AuthorizeRequest>(&json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }

    #[test]
    fn response_is_written_exactly() {
        let conf = AuthorizeResponse {
            id_tag_info: IdTagInfo::new(AuthorizationStatus::Invalid),
        };
        assert_eq!(
            serde_json::to_string(&conf).unwrap(),
            r#"{"idTagInfo":{"status":"Invalid"}}"#
        );
    }
}
