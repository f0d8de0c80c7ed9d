//! `chargestation.change_availability`: ChangeAvailability: make a connector (0 = the charger) operative or inoperative (`Accepted`, `Scheduled` → completed).
//! The body is the OCPP request, checked strictly before anything is queued.

use model::actions::{types, Action};
use ocpp::v16::ChangeAvailabilityRequest as Request;
use ocpp::OcppRequest;
use serde_json::Value;

use super::request::strict;
use super::{enqueue, mark_sent, ready_station, Outcome};
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
    let station = ready_station(dispatcher, station).await?;
    let payload = strict::<Request>(body)?;
    let action = enqueue(
        dispatcher,
        &station.id,
        types::CHANGE_AVAILABILITY,
        payload,
        meta_data,
    )
    .await?;
    dispatcher.wake(&station.id).await;
    Ok(action)
}

pub(super) async fn execute(
    dispatcher: &Dispatcher,
    action: &Action,
) -> Result<Outcome, DispatchError> {
    mark_sent(dispatcher, action).await?;
    let answer = dispatcher
        .gateway()
        .call_raw(
            &action.chargestation_id,
            Request::ACTION,
            action.data.clone(),
            dispatcher.inner.config.call_timeout,
        )
        .await;
    Ok(match answer {
        Ok(answer) => Outcome::from_answer(answer),
        Err(failure) => Outcome::failed(&failure),
    })
}
