//! DataTransfer: no vendor extensions are known here, so every vendor is unknown.

use ocpp::v16::{DataTransferRequest, DataTransferResponse, DataTransferStatus};

use super::{HandlerContext, HandlerError};

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: DataTransferRequest,
) -> Result<DataTransferResponse, HandlerError> {
    tracing::info!(identity = %ctx.identity, vendor_id = %req.vendor_id, message_id = ?req.message_id, "data transfer from charger");
    Ok(DataTransferResponse {
        status: DataTransferStatus::UnknownVendorId,
        data: None,
    })
}
