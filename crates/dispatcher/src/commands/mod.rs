//! Commands: one file per action type with its checks (before anything is queued) and
//! its execution (on the wire), and the one table that routes an action to it
//! ([`run`]). Adding a command is a new file and one line in that table.

pub mod cancel_reservation;
pub mod certificate_signed;
pub mod change_availability;
pub mod change_configuration;
pub mod clear_cache;
pub mod clear_charging_profile;
pub mod data_transfer;
pub mod delete_certificate;
pub mod get_composite_schedule;
pub mod get_configuration;
pub mod get_diagnostics;
pub mod get_installed_certificate_ids;
pub mod get_local_list_version;
pub mod get_log;
pub mod install_certificate;
pub mod ocpp;
pub mod remote_start;
pub mod remote_stop;
mod request;
pub mod reserve_now;
pub mod reset;
pub mod send_local_list;
pub mod set_charging_profile;
pub mod signed_update_firmware;
pub mod trigger_message;
pub mod unlock_connector;
pub mod update_firmware;

use model::actions::{self, Action, ActionStatus};
use model::chargestations::{self, Chargestation};
use model::config::ReportedKey;
use model::ModelResult;
use ocpp_gateway::CallFailure;
use serde_json::{json, Value};

use crate::{DispatchError, Dispatcher};

/// State an outcome changes, written in the same transaction as the outcome.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Hold (`true`) or release (`false`) the station's queue.
    pub(crate) hold_queue: Option<bool>,
    /// New configuration values: (keys, replace the whole snapshot).
    pub(crate) snapshot: Option<(Vec<ReportedKey>, bool)>,
    /// A new Basic-auth password (an accepted AuthorizationKey).
    pub(crate) new_password: Option<String>,
}

/// How a command ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: ActionStatus,
    pub(crate) response_data: Value,
    pub(crate) effects: Effects,
}

impl Outcome {
    pub(crate) fn new(status: ActionStatus, response_data: Value) -> Outcome {
        Outcome {
            status,
            response_data,
            effects: Effects::default(),
        }
    }

    /// `failed` for no usable answer (CONTRACT §3).
    pub(crate) fn failed(failure: &CallFailure) -> Outcome {
        Outcome::new(
            ActionStatus::Failed,
            json!({"error": failure.error_name(), "description": failure.to_string()}),
        )
    }

    /// The charger's answer mapped by its `status` (CONTRACT §9): `Accepted`,
    /// `AcceptedCanceled`, `RebootRequired`, `Scheduled`, `Unlocked` or no status →
    /// completed; anything else → rejected.
    pub(crate) fn from_answer(answer: Value) -> Outcome {
        let positive = match answer.get("status").and_then(Value::as_str) {
            None => true,
            Some(status) => [
                "Accepted",
                "AcceptedCanceled",
                "RebootRequired",
                "Scheduled",
                "Unlocked",
            ]
            .iter()
            .any(|ok| ok.eq_ignore_ascii_case(status)),
        };
        let status = if positive {
            ActionStatus::Completed
        } else {
            ActionStatus::Rejected
        };
        Outcome::new(status, answer)
    }
}

/// The station a new command is for: it must exist (404), be active and online (406).
///
/// # Errors
/// [`DispatchError::NotFound`] or [`DispatchError::NotAcceptable`].
pub async fn ready_station(
    dispatcher: &Dispatcher,
    id_or_endpoint: &str,
) -> Result<Chargestation, DispatchError> {
    let station = chargestations::find(dispatcher.db(), id_or_endpoint)
        .await?
        .ok_or(DispatchError::NotFound)?;
    if !station.active {
        return Err(DispatchError::NotAcceptable(
            "the chargestation is inactive".into(),
        ));
    }
    if !station.online {
        return Err(DispatchError::NotAcceptable(
            "the chargestation is offline".into(),
        ));
    }
    Ok(station)
}

/// Queues an action and wakes the station's worker.
pub(crate) async fn enqueue(
    dispatcher: &Dispatcher,
    station_id: &str,
    action_type: &str,
    data: Value,
    meta_data: Option<Value>,
) -> Result<Action, DispatchError> {
    let action = actions::enqueue(
        dispatcher.db(),
        actions::NewAction {
            action_type: action_type.to_owned(),
            chargestation_id: station_id.to_owned(),
            data,
            meta_data,
        },
        dispatcher.inner.config.max_queue,
    )
    .await?;
    Ok(action)
}

