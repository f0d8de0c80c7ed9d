//! DiagnosticsStatusNotification: the charger reports its diagnostics upload status; acknowledged and logged.

use ocpp::v16::{DiagnosticsStatusNotificationRequest, DiagnosticsStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: DiagnosticsStatusNotificationRequest,
) -> Result<DiagnosticsStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "diagnostics upload status");
    Ok(DiagnosticsStatusNotificationResponse::default())
}
