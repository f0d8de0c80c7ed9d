//! What the commands whose API body is an OCPP request share: the strict check that
//! turns the body into the payload to send (CONTRACT §9: validated against the 1.6
//! schema before anything is queued, 422 naming the field).

use ocpp::strict::{from_api, Validate};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use model::actions::Action;
use ocpp::OcppRequest;

use super::{enqueue, mark_sent, ready_station, Outcome};
use crate::{DispatchError, Dispatcher};

/// Reads `body` strictly as the OCPP request `R` and returns the payload to send, in
/// exact OCPP spelling.
///
/// # Errors
/// [`DispatchError::Invalid`] naming the first field that is missing, mistyped, unknown
/// or breaking a rule of `R`.
pub(crate) fn strict<R>(body: &Value) -> Result<Value, DispatchError>
where
    R: DeserializeOwned + Serialize + Validate,
{
    let request: R = from_api(body).map_err(|e| DispatchError::Invalid(e.to_string()))?;
    serde_json::to_value(&request)
        .map_err(|e| DispatchError::Invalid(format!("the request cannot be written: {e}")))
}

/// Checks that the station is ready and `body` is the OCPP request `R`, queues it as
/// `action_type` and wakes the station's queue; returns the action (status `requested`).
///
/// # Errors
/// 404 / 406 / 422 / 429 as [`DispatchError`].
pub(crate) async fn queue_as<R>(
    dispatcher: &Dispatcher,
    station: &str,
    body: &Value,
    meta_data: Option<Value>,
    action_type: &str,
) -> Result<Action, DispatchError>
where
    R: DeserializeOwned + Serialize + Validate,
{
    let station = ready_station(dispatcher, station).await?;
    let payload = strict::<R>(body)?;
    let action = enqueue(dispatcher, &station.id, action_type, payload, meta_data).await?;
    dispatcher.wake(&station.id).await;
    Ok(action)
}

/// Sends the action's stored payload as the CALL of `R` and maps the charger's answer
/// (CONTRACT §9).
///
/// # Errors
/// On database failure.
pub(crate) async fn send_as_is<R: OcppRequest>(
    dispatcher: &Dispatcher,
    action: &Action,
) -> Result<Outcome, DispatchError> {
    mark_sent(dispatcher, action).await?;
    let answer = dispatcher
        .gateway()
        .call_raw(
            &action.chargestation_id,
            R::ACTION,
            action.data.clone(),
            dispatcher.inner.config.call_timeout,
        )
        .await;
    Ok(match answer {
        Ok(answer) => Outcome::from_answer(answer),
        Err(failure) => Outcome::failed(&failure),
    })
}
