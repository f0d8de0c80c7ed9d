//! SignCertificate: the charger asks for a certificate; accepted, stored on the
//! chargestation and emitted as `chargestation.sign_certificate.requested` (an
//! operator's CA answers later with `certificate_signed`).

use ocpp::v16::{GenericStatus, SignCertificateRequest, SignCertificateResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SignCertificateRequest,
) -> Result<SignCertificateResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, csr_len = req.csr.len(), "certificate signing request");
    super::notify(
        ctx,
        model::notifications::NotificationKind::SignCertificate,
        "SignCertificate",
        &req,
    )
    .await?;
    Ok(SignCertificateResponse {
        status: GenericStatus::Accepted,
    })
}
