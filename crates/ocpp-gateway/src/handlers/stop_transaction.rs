//! StopTransaction: the transaction is closed with its final reading, its
//! `transactionData` is kept and `transaction.ended` emitted. Always answered, even for
//! a transaction id this chargestation never started, with the idTag's status (from
//! the token list) when an idTag is given.

use model::transactions::{self, MeterReading, StopTransaction};
use ocpp::v16::{StopTransactionRequest, StopTransactionResponse};

use super::authorize::id_tag_info;
use super::meter_values::readings;
use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: StopTransactionRequest,
) -> Result<StopTransactionResponse, HandlerError> {
    let id_tag_info = match req.id_tag.as_deref() {
        Some(tag) => Some(id_tag_info(ctx, tag).await?),
        None => None,
    };
    let readings: Vec<MeterReading> = readings(req.transaction_data.as_deref().unwrap_or(&[]));
    let stopped = transactions::stop(
        &ctx.shared.db,
        StopTransaction {
            chargestation_id: ctx.station_id.clone(),
            transaction_id: i64::from(req.transaction_id),
            meter_stop: req.meter_stop,
            stop_timestamp: req.timestamp.clone(),
            stop_reason: req.reason.as_ref().map(ToString::to_string),
            stop_id_tag: req.id_tag.clone(),
            readings,
        },
    )
    .await?;
    if stopped.is_none() {
        tracing::warn!(identity = %ctx.identity, transaction_id = req.transaction_id, "StopTransaction for a transaction this chargestation never started; answered anyway");
    }
    tracing::info!(identity = %ctx.identity, transaction_id = req.transaction_id, meter_stop = req.meter_stop, reason = ?req.reason, "transaction stopped");
    Ok(StopTransactionResponse { id_tag_info })
}
