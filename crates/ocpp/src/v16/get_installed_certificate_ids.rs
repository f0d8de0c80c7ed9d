//! GetInstalledCertificateIds (us → charger, security extension): list the installed
//! root certificates of one kind.

use serde::{Deserialize, Serialize};

use super::delete_certificate::CertificateHashData;
use super::install_certificate::CertificateUse;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to GetInstalledCertificateIds.
    pub enum GetInstalledCertificateStatus {
        Accepted,
        NotFound,
    }
}

/// GetInstalledCertificateIds.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInstalledCertificateIdsRequest {
    pub certificate_type: CertificateUse,
}

/// GetInstalledCertificateIds.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInstalledCertificateIdsResponse {
    pub status: GetInstalledCertificateStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate_hash_data: Option<Vec<CertificateHashData>>,
}

impl OcppRequest for GetInstalledCertificateIdsRequest {
    const ACTION: &'static str = "GetInstalledCertificateIds";
    type Response = GetInstalledCertificateIdsResponse;
}

impl Validate for GetInstalledCertificateIdsRequest {
    fn validate(&self, check: &mut Check) {
        check.known(
            "certificateType",
            self.certificate_type.is_known(),
            CertificateUse::KNOWN,
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<GetInstalledCertificateIdsRequest>(
            json!({"certificateType": "CentralSystemRootCertificate"}),
        );
        let conf: GetInstalledCertificateIdsResponse = round_trip(json!({
            "status": "Accepted",
            "certificateHashData": [{
                "hashAlgorithm": "SHA384", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "c"
            }]
        }));
        assert_eq!(conf.certificate_hash_data.map(|d| d.len()), Some(1));
    }
}
