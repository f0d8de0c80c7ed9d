//! StartTransaction: accepted with a transaction id unique to this server process and
//! increasing across restarts.

use std::sync::atomic::Ordering;

use ocpp::v16::{IdTagInfo, StartTransactionRequest, StartTransactionResponse};

use super::authorize::id_tag_status;
use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: StartTransactionRequest,
) -> Result<StartTransactionResponse, HandlerError> {
    let next = ctx.shared.transaction_ids.fetch_add(1, Ordering::Relaxed);
    let transaction_id = i32::try_from(next % i64::from(i32::MAX))
        .unwrap_or(1)
        .max(1);
    tracing::info!(identity = %ctx.identity, connector_id = req.connector_id, transaction_id, meter_start = req.meter_start, "transaction started");
    Ok(StartTransactionResponse {
        id_tag_info: IdTagInfo::new(id_tag_status(ctx, &req.id_tag)),
        transaction_id,
    })
}
