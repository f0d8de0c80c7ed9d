//! DataTransfer (charger → us): vendor-specific data. `data` is a string in 1.6, but any
//! JSON a charger sends there is accepted and kept as its JSON text.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn vendor_id("vendorId", 255);
    fn message_id("messageId", 50);
}

/// DataTransfer.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferRequest {
    #[serde(deserialize_with = "vendor_id")]
    pub vendor_id: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "message_id"
    )]
    pub message_id: Option<String>,
    /// The data as text; a non-string JSON value is kept as its JSON text.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_json_text"
    )]
    pub data: Option<String>,
}

lenient_enum! {
    /// The outcome of a DataTransfer.
    pub enum DataTransferStatus {
        Accepted,
        Rejected,
        UnknownMessageId,
        UnknownVendorId,
    }
}

/// DataTransfer.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferResponse {
    pub status: DataTransferStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_json_text"
    )]
    pub data: Option<String>,
}

impl OcppRequest for DataTransferRequest {
    const ACTION: &'static str = "DataTransfer";
    type Response = DataTransferResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse_payload;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        let req: DataTransferRequest =
            round_trip(json!({"vendorId": "com.vendor", "messageId": "Temp", "data": "21.5"}));
        assert_eq!(req.data.as_deref(), Some("21.5"));
        let conf: DataTransferResponse = round_trip(json!({"status": "UnknownVendorId"}));
        assert_eq!(conf.status, DataTransferStatus::UnknownVendorId);
        round_trip::<DataTransferResponse>(json!({"status": "Accepted", "data": "ok"}));
    }

    #[test]
    fn object_data_is_kept_as_json_text() {
        let req: DataTransferRequest =
            parse_payload(&json!({"vendorId": "v", "data": {"soc": 80, "ids": [1, 2]}})).unwrap();
        let text = req.data.unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, json!({"soc": 80, "ids": [1, 2]}));
    }

    #[test]
    fn wrong_case_status_is_read() {
        let conf: DataTransferResponse =
            parse_payload(&json!({"status": "unknownmessageid"})).unwrap();
        assert_eq!(conf.status, DataTransferStatus::UnknownMessageId);
    }
}
