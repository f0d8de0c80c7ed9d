//! SecurityEventNotification:
//! stored on the chargestation and emitted as
//! `chargestation.security_event`.

use ocpp::v16::{SecurityEventNotificationRequest, SecurityEventNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SecurityEventNotificationRequest,
) -> Result<SecurityEventNotificationResponse, HandlerError> {
    tracing::warn!(identity = %ctx.identity, kind = %req.kind, timestamp = %req.timestamp, tech_info = ?req.tech_info, "security event");
    super::notify(
        ctx,
        model::notifications::NotificationKind::SecurityEvent,
        "SecurityEventNotification",
        &req,
    )
    .await?;
    Ok(SecurityEventNotificationResponse::default())
}
