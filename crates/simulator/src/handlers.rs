//! How the simulated charger answers the CALLs a server sends it: the configuration
//! store, GetConfiguration, ChangeConfiguration, Reset, TriggerMessage and schema-valid
//! answers for the other OCPP 1.6 server-to-charger actions and the security
//! extension's.
//!
//! Pure decision logic: [`handle`] turns a CALL and the store into a [`Reply`]; it does
//! no I/O, no waiting and knows nothing about sockets. The connection code carries the
//! reply out (delay, send, reboot, follow-up CALL).

use std::collections::HashMap;
use std::time::Duration;

use ocpp::frame::{Call, CallError, CallResult, Frame};
use ocpp::ErrorCode;
use serde_json::{json, Map, Value};

use crate::config::{ChargerConfig, ConfigKey, KeyBehaviour, AUTHORIZATION_KEY};

/// The charger's mutable configuration state.
#[derive(Debug)]
pub(crate) struct Store {
    pub keys: Vec<ConfigKey>,
    pub behaviours: HashMap<String, KeyBehaviour>,
    pub reset_behaviour: KeyBehaviour,
    pub max_keys: usize,
    /// GetConfiguration requests that named more keys than `max_keys`.
    pub oversized_requests: u64,
    /// A new AuthorizationKey accepted by ChangeConfiguration: the password of the next
    /// connection.
    pub new_password: Option<String>,
    /// How many connectors the charger has.
    pub connectors: u32,
    /// The transactions running now (started by a remote start).
    pub transactions: Vec<Running>,
    /// The energy meter register, in Wh; it only goes up.
    pub energy_wh: i64,
}

/// A transaction the simulated charger is running.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Running {
    pub connector: u32,
    pub transaction_id: i64,
    pub id_tag: String,
}

impl Store {
    /// The store a charger starts with: the configured keys, with `NumberOfConnectors`
    /// and `GetConfigurationMaxKeys` reflecting the configuration.
    pub fn new(config: &ChargerConfig) -> Self {
        let mut store = Store {
            keys: config.keys.clone(),
            behaviours: config.behaviours.clone(),
            reset_behaviour: config.reset_behaviour.clone(),
            max_keys: config.get_configuration_max_keys,
            oversized_requests: 0,
            new_password: None,
            connectors: config.connectors,
            transactions: Vec::new(),
            energy_wh: 0,
        };
        for (name, value) in [
            ("NumberOfConnectors", config.connectors.to_string()),
            (
                "GetConfigurationMaxKeys",
                config.get_configuration_max_keys.to_string(),
            ),
        ] {
            if let Some(entry) = store.find_mut(name) {
                entry.value = Some(value);
            }
        }
        store
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.key == key).or_else(|| {
            self.keys
                .iter()
                .position(|k| k.key.eq_ignore_ascii_case(key))
        })
    }

    /// The entry for `key` (exact spelling first, then case-insensitive).
    pub fn find(&self, key: &str) -> Option<&ConfigKey> {
        self.position(key).map(|i| &self.keys[i])
    }

    fn find_mut(&mut self, key: &str) -> Option<&mut ConfigKey> {
        self.position(key).map(|i| &mut self.keys[i])
    }

    /// The current value of `key`.
    pub fn value(&self, key: &str) -> Option<String> {
        self.find(key).and_then(|k| k.value.clone())
    }

    fn behaviour(&self, key: &str) -> Option<KeyBehaviour> {
        self.behaviours.get(key).cloned().or_else(|| {
            self.behaviours
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, b)| b.clone())
        })
    }

    fn store_value(&mut self, key: &str, value: String) {
        if key.eq_ignore_ascii_case(AUTHORIZATION_KEY) {
            self.new_password = Some(value.clone());
        }
        match self.find_mut(key) {
            Some(entry) => entry.value = Some(value),
            None => self.keys.push(ConfigKey {
                key: key.to_owned(),
                readonly: false,
                value: Some(value),
            }),
        }
    }
}

