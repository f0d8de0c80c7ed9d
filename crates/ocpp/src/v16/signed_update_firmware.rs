//! SignedUpdateFirmware (us → charger, security extension): a firmware update whose
//! image is signed; progress comes as SignedFirmwareStatusNotification.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn location("location", 512);
    fn signing_certificate("signingCertificate", 5500);
    fn signature("signature", 800);
}

lenient_enum! {
    /// The charger's answer to SignedUpdateFirmware.
    pub enum UpdateFirmwareStatus {
        Accepted,
        Rejected,
        AcceptedCanceled,
        InvalidCertificate,
        RevokedCertificate,
    }
}

/// The firmware to install and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Firmware {
    #[serde(deserialize_with = "location")]
    pub location: String,
    #[serde(deserialize_with = "lenient::string")]
    pub retrieve_date_time: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub install_date_time: Option<String>,
    #[serde(deserialize_with = "signing_certificate")]
    pub signing_certificate: String,
    #[serde(deserialize_with = "signature")]
    pub signature: String,
}

/// SignedUpdateFirmware.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpdateFirmwareRequest {
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retries: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub retry_interval: Option<i32>,
    #[serde(deserialize_with = "lenient::int")]
    pub request_id: i32,
    pub firmware: Firmware,
}

/// SignedUpdateFirmware.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpdateFirmwareResponse {
    pub status: UpdateFirmwareStatus,
}

impl OcppRequest for SignedUpdateFirmwareRequest {
    const ACTION: &'static str = "SignedUpdateFirmware";
    type Response = SignedUpdateFirmwareResponse;
}

impl Validate for Firmware {
    fn validate(&self, check: &mut Check) {
        check.max_len("location", &self.location, 512);
        check.uri("location", &self.location);
        check.date_time("retrieveDateTime", &self.retrieve_date_time);
        check.opt_date_time("installDateTime", self.install_date_time.as_deref());
        check.max_len("signingCertificate", &self.signing_certificate, 5500);
        check.max_len("signature", &self.signature, 800);
    }
}

impl Validate for SignedUpdateFirmwareRequest {
    fn validate(&self, check: &mut Check) {
        check.opt_min("retries", self.retries.map(i64::from), 0);
        check.opt_min("retryInterval", self.retry_interval.map(i64::from), 0);
        check.nested("firmware", &self.firmware);
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
            "requestId": 4,
            "retries": 1,
            "firmware": {
                "location": "https://example.com/fw.bin",
                "retrieveDateTime": "2024-05-01T00:00:00Z",
                "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2lnbmF0dXJl"
            }
        });
        round_trip::<SignedUpdateFirmwareRequest>(body.clone());
        from_api::<SignedUpdateFirmwareRequest>(&body).unwrap();
        let conf: SignedUpdateFirmwareResponse =
            round_trip(json!({"status": "InvalidCertificate"}));
        assert_eq!(conf.status, UpdateFirmwareStatus::InvalidCertificate);
    }
}
