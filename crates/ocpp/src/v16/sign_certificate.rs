//! SignCertificate (charger → us, security extension): the charger sends a CSR to be
//! signed; we answer whether we accept to process it.

use serde::{Deserialize, Serialize};

use crate::lenient::ci_strings;
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn csr("csr", 5500);
}

/// SignCertificate.req.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificateRequest {
    /// PEM-encoded certificate signing request.
    #[serde(deserialize_with = "csr")]
    pub csr: String,
}

lenient_enum! {
    /// Accepted or Rejected (the security extension's `GenericStatusEnumType`).
    pub enum GenericStatus {
        Accepted,
        Rejected,
    }
}

/// SignCertificate.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificateResponse {
    pub status: GenericStatus,
}

impl OcppRequest for SignCertificateRequest {
    const ACTION: &'static str = "SignCertificate";
    type Response = SignCertificateResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB...\n-----END CERTIFICATE REQUEST-----";
        let req: SignCertificateRequest = round_trip(json!({"csr": csr}));
        assert_eq!(req.csr, csr);
        let conf: SignCertificateResponse = round_trip(json!({"status": "Rejected"}));
        assert_eq!(conf.status, GenericStatus::Rejected);
    }
}
