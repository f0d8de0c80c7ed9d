//! Every other command end to end (CONTRACT §9): each route of the table is queued,
//! sent with exactly the OCPP request, and ends `completed` with the charger's answer
//! (a simulated charger answering on its own), `rejected` or `failed` on a negative
//! answer (a charger answered by hand), and 422 naming the field with nothing sent for
//! a body that is not the 1.6 request. Also the `ocpp/{Action}` escape hatch, charger
//! notifications stored and emitted, and an AuthorizationKey switching a station to
//! Basic auth.

use std::time::Duration;

use e2e_tests::TestApp;
use ocpp::ErrorCode;
use serde_json::{json, Value};
use simulator::Charger;

const WAIT: Duration = Duration::from_secs(10);

async fn command(app: &TestApp, station: &str, route: &str, body: &Value) -> (u16, Value) {
    app.post(&format!("/v1.1/chargestations/{station}/{route}"), body)
        .await
}

/// The types of the events recorded for one action, oldest first.
async fn action_event_types(app: &TestApp, station: &str, action_id: &str) -> Vec<String> {
    model::events::for_chargestation(&app.db, station)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["object"] == "action" && e["data"]["_id"] == action_id)
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

fn charging_profile() -> Value {
    json!({
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
        }
    })
}

fn certificate_hash_data() -> Value {
    json!({
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "0f4c2a1b",
        "issuerKeyHash": "9e8d7c6b",
        "serialNumber": "01"
    })
}

