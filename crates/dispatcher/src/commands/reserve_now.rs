//! `chargestation.reserve_now`: ReserveNow: reserve a connector for an idTag until `expiryDate`.
//! The body is the OCPP request, checked strictly before anything is queued.

use model::actions::{types, Action};
use ocpp::v16::ReserveNowRequest as Request;
use serde_json::Value;

use super::request::{queue_as, send_as_is};
use super::Outcome;
use crate::{DispatchError, Dispatcher};

/// Checks and queues the command; returns the action (status `requested`).
///
/// # Errors
/// 404 / 406 / 422 / 429 as [`DispatchError`].
pub async fn queue(
    dispatcher: &Dispatcher,
    station: &str,
    body: &Value,
    meta_data: Option<Value>,
) -> Result<Action, DispatchError> {
    queue_as::<Request>(dispatcher, station, body, meta_data, types::RESERVE_NOW).await
}

pub(super) async fn execute(
    dispatcher: &Dispatcher,
    action: &Action,
) -> Result<Outcome, DispatchError> {
    send_as_is::<Request>(dispatcher, action).await
}
