//! Strict on what we send: every payload on the wire, in both directions, validated
//! against the official OCPP 1.6 JSON schemas (the PyPI `ocpp` wheel's, fetched by
//! `scripts/fetch-ocpp-schemas`; see `e2e_tests::schemas`).
//!
//! - every server-initiated request the API produces, in all its variants (the
//!   configuration commands and reset, and every command route of CONTRACT §9 — each
//!   action of `ocpp::v16::SERVER_INITIATED_ACTIONS` must be on the wire), and the
//!   simulator's answers to them;
//! - the answer to every charger-initiated action in all its branches, and the
//!   simulator's CALLs;
//! - the validator and the audit themselves reject broken payloads, so these tests can
//!   fail, and a missing schema directory is a failure, never a skip.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Duration;

use e2e_tests::schemas::{audit, Audit, Schemas, Sender, SCHEMAS_DIR_VAR};
use e2e_tests::TestApp;
use ocpp::Frame;
use serde_json::{json, Value};
use simulator::{Charger, ChargerConfig, KeyBehaviour};
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(10);

/// Reads every frame waiting in the charger's raw inbox, without waiting for more.
async fn drain(charger: &Charger, into: &mut Vec<String>) {
    while let Some(text) = charger.next_raw(Duration::ZERO).await {
        into.push(text);
    }
}

fn ids<'a>(
    frames: &'a [String],
    keep: impl Fn(&Frame) -> bool + 'a,
) -> impl Iterator<Item = String> + 'a {
    frames
        .iter()
        .filter_map(|t| Frame::parse(t).ok())
        .filter(move |f| keep(f))
        .map(|f| f.message_id().to_owned())
}

