//! GetLocalListVersion (us → charger): the version of the charger's local
//! authorization list (0 = none, -1 = not supported).

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::OcppRequest;

/// GetLocalListVersion.req: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetLocalListVersionRequest {}

/// GetLocalListVersion.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLocalListVersionResponse {
    #[serde(deserialize_with = "lenient::int")]
    pub list_version: i32,
}

impl OcppRequest for GetLocalListVersionRequest {
    const ACTION: &'static str = "GetLocalListVersion";
    type Response = GetLocalListVersionResponse;
}

impl Validate for GetLocalListVersionRequest {
    fn validate(&self, _check: &mut Check) {}
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<GetLocalListVersionRequest>(json!({}));
        let conf: GetLocalListVersionResponse = round_trip(json!({"listVersion": -1}));
        assert_eq!(conf.list_version, -1);
    }
}