/// A CALL the charger sends on its own after answering (as TriggerMessage asks).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FollowUp {
    Boot,
    Heartbeat,
    /// StatusNotification(Available) for one connector, or for all when `None`.
    Status(Option<u32>),
    DiagnosticsStatus,
    FirmwareStatus,
    /// A remote start: StartTransaction on the connector, then a MeterValues.
    StartTransaction {
        connector: u32,
        id_tag: String,
    },
    /// StopTransaction of a running transaction, for this reason.
    StopTransaction {
        transaction_id: i64,
        reason: &'static str,
    },
    /// UpdateFirmware: FirmwareStatusNotification Downloading, Downloaded, Installing,
    /// Installed.
    FirmwareUpdate,
}

/// What to do about one server CALL.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Reply {
    /// The answer to send, if any.
    pub frame: Option<Frame>,
    /// Wait this long before sending it.
    pub delay: Option<Duration>,
    /// Reboot after answering.
    pub reboot: bool,
    /// A CALL to send after answering.
    pub follow_up: Option<FollowUp>,
}

impl Reply {
    fn result(call: &Call, payload: Value) -> Self {
        Reply {
            frame: Some(Frame::CallResult(CallResult {
                message_id: call.message_id.clone(),
                payload,
            })),
            ..Reply::default()
        }
    }

    fn status(call: &Call, status: &str) -> Self {
        Reply::result(call, json!({ "status": status }))
    }

    fn error(call: &Call, code: ErrorCode, description: &str) -> Self {
        Reply {
            frame: Some(Frame::CallError(CallError::new(
                call.message_id.clone(),
                code,
                description,
            ))),
            ..Reply::default()
        }
    }
}

/// Decides the answer to a server CALL, updating the store as a real charger would.
pub(crate) fn handle(call: &Call, store: &mut Store) -> Reply {
    match call.action.as_str() {
        "GetConfiguration" => get_configuration(call, store),
        "ChangeConfiguration" => change_configuration(call, store),
        "Reset" => reset(call, store),
        "TriggerMessage" => trigger_message(call),
        "ChangeAvailability"
        | "ClearCache"
        | "CancelReservation"
        | "ReserveNow"
        | "ClearChargingProfile"
        | "SetChargingProfile"
        | "SendLocalList"
        | "DataTransfer" => Reply::status(call, "Accepted"),
        "RemoteStartTransaction" => remote_start(call, store),
        "RemoteStopTransaction" => remote_stop(call, store),
        "UnlockConnector" => unlock_connector(call, store),
        "UpdateFirmware" => Reply {
            follow_up: Some(FollowUp::FirmwareUpdate),
            ..Reply::result(call, json!({}))
        },
        "GetDiagnostics" => Reply::result(call, json!({ "fileName": "diagnostics.log" })),
        "GetLocalListVersion" => Reply::result(call, json!({ "listVersion": 0 })),
        "ExtendedTriggerMessage" => extended_trigger_message(call),
        "CertificateSigned" | "InstallCertificate" | "DeleteCertificate" => {
            Reply::status(call, "Accepted")
        }
        "SignedUpdateFirmware" => Reply::status(call, "Accepted"),
        "GetLog" => Reply::result(
            call,
            json!({ "status": "Accepted", "filename": "security.log" }),
        ),
        "GetInstalledCertificateIds" => Reply::result(
            call,
            json!({
                "status": "Accepted",
                "certificateHashData": [{
                    "hashAlgorithm": "SHA256",
                    "issuerNameHash": "0f4c2a1b",
                    "issuerKeyHash": "9e8d7c6b",
                    "serialNumber": "01"
                }]
            }),
        ),
        "GetCompositeSchedule" => {
            let connector = call.payload.get("connectorId").cloned().unwrap_or(json!(0));
            Reply::result(
                call,
                json!({ "status": "Accepted", "connectorId": connector }),
            )
        }
        other => Reply::error(
            call,
            ErrorCode::NotImplemented,
            &format!("action {other} is not implemented by this charger"),
        ),
    }
}

