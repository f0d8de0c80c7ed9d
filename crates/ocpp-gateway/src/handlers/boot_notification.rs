//! BootNotification: stores the boot info, counts the boot, accepts the charger with the
//! configured heartbeat interval, and tells the rest of the system it booted.

use ocpp::v16::{BootNotificationRequest, BootNotificationResponse, RegistrationStatus};

use super::{HandlerContext, HandlerError};
use crate::GatewayEvent;

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: BootNotificationRequest,
) -> Result<BootNotificationResponse, HandlerError> {
    let boot_info = serde_json::to_value(&req).unwrap_or_default();
    // Committed together with the other connections and boots arriving meanwhile (a
    // reconnect storm); answered only once committed.
    let boot_count = ctx
        .shared
        .group_commit
        .record_boot(&ctx.station_id, boot_info)
        .await?;
    tracing::info!(identity = %ctx.identity, vendor = %req.charge_point_vendor, model = %req.charge_point_model, boot_count, "charger booted");
    let _ = ctx.events.send(GatewayEvent::Booted {
        station_id: ctx.station_id.clone(),
        boot_count,
    });
    Ok(BootNotificationResponse {
        status: RegistrationStatus::Accepted,
        current_time: ctx.now_text(),
        interval: i32::try_from(ctx.shared.config.heartbeat_interval.as_secs()).unwrap_or(i32::MAX),
    })
}
