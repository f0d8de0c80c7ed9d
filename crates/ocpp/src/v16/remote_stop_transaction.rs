//! RemoteStopTransaction (us → charger): stop a running transaction.

use serde::{Deserialize, Serialize};

use super::remote_start_transaction::RemoteStartStopStatus;
use crate::lenient;
use crate::strict::{Check, Validate};
use crate::OcppRequest;

/// RemoteStopTransaction.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStopTransactionRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_id: i32,
}

/// RemoteStopTransaction.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStopTransactionResponse {
    pub status: RemoteStartStopStatus,
}

impl OcppRequest for RemoteStopTransactionRequest {
    const ACTION: &'static str = "RemoteStopTransaction";
    type Response = RemoteStopTransactionResponse;
}

impl Validate for RemoteStopTransactionRequest {
    fn validate(&self, _check: &mut Check) {}
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        let req: RemoteStopTransactionRequest = round_trip(json!({"transactionId": 42}));
        assert_eq!(req.transaction_id, 42);
        round_trip::<RemoteStopTransactionResponse>(json!({"status": "Accepted"}));
    }
}
