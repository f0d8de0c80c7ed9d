//! `chargestation.update_configuration`: ChangeConfiguration of one key, checked before
//! anything is queued, verified by reading the key back after `Accepted`.
//!
//! Checks (CONTRACT §4): key 1–50 characters and value ≤ 500 always; a key the last
//! upload reported read-only, a key the catalogue marks read-only, and a value of the
//! wrong type for a standard key → 422 unless `force`; an `AuthorizationKey` must be a
//! valid station password, always. Write-only values are masked everywhere and kept in
//! memory only until sent.

use model::actions::{types, Action, ActionStatus};
use model::config::{self, ReportedKey, MASK};
use model::password::check_station_password;
use ocpp::v16::GetConfigurationResponse;
use serde_json::{json, Value};

use super::{enqueue, mark_sent, ready_station, Effects, Outcome};
use crate::{DispatchError, Dispatcher};

/// The OCPP CiString limits of ChangeConfiguration.
const MAX_KEY_LEN: usize = 50;
const MAX_VALUE_LEN: usize = 500;
const AUTHORIZATION_KEY: &str = "AuthorizationKey";

/// A value as sent on the wire: strings as they are, booleans as `true`/`false`,
/// numbers in their shortest decimal form.
///
/// # Errors
/// [`DispatchError::Invalid`] for other JSON types.
pub fn wire_value(value: &Value) -> Result<String, DispatchError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(_) | Value::Number(_) => Ok(config::to_wire_value(value)),
        _ => Err(DispatchError::Invalid(
            "'value' must be a string, a number or a boolean".into(),
        )),
    }
}

/// Checks a change against the limits, the last upload and the catalogue.
///
/// # Errors
/// [`DispatchError::Invalid`] naming the rule.
pub fn check(
    key: &str,
    value: &str,
    snapshot: Option<&[ReportedKey]>,
    force: bool,
) -> Result<(), DispatchError> {
    let key_len = key.chars().count();
    if key_len == 0 || key_len > MAX_KEY_LEN {
        return Err(DispatchError::Invalid(format!(
            "'key' must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(DispatchError::Invalid(format!(
            "'value' must be at most {MAX_VALUE_LEN} characters"
        )));
    }
    if key.eq_ignore_ascii_case(AUTHORIZATION_KEY) {
        check_station_password(value)
            .map_err(|rule| DispatchError::Invalid(format!("AuthorizationKey: {rule}")))?;
    }
    if force {
        return Ok(());
    }
    if let Some(reported) =
        snapshot.and_then(|keys| keys.iter().find(|k| k.key.eq_ignore_ascii_case(key)))
    {
        if reported.readonly {
            return Err(DispatchError::Invalid(format!(
                "{key} is read-only on this chargestation (last configuration upload)"
            )));
        }
    }
    if let Some(info) = config::lookup(key) {
        if info.is_read_only() {
            return Err(DispatchError::Invalid(format!(
                "{} is a read-only OCPP 1.6 key",
                info.name
            )));
        }
        info.validate(value).map_err(DispatchError::Invalid)?;
    }
    Ok(())
}

/// Checks and queues a change; returns the action (status `requested`).
///
/// # Errors
/// 404 / 406 / 422 / 429 as [`DispatchError`].
pub async fn queue(
    dispatcher: &Dispatcher,
    station: &str,
    key: &str,
    value: &Value,
    meta_data: Option<Value>,
    force: bool,
) -> Result<Action, DispatchError> {
    let station = ready_station(dispatcher, station).await?;
    let value = wire_value(value)?;
    check(key, &value, station.configuration.as_deref(), force)?;
    let write_only = config::is_write_only(key);
    let shown = if write_only {
        MASK.to_owned()
    } else {
        value.clone()
    };
    let action = enqueue(
        dispatcher,
        &station.id,
        types::UPDATE_CONFIGURATION,
        json!({"key": key, "value": shown}),
        meta_data,
    )
    .await?;
    if write_only {
        if let Ok(mut secrets) = dispatcher.inner.secrets.lock() {
            secrets.insert(action.id.clone(), value);
        }
    }
    dispatcher.wake(&station.id).await;
    Ok(action)
}

