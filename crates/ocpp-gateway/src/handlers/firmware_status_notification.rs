//! FirmwareStatusNotification: the charger reports its firmware update status;
//! stored on the chargestation and emitted as `chargestation.firmware_status.updated`.

use ocpp::v16::{FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: FirmwareStatusNotificationRequest,
) -> Result<FirmwareStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "firmware update status");
    super::notify(
        ctx,
        model::notifications::NotificationKind::FirmwareStatus,
        "FirmwareStatusNotification",
        &req,
    )
    .await?;
    Ok(FirmwareStatusNotificationResponse::default())
}
