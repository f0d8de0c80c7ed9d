//! ClearCache (us → charger): empty the charger's authorization cache.

use serde::{Deserialize, Serialize};

use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to ClearCache.
    pub enum ClearCacheStatus {
        Accepted,
        Rejected,
    }
}

/// ClearCache.req: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClearCacheRequest {}

/// ClearCache.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearCacheResponse {
    pub status: ClearCacheStatus,
}

impl OcppRequest for ClearCacheRequest {
    const ACTION: &'static str = "ClearCache";
    type Response = ClearCacheResponse;
}

impl Validate for ClearCacheRequest {
    fn validate(&self, _check: &mut Check) {}
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_is_an_empty_object_and_the_response_round_trips() {
        assert_eq!(serde_json::to_string(&ClearCacheRequest {}).unwrap(), "{}");
        let conf: ClearCacheResponse = round_trip(json!({"status": "Rejected"}));
        assert_eq!(conf.status, ClearCacheStatus::Rejected);
    }
}
