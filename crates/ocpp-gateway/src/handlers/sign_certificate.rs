//! SignCertificate: the charger asks for a certificate; accepted (an operator's CA answers
//! later with CertificateSigned).

use ocpp::v16::{GenericStatus, SignCertificateRequest, SignCertificateResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SignCertificateRequest,
) -> Result<SignCertificateResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, csr_len = req.csr.len(), "certificate signing request");
    Ok(SignCertificateResponse {
        status: GenericStatus::Accepted,
    })
}
