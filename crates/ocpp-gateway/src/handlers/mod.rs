//! Inbound handlers: one file per charger-initiated OCPP 1.6 action and one routing
//! table (`route`). Handlers take a typed request and return a typed response or a
//! [`HandlerError`]; they do no socket or JSON work.

mod authorize;
mod boot_notification;
mod data_transfer;
mod diagnostics_status_notification;
mod firmware_status_notification;
mod heartbeat;
mod log_status_notification;
mod meter_values;
mod security_event_notification;
mod sign_certificate;
mod signed_firmware_status_notification;
mod start_transaction;
mod status_notification;
mod stop_transaction;

use std::sync::Arc;

use model::ModelError;
use ocpp::frame::{Call, CallError};
use ocpp::{parse_payload, ErrorCode};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::{GatewayEvent, Shared};

/// What a handler may use: the station it serves, the database, settings, and the
/// gateway's event channel.
pub struct HandlerContext {
    pub(crate) shared: Arc<Shared>,
    pub station_id: String,
    pub identity: String,
    pub(crate) events: broadcast::Sender<GatewayEvent>,
}

impl HandlerContext {
    /// Now as the OCPP timestamp we send.
    pub fn now_text(&self) -> String {
        model::time::format_ms(self.shared.db.now_ms())
    }
}

/// Why a handler could not answer positively; becomes a CALLERROR.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {description}")]
pub struct HandlerError {
    pub code: ErrorCode,
    pub description: String,
}

impl From<ModelError> for HandlerError {
    fn from(e: ModelError) -> Self {
        tracing::error!(error = %e, "handler failed on storage");
        HandlerError {
            code: ErrorCode::InternalError,
            description: "the central system could not store this message".into(),
        }
    }
}

/// Stores a charger notification on the station and emits its event.
///
/// # Errors
/// On storage failure.
pub(crate) async fn notify<T: serde::Serialize>(
    ctx: &HandlerContext,
    kind: model::notifications::NotificationKind,
    action: &str,
    request: &T,
) -> Result<(), HandlerError> {
    let payload = serde_json::to_value(request).unwrap_or_default();
    model::notifications::record(
        &ctx.shared.db,
        &ctx.station_id,
        kind,
        action,
        payload,
        &ctx.shared.config.public_base_url,
    )
    .await?;
    Ok(())
}

/// Parses the CALL's payload as `$request`, runs `$module::handle`, and serialises the
/// response.
macro_rules! serve {
    ($ctx:expr, $call:expr, $module:ident) => {{
        let request =
            parse_payload(&$call.payload).map_err(|e| e.to_call_error($call.message_id.clone()))?;
        let response = $module::handle($ctx, request)
            .await
            .map_err(|e| CallError::new($call.message_id.clone(), e.code, e.description))?;
        serde_json::to_value(response).map_err(|e| {
            CallError::new(
                $call.message_id.clone(),
                ErrorCode::InternalError,
                e.to_string(),
            )
        })
    }};
}

/// Serves one charger CALL: the answer payload, or the CALLERROR to send.
///
/// # Errors
/// The CALLERROR answering the call (`NotImplemented` for unknown actions, the payload
/// rules of CONTRACT §8, `InternalError` for our own faults).
pub async fn route(ctx: &HandlerContext, call: &Call) -> Result<Value, CallError> {
    match call.action.as_str() {
        "Authorize" => serve!(ctx, call, authorize),
        "BootNotification" => serve!(ctx, call, boot_notification),
        "DataTransfer" => serve!(ctx, call, data_transfer),
        "DiagnosticsStatusNotification" => serve!(ctx, call, diagnostics_status_notification),
        "FirmwareStatusNotification" => serve!(ctx, call, firmware_status_notification),
        "Heartbeat" => serve!(ctx, call, heartbeat),
        "LogStatusNotification" => serve!(ctx, call, log_status_notification),
        "MeterValues" => serve!(ctx, call, meter_values),
        "SecurityEventNotification" => serve!(ctx, call, security_event_notification),
        "SignCertificate" => serve!(ctx, call, sign_certificate),
        "SignedFirmwareStatusNotification" => {
            serve!(ctx, call, signed_firmware_status_notification)
        }
        "StartTransaction" => serve!(ctx, call, start_transaction),
        "StatusNotification" => serve!(ctx, call, status_notification),
        "StopTransaction" => serve!(ctx, call, stop_transaction),
        other => Err(CallError::new(
            call.message_id.clone(),
            ErrorCode::NotImplemented,
            format!("action '{other}' is not implemented by this central system"),
        )),
    }
}