fn lenient_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn get_configuration(call: &Call, store: &mut Store) -> Reply {
    let requested: Option<Vec<String>> = match call.payload.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(Value::Array(items)) => Some(items.iter().map(lenient_string).collect()),
        Some(Value::String(single)) => Some(vec![single.clone()]),
        Some(_) => {
            return Reply::error(
                call,
                ErrorCode::TypeConstraintViolation,
                "key must be an array of strings",
            )
        }
    };
    let entry = |k: &ConfigKey| {
        let mut object = Map::new();
        object.insert("key".into(), json!(k.key));
        object.insert("readonly".into(), json!(k.readonly));
        if let Some(value) = &k.value {
            object.insert("value".into(), json!(value));
        }
        Value::Object(object)
    };
    let reportable = |k: &ConfigKey| !k.key.eq_ignore_ascii_case(AUTHORIZATION_KEY);
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    match requested {
        None => known.extend(store.keys.iter().filter(|k| reportable(k)).map(entry)),
        Some(names) => {
            if names.len() > store.max_keys {
                store.oversized_requests += 1;
                tracing::warn!(
                    requested = names.len(),
                    max = store.max_keys,
                    "GetConfiguration names more keys than GetConfigurationMaxKeys; answering anyway"
                );
            }
            for name in names {
                match store.find(&name).filter(|k| reportable(k)) {
                    Some(k) => known.push(entry(k)),
                    None => unknown.push(json!(name)),
                }
            }
        }
    }
    let mut payload = Map::new();
    payload.insert("configurationKey".into(), Value::Array(known));
    if !unknown.is_empty() {
        payload.insert("unknownKey".into(), Value::Array(unknown));
    }
    Reply::result(call, Value::Object(payload))
}

fn change_configuration(call: &Call, store: &mut Store) -> Reply {
    let Some(key) = call.payload.get("key").and_then(Value::as_str) else {
        return Reply::error(call, ErrorCode::ProtocolError, "key is required");
    };
    let Some(value) = call.payload.get("value").filter(|v| !v.is_null()) else {
        return Reply::error(call, ErrorCode::ProtocolError, "value is required");
    };
    let value = lenient_string(value);
    let behaviour = store
        .behaviour(key)
        .unwrap_or_else(|| match store.find(key) {
            Some(entry) if entry.readonly => KeyBehaviour::Reject,
            Some(_) => KeyBehaviour::Accept,
            None if key.eq_ignore_ascii_case(AUTHORIZATION_KEY) => KeyBehaviour::Accept,
            None => KeyBehaviour::NotSupported,
        });
    match behaviour {
        KeyBehaviour::Accept => {
            store.store_value(key, value);
            Reply::status(call, "Accepted")
        }
        KeyBehaviour::RebootRequired => {
            store.store_value(key, value);
            Reply::status(call, "RebootRequired")
        }
        KeyBehaviour::Delay(delay) => {
            // Stored at once; only the answer is late.
            store.store_value(key, value);
            Reply {
                delay: Some(delay),
                ..Reply::status(call, "Accepted")
            }
        }
        KeyBehaviour::Reject => Reply::status(call, "Rejected"),
        KeyBehaviour::NotSupported => Reply::status(call, "NotSupported"),
        KeyBehaviour::NoAnswer => Reply::default(),
        KeyBehaviour::CallError(code) => Reply::error(call, code, "configured to fail this key"),
    }
}

fn reset(call: &Call, store: &Store) -> Reply {
    match store.reset_behaviour.clone() {
        KeyBehaviour::Accept | KeyBehaviour::RebootRequired => Reply {
            reboot: true,
            ..Reply::status(call, "Accepted")
        },
        KeyBehaviour::Delay(delay) => Reply {
            reboot: true,
            delay: Some(delay),
            ..Reply::status(call, "Accepted")
        },
        KeyBehaviour::Reject | KeyBehaviour::NotSupported => Reply::status(call, "Rejected"),
        KeyBehaviour::NoAnswer => Reply::default(),
        KeyBehaviour::CallError(code) => Reply::error(call, code, "configured to fail Reset"),
    }
}

fn trigger_message(call: &Call) -> Reply {
    let connector = call
        .payload
        .get("connectorId")
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .filter(|c| *c > 0);
    let follow_up = match call.payload.get("requestedMessage").and_then(Value::as_str) {
        Some("BootNotification") => FollowUp::Boot,
        Some("Heartbeat") => FollowUp::Heartbeat,
        Some("StatusNotification") => FollowUp::Status(connector),
        Some("DiagnosticsStatusNotification") => FollowUp::DiagnosticsStatus,
        Some("FirmwareStatusNotification") => FollowUp::FirmwareStatus,
        Some(_) => return Reply::status(call, "NotImplemented"),
        None => {
            return Reply::error(
                call,
                ErrorCode::ProtocolError,
                "requestedMessage is required",
            )
        }
    };
    Reply {
        follow_up: Some(follow_up),
        ..Reply::status(call, "Accepted")
    }
}

