//! `chargestation.get_configuration`: a configuration upload, all keys or named ones
//! (split into chunks of the charger's `GetConfigurationMaxKeys`). On success the
//! snapshot behind `configuration` and `/details` is replaced (all keys) or updated
//! (named keys).

use model::actions::{types, Action, ActionStatus};
use model::config::{self, ReportedKey};
use ocpp::v16::GetConfigurationResponse;
use serde_json::{json, Value};

use super::{enqueue, mark_sent, ready_station, Outcome};
use crate::{DispatchError, Dispatcher};

/// Queues an upload of `keys` (all keys when empty).
///
/// # Errors
/// 404 / 406 / 422 / 429 as [`DispatchError`].
pub async fn queue(
    dispatcher: &Dispatcher,
    station: &str,
    keys: Vec<String>,
    meta_data: Option<Value>,
) -> Result<Action, DispatchError> {
    let station = ready_station(dispatcher, station).await?;
    if let Some(bad) = keys.iter().find(|k| k.is_empty() || k.chars().count() > 50) {
        return Err(DispatchError::Invalid(format!(
            "'key' values must be 1 to 50 characters; '{bad}' is not"
        )));
    }
    let data = if keys.is_empty() {
        json!({})
    } else {
        json!({"key": keys})
    };
    let action = enqueue(
        dispatcher,
        &station.id,
        types::GET_CONFIGURATION,
        data,
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
    let keys: Vec<String> = action
        .data
        .get("key")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let station = model::chargestations::find(dispatcher.db(), &action.chargestation_id).await?;
    let max_keys = station
        .and_then(|s| s.configuration)
        .and_then(|snapshot| {
            snapshot
                .into_iter()
                .find(|k| k.key.eq_ignore_ascii_case("GetConfigurationMaxKeys"))
                .and_then(|k| k.value)
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .filter(|n| *n > 0)
        .unwrap_or(usize::MAX);
    let requests: Vec<Value> = if keys.is_empty() {
        vec![json!({})]
    } else {
        keys.chunks(max_keys)
            .map(|chunk| json!({"key": chunk}))
            .collect()
    };
    mark_sent(dispatcher, action).await?;
    let mut reported: Vec<ReportedKey> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for request in requests {
        let answer = match dispatcher
            .gateway()
            .call_raw(
                &action.chargestation_id,
                "GetConfiguration",
                request,
                dispatcher.inner.config.call_timeout,
            )
            .await
        {
            Ok(answer) => answer,
            Err(failure) => return Ok(Outcome::failed(&failure)),
        };
        let answer: GetConfigurationResponse = match ocpp::parse_payload(&answer) {
            Ok(answer) => answer,
            Err(e) => {
                return Ok(Outcome::new(
                    ActionStatus::Failed,
                    json!({"error": e.code.as_str(), "description": e.description}),
                ))
            }
        };
        reported.extend(
            answer
                .configuration_key
                .unwrap_or_default()
                .into_iter()
                .map(|k| ReportedKey {
                    value: k.value.map(|v| config::masked(&k.key, &v).to_owned()),
                    key: k.key,
                    readonly: k.readonly,
                }),
        );
        unknown.extend(answer.unknown_key.unwrap_or_default());
    }
    let response = json!({"configurationKey": reported, "unknownKey": unknown});
    let mut outcome = Outcome::new(ActionStatus::Completed, response);
    outcome.effects.snapshot = Some((reported, keys.is_empty()));
    Ok(outcome)
}
