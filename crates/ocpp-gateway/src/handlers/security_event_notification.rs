//! SecurityEventNotification: acknowledged and logged.

use ocpp::v16::{SecurityEventNotificationRequest, SecurityEventNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: SecurityEventNotificationRequest,
) -> Result<SecurityEventNotificationResponse, HandlerError> {
    tracing::warn!(identity = %ctx.identity, kind = %req.kind, timestamp = %req.timestamp, tech_info = ?req.tech_info, "security event");
    Ok(SecurityEventNotificationResponse::default())
}