/// Whether a read-back value confirms the value sent: equal, or equal ignoring case
/// (booleans), or numerically equal.
fn confirms(sent: &str, reported: &str) -> bool {
    let (sent, reported) = (sent.trim(), reported.trim());
    sent == reported
        || sent.eq_ignore_ascii_case(reported)
        || matches!((sent.parse::<f64>(), reported.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
}

pub(super) async fn execute(
    dispatcher: &Dispatcher,
    action: &Action,
) -> Result<Outcome, DispatchError> {
    let key = action
        .data
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let shown = action
        .data
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let write_only = config::is_write_only(&key);
    let value = if write_only {
        let secret = dispatcher
            .inner
            .secrets
            .lock()
            .ok()
            .and_then(|mut s| s.remove(&action.id));
        match secret {
            Some(secret) => secret,
            None => {
                return Ok(Outcome::new(
                    ActionStatus::Failed,
                    json!({"error": "Cancelled", "description": "the write-only value is kept in memory only and was lost in a restart; send the change again"}),
                ))
            }
        }
    } else {
        shown
    };
    mark_sent(dispatcher, action).await?;
    let gateway = dispatcher.gateway();
    let timeout = dispatcher.inner.config.call_timeout;
    let answer = match gateway
        .call_raw(
            &action.chargestation_id,
            "ChangeConfiguration",
            json!({"key": key, "value": value}),
            timeout,
        )
        .await
    {
        Ok(answer) => answer,
        Err(failure) => return Ok(Outcome::failed(&failure)),
    };
    let status = answer
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if status.eq_ignore_ascii_case("RebootRequired") {
        let mut outcome = Outcome::new(ActionStatus::Completed, answer);
        outcome.effects.hold_queue = Some(true);
        return Ok(outcome);
    }
    if !status.eq_ignore_ascii_case("Accepted") {
        return Ok(Outcome::new(ActionStatus::Rejected, answer));
    }
    let mut effects = Effects::default();
    if key.eq_ignore_ascii_case(AUTHORIZATION_KEY) {
        effects.new_password = Some(value.clone());
    }
    if write_only || !dispatcher.inner.config.verify_changes {
        return Ok(Outcome {
            status: ActionStatus::Completed,
            response_data: answer,
            effects,
        });
    }
    let read_back = gateway
        .call_raw(
            &action.chargestation_id,
            "GetConfiguration",
            json!({"key": [key]}),
            timeout,
        )
        .await;
    let mut response = json!({"status": "Accepted"});
    match read_back.map(|v| ocpp::parse_payload::<GetConfigurationResponse>(&v)) {
        Ok(Ok(read)) => {
            let reported = read
                .configuration_key
                .unwrap_or_default()
                .into_iter()
                .find(|k| k.key.eq_ignore_ascii_case(&key));
            match reported {
                Some(reported) => {
                    let reported_value = reported.value.clone().unwrap_or_default();
                    response["verified"] = json!(confirms(&value, &reported_value));
                    response["reportedValue"] = json!(reported_value);
                    effects.snapshot = Some((
                        vec![ReportedKey {
                            key: reported.key,
                            readonly: reported.readonly,
                            value: reported.value,
                        }],
                        false,
                    ));
                }
                None => response["verified"] = json!(false),
            }
        }
        Ok(Err(e)) => {
            response["verified"] = json!(false);
            response["verificationError"] = json!(e.description);
        }
        Err(failure) => {
            response["verified"] = json!(false);
            response["verificationError"] = json!(failure.error_name());
        }
    }
    Ok(Outcome {
        status: ActionStatus::Completed,
        response_data: response,
        effects,
    })
}

/// Queues one change per drifted writable key of the desired profile, through the same
/// checks and queue as a single change.
///
/// # Errors
/// 404 / 406 / 429 as [`DispatchError`]; keys already queued stay queued.
pub async fn apply_desired(
    dispatcher: &Dispatcher,
    station: &str,
) -> Result<Vec<Action>, DispatchError> {
    let station = ready_station(dispatcher, station).await?;
    let snapshot = station.configuration.clone().unwrap_or_default();
    let mut queued = Vec::new();
    for item in config::drift(&snapshot, dispatcher.desired_profile()) {
        if !item.writable {
            continue;
        }
        let value = Value::String(config::to_wire_value(&item.desired_value));
        queued.push(queue(dispatcher, &station.id, &item.key, &value, None, false).await?);
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_booleans_are_sent_in_string_form() {
        assert_eq!(wire_value(&json!(901)).unwrap(), "901");
        assert_eq!(wire_value(&json!(true)).unwrap(), "true");
        assert_eq!(wire_value(&json!(1.5)).unwrap(), "1.5");
        assert_eq!(wire_value(&json!("x")).unwrap(), "x");
        assert!(wire_value(&json!([1])).is_err());
        assert!(wire_value(&json!(null)).is_err());
    }

    fn rejected(key: &str, value: &str, snapshot: Option<&[ReportedKey]>, force: bool) -> String {
        match check(key, value, snapshot, force) {
            Err(DispatchError::Invalid(message)) => message,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn limits_hold_even_when_forced() {
        assert!(rejected("", "1", None, true).contains("'key'"));
        assert!(rejected(&"k".repeat(51), "1", None, true).contains("'key'"));
        assert!(rejected("VendorKey", &"v".repeat(501), None, true).contains("'value'"));
        assert!(check(&"k".repeat(50), &"v".repeat(500), None, true).is_ok());
    }

    #[test]
    fn catalogue_rules_apply_unless_forced() {
        assert!(rejected("HeartbeatInterval", "soon", None, false).contains("HeartbeatInterval"));
        assert!(rejected("NumberOfConnectors", "2", None, false).contains("read-only"));
        assert!(rejected("MeterValuesSampledData", "Foo", None, false).contains("measurand"));
        assert!(check("HeartbeatInterval", "soon", None, true).is_ok());
        assert!(check("HeartbeatInterval", "900", None, false).is_ok());
        assert!(check("VendorSpecific", "anything", None, false).is_ok());
    }

    #[test]
    fn keys_the_last_upload_reported_read_only_are_refused() {
        let snapshot = [ReportedKey {
            key: "VendorLock".into(),
            readonly: true,
            value: Some("1".into()),
        }];
        assert!(rejected("VendorLock", "0", Some(&snapshot), false).contains("read-only"));
        assert!(check("VendorLock", "0", Some(&snapshot), true).is_ok());
    }

    #[test]
    fn authorization_keys_must_be_station_passwords_even_when_forced() {
        assert!(rejected("AuthorizationKey", "short", None, true).contains("AuthorizationKey"));
        assert!(check("AuthorizationKey", "a-long-enough-key", None, false).is_ok());
    }

    #[test]
    fn read_back_values_confirm_loosely() {
        assert!(confirms("true", "True"));
        assert!(confirms("900", " 900"));
        assert!(confirms("30", "30.0"));
        assert!(!confirms("900", "901"));
    }
}
