//! StopTransaction: always answered (even for an unknown transaction id), with the
//! idTag's status when an idTag is given.

use ocpp::v16::{IdTagInfo, StopTransactionRequest, StopTransactionResponse};

use super::authorize::id_tag_status;
use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: StopTransactionRequest,
) -> Result<StopTransactionResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, transaction_id = req.transaction_id, meter_stop = req.meter_stop, reason = ?req.reason, "transaction stopped");
    Ok(StopTransactionResponse {
        id_tag_info: req
            .id_tag
            .as_deref()
            .map(|tag| IdTagInfo::new(id_tag_status(ctx, tag))),
    })
}
