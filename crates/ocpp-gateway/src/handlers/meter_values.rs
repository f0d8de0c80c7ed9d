//! MeterValues: the samples are kept (with the transaction when one is given) and
//! acknowledged with an empty object.

use model::transactions::{self, MeterReading};
use ocpp::v16::{MeterValue, MeterValuesRequest, MeterValuesResponse};

use super::{HandlerContext, HandlerError};

/// OCPP `MeterValue`s as stored readings (sampled values re-serialised in exact OCPP
/// spelling).
pub(super) fn readings(values: &[MeterValue]) -> Vec<MeterReading> {
    values
        .iter()
        .map(|value| MeterReading {
            timestamp: value.timestamp.clone(),
            sampled_value: serde_json::to_value(&value.sampled_value).unwrap_or_default(),
        })
        .collect()
}

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: MeterValuesRequest,
) -> Result<MeterValuesResponse, HandlerError> {
    tracing::debug!(identity = %ctx.identity, connector_id = req.connector_id, transaction_id = ?req.transaction_id, samples = req.meter_value.len(), "meter values");
    transactions::add_meter_values(
        &ctx.shared.db,
        &ctx.station_id,
        i64::from(req.connector_id),
        req.transaction_id.map(i64::from),
        readings(&req.meter_value),
    )
    .await?;
    Ok(MeterValuesResponse::default())
}
