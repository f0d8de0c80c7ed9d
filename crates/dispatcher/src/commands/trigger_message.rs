//! `chargestation.trigger_message`: ask the charger to send one of its messages now.
//! Sent as TriggerMessage, or as the security extension's ExtendedTriggerMessage for
//! the messages core TriggerMessage lacks (`SignChargePointCertificate`,
//! `LogStatusNotification`). The body is `{requestedMessage, connectorId?}`, checked
//! strictly as the request it becomes.

use model::actions::{types, Action};
use ocpp::v16::{
    ExtendedMessageTrigger, ExtendedTriggerMessageRequest, MessageTrigger, TriggerMessageRequest,
};
use ocpp::OcppRequest;
use serde_json::Value;

use super::request::strict;
use super::{enqueue, mark_sent, ready_station, Outcome};
use crate::{DispatchError, Dispatcher};

/// The messages only ExtendedTriggerMessage can ask for.
const EXTENDED_ONLY: &[&str] = &["SignChargePointCertificate", "LogStatusNotification"];

/// The OCPP action a requested message is triggered with.
fn ocpp_action(requested_message: Option<&str>) -> &'static str {
    match requested_message {
        Some(message) if EXTENDED_ONLY.contains(&message) => ExtendedTriggerMessageRequest::ACTION,
        _ => TriggerMessageRequest::ACTION,
    }
}

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
    let requested = body.get("requestedMessage").and_then(Value::as_str);
    if let Some(message) = requested {
        let known = MessageTrigger::KNOWN
            .iter()
            .chain(ExtendedMessageTrigger::KNOWN)
            .any(|k| *k == message);
        if !known {
            let mut allowed: Vec<&str> = MessageTrigger::KNOWN.to_vec();
            allowed.extend(EXTENDED_ONLY);
            return Err(DispatchError::Invalid(format!(
                "'requestedMessage' must be one of {}",
                allowed.join(", ")
            )));
        }
    }
    let payload = if ocpp_action(requested) == ExtendedTriggerMessageRequest::ACTION {
        strict::<ExtendedTriggerMessageRequest>(body)?
    } else {
        strict::<TriggerMessageRequest>(body)?
    };
    let action = enqueue(
        dispatcher,
        &station.id,
        types::TRIGGER_MESSAGE,
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
    let ocpp = ocpp_action(action.data.get("requestedMessage").and_then(Value::as_str));
    mark_sent(dispatcher, action).await?;
    let answer = dispatcher
        .gateway()
        .call_raw(
            &action.chargestation_id,
            ocpp,
            action.data.clone(),
            dispatcher.inner.config.call_timeout,
        )
        .await;
    Ok(match answer {
        Ok(answer) => Outcome::from_answer(answer),
        Err(failure) => Outcome::failed(&failure),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_security_extensions_messages_need_extended_trigger_message() {
        assert_eq!(
            ocpp_action(Some("SignChargePointCertificate")),
            "ExtendedTriggerMessage"
        );
        assert_eq!(
            ocpp_action(Some("LogStatusNotification")),
            "ExtendedTriggerMessage"
        );
        assert_eq!(ocpp_action(Some("Heartbeat")), "TriggerMessage");
        assert_eq!(ocpp_action(None), "TriggerMessage");
    }
}
