//! LogStatusNotification: the charger reports its log upload status; acknowledged and logged.

use ocpp::v16::{LogStatusNotificationRequest, LogStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: LogStatusNotificationRequest,
) -> Result<LogStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "log upload status");
    Ok(LogStatusNotificationResponse::default())
}