/// The charger's whole conversation so far, once every CALL of either side has been
/// answered (polled, with a deadline), validated against the official schemas.
async fn conversation(schemas: &Schemas, charger: &Charger) -> Audit {
    let mut received = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        drain(charger, &mut received).await;
        let sent = charger.sent_frames();
        let is_call = |f: &Frame| matches!(f, Frame::Call(_));
        let is_answer = |f: &Frame| !matches!(f, Frame::Call(_));
        let answered: BTreeSet<String> = ids(&received, is_answer)
            .chain(ids(&sent, is_answer))
            .collect();
        let open: Vec<String> = ids(&sent, is_call)
            .chain(ids(&received, is_call))
            .filter(|id| !answered.contains(id))
            .collect();
        if open.is_empty() {
            return audit(schemas, &sent, &received);
        }
        assert!(
            Instant::now() < deadline,
            "CALLs still unanswered after {WAIT:?}: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn finished(app: &TestApp, body: &Value) -> Value {
    let id = body["result"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no action in {body}"));
    app.wait_for_get(&format!("/v1.1/actions/{id}"), "the action to end", |b| {
        b["result"]["status"]
            .as_str()
            .is_some_and(|s| s != "requested")
    })
    .await["result"]
        .clone()
}

#[test]
fn the_validator_rejects_payloads_that_break_the_official_schemas() {
    let schemas = Schemas::load();
    assert!(schemas.len() >= 78, "{schemas:?}");
    let fine = json!({"currentTime": "2026-01-01T00:00:00.000Z"});
    schemas.check_response("Heartbeat", &fine).unwrap();

    let broken = [
        ("HeartbeatResponse", json!({}), "currentTime"),
        (
            "HeartbeatResponse",
            json!({"currentTime": "yesterday"}),
            "date-time",
        ),
        (
            "BootNotificationResponse",
            json!({"status": "OK", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}),
            "status",
        ),
        (
            "BootNotificationResponse",
            json!({"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": "300"}),
            "interval",
        ),
        (
            "ChangeConfiguration",
            json!({"key": "K".repeat(51), "value": "1"}),
            "key",
        ),
        ("GetConfiguration", json!({"key": [], "all": true}), "all"),
        ("Reset", json!({"type": "Medium"}), "type"),
        (
            "StopTransactionResponse",
            json!({"idTagInfo": {}}),
            "status",
        ),
    ];
    for (name, payload, about) in broken {
        let error = schemas
            .check(name, &payload)
            .expect_err(&format!("{name} {payload} must be refused"));
        assert!(error.contains(about), "{name}: {error}");
    }
    let unknown = schemas.check_request("Teleport", &json!({})).unwrap_err();
    assert!(unknown.contains("no official OCPP 1.6 schema"), "{unknown}");
}

#[test]
fn the_audit_fails_on_a_broken_answer_an_unpaired_answer_and_garbage() {
    let schemas = Schemas::load();
    let sent = vec![
        r#"[2,"c1","Heartbeat",{}]"#.to_owned(),
        r#"[2,"c2","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError"}]"#.to_owned(),
        r#"[3,"s1",{"status":"Accepted"}]"#.to_owned(),
    ];
    let received = vec![
        r#"[3,"c1",{}]"#.to_owned(),
        r#"[3,"c2",{}]"#.to_owned(),
        r#"[2,"s1","Reset",{"type":"Soft"}]"#.to_owned(),
        r#"[3,"nobody",{}]"#.to_owned(),
        "garbage".to_owned(),
    ];
    let result = audit(&schemas, &sent, &received);
    assert_eq!(result.checked.len(), 6, "{result:?}");
    assert_eq!(result.failures.len(), 3, "{:#?}", result.failures);
    assert!(
        result
            .failures
            .iter()
            .any(|f| f.contains("HeartbeatResponse.json") && f.contains("currentTime")),
        "{:?}",
        result.failures
    );
    assert!(result.failures.iter().any(|f| f.contains("nobody")));
    assert!(result.failures.iter().any(|f| f.contains("garbage")));
    let caught = std::panic::catch_unwind(|| result.assert_clean());
    assert!(caught.is_err(), "assert_clean must fail on failures");
}

#[test]
fn without_the_schema_directory_the_schema_tests_fail_with_what_to_run() {
    for dir in [None, Some(OsString::new())] {
        let error = Schemas::load_from(dir).unwrap_err();
        assert!(error.contains(SCHEMAS_DIR_VAR), "{error}");
        assert!(error.contains("scripts/fetch-ocpp-schemas"), "{error}");
    }
    let missing = Schemas::load_from(Some("/nonexistent/ocpp-schemas".into())).unwrap_err();
    assert!(missing.contains("cannot read"), "{missing}");
    let empty = std::env::temp_dir().join(format!("csms-no-schemas-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&empty).unwrap();
    let error = Schemas::load_from(Some(empty.clone().into())).unwrap_err();
    std::fs::remove_dir_all(&empty).unwrap();
    assert!(error.contains("Heartbeat.json is missing"), "{error}");
}

/// One sample per branch of every charger-initiated action (requests valid per the
/// official schema; the audit checks that too).
fn charger_initiated_samples() -> Vec<(&'static str, Value)> {
    let at = "2026-01-01T00:00:00Z";
    let sampled = json!([{"value": "12.5", "context": "Sample.Periodic", "format": "Raw",
        "measurand": "Energy.Active.Import.Register", "phase": "L1", "location": "Outlet",
        "unit": "kWh"}]);
    vec![
        (
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M"}),
        ),
        (
            "BootNotification",
            json!({"chargePointVendor": "VendorX", "chargePointModel": "AC22",
                "chargePointSerialNumber": "S-1", "chargeBoxSerialNumber": "B-1",
                "firmwareVersion": "1.2.3", "iccid": "8931", "imsi": "2620",
                "meterType": "DC", "meterSerialNumber": "MS-1"}),
        ),
        ("Heartbeat", json!({})),
        ("Authorize", json!({"idTag": "TAG1"})),
        (
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": at}),
        ),
        (
            "StartTransaction",
            json!({"connectorId": 2, "idTag": "TAG2", "meterStart": 10, "reservationId": 4,
                "timestamp": at}),
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": at, "sampledValue": [{"value": "1"}]}]}),
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "transactionId": 7,
                "meterValue": [{"timestamp": at, "sampledValue": sampled}]}),
        ),
        (
            "StopTransaction",
            json!({"transactionId": 7, "idTag": "TAG1", "meterStop": 1000, "timestamp": at,
                "reason": "EVDisconnected",
                "transactionData": [{"timestamp": at, "sampledValue": [{"value": "1000"}]}]}),
        ),
        (
            "StopTransaction",
            json!({"transactionId": 999_999, "meterStop": 1, "timestamp": at}),
        ),
        (
            "StatusNotification",
            json!({"connectorId": 0, "status": "Available", "errorCode": "NoError"}),
        ),
        (
            "StatusNotification",
            json!({"connectorId": 1, "status": "Faulted", "errorCode": "OtherError",
                "info": "door open", "timestamp": at, "vendorId": "com.example",
                "vendorErrorCode": "E42"}),
        ),
        ("DataTransfer", json!({"vendorId": "com.example"})),
        (
            "DataTransfer",
            json!({"vendorId": "com.example", "messageId": "m", "data": "d"}),
        ),
        (
            "DiagnosticsStatusNotification",
            json!({"status": "Uploaded"}),
        ),
        (
            "DiagnosticsStatusNotification",
            json!({"status": "UploadFailed"}),
        ),
        ("FirmwareStatusNotification", json!({"status": "Installed"})),
        (
            "FirmwareStatusNotification",
            json!({"status": "InstallationFailed"}),
        ),
        (
            "SecurityEventNotification",
            json!({"type": "FirmwareUpdated", "timestamp": at}),
        ),
        (
            "SecurityEventNotification",
            json!({"type": "InvalidCentralSystemCertificate", "timestamp": at,
                "techInfo": "chain incomplete"}),
        ),
        (
            "SignCertificate",
            json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"}),
        ),
        (
            "LogStatusNotification",
            json!({"status": "Uploaded", "requestId": 1}),
        ),
        ("LogStatusNotification", json!({"status": "Idle"})),
        (
            "SignedFirmwareStatusNotification",
            json!({"status": "SignatureVerified", "requestId": 2}),
        ),
        (
            "SignedFirmwareStatusNotification",
            json!({"status": "InvalidSignature"}),
        ),
    ]
}

/// Creates a station, connects a simulated charger and boots it.
async fn booted(app: &TestApp, identity: &str, tune: impl FnOnce(&mut ChargerConfig)) -> Charger {
    app.create_station(json!({"endpoint": identity})).await;
    let mut config = app.charger_config(identity);
    tune(&mut config);
    let charger = Charger::connect(config).await.unwrap();
    charger.boot().await.unwrap();
    charger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_to_a_charger_initiated_action_is_schema_valid_in_all_its_branches() {
    let schemas = Schemas::load();
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP-SCHEMA", |_| {}).await;
    for (action, payload) in charger_initiated_samples() {
        if let Err(e) = charger.call(action, payload.clone()).await {
            panic!("{action} {payload} was not answered: {e:?}");
        }
    }
    let result = conversation(&schemas, &charger).await;
    result.assert_clean();
    assert_eq!(result.call_errors, 0);
    let coverage = result.coverage();
    for action in ocpp::v16::CHARGER_INITIATED_ACTIONS {
        for (from, is_response) in [(Sender::Charger, false), (Sender::Server, true)] {
            assert!(
                coverage.contains(&(from, (*action).to_owned(), is_response)),
                "{action}: no {} checked",
                if is_response { "answer" } else { "request" }
            );
        }
    }
    // The branches the answers take.
    let statuses = |action: &str| -> BTreeSet<String> {
        result
            .payloads(Sender::Server, action, true)
            .iter()
            .map(|p| {
                p.get("idTagInfo")
                    .map_or(&p["status"], |i| &i["status"])
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        statuses("Authorize"),
        BTreeSet::from(["\"Accepted\"".into()])
    );
    assert!(result
        .payloads(Sender::Server, "StopTransaction", true)
        .contains(&&json!({})));
    assert!(statuses("StopTransaction").contains("\"Accepted\""));
    app.stop().await;

    // Unknown tokens refused: the `Invalid` branch of every idTag answer.
    let app = TestApp::spawn_with(|s| s.accept_unknown_tokens = false).await;
    let charger = booted(&app, "CP-SCHEMA-STRICT", |_| {}).await;
    for (action, payload) in charger_initiated_samples()
        .into_iter()
        .filter(|(_, p)| p.get("idTag").is_some())
    {
        let answer = charger.call(action, payload).await.unwrap();
        let status = answer.get("idTagInfo").map(|i| i["status"].clone());
        assert_eq!(status, Some(json!("Invalid")), "{action}: {answer}");
    }
    let result = conversation(&schemas, &charger).await;
    result.assert_clean();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_initiated_request_and_the_simulators_answers_are_schema_valid() {
    let schemas = Schemas::load();
    let app = TestApp::spawn_with(|s| s.fetch_configuration_on_boot = true).await;
    let station = app.create_station(json!({"endpoint": "CP-OUT"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let mut config = app.charger_config("CP-OUT");
    config
        .behaviours
        .insert("WebSocketPingInterval".into(), KeyBehaviour::RebootRequired);
    config
        .behaviours
        .insert("LightIntensity".into(), KeyBehaviour::Reject);
    let charger = Charger::connect(config).await.unwrap();
    charger.boot().await.unwrap();
    // The upload after the first boot: GetConfiguration without `key`.
    charger
        .wait_for_call("GetConfiguration", WAIT)
        .await
        .unwrap();

    let configurations = format!("/v1.1/chargestations/{id}/configurations");
    let changes = [
        ("", json!({"key": "HeartbeatInterval", "value": "901"})),
        ("", json!({"key": "MeterValueSampleInterval", "value": 30})),
        ("", json!({"key": "LocalPreAuthorize", "value": true})),
        ("", json!({"key": "LightIntensity", "value": "10"})),
        ("", json!({"key": "VendorNoSuchKey", "value": "x"})),
        (
            "?force=true",
            json!({"key": "NumberOfConnectors", "value": "2"}),
        ),
        (
            "",
            json!({"key": "AuthorizationKey", "value": "a-new-secret-0123"}),
        ),
        ("", json!({"key": "WebSocketPingInterval", "value": "60"})),
    ];
    let mut outcomes = BTreeSet::new();
    for (query, body) in changes {
        let (status, answer) = app.post(&format!("{configurations}{query}"), &body).await;
        assert_eq!(status, 200, "{body}: {answer}");
        let action = finished(&app, &answer).await;
        outcomes.insert(action["response_data"]["status"].to_string());
    }
    // RebootRequired holds the queue until the next boot: boot again.
    charger.boot().await.unwrap();
    let (status, answer) = app
        .get(&format!(
            "{configurations}?key=HeartbeatInterval&key=NoSuchKey"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    finished(&app, &answer).await;
    let (_, answer) = app.get(&configurations).await;
    finished(&app, &answer).await;

    let reset = format!("/v1.1/chargestations/{id}/reset");
    charger.set_reset_behaviour(KeyBehaviour::Reject);
    let (_, answer) = app.post(&reset, &json!({"type": "Hard"})).await;
    assert_eq!(finished(&app, &answer).await["status"], "rejected");
    charger.set_reset_behaviour(KeyBehaviour::Accept);
    for (reboots, kind) in [(1, "Soft"), (2, "Hard")] {
        let (_, answer) = app.post(&reset, &json!({"type": kind})).await;
        assert_eq!(
            finished(&app, &answer).await["status"],
            "completed",
            "{kind}"
        );
        // The charger reboots after answering: the next command needs it back online
        // (sent while it is reconnecting, the command is refused with 406).
        assert!(
            charger.wait_for_reboots(reboots, WAIT).await,
            "{kind} reset: reboot {reboots}"
        );
    }

    // Every other server CALL the simulator answers, and what TriggerMessage makes it send.
    let raw_calls = [
        (
            "TriggerMessage",
            json!({"requestedMessage": "BootNotification"}),
        ),
        ("TriggerMessage", json!({"requestedMessage": "Heartbeat"})),
        (
            "TriggerMessage",
            json!({"requestedMessage": "StatusNotification"}),
        ),
        (
            "TriggerMessage",
            json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
        ),
        (
            "TriggerMessage",
            json!({"requestedMessage": "DiagnosticsStatusNotification"}),
        ),
        (
            "TriggerMessage",
            json!({"requestedMessage": "FirmwareStatusNotification"}),
        ),
        ("TriggerMessage", json!({"requestedMessage": "MeterValues"})),
        (
            "ChangeAvailability",
            json!({"connectorId": 0, "type": "Inoperative"}),
        ),
        ("ClearCache", json!({})),
        (
            "RemoteStartTransaction",
            json!({"idTag": "TAG1", "connectorId": 1}),
        ),
        ("RemoteStopTransaction", json!({"transactionId": 7})),
        (
            "ReserveNow",
            json!({"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "TAG1",
                "reservationId": 1}),
        ),
        ("CancelReservation", json!({"reservationId": 1})),
        (
            "SetChargingProfile",
            json!({"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1,
                "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}}),
        ),
        ("ClearChargingProfile", json!({"id": 1})),
        (
            "GetCompositeSchedule",
            json!({"connectorId": 1, "duration": 3600}),
        ),
        ("UnlockConnector", json!({"connectorId": 1})),
        (
            "UpdateFirmware",
            json!({"location": "https://example.com/fw.bin", "retrieveDate": "2030-01-01T00:00:00Z"}),
        ),
        (
            "GetDiagnostics",
            json!({"location": "ftp://example.com/diagnostics/"}),
        ),
        ("GetLocalListVersion", json!({})),
        (
            "SendLocalList",
            json!({"listVersion": 2, "updateType": "Full",
                "localAuthorizationList": [{"idTag": "TAG1", "idTagInfo": {"status": "Accepted"}}]}),
        ),
        (
            "DataTransfer",
            json!({"vendorId": "com.example", "messageId": "ping"}),
        ),
    ];
    for (action, payload) in raw_calls {
        let answer = app
            .gateway
            .call_raw(&id, action, payload.clone(), WAIT)
            .await;
        assert!(answer.is_ok(), "{action} {payload}: {answer:?}");
    }

    let result = conversation(&schemas, &charger).await;
    result.assert_clean();
    assert_eq!(result.call_errors, 0, "no CALLERROR on either side");

    let requests = |action: &str| result.payloads(Sender::Server, action, false);
    let get_configuration = requests("GetConfiguration");
    assert!(
        get_configuration.contains(&&json!({})),
        "full upload: {get_configuration:?}"
    );
    assert!(
        get_configuration.iter().any(|p| p.get("key").is_some()),
        "named keys (verification and ?key=): {get_configuration:?}"
    );
    let resets: BTreeSet<String> = requests("Reset")
        .iter()
        .map(|p| p["type"].to_string())
        .collect();
    assert_eq!(
        resets,
        BTreeSet::from(["\"Hard\"".into(), "\"Soft\"".into()])
    );
    let changed: Vec<&Value> = requests("ChangeConfiguration");
    assert_eq!(changed.len(), 8, "{changed:?}");
    assert!(
        changed.iter().all(|p| p["value"].is_string()),
        "{changed:?}"
    );
    // The charger's answers took every ChangeConfiguration branch.
    let answered: BTreeSet<String> = result
        .payloads(Sender::Charger, "ChangeConfiguration", true)
        .iter()
        .map(|p| p["status"].to_string())
        .collect();
    assert_eq!(
        answered,
        BTreeSet::from([
            "\"Accepted\"".into(),
            "\"NotSupported\"".into(),
            "\"RebootRequired\"".into(),
            "\"Rejected\"".into()
        ]),
        "API outcomes: {outcomes:?}"
    );
    // Simulator CALLs made by reboots and TriggerMessage were checked too.
    for action in [
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    ] {
        assert!(
            !result.payloads(Sender::Charger, action, false).is_empty(),
            "{action}"
        );
    }
    app.stop().await;
}

/// A body per variant of every command route (CONTRACT §9), all valid per the API.
fn command_samples() -> Vec<(&'static str, Value)> {
    let at = "2030-01-01T00:00:00Z";
    let profile = json!({"chargingProfileId": 1, "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": at,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}]}});
    vec![
        ("trigger_message", json!({"requestedMessage": "Heartbeat"})),
        (
            "trigger_message",
            json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
        ),
        (
            "trigger_message",
            json!({"requestedMessage": "SignChargePointCertificate"}),
        ),
        (
            "trigger_message",
            json!({"requestedMessage": "LogStatusNotification"}),
        ),
        ("unlock_connector", json!({"connectorId": 1})),
        (
            "change_availability",
            json!({"connectorId": 0, "type": "Inoperative"}),
        ),
        (
            "change_availability",
            json!({"connectorId": 0, "type": "Operative"}),
        ),
        ("clear_cache", json!({})),
        ("remote_start", json!({"idTag": "TAG1", "connectorId": 1})),
        ("remote_stop", json!({"transactionId": 0})),
        (
            "set_charging_profile",
            json!({"connectorId": 1, "csChargingProfiles": profile}),
        ),
        ("clear_charging_profile", json!({})),
        (
            "clear_charging_profile",
            json!({"id": 1, "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}),
        ),
        (
            "get_composite_schedule",
            json!({"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}),
        ),
        (
            "reserve_now",
            json!({"connectorId": 1, "expiryDate": at, "idTag": "TAG1", "parentIdTag": "PARENT",
                "reservationId": 1}),
        ),
        ("cancel_reservation", json!({"reservationId": 1})),
        (
            "send_local_list",
            json!({"listVersion": 2, "updateType": "Full", "localAuthorizationList": [
                {"idTag": "TAG1", "idTagInfo": {"status": "Accepted", "expiryDate": at}},
                {"idTag": "TAG2"}]}),
        ),
        (
            "send_local_list",
            json!({"listVersion": 3, "updateType": "Differential"}),
        ),
        ("get_local_list_version", json!({})),
        (
            "update_firmware",
            json!({"location": "https://example.com/fw.bin", "retrieveDate": at, "retries": 2,
                "retryInterval": 30}),
        ),
        (
            "get_diagnostics",
            json!({"location": "ftp://example.com/diagnostics/", "startTime": at, "stopTime": at}),
        ),
        (
            "signed_update_firmware",
            json!({"requestId": 5, "retries": 1, "firmware": {
                "location": "https://example.com/fw.bin", "retrieveDateTime": at,
                "installDateTime": at, "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2lnbmF0dXJl"}}),
        ),
        (
            "get_log",
            json!({"logType": "SecurityLog", "requestId": 6,
                "log": {"remoteLocation": "https://example.com/logs", "oldestTimestamp": at}}),
        ),
        (
            "install_certificate",
            json!({"certificateType": "CentralSystemRootCertificate",
                "certificate": "-----BEGIN CERTIFICATE-----"}),
        ),
        (
            "get_installed_certificate_ids",
            json!({"certificateType": "ManufacturerRootCertificate"}),
        ),
        (
            "delete_certificate",
            json!({"certificateHashData": {"hashAlgorithm": "SHA256",
                "issuerNameHash": "0f4c2a1b", "issuerKeyHash": "9e8d7c6b", "serialNumber": "01"}}),
        ),
        (
            "certificate_signed",
            json!({"certificateChain": "-----BEGIN CERTIFICATE-----"}),
        ),
        ("data_transfer", json!({"vendorId": "com.example"})),
        (
            "data_transfer",
            json!({"vendorId": "com.example", "messageId": "Ping", "data": "hello"}),
        ),
        // The escape hatch: any server-initiated action with its raw payload.
        ("ocpp/ClearCache", json!({})),
        (
            "ocpp/TriggerMessage",
            json!({"requestedMessage": "FirmwareStatusNotification"}),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_the_api_sends_and_the_simulators_answers_are_schema_valid() {
    let schemas = Schemas::load();
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-CMD"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let charger = Charger::connect(app.charger_config("CP-CMD"))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    for (route, mut body) in command_samples() {
        if route == "remote_stop" {
            // The simulator stops only the transaction its remote start began.
            let active = app
                .wait_for_get(
                    &format!("/v1.1/transactions?chargestation={id}&active=true"),
                    "the remote start's transaction",
                    |b| b["result"].as_array().is_some_and(|a| a.len() == 1),
                )
                .await;
            body["transactionId"] = active["result"][0]["transactionId"].clone();
        }
        let (status, answer) = app
            .post(&format!("/v1.1/chargestations/{id}/{route}"), &body)
            .await;
        assert_eq!(status, 200, "{route} {body}: {answer}");
        let done = finished(&app, &answer).await;
        assert_ne!(done["status"], "failed", "{route}: {done}");
    }
    // Configuration and reset, so every server-initiated action is on the wire here.
    let (_, answer) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "HeartbeatInterval", "value": "120"}),
        )
        .await;
    finished(&app, &answer).await;
    let (_, answer) = app
        .post(
            &format!("/v1.1/chargestations/{id}/reset"),
            &json!({"type": "Soft"}),
        )
        .await;
    finished(&app, &answer).await;
    assert!(charger.wait_for_reboots(1, WAIT).await);

    let result = conversation(&schemas, &charger).await;
    result.assert_clean();
    assert_eq!(result.call_errors, 0, "no CALLERROR on either side");
    let sent: BTreeSet<String> = result
        .checked
        .iter()
        .filter(|c| c.from == Sender::Server && !c.is_response)
        .map(|c| c.action.clone())
        .collect();
    let missing: Vec<&&str> = ocpp::v16::SERVER_INITIATED_ACTIONS
        .iter()
        .filter(|a| !sent.contains(**a))
        .collect();
    assert!(
        missing.is_empty(),
        "server-initiated actions never sent here: {missing:?}"
    );
    app.stop().await;
}