fn connector_of(call: &Call) -> Option<u32> {
    call.payload
        .get("connectorId")
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
}

/// RemoteStartTransaction: accepted on a free connector of this charger (connector 1
/// when none is named), then a transaction starts there.
fn remote_start(call: &Call, store: &Store) -> Reply {
    let connector = connector_of(call).unwrap_or(1);
    let id_tag = call.payload.get("idTag").and_then(Value::as_str);
    let busy = store.transactions.iter().any(|t| t.connector == connector);
    match id_tag {
        Some(id_tag) if (1..=store.connectors).contains(&connector) && !busy => Reply {
            follow_up: Some(FollowUp::StartTransaction {
                connector,
                id_tag: id_tag.to_owned(),
            }),
            ..Reply::status(call, "Accepted")
        },
        _ => Reply::status(call, "Rejected"),
    }
}

/// RemoteStopTransaction: accepted for a running transaction, which then stops.
fn remote_stop(call: &Call, store: &Store) -> Reply {
    let id = call.payload.get("transactionId").and_then(Value::as_i64);
    match store
        .transactions
        .iter()
        .find(|t| Some(t.transaction_id) == id)
    {
        Some(running) => Reply {
            follow_up: Some(FollowUp::StopTransaction {
                transaction_id: running.transaction_id,
                reason: "Remote",
            }),
            ..Reply::status(call, "Accepted")
        },
        None => Reply::status(call, "Rejected"),
    }
}

/// UnlockConnector: `NotSupported` for a connector the charger does not have;
/// `Unlocked` otherwise, stopping a transaction running there first.
fn unlock_connector(call: &Call, store: &Store) -> Reply {
    let connector = connector_of(call).unwrap_or(0);
    if !(1..=store.connectors).contains(&connector) {
        return Reply::status(call, "NotSupported");
    }
    let follow_up = store
        .transactions
        .iter()
        .find(|t| t.connector == connector)
        .map(|running| FollowUp::StopTransaction {
            transaction_id: running.transaction_id,
            reason: "UnlockCommand",
        });
    Reply {
        follow_up,
        ..Reply::status(call, "Unlocked")
    }
}