/// Every route of the §9 table with a valid body and the OCPP action it becomes.
fn valid_commands() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "trigger_message",
            json!({"requestedMessage": "Heartbeat"}),
            "TriggerMessage",
        ),
        (
            "trigger_message",
            json!({"requestedMessage": "SignChargePointCertificate"}),
            "ExtendedTriggerMessage",
        ),
        (
            "trigger_message",
            json!({"requestedMessage": "LogStatusNotification"}),
            "ExtendedTriggerMessage",
        ),
        (
            "unlock_connector",
            json!({"connectorId": 1}),
            "UnlockConnector",
        ),
        (
            "change_availability",
            json!({"connectorId": 0, "type": "Inoperative"}),
            "ChangeAvailability",
        ),
        ("clear_cache", json!({}), "ClearCache"),
        (
            "remote_start",
            json!({"connectorId": 1, "idTag": "TAG-1"}),
            "RemoteStartTransaction",
        ),
        (
            "remote_stop",
            json!({"transactionId": 17}),
            "RemoteStopTransaction",
        ),
        (
            "set_charging_profile",
            json!({"connectorId": 1, "csChargingProfiles": charging_profile()}),
            "SetChargingProfile",
        ),
        (
            "clear_charging_profile",
            json!({"chargingProfilePurpose": "TxDefaultProfile"}),
            "ClearChargingProfile",
        ),
        (
            "get_composite_schedule",
            json!({"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"}),
            "GetCompositeSchedule",
        ),
        (
            "reserve_now",
            json!({"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "TAG-1", "reservationId": 3}),
            "ReserveNow",
        ),
        (
            "cancel_reservation",
            json!({"reservationId": 3}),
            "CancelReservation",
        ),
        (
            "send_local_list",
            json!({"listVersion": 2, "updateType": "Full", "localAuthorizationList": [{"idTag": "TAG-1", "idTagInfo": {"status": "Accepted"}}]}),
            "SendLocalList",
        ),
        ("get_local_list_version", json!({}), "GetLocalListVersion"),
        (
            "update_firmware",
            json!({"location": "https://example.com/fw.bin", "retrieveDate": "2030-01-01T00:00:00Z", "retries": 2}),
            "UpdateFirmware",
        ),
        (
            "get_diagnostics",
            json!({"location": "ftp://example.com/diagnostics/"}),
            "GetDiagnostics",
        ),
        (
            "signed_update_firmware",
            json!({"requestId": 5, "firmware": {
                "location": "https://example.com/fw.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
                "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2lnbmF0dXJl"
            }}),
            "SignedUpdateFirmware",
        ),
        (
            "get_log",
            json!({"logType": "SecurityLog", "requestId": 6, "log": {"remoteLocation": "https://example.com/logs"}}),
            "GetLog",
        ),
        (
            "install_certificate",
            json!({"certificateType": "CentralSystemRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"}),
            "InstallCertificate",
        ),
        (
            "get_installed_certificate_ids",
            json!({"certificateType": "ManufacturerRootCertificate"}),
            "GetInstalledCertificateIds",
        ),
        (
            "delete_certificate",
            json!({"certificateHashData": certificate_hash_data()}),
            "DeleteCertificate",
        ),
        (
            "certificate_signed",
            json!({"certificateChain": "-----BEGIN CERTIFICATE-----"}),
            "CertificateSigned",
        ),
        (
            "data_transfer",
            json!({"vendorId": "com.example", "messageId": "Ping", "data": "hello"}),
            "DataTransfer",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_sent_as_its_ocpp_request_and_completes_with_the_chargers_answer() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    for (route, mut body, ocpp_action) in valid_commands() {
        if route == "remote_stop" {
            // The simulator accepts stopping only the transaction it started after the
            // remote start.
            let active = app
                .wait_for_get(
                    "/v1.1/transactions?active=true",
                    "the remote start's transaction",
                    |b| b["result"].as_array().is_some_and(|a| a.len() == 1),
                )
                .await;
            body["transactionId"] = active["result"][0]["transactionId"].clone();
        }
        let mut with_meta = body.clone();
        with_meta["meta_data"] = json!({"route": route});
        let (status, answer) = command(&app, &id, route, &with_meta).await;
        assert_eq!(status, 200, "{route}: {answer}");
        let result = &answer["result"];
        assert_eq!(answer["ok"], true);
        assert_eq!(result["type"], format!("chargestation.{route}"), "{route}");
        assert_eq!(result["status"], "requested");
        assert_eq!(result["data"], body, "{route}: data is the request as sent");
        assert_eq!(result["meta_data"], json!({"route": route}));
        let action_id = result["_id"].as_str().unwrap().to_owned();

        let call = charger.wait_for_call(ocpp_action, WAIT).await.unwrap();
        assert_eq!(
            call.payload, body,
            "{route}: the charger got exactly the request"
        );
        let done = app.finished(&action_id).await;
        assert_eq!(done["status"], "completed", "{route}: {done}");
        assert!(done["response_data"].is_object(), "{route}: {done}");
        assert_eq!(
            action_event_types(&app, &id, &action_id).await,
            [
                format!("chargestation.{route}.requested"),
                format!("chargestation.{route}.accepted")
            ],
            "{route}"
        );
    }
    // A few answers as the simulator gave them.
    let (_, list) = app
        .get("/v1.1/actions?type=chargestation.unlock_connector")
        .await;
    assert_eq!(
        list["result"][0]["response_data"],
        json!({"status": "Unlocked"})
    );
    let (_, list) = app
        .get("/v1.1/actions?type=chargestation.get_local_list_version")
        .await;
    assert_eq!(
        list["result"][0]["response_data"],
        json!({"listVersion": 0})
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_answers_end_rejected_and_callerrors_end_failed_with_the_answer_kept() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP-MANUAL", |c| c.auto_answer = false)
        .await;
    let negative: Vec<(&str, Value)> = vec![
        ("TriggerMessage", json!({"status": "NotImplemented"})),
        ("ExtendedTriggerMessage", json!({"status": "Rejected"})),
        ("ExtendedTriggerMessage", json!({"status": "Rejected"})),
        ("UnlockConnector", json!({"status": "UnlockFailed"})),
        ("ChangeAvailability", json!({"status": "Rejected"})),
        ("ClearCache", json!({"status": "Rejected"})),
        ("RemoteStartTransaction", json!({"status": "Rejected"})),
        ("RemoteStopTransaction", json!({"status": "Rejected"})),
        ("SetChargingProfile", json!({"status": "NotSupported"})),
        ("ClearChargingProfile", json!({"status": "Unknown"})),
        ("GetCompositeSchedule", json!({"status": "Rejected"})),
        ("ReserveNow", json!({"status": "Occupied"})),
        ("CancelReservation", json!({"status": "Rejected"})),
        ("SendLocalList", json!({"status": "VersionMismatch"})),
        ("GetLocalListVersion", Value::Null),
        ("UpdateFirmware", Value::Null),
        ("GetDiagnostics", Value::Null),
        (
            "SignedUpdateFirmware",
            json!({"status": "InvalidCertificate"}),
        ),
        ("GetLog", json!({"status": "Rejected"})),
        ("InstallCertificate", json!({"status": "Failed"})),
        ("GetInstalledCertificateIds", json!({"status": "NotFound"})),
        ("DeleteCertificate", json!({"status": "NotFound"})),
        ("CertificateSigned", json!({"status": "Rejected"})),
        ("DataTransfer", json!({"status": "UnknownVendorId"})),
    ];
    for ((route, body, ocpp_action), (expected_action, answer)) in
        valid_commands().into_iter().zip(negative)
    {
        assert_eq!(ocpp_action, expected_action);
        let (status, queued) = command(&app, &id, route, &body).await;
        assert_eq!(status, 200, "{route}: {queued}");
        let action_id = queued["result"]["_id"].as_str().unwrap().to_owned();
        let call = charger.wait_for_call(ocpp_action, WAIT).await.unwrap();
        let done = if answer.is_null() {
            // Answers without a status are always positive: a CALLERROR is the failure.
            charger
                .answer_error(&call.message_id, ErrorCode::NotSupported, "not here")
                .await
                .unwrap();
            let done = app.finished(&action_id).await;
            assert_eq!(done["status"], "failed", "{route}: {done}");
            assert_eq!(done["response_data"]["error"], "NotSupported");
            done
        } else {
            charger
                .answer(&call.message_id, answer.clone())
                .await
                .unwrap();
            let done = app.finished(&action_id).await;
            assert_eq!(done["status"], "rejected", "{route}: {done}");
            assert_eq!(done["response_data"], answer, "{route}");
            done
        };
        assert_eq!(
            action_event_types(&app, &id, &action_id).await,
            [
                format!("chargestation.{route}.requested"),
                format!("chargestation.{route}.rejected")
            ],
            "{route}: {done}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_the_ocpp_request_is_refused_with_422_naming_the_field_and_nothing_is_sent(
) {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    let mut bad_profile = json!({"connectorId": 1, "csChargingProfiles": charging_profile()});
    bad_profile["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] =
        json!("16");
    let mut no_signature = json!({"requestId": 5, "firmware": {
        "location": "https://example.com/fw.bin",
        "retrieveDateTime": "2030-01-01T00:00:00Z",
        "signingCertificate": "-----BEGIN CERTIFICATE-----"
    }});
    no_signature["retries"] = json!(1);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "trigger_message",
            json!({"requestedMessage": "Coffee"}),
            "requestedMessage",
        ),
        ("trigger_message", json!({}), "requestedMessage"),
        ("unlock_connector", json!({}), "connectorId"),
        ("unlock_connector", json!({"connectorId": 0}), "connectorId"),
        (
            "change_availability",
            json!({"connectorId": 1, "type": "Off"}),
            "type",
        ),
        (
            "change_availability",
            json!({"connectorId": 1, "type": "operative"}),
            "type",
        ),
        ("clear_cache", json!({"extra": 1}), "extra"),
        ("remote_start", json!({"connectorId": 1}), "idTag"),
        ("remote_start", json!({"idTag": "X".repeat(21)}), "idTag"),
        (
            "remote_stop",
            json!({"transactionId": "12"}),
            "transactionId",
        ),
        (
            "set_charging_profile",
            bad_profile,
            "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit",
        ),
        (
            "clear_charging_profile",
            json!({"chargingProfilePurpose": "Everything"}),
            "chargingProfilePurpose",
        ),
        (
            "get_composite_schedule",
            json!({"connectorId": 1}),
            "duration",
        ),
        (
            "reserve_now",
            json!({"connectorId": 1, "expiryDate": "tomorrow", "idTag": "T", "reservationId": 1}),
            "expiryDate",
        ),
        ("cancel_reservation", json!({}), "reservationId"),
        (
            "send_local_list",
            json!({"listVersion": 1, "updateType": "Partial"}),
            "updateType",
        ),
        ("get_local_list_version", json!({"x": 1}), "x"),
        (
            "update_firmware",
            json!({"location": "https://example.com/fw.bin"}),
            "retrieveDate",
        ),
        (
            "get_diagnostics",
            json!({"location": "not a uri"}),
            "location",
        ),
        ("signed_update_firmware", no_signature, "firmware.signature"),
        (
            "get_log",
            json!({"logType": "SecurityLog", "requestId": 1}),
            "log",
        ),
        (
            "install_certificate",
            json!({"certificateType": "Mine", "certificate": "x"}),
            "certificateType",
        ),
        (
            "get_installed_certificate_ids",
            json!({}),
            "certificateType",
        ),
        (
            "delete_certificate",
            json!({"certificateHashData": {"hashAlgorithm": "MD5", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "c"}}),
            "certificateHashData.hashAlgorithm",
        ),
        (
            "certificate_signed",
            json!({"certificateChain": "x".repeat(10_001)}),
            "certificateChain",
        ),
        (
            "data_transfer",
            json!({"vendorId": "v".repeat(256)}),
            "vendorId",
        ),
        (
            "data_transfer",
            json!({"vendorId": "v", "data": {"a": 1}}),
            "data",
        ),
    ];
    for (route, body, field) in cases {
        let (status, answer) = command(&app, &id, route, &body).await;
        assert_eq!(status, 422, "{route} {body}: {answer}");
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["result"], Value::Null);
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("'{field}'")),
            "{route}: the message names '{field}': {message}"
        );
    }
    // Not JSON, or not an object: 400.
    let (status, _, _) = app
        .request(
            reqwest::Method::POST,
            &format!("/v1.1/chargestations/{id}/unlock_connector"),
            Some("[1]"),
        )
        .await;
    assert_eq!(status, 400);
    // Nothing was stored or sent: the next valid command is the first one on the wire.
    let (_, list) = app.get(&format!("/v1.1/actions?chargestation={id}")).await;
    assert_eq!(list["result"], json!([]));
    let (_, queued) = command(&app, &id, "clear_cache", &json!({})).await;
    app.finished(queued["result"]["_id"].as_str().unwrap())
        .await;
    let sent: Vec<String> = charger
        .received_calls()
        .into_iter()
        .map(|c| c.action)
        .collect();
    assert_eq!(sent, ["ClearCache"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_for_unknown_or_offline_stations_are_refused_before_the_body_is_read() {
    let app = TestApp::spawn().await;
    let (status, _) = command(&app, "NOPE", "unlock_connector", &json!({})).await;
    assert_eq!(status, 404);
    app.create_station(json!({"endpoint": "CP-OFF"})).await;
    let (status, body) = command(
        &app,
        "CP-OFF",
        "unlock_connector",
        &json!({"connectorId": 1}),
    )
    .await;
    assert_eq!(status, 406, "{body}");
    let (status, _) = app
        .post("/v1.1/chargestations/CP-OFF/ocpp/ClearCache", &json!({}))
        .await;
    assert_eq!(status, 406);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_escape_hatch_sends_any_server_initiated_action_checked_as_its_request() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    let (status, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/ocpp/UnlockConnector"),
            &json!({"connectorId": 1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert_eq!(result["type"], "chargestation.ocpp");
    assert_eq!(
        result["data"],
        json!({"action": "UnlockConnector", "payload": {"connectorId": 1}})
    );
    let action_id = result["_id"].as_str().unwrap().to_owned();
    let done = app.finished(&action_id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["response_data"], json!({"status": "Unlocked"}));
    assert_eq!(
        action_event_types(&app, &id, &action_id).await,
        [
            "chargestation.ocpp.requested",
            "chargestation.ocpp.accepted"
        ]
    );
    // The security extension too, with a negative answer kept.
    let (_, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/ocpp/GetInstalledCertificateIds"),
            &json!({"certificateType": "CentralSystemRootCertificate"}),
        )
        .await;
    let done = app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["response_data"]["status"], "Accepted");

    for (path, payload, field) in [
        ("ocpp/Reset", json!({"type": "Warm"}), "'type'"),
        ("ocpp/Reset", json!({}), "'type'"),
        ("ocpp/BootNotification", json!({}), "'action'"),
        ("ocpp/Teleport", json!({}), "'action'"),
        (
            "ocpp/ChangeConfiguration",
            json!({"key": "AuthorizationKey", "value": "a-new-password"}),
            "'key'",
        ),
        (
            "ocpp/SetChargingProfile",
            json!({"connectorId": 1, "csChargingProfiles": {}}),
            "'csChargingProfiles.",
        ),
    ] {
        let (status, body) = app
            .post(&format!("/v1.1/chargestations/{id}/{path}"), &payload)
            .await;
        assert_eq!(status, 422, "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{path}: {message}");
    }
    let sent: Vec<String> = charger
        .received_calls()
        .into_iter()
        .map(|c| c.action)
        .collect();
    assert_eq!(sent, ["UnlockConnector", "GetInstalledCertificateIds"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charger_notifications_are_stored_on_the_chargestation_and_emitted_as_events() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    // A firmware update walks through its statuses.
    let (_, queued) = command(
        &app,
        &id,
        "update_firmware",
        &json!({"location": "https://example.com/fw.bin", "retrieveDate": "2030-01-01T00:00:00Z"}),
    )
    .await;
    app.finished(queued["result"]["_id"].as_str().unwrap())
        .await;
    // The simulated charger reports Downloading, Downloaded, Installing, Installed.
    app.wait_for_get(
        &format!("/v1.1/chargestations/{id}"),
        "the firmware to be installed",
        |b| b["result"]["notifications"]["firmwareStatus"]["status"] == "Installed",
    )
    .await;
    charger
        .call(
            "SignedFirmwareStatusNotification",
            json!({"status": "SignatureVerified", "requestId": 5}),
        )
        .await
        .unwrap();
    charger
        .call(
            "DiagnosticsStatusNotification",
            json!({"status": "Uploaded"}),
        )
        .await
        .unwrap();
    charger
        .call(
            "LogStatusNotification",
            json!({"status": "Uploading", "requestId": 6}),
        )
        .await
        .unwrap();
    charger
        .call(
            "SecurityEventNotification",
            json!({"type": "FirmwareUpdated", "timestamp": "2026-01-01T00:00:00Z", "techInfo": "1.0 -> 1.1"}),
        )
        .await
        .unwrap();
    let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----";
    let answer = charger
        .call("SignCertificate", json!({"csr": csr}))
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "Accepted"}));

    let (_, station) = app.get(&format!("/v1.1/chargestations/{id}")).await;
    let notifications = &station["result"]["notifications"];
    assert_eq!(
        notifications["firmwareStatus"]["action"],
        "SignedFirmwareStatusNotification"
    );
    assert_eq!(
        notifications["firmwareStatus"]["status"],
        "SignatureVerified"
    );
    assert_eq!(notifications["firmwareStatus"]["requestId"], 5);
    assert_eq!(notifications["diagnosticsStatus"]["status"], "Uploaded");
    assert_eq!(notifications["logStatus"]["status"], "Uploading");
    assert_eq!(notifications["logStatus"]["requestId"], 6);
    assert_eq!(
        notifications["securityEvents"][0]["type"],
        "FirmwareUpdated"
    );
    assert_eq!(notifications["signCertificate"]["csr"], csr);
    assert!(notifications["signCertificate"]["receivedAt"].is_string());

    let events: Vec<Value> = model::events::for_chargestation(&app.db, &id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["object"] == "chargestation")
        .filter(|e| {
            ![
                "chargestation.online",
                "chargestation.connector_status.updated",
            ]
            .contains(&e["type"].as_str().unwrap())
        })
        .collect();
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["notification"]["status"]
                    .as_str()
                    .or_else(|| e["data"]["notification"]["type"].as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("chargestation.firmware_status.updated", "Downloading"),
        ("chargestation.firmware_status.updated", "Downloaded"),
        ("chargestation.firmware_status.updated", "Installing"),
        ("chargestation.firmware_status.updated", "Installed"),
        ("chargestation.firmware_status.updated", "SignatureVerified"),
        ("chargestation.diagnostics_status.updated", "Uploaded"),
        ("chargestation.log_status.updated", "Uploading"),
        ("chargestation.security_event", "FirmwareUpdated"),
        ("chargestation.sign_certificate.requested", ""),
    ]
    .iter()
    .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(seen, expected);
    let last = events.last().unwrap();
    assert_eq!(last["data"]["_id"], id.as_str());
    assert_eq!(last["data"]["notification"]["csr"], csr);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_key_accepted_by_a_station_without_security_switches_it_to_basic_auth() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-NONE", |_| {}).await;
    let (status, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "AuthorizationKey", "value": "brand-new-key-1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    let (_, station) = app.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(station["result"]["security"], json!({"type": "basic_auth"}));
    charger.disconnect().await;
    let mut config = app.charger_config("CP-NONE");
    assert!(
        Charger::connect(config.clone()).await.is_err(),
        "no password is refused now"
    );
    config.password = Some("wrong-password".into());
    assert!(Charger::connect(config.clone()).await.is_err());
    config.password = Some("brand-new-key-1".into());
    assert!(Charger::connect(config).await.is_ok());
    app.stop().await;
}
