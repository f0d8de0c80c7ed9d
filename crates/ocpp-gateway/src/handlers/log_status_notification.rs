//! LogStatusNotification: the charger reports its log upload status;
//! stored on the chargestation and emitted as `chargestation.log_status.updated`.

use ocpp::v16::{LogStatusNotificationRequest, LogStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: LogStatusNotificationRequest,
) -> Result<LogStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "log upload status");
    super::notify(
        ctx,
        model::notifications::NotificationKind::LogStatus,
        "LogStatusNotification",
        &req,
    )
    .await?;
    Ok(LogStatusNotificationResponse::default())
}
