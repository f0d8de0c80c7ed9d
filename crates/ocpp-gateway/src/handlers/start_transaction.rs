//! StartTransaction: the idTag is answered from the token list, and the transaction is
//! stored (whatever the answer: the charger has started it) with a transactionId from
//! the database, unique per server; `transaction.started` is emitted.

use model::transactions::{self, NewTransaction};
use ocpp::v16::{StartTransactionRequest, StartTransactionResponse};

use super::authorize::id_tag_info;
use super::{HandlerContext, HandlerError};
use ocpp::ErrorCode;

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: StartTransactionRequest,
) -> Result<StartTransactionResponse, HandlerError> {
    let id_tag_info = id_tag_info(ctx, &req.id_tag).await?;
    let transaction = transactions::start(
        &ctx.shared.db,
        NewTransaction {
            chargestation_id: ctx.station_id.clone(),
            connector_id: i64::from(req.connector_id),
            id_tag: req.id_tag.clone(),
            id_tag_status: id_tag_info.status.to_string(),
            meter_start: req.meter_start,
            start_timestamp: req.timestamp.clone(),
            reservation_id: req.reservation_id.map(i64::from),
        },
    )
    .await?;
    let transaction_id = i32::try_from(transaction.transaction_id).map_err(|_| HandlerError {
        code: ErrorCode::InternalError,
        description: "the central system has run out of transaction ids".into(),
    })?;
    tracing::info!(identity = %ctx.identity, connector_id = req.connector_id, transaction_id, meter_start = req.meter_start, status = %id_tag_info.status, "transaction started");
    Ok(StartTransactionResponse {
        id_tag_info,
        transaction_id,
    })
}
