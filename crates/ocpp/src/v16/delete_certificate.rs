//! DeleteCertificate (us → charger, security extension): remove an installed
//! certificate identified by its hash data.

use serde::{Deserialize, Serialize};

use crate::lenient::ci_strings;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn issuer_name_hash("issuerNameHash", 128);
    fn issuer_key_hash("issuerKeyHash", 128);
    fn serial_number("serialNumber", 40);
}

lenient_enum! {
    /// The hash algorithm of [`CertificateHashData`].
    pub enum HashAlgorithm {
        SHA256,
        SHA384,
        SHA512,
    }
}

lenient_enum! {
    /// The charger's answer to DeleteCertificate.
    pub enum DeleteCertificateStatus {
        Accepted,
        Failed,
        NotFound,
    }
}

/// Identifies a certificate (also listed by GetInstalledCertificateIds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateHashData {
    pub hash_algorithm: HashAlgorithm,
    #[serde(deserialize_with = "issuer_name_hash")]
    pub issuer_name_hash: String,
    #[serde(deserialize_with = "issuer_key_hash")]
    pub issuer_key_hash: String,
    #[serde(deserialize_with = "serial_number")]
    pub serial_number: String,
}

/// DeleteCertificate.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCertificateRequest {
    pub certificate_hash_data: CertificateHashData,
}

/// DeleteCertificate.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCertificateResponse {
    pub status: DeleteCertificateStatus,
}

impl OcppRequest for DeleteCertificateRequest {
    const ACTION: &'static str = "DeleteCertificate";
    type Response = DeleteCertificateResponse;
}

impl Validate for CertificateHashData {
    fn validate(&self, check: &mut Check) {
        check.known(
            "hashAlgorithm",
            self.hash_algorithm.is_known(),
            HashAlgorithm::KNOWN,
        );
        check.max_len("issuerNameHash", &self.issuer_name_hash, 128);
        check.max_len("issuerKeyHash", &self.issuer_key_hash, 128);
        check.max_len("serialNumber", &self.serial_number, 40);
    }
}

impl Validate for DeleteCertificateRequest {
    fn validate(&self, check: &mut Check) {
        check.nested("certificateHashData", &self.certificate_hash_data);
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
        let body = json!({"certificateHashData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "a1b2",
            "issuerKeyHash": "c3d4",
            "serialNumber": "01"
        }});
        round_trip::<DeleteCertificateRequest>(body.clone());
        from_api::<DeleteCertificateRequest>(&body).unwrap();
        round_trip::<DeleteCertificateResponse>(json!({"status": "NotFound"}));
    }
}
