//! Heartbeat: answers the current time.

use ocpp::v16::{HeartbeatRequest, HeartbeatResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    _req: HeartbeatRequest,
) -> Result<HeartbeatResponse, HandlerError> {
    Ok(HeartbeatResponse {
        current_time: ctx.now_text(),
    })
}