/// ExtendedTriggerMessage (security extension): the core messages as TriggerMessage
/// does; the extension's own (`LogStatusNotification`, `SignChargePointCertificate`)
/// are accepted without a follow-up.
fn extended_trigger_message(call: &Call) -> Reply {
    match call.payload.get("requestedMessage").and_then(Value::as_str) {
        Some("LogStatusNotification" | "SignChargePointCertificate") => {
            Reply::status(call, "Accepted")
        }
        _ => trigger_message(call),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut config = ChargerConfig::new("ws://x/ocpp", "CP1");
        config.connectors = 2;
        config.get_configuration_max_keys = 3;
        Store::new(&config)
    }

    fn call(action: &str, payload: Value) -> Call {
        Call {
            message_id: "m1".into(),
            action: action.into(),
            payload,
        }
    }

    fn payload(reply: &Reply) -> Value {
        match &reply.frame {
            Some(Frame::CallResult(r)) => r.payload.clone(),
            other => panic!("not a CALLRESULT: {other:?}"),
        }
    }

    #[test]
    fn store_reflects_connectors_and_max_keys() {
        let store = store();
        assert_eq!(store.value("NumberOfConnectors").as_deref(), Some("2"));
        assert_eq!(store.value("GetConfigurationMaxKeys").as_deref(), Some("3"));
    }

    #[test]
    fn get_configuration_of_everything_hides_the_authorization_key() {
        let mut store = store();
        let reply = handle(&call("GetConfiguration", json!({})), &mut store);
        let keys = payload(&reply)["configurationKey"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(keys.len(), store.keys.len() - 1);
        assert!(keys.iter().all(|k| k["key"] != AUTHORIZATION_KEY));
        assert!(payload(&reply).get("unknownKey").is_none());
    }

    #[test]
    fn oversized_named_requests_are_answered_and_recorded() {
        let mut store = store();
        let names = json!(["HeartbeatInterval", "a", "b", "c"]);
        let reply = handle(
            &call("GetConfiguration", json!({ "key": names })),
            &mut store,
        );
        assert_eq!(payload(&reply)["unknownKey"], json!(["a", "b", "c"]));
        assert_eq!(store.oversized_requests, 1);
    }

    #[test]
    fn change_configuration_defaults_follow_the_store() {
        let mut store = store();
        let change = |key: &str| call("ChangeConfiguration", json!({ "key": key, "value": "7" }));
        let status = |reply: Reply| payload(&reply)["status"].clone();
        assert_eq!(
            status(handle(&change("HeartbeatInterval"), &mut store)),
            "Accepted"
        );
        assert_eq!(store.value("heartbeatinterval").as_deref(), Some("7"));
        assert_eq!(
            status(handle(&change("NumberOfConnectors"), &mut store)),
            "Rejected"
        );
        assert_eq!(
            status(handle(&change("NoSuchKey"), &mut store)),
            "NotSupported"
        );
        assert_eq!(
            status(handle(&change(AUTHORIZATION_KEY), &mut store)),
            "Accepted"
        );
        assert_eq!(store.new_password.as_deref(), Some("7"));
    }

    #[test]
    fn change_configuration_without_value_is_a_protocol_error() {
        let mut store = store();
        let reply = handle(
            &call("ChangeConfiguration", json!({ "key": "X" })),
            &mut store,
        );
        assert!(
            matches!(reply.frame, Some(Frame::CallError(e)) if e.code == ErrorCode::ProtocolError)
        );
    }

    #[test]
    fn unknown_actions_are_not_implemented() {
        let reply = handle(&call("Teleport", json!({})), &mut store());
        assert!(
            matches!(reply.frame, Some(Frame::CallError(e)) if e.code == ErrorCode::NotImplemented)
        );
    }

    #[test]
    fn remote_start_needs_a_free_connector_and_remote_stop_a_running_transaction() {
        let mut store = store();
        let start = |connector: u32| {
            call(
                "RemoteStartTransaction",
                json!({ "connectorId": connector, "idTag": "T" }),
            )
        };
        let reply = handle(&start(1), &mut store);
        assert_eq!(payload(&reply)["status"], "Accepted");
        assert_eq!(
            reply.follow_up,
            Some(FollowUp::StartTransaction {
                connector: 1,
                id_tag: "T".into()
            })
        );
        assert_eq!(
            payload(&handle(&start(3), &mut store))["status"],
            "Rejected"
        );
        store.transactions.push(Running {
            connector: 1,
            transaction_id: 9,
            id_tag: "T".into(),
        });
        assert_eq!(
            payload(&handle(&start(1), &mut store))["status"],
            "Rejected"
        );
        let stop = |id: i64| call("RemoteStopTransaction", json!({ "transactionId": id }));
        assert_eq!(payload(&handle(&stop(8), &mut store))["status"], "Rejected");
        let reply = handle(&stop(9), &mut store);
        assert_eq!(payload(&reply)["status"], "Accepted");
        assert_eq!(
            reply.follow_up,
            Some(FollowUp::StopTransaction {
                transaction_id: 9,
                reason: "Remote"
            })
        );
    }

    #[test]
    fn unlock_answers_per_connector_and_ends_a_transaction_running_there() {
        let mut store = store();
        let unlock = |connector: u32| call("UnlockConnector", json!({ "connectorId": connector }));
        assert_eq!(
            payload(&handle(&unlock(5), &mut store))["status"],
            "NotSupported"
        );
        let reply = handle(&unlock(2), &mut store);
        assert_eq!(
            (payload(&reply)["status"].clone(), reply.follow_up),
            (json!("Unlocked"), None)
        );
        store.transactions.push(Running {
            connector: 2,
            transaction_id: 4,
            id_tag: "T".into(),
        });
        let reply = handle(&unlock(2), &mut store);
        assert_eq!(
            reply.follow_up,
            Some(FollowUp::StopTransaction {
                transaction_id: 4,
                reason: "UnlockCommand"
            })
        );
    }

    #[test]
    fn accepted_reset_reboots_and_rejected_does_not() {
        let mut store = store();
        let reply = handle(&call("Reset", json!({ "type": "Soft" })), &mut store);
        assert!(reply.reboot);
        store.reset_behaviour = KeyBehaviour::NotSupported;
        let reply = handle(&call("Reset", json!({ "type": "Soft" })), &mut store);
        assert!(!reply.reboot);
        assert_eq!(payload(&reply)["status"], "Rejected");
    }
}
