//! `chargestation.reset`: Reset `Hard` or `Soft`. A completed reset releases a queue held
//! after `RebootRequired`, and is the one command sent while the queue is held.

use model::actions::{types, Action};
use serde_json::{json, Value};

use super::{enqueue, mark_sent, ready_station, Outcome};
use crate::{DispatchError, Dispatcher};

/// Queues a reset.
///
/// # Errors
/// 404 / 406 / 422 / 429 as [`DispatchError`].
pub async fn queue(
    dispatcher: &Dispatcher,
    station: &str,
    reset_type: &str,
    meta_data: Option<Value>,
) -> Result<Action, DispatchError> {
    let station = ready_station(dispatcher, station).await?;
    if reset_type != "Hard" && reset_type != "Soft" {
        return Err(DispatchError::Invalid("'type' must be Hard or Soft".into()));
    }
    let action = enqueue(
        dispatcher,
        &station.id,
        types::RESET,
        json!({"type": reset_type}),
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
    let reset_type = action
        .data
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Soft");
    mark_sent(dispatcher, action).await?;
    let answer = dispatcher
        .gateway()
        .call_raw(
            &action.chargestation_id,
            "Reset",
            json!({"type": reset_type}),
            dispatcher.inner.config.call_timeout,
        )
        .await;
    Ok(match answer {
        Ok(answer) => {
            let mut outcome = Outcome::from_answer(answer);
            if outcome.status == model::actions::ActionStatus::Completed {
                outcome.effects.hold_queue = Some(false);
            }
            outcome
        }
        Err(failure) => Outcome::failed(&failure),
    })
}
