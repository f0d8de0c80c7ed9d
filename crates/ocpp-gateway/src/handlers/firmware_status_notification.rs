//! FirmwareStatusNotification: the charger reports its firmware update status; acknowledged and logged.

use ocpp::v16::{FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: FirmwareStatusNotificationRequest,
) -> Result<FirmwareStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "firmware update status");
    Ok(FirmwareStatusNotificationResponse::default())
}
