//! `chargestation.send_local_list`: SendLocalList: replace or update the charger's local authorization list.
//! The body is the OCPP request, checked strictly before anything is queued.

use model::actions::{types, Action};
use ocpp::v16::SendLocalListRequest as Request;
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
    queue_as::<Request>(dispatcher, station, body, meta_data, types::SEND_LOCAL_LIST).await
}

pub(super) async fn execute(
    dispatcher: &Dispatcher,
    action: &Action,
) -> Result<Outcome, DispatchError> {
    send_as_is::<Request>(dispatcher, action).await
}