/// Marks the action as on the wire (writes `.requested`).
pub(crate) async fn mark_sent(dispatcher: &Dispatcher, action: &Action) -> ModelResult<()> {
    actions::mark_sent(
        dispatcher.db(),
        &action.id,
        dispatcher.gateway().instance_id(),
    )
    .await
    .map(|_| ())
}

/// Executes one queued action to its end and records the outcome.
///
/// # Errors
/// On database failure (the action stays where it was and is retried).
pub(crate) async fn run(dispatcher: &Dispatcher, action: Action) -> Result<(), DispatchError> {
    let outcome = match action.action_type.as_str() {
        actions::types::UPDATE_CONFIGURATION => {
            change_configuration::execute(dispatcher, &action).await?
        }
        actions::types::GET_CONFIGURATION => {
            get_configuration::execute(dispatcher, &action).await?
        }
        actions::types::RESET => reset::execute(dispatcher, &action).await?,
        actions::types::CANCEL_RESERVATION => {
            cancel_reservation::execute(dispatcher, &action).await?
        }
        actions::types::CERTIFICATE_SIGNED => {
            certificate_signed::execute(dispatcher, &action).await?
        }
        actions::types::CHANGE_AVAILABILITY => {
            change_availability::execute(dispatcher, &action).await?
        }
        actions::types::CLEAR_CACHE => clear_cache::execute(dispatcher, &action).await?,
        actions::types::CLEAR_CHARGING_PROFILE => {
            clear_charging_profile::execute(dispatcher, &action).await?
        }
        actions::types::DATA_TRANSFER => data_transfer::execute(dispatcher, &action).await?,
        actions::types::DELETE_CERTIFICATE => {
            delete_certificate::execute(dispatcher, &action).await?
        }
        actions::types::GET_COMPOSITE_SCHEDULE => {
            get_composite_schedule::execute(dispatcher, &action).await?
        }
        actions::types::GET_DIAGNOSTICS => get_diagnostics::execute(dispatcher, &action).await?,
        actions::types::GET_INSTALLED_CERTIFICATE_IDS => {
            get_installed_certificate_ids::execute(dispatcher, &action).await?
        }
        actions::types::GET_LOCAL_LIST_VERSION => {
            get_local_list_version::execute(dispatcher, &action).await?
        }
        actions::types::GET_LOG => get_log::execute(dispatcher, &action).await?,
        actions::types::INSTALL_CERTIFICATE => {
            install_certificate::execute(dispatcher, &action).await?
        }
        actions::types::OCPP => ocpp::execute(dispatcher, &action).await?,
        actions::types::REMOTE_START => remote_start::execute(dispatcher, &action).await?,
        actions::types::REMOTE_STOP => remote_stop::execute(dispatcher, &action).await?,
        actions::types::RESERVE_NOW => reserve_now::execute(dispatcher, &action).await?,
        actions::types::SEND_LOCAL_LIST => send_local_list::execute(dispatcher, &action).await?,
        actions::types::SET_CHARGING_PROFILE => {
            set_charging_profile::execute(dispatcher, &action).await?
        }
        actions::types::SIGNED_UPDATE_FIRMWARE => {
            signed_update_firmware::execute(dispatcher, &action).await?
        }
        actions::types::TRIGGER_MESSAGE => trigger_message::execute(dispatcher, &action).await?,
        actions::types::UNLOCK_CONNECTOR => unlock_connector::execute(dispatcher, &action).await?,
        actions::types::UPDATE_FIRMWARE => update_firmware::execute(dispatcher, &action).await?,
        other => Outcome::new(
            ActionStatus::Failed,
            json!({"error": "Cancelled", "description": format!("unknown action type {other}")}),
        ),
    };
    tracing::info!(action = %action.id, kind = %action.action_type, station = %action.chargestation_id, status = outcome.status.as_str(), "command finished");
    let Outcome {
        status,
        response_data,
        effects,
    } = outcome;
    let station_id = action.chargestation_id.clone();
    actions::finish(
        dispatcher.db(),
        &action.id,
        status,
        response_data,
        move |txn, now| {
            Box::pin(async move {
                if let Some(held) = effects.hold_queue {
                    actions::set_queue_held(txn, &station_id, held).await?;
                }
                if let Some((keys, replace)) = &effects.snapshot {
                    chargestations::store_configuration(txn, now, &station_id, keys, *replace)
                        .await?;
                }
                if let Some(password) = &effects.new_password {
                    chargestations::set_password(txn, now, &station_id, password).await?;
                }
                Ok(())
            })
        },
    )
    .await?;
    // Another instance may be waiting for this station's command to finish.
    crate::cluster::tell_others(dispatcher, &action.chargestation_id).await;
    Ok(())
}
