//! DiagnosticsStatusNotification: the charger reports its diagnostics upload status;
//! stored on the chargestation and emitted as `chargestation.diagnostics_status.updated`.

use ocpp::v16::{DiagnosticsStatusNotificationRequest, DiagnosticsStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: DiagnosticsStatusNotificationRequest,
) -> Result<DiagnosticsStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "diagnostics upload status");
    super::notify(
        ctx,
        model::notifications::NotificationKind::DiagnosticsStatus,
        "DiagnosticsStatusNotification",
        &req,
    )
    .await?;
    Ok(DiagnosticsStatusNotificationResponse::default())
}
