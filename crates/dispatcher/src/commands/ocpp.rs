//! `chargestation.ocpp`: the escape hatch for testers — any server-initiated OCPP 1.6
//! action (and the security extension's) with a raw payload, checked strictly as that
//! action's request, queued and followed like every other command. `data` is
//! `{action, payload}`.
//!
//! Write-only configuration values are refused here (a raw payload would store them in
//! clear): change `AuthorizationKey` through `/configurations`, which masks it.

use model::actions::{types, Action};
use model::config;
use ocpp::v16::{check_request, SERVER_INITIATED_ACTIONS};
use serde_json::{json, Value};

use super::{enqueue, mark_sent, ready_station, Outcome};
use crate::{DispatchError, Dispatcher};

/// Checks and queues `payload` as the OCPP action `ocpp_action`; returns the action
/// (status `requested`).
///
/// # Errors
/// 404 / 406 / 422 (an action the server may not send, or a payload that is not its
/// request, naming the field) / 429 as [`DispatchError`].
pub async fn queue(
    dispatcher: &Dispatcher,
    station: &str,
    ocpp_action: &str,
    payload: &Value,
    meta_data: Option<Value>,
) -> Result<Action, DispatchError> {
    let station = ready_station(dispatcher, station).await?;
    let checked = check_request(ocpp_action, payload)
        .ok_or_else(|| {
            DispatchError::Invalid(format!(
                "'action' must be a server-initiated OCPP 1.6 action: {}",
                SERVER_INITIATED_ACTIONS.join(", ")
            ))
        })?
        .map_err(|e| DispatchError::Invalid(e.to_string()))?;
    let write_only = ocpp_action == "ChangeConfiguration"
        && checked
            .get("key")
            .and_then(Value::as_str)
            .is_some_and(config::is_write_only);
    if write_only {
        return Err(DispatchError::Invalid(
            "'key' is write-only: change it through /configurations, which never stores it in clear"
                .into(),
        ));
    }
    let action = enqueue(
        dispatcher,
        &station.id,
        types::OCPP,
        json!({"action": ocpp_action, "payload": checked}),
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
    let ocpp_action = action
        .data
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let payload = action.data.get("payload").cloned().unwrap_or(json!({}));
    mark_sent(dispatcher, action).await?;
    let answer = dispatcher
        .gateway()
        .call_raw(
            &action.chargestation_id,
            &ocpp_action,
            payload,
            dispatcher.inner.config.call_timeout,
        )
        .await;
    Ok(match answer {
        Ok(answer) => Outcome::from_answer(answer),
        Err(failure) => Outcome::failed(&failure),
    })
}
