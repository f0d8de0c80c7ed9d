//! SignedFirmwareStatusNotification: the charger reports its signed firmware update status;
//! stored on the chargestation and emitted as `chargestation.firmware_status.updated`.

use ocpp::v16::{
    SignedFirmwareStatusNotificationRequest, SignedFirmwareStatusNotificationResponse,
};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SignedFirmwareStatusNotificationRequest,
) -> Result<SignedFirmwareStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "signed firmware update status");
    super::notify(
        ctx,
        model::notifications::NotificationKind::FirmwareStatus,
        "SignedFirmwareStatusNotification",
        &req,
    )
    .await?;
    Ok(SignedFirmwareStatusNotificationResponse::default())
}
