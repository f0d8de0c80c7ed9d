//! InstallCertificate (us → charger, security extension): install a root certificate.

use serde::{Deserialize, Serialize};

use crate::lenient::ci_strings;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn certificate("certificate", 5500);
}

lenient_enum! {
    /// Which kind of root certificate (`CertificateUseEnumType`).
    pub enum CertificateUse {
        CentralSystemRootCertificate,
        ManufacturerRootCertificate,
    }
}

lenient_enum! {
    /// The charger's answer to InstallCertificate.
    pub enum InstallCertificateStatus {
        Accepted,
        Rejected,
        Failed,
    }
}

/// InstallCertificate.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCertificateRequest {
    pub certificate_type: CertificateUse,
    /// PEM-encoded X.509 certificate.
    #[serde(deserialize_with = "certificate")]
    pub certificate: String,
}

/// InstallCertificate.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCertificateResponse {
    pub status: InstallCertificateStatus,
}

impl OcppRequest for InstallCertificateRequest {
    const ACTION: &'static str = "InstallCertificate";
    type Response = InstallCertificateResponse;
}

impl Validate for InstallCertificateRequest {
    fn validate(&self, check: &mut Check) {
        check.known(
            "certificateType",
            self.certificate_type.is_known(),
            CertificateUse::KNOWN,
        );
        check.max_len("certificate", &self.certificate, 5500);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<InstallCertificateRequest>(json!({
            "certificateType": "ManufacturerRootCertificate",
            "certificate": "-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----"
        }));
        let conf: InstallCertificateResponse = round_trip(json!({"status": "Failed"}));
        assert_eq!(conf.status, InstallCertificateStatus::Failed);
    }
}
