//! Every charger-initiated action gets its answer; malformed frames get the CALLERROR
//! OCPP-J prescribes, and none of them closes the connection.

use std::time::Duration;

use e2e_tests::TestApp;
use ocpp::ErrorCode;
use serde_json::{json, Value};
use simulator::{Charger, SimError};

async fn booted(app: &TestApp, identity: &str) -> Charger {
    app.create_station(json!({"endpoint": identity})).await;
    let charger = Charger::connect(app.charger_config(identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    charger
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| model::time::parse_rfc3339_ms(s).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_notification_is_accepted_with_current_time_and_the_heartbeat_interval() {
    let app = TestApp::spawn_with(|s| s.heartbeat_interval_secs = 300).await;
    app.create_station(json!({"endpoint": "CP1"})).await;
    let charger = Charger::connect(app.charger_config("CP1")).await.unwrap();
    let answer = charger.boot().await.unwrap();
    assert_eq!(answer["status"], "Accepted");
    assert_eq!(answer["interval"], 300);
    assert!(is_timestamp(&answer["currentTime"]), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_charger_initiated_action_gets_a_well_formed_answer() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    let heartbeat = charger.heartbeat().await.unwrap();
    assert!(is_timestamp(&heartbeat["currentTime"]));

    let authorize = charger
        .call("Authorize", json!({"idTag": "TAG1"}))
        .await
        .unwrap();
    assert_eq!(authorize, json!({"idTagInfo": {"status": "Accepted"}}));

    let start = charger
        .call("StartTransaction", json!({"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}))
        .await
        .unwrap();
    assert_eq!(start["idTagInfo"]["status"], "Accepted");
    let tx = start["transactionId"].as_i64().unwrap();
    assert!(tx > 0);
    let start2 = charger
        .call("StartTransaction", json!({"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}))
        .await
        .unwrap();
    assert_ne!(
        start2["transactionId"].as_i64().unwrap(),
        tx,
        "transaction ids are unique"
    );

    let meter = charger
        .call("MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": "2026-01-01T00:01:00Z", "sampledValue": [{"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}]}]}))
        .await
        .unwrap();
    assert_eq!(meter, json!({}));

    let stop = charger
        .call("StopTransaction", json!({"transactionId": tx, "idTag": "TAG1", "meterStop": 1000, "timestamp": "2026-01-01T01:00:00Z"}))
        .await
        .unwrap();
    assert_eq!(stop, json!({"idTagInfo": {"status": "Accepted"}}));
    let unknown_stop = charger
        .call(
            "StopTransaction",
            json!({"transactionId": 999_999, "meterStop": 1, "timestamp": "2026-01-01T01:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(
        unknown_stop,
        json!({}),
        "an unknown transaction is still answered"
    );

    let transfer = charger
        .call(
            "DataTransfer",
            json!({"vendorId": "com.example", "messageId": "x", "data": "y"}),
        )
        .await
        .unwrap();
    assert_eq!(transfer, json!({"status": "UnknownVendorId"}));

    for (action, payload) in [
        (
            "DiagnosticsStatusNotification",
            json!({"status": "Uploaded"}),
        ),
        ("FirmwareStatusNotification", json!({"status": "Installed"})),
        (
            "LogStatusNotification",
            json!({"status": "Uploaded", "requestId": 1}),
        ),
        (
            "SignedFirmwareStatusNotification",
            json!({"status": "Installed", "requestId": 2}),
        ),
        (
            "SecurityEventNotification",
            json!({"type": "FirmwareUpdated", "timestamp": "2026-01-01T00:00:00Z"}),
        ),
        (
            "StatusNotification",
            json!({"connectorId": 0, "status": "Available", "errorCode": "NoError"}),
        ),
    ] {
        assert_eq!(
            charger.call(action, payload).await.unwrap(),
            json!({}),
            "{action}"
        );
    }
    let sign = charger
        .call(
            "SignCertificate",
            json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
        )
        .await
        .unwrap();
    assert_eq!(sign, json!({"status": "Accepted"}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tokens_are_invalid_when_the_setting_says_so() {
    let app = TestApp::spawn_with(|s| s.accept_unknown_tokens = false).await;
    let charger = booted(&app, "CP1").await;
    let authorize = charger
        .call("Authorize", json!({"idTag": "TAG1"}))
        .await
        .unwrap();
    assert_eq!(authorize["idTagInfo"]["status"], "Invalid");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lenient_payloads_are_accepted() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    // Wrong-case enum, numeric string connector id, extra field, over-long info.
    let answer = charger
        .call("StatusNotification", json!({"connectorId": "1", "status": "charging", "errorCode": "noerror", "info": "i".repeat(80), "extra": 1}))
        .await
        .unwrap();
    assert_eq!(answer, json!({}));
    let shown = app
        .wait_for_get("/v1.1/chargestations/CP1", "connector stored", |b| {
            b["result"]["connectors"][0]["status"] == "Charging"
        })
        .await;
    assert_eq!(shown["result"]["connectors"][0]["errorCode"], "NoError");
    // A numeric idTag.
    let authorize = charger
        .call("Authorize", json!({"idTag": 12345}))
        .await
        .unwrap();
    assert_eq!(authorize["idTagInfo"]["status"], "Accepted");
    app.stop().await;
}

async fn call_error(charger: &Charger, action: &str, payload: Value) -> ErrorCode {
    match charger.call(action, payload).await {
        Err(SimError::CallError { code, .. }) => code,
        other => panic!("expected a CALLERROR for {action}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_get_the_ocpp_j_error_codes_and_the_connection_stays_open() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    assert_eq!(
        call_error(&charger, "FooBar", json!({})).await,
        ErrorCode::NotImplemented
    );
    assert_eq!(
        call_error(
            &charger,
            "BootNotification",
            json!({"chargePointVendor": "x"})
        )
        .await,
        ErrorCode::ProtocolError
    );
    assert_eq!(
        call_error(
            &charger,
            "StatusNotification",
            json!({"connectorId": {}, "status": "Available", "errorCode": "NoError"})
        )
        .await,
        ErrorCode::TypeConstraintViolation
    );
    assert!(charger.heartbeat().await.is_ok());
    app.stop().await;
}

async fn next_frame(charger: &Charger) -> Value {
    let text = charger
        .next_raw(Duration::from_secs(5))
        .await
        .expect("a frame from the server");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_answered_with_formation_violation_when_an_id_is_readable() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    // Drain what the boot produced.
    while charger.next_raw(Duration::from_millis(100)).await.is_some() {}

    charger
        .send_raw(r#"[2,"bad-1","Heartbeat"]"#.into())
        .await
        .unwrap();
    let answer = next_frame(&charger).await;
    assert_eq!(
        answer,
        json!([4, "bad-1", "FormationViolation", answer[3], {}])
    );

    charger
        .send_raw(r#"[2,"bad-2","Heartbeat",[]]"#.into())
        .await
        .unwrap();
    assert_eq!(next_frame(&charger).await[2], "FormationViolation");

    charger
        .send_raw(format!(r#"[2,"{}","Heartbeat",{{}}]"#, "x".repeat(37)))
        .await
        .unwrap();
    assert_eq!(next_frame(&charger).await[2], "FormationViolation");

    // Numeric message ids are answered with the same id.
    charger
        .send_raw(r#"[2,77,"Heartbeat",{}]"#.into())
        .await
        .unwrap();
    let answer = next_frame(&charger).await;
    assert_eq!(answer[0], 3);
    assert_eq!(answer[1], "77");

    // Unreadable frames are dropped without an answer; binary too.
    charger.send_raw("not json at all".into()).await.unwrap();
    charger.send_raw("{}".into()).await.unwrap();
    charger.send_binary(vec![0, 159, 146, 150]).await.unwrap();
    // A CALLRESULT for an id we never sent is dropped.
    charger
        .send_raw(r#"[3,"never-sent",{}]"#.into())
        .await
        .unwrap();
    charger
        .send_raw(r#"[2,"after","Heartbeat",{}]"#.into())
        .await
        .unwrap();
    let answer = next_frame(&charger).await;
    assert_eq!(
        answer[0], 3,
        "the next frame answers the heartbeat: {answer}"
    );
    assert_eq!(answer[1], "after");
    assert!(charger.is_connected());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_several_mebibytes_are_accepted() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    let big = "d".repeat(5 * 1024 * 1024);
    let answer = charger
        .call("DataTransfer", json!({"vendorId": "big", "data": big}))
        .await
        .unwrap();
    assert_eq!(answer["status"], "UnknownVendorId");
    app.stop().await;
}
