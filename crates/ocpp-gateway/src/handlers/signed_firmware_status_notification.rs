//! SignedFirmwareStatusNotification: the charger reports its signed firmware update status; acknowledged and logged.

use ocpp::v16::{
    SignedFirmwareStatusNotificationRequest, SignedFirmwareStatusNotificationResponse,
};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SignedFirmwareStatusNotificationRequest,
) -> Result<SignedFirmwareStatusNotificationResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, status = %req.status, "signed firmware update status");
    Ok(SignedFirmwareStatusNotificationResponse::default())
}
