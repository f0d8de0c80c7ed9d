//! MeterValues: acknowledged; the samples are logged (stored with transactions later).

use ocpp::v16::{MeterValuesRequest, MeterValuesResponse};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: MeterValuesRequest,
) -> Result<MeterValuesResponse, HandlerError> {
    tracing::debug!(identity = %ctx.identity, connector_id = req.connector_id, transaction_id = ?req.transaction_id, samples = req.meter_value.len(), "meter values");
    Ok(MeterValuesResponse::default())
}
