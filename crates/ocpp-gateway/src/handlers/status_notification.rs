//! StatusNotification: stores the connector's status and emits
//! `chargestation.connector_status.updated`.

use model::chargestations::ConnectorStatus;
use ocpp::v16::{StatusNotificationRequest, StatusNotificationResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: StatusNotificationRequest,
) -> Result<StatusNotificationResponse, HandlerError> {
    let status = ConnectorStatus {
        connector_id: i64::from(req.connector_id),
        status: req.status.to_string(),
        error_code: req.error_code.to_string(),
        info: req.info,
        vendor_error_code: req.vendor_error_code,
        timestamp: req.timestamp.unwrap_or_else(|| ctx.now_text()),
    };
    // Committed together with the other writes arriving meanwhile (a StatusNotification
    // burst); answered only once committed.
    ctx.shared
        .group_commit
        .record_connector_status(&ctx.station_id, status, &ctx.shared.config.public_base_url)
        .await?;
    Ok(StatusNotificationResponse::default())
}
