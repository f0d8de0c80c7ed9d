//! RemoteStartTransaction (us → charger): start charging for an idTag, optionally on a
//! given connector and with a TxProfile.

use serde::{Deserialize, Serialize};

use super::smart_charging::{ChargingProfile, ChargingProfilePurpose};
use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn id_tag("idTag", 20);
}

lenient_enum! {
    /// The charger's answer to RemoteStartTransaction and RemoteStopTransaction.
    pub enum RemoteStartStopStatus {
        Accepted,
        Rejected,
    }
}

/// RemoteStartTransaction.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStartTransactionRequest {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub connector_id: Option<i32>,
    #[serde(deserialize_with = "id_tag")]
    pub id_tag: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub charging_profile: Option<ChargingProfile>,
}

/// RemoteStartTransaction.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStartTransactionResponse {
    pub status: RemoteStartStopStatus,
}

impl OcppRequest for RemoteStartTransactionRequest {
    const ACTION: &'static str = "RemoteStartTransaction";
    type Response = RemoteStartTransactionResponse;
}

impl Validate for RemoteStartTransactionRequest {
    fn validate(&self, check: &mut Check) {
        check.opt_min("connectorId", self.connector_id.map(i64::from), 1);
        check.max_len("idTag", &self.id_tag, 20);
        if self.id_tag.is_empty() {
            check.fail("idTag", "must not be empty");
        }
        if let Some(profile) = &self.charging_profile {
            if profile.charging_profile_purpose != ChargingProfilePurpose::TxProfile {
                check.fail(
                    "chargingProfile.chargingProfilePurpose",
                    "must be TxProfile in a remote start",
                );
            }
            check.nested("chargingProfile", profile);
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
        let req: RemoteStartTransactionRequest =
            round_trip(json!({"connectorId": 1, "idTag": "TAG1"}));
        assert_eq!(req.id_tag, "TAG1");
        let conf: RemoteStartTransactionResponse = round_trip(json!({"status": "Rejected"}));
        assert_eq!(conf.status, RemoteStartStopStatus::Rejected);
    }

    #[test]
    fn over_long_id_tags_are_refused_when_sending() {
        let err = from_api::<RemoteStartTransactionRequest>(&json!({"idTag": "X".repeat(21)}))
            .unwrap_err();
        assert_eq!(err.to_string(), "'idTag' must be at most 20 characters");
    }
}
