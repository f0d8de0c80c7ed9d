//! CertificateSigned (us → charger, security extension): the signed certificate chain
//! answering the charger's SignCertificate request.

use serde::{Deserialize, Serialize};

use crate::lenient::ci_strings;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn certificate_chain("certificateChain", 10000);
}

lenient_enum! {
    /// The charger's answer to CertificateSigned.
    pub enum CertificateSignedStatus {
        Accepted,
        Rejected,
    }
}

/// CertificateSigned.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSignedRequest {
    /// PEM-encoded chain, the charger's certificate first.
    #[serde(deserialize_with = "certificate_chain")]
    pub certificate_chain: String,
}

/// CertificateSigned.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSignedResponse {
    pub status: CertificateSignedStatus,
}

impl OcppRequest for CertificateSignedRequest {
    const ACTION: &'static str = "CertificateSigned";
    type Response = CertificateSignedResponse;
}

impl Validate for CertificateSignedRequest {
    fn validate(&self, check: &mut Check) {
        check.max_len("certificateChain", &self.certificate_chain, 10000);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<CertificateSignedRequest>(
            json!({"certificateChain": "-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----"}),
        );
        round_trip::<CertificateSignedResponse>(json!({"status": "Rejected"}));
    }
}
