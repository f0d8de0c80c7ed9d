//! SendLocalList (us → charger): replace (`Full`) or update (`Differential`) the
//! charger's local authorization list.

use serde::{Deserialize, Serialize};

use super::common::{AuthorizationStatus, IdTagInfo};
use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn id_tag("idTag", 20);
}

lenient_enum! {
    /// How the list is applied.
    pub enum UpdateType {
        Differential,
        Full,
    }
}

lenient_enum! {
    /// The charger's answer to SendLocalList.
    pub enum UpdateStatus {
        Accepted,
        Failed,
        NotSupported,
        VersionMismatch,
    }
}

/// One entry of the local authorization list (no `idTagInfo` removes the idTag in a
/// differential update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationData {
    #[serde(deserialize_with = "id_tag")]
    pub id_tag: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id_tag_info: Option<IdTagInfo>,
}

/// SendLocalList.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendLocalListRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub list_version: i32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub local_authorization_list: Option<Vec<AuthorizationData>>,
    pub update_type: UpdateType,
}

/// SendLocalList.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendLocalListResponse {
    pub status: UpdateStatus,
}

impl OcppRequest for SendLocalListRequest {
    const ACTION: &'static str = "SendLocalList";
    type Response = SendLocalListResponse;
}

impl Validate for IdTagInfo {
    fn validate(&self, check: &mut Check) {
        check.opt_date_time("expiryDate", self.expiry_date.as_deref());
        check.opt_max_len("parentIdTag", self.parent_id_tag.as_deref(), 20);
        check.known("status", self.status.is_known(), AuthorizationStatus::KNOWN);
    }
}

impl Validate for AuthorizationData {
    fn validate(&self, check: &mut Check) {
        check.max_len("idTag", &self.id_tag, 20);
        check.opt_nested("idTagInfo", self.id_tag_info.as_ref());
    }
}

impl Validate for SendLocalListRequest {
    fn validate(&self, check: &mut Check) {
        check.known("updateType", self.update_type.is_known(), UpdateType::KNOWN);
        if let Some(list) = &self.local_authorization_list {
            check.each("localAuthorizationList", list);
        }
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
            "listVersion": 3,
            "localAuthorizationList": [
                {"idTag": "TAG1", "idTagInfo": {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z"}},
                {"idTag": "TAG2"}
            ],
            "updateType": "Differential"
        });
        round_trip::<SendLocalListRequest>(body.clone());
        from_api::<SendLocalListRequest>(&body).unwrap();
        let conf: SendLocalListResponse = round_trip(json!({"status": "VersionMismatch"}));
        assert_eq!(conf.status, UpdateStatus::VersionMismatch);
    }

    #[test]
    fn entries_are_checked_with_their_index() {
        let err = from_api::<SendLocalListRequest>(&json!({
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A"}, {"idTag": "B", "idTagInfo": {"status": "Maybe"}}]
        }))
        .unwrap_err();
        assert_eq!(err.field, "localAuthorizationList[1].idTagInfo.status");
    }
}
