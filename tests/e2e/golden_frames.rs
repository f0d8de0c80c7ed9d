//! Golden OCPP-J frames: the exact text the server writes and how it reads the message
//! ids chargers send (OCPP-J 1.6 §4): compact arrays, `{}` payloads, CALLERROR
//! `[4, id, code, description, {}]` with the 1.6J code spellings, message ids of 1 to
//! 36 characters, numeric ids answered as strings, fresh UUIDs for our own CALLs.
//!
//! Complements the codec's unit tests (`crates/ocpp/src/frame.rs`,
//! `error_code.rs`) and `handlers.rs` (malformed frames, numeric id 77) without
//! repeating them: these go over the real socket.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_tests::TestApp;
use ocpp::ErrorCode;
use ocpp_gateway::CallFailure;
use serde_json::{json, Value};
use simulator::Charger;

const WAIT: Duration = Duration::from_secs(5);

/// A booted charger with nothing left in its raw inbox, and its station `_id`.
async fn quiet_charger(app: &TestApp, identity: &str, auto_answer: bool) -> (String, Charger) {
    let station = app.create_station(json!({"endpoint": identity})).await;
    let mut config = app.charger_config(identity);
    config.auto_answer = auto_answer;
    let charger = Charger::connect(config).await.unwrap();
    charger.boot().await.unwrap();
    while charger.next_raw(Duration::ZERO).await.is_some() {}
    (station["_id"].as_str().unwrap().to_owned(), charger)
}

/// Sends `frame` as it is and returns the text of the server's next frame.
async fn exchange(charger: &Charger, frame: &str) -> String {
    charger.send_raw(frame.to_owned()).await.unwrap();
    charger
        .next_raw(WAIT)
        .await
        .unwrap_or_else(|| panic!("no answer to {frame}"))
}

fn is_ocpp_timestamp(text: &str) -> bool {
    // `2026-01-01T00:00:00.000Z`: RFC 3339, UTC, milliseconds.
    text.len() == 24 && text.ends_with('Z') && model::time::parse_rfc3339_ms(text).is_some()
}

/// Checks `text` is exactly `[4,"<id>","<code>","<description>",{}]` and returns the code.
fn call_error_code(text: &str, id: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap();
    let items = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {text}"));
    assert_eq!(items.len(), 5, "a CALLERROR has 5 elements: {text}");
    assert_eq!(items[0], 4, "{text}");
    assert_eq!(items[1], id, "{text}");
    assert!(items[3].is_string(), "description is a string: {text}");
    assert_eq!(items[4], json!({}), "details is an empty object: {text}");
    let code = items[2].as_str().unwrap().to_owned();
    assert!(
        ErrorCode::ALL.iter().any(|c| c.as_str() == code),
        "{code} is not a 1.6J spelling"
    );
    assert_eq!(value.to_string(), text, "compact, in this order: {text}");
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_compact_ocpp_j_arrays_with_empty_object_payloads_where_nothing_is_due() {
    let app = TestApp::spawn().await;
    let (_, charger) = quiet_charger(&app, "CP-GOLD", true).await;

    let heartbeat = exchange(&charger, r#"[2,"hb-1","Heartbeat",{}]"#).await;
    let prefix = r#"[3,"hb-1",{"currentTime":""#;
    assert!(heartbeat.starts_with(prefix), "{heartbeat}");
    assert!(heartbeat.ends_with(r#""}]"#), "{heartbeat}");
    let time = &heartbeat[prefix.len()..heartbeat.len() - 3];
    assert!(is_ocpp_timestamp(time), "{time}");

    for (frame, expected) in [
        (
            r#"[2,"sn-1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
            r#"[3,"sn-1",{}]"#,
        ),
        (
            r#"[2,"mv-1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1"}]}]}]"#,
            r#"[3,"mv-1",{}]"#,
        ),
        (
            r#"[2,"fw-1","FirmwareStatusNotification",{"status":"Idle"}]"#,
            r#"[3,"fw-1",{}]"#,
        ),
        (
            r#"[2,"st-1","StopTransaction",{"transactionId":1,"meterStop":5,"timestamp":"2026-01-01T00:00:00Z"}]"#,
            r#"[3,"st-1",{}]"#,
        ),
        (
            r#"[2,"au-1","Authorize",{"idTag":"T"}]"#,
            r#"[3,"au-1",{"idTagInfo":{"status":"Accepted"}}]"#,
        ),
        (
            r#"[2,"dt-1","DataTransfer",{"vendorId":"x"}]"#,
            r#"[3,"dt-1",{"status":"UnknownVendorId"}]"#,
        ),
        // Whitespace and line breaks in what a charger sends are fine; we answer compactly.
        (
            "[ 2 ,\n \"ws-1\" , \"StatusNotification\" ,\r\n {\"connectorId\": 0, \"errorCode\": \"NoError\", \"status\": \"Available\"} ]",
            r#"[3,"ws-1",{}]"#,
        ),
    ] {
        assert_eq!(exchange(&charger, frame).await, expected, "{frame}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_ids_of_one_to_36_characters_are_echoed_exactly_and_others_are_formation_violations(
) {
    let app = TestApp::spawn().await;
    let (_, charger) = quiet_charger(&app, "CP-IDS", true).await;
    for id in [
        "a".to_owned(),
        "x".repeat(36),
        // 36 characters, 72 bytes: the limit counts characters.
        "é".repeat(36),
        "0f0e3b2a-6c1d-4c8e-9d7b-2a51c0ffee00".to_owned(),
        "with \"quotes\" and \\".to_owned(),
        "007".to_owned(),
    ] {
        let frame = json!([2, id, "Heartbeat", {}]).to_string();
        let answer: Value = serde_json::from_str(&exchange(&charger, &frame).await).unwrap();
        assert_eq!(answer[0], 3, "{id}: {answer}");
        assert_eq!(answer[1], json!(id), "the id comes back exactly");
    }
    for id in ["x".repeat(37), "é".repeat(37), String::new()] {
        let frame = json!([2, id, "Heartbeat", {}]).to_string();
        let answer = exchange(&charger, &frame).await;
        assert_eq!(call_error_code(&answer, &id), "FormationViolation");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_message_ids_from_chargers_are_answered_as_their_decimal_text() {
    let app = TestApp::spawn().await;
    let (_, charger) = quiet_charger(&app, "CP-NUM", true).await;
    for (raw, echoed) in [
        ("0", "0"),
        ("-7", "-7"),
        ("18446744073709551615", "18446744073709551615"),
        ("1.5", "1.5"),
    ] {
        let frame = format!(r#"[2,{raw},"Heartbeat",{{}}]"#);
        let answer: Value = serde_json::from_str(&exchange(&charger, &frame).await).unwrap();
        assert_eq!(
            (answer[0].clone(), answer[1].clone()),
            (json!(3), json!(echoed))
        );
    }
    // A malformed CALL with a numeric id is answered with the id as text too.
    let answer = exchange(&charger, r#"[2,314,"Heartbeat"]"#).await;
    assert_eq!(call_error_code(&answer, "314"), "FormationViolation");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callerror_the_server_sends_has_the_exact_shape_and_1_6j_spelling() {
    let app = TestApp::spawn().await;
    let (_, charger) = quiet_charger(&app, "CP-ERR", true).await;
    for (frame, id, code) in [
        (r#"[2,"e1","Teleport",{}]"#, "e1", ErrorCode::NotImplemented),
        (
            r#"[2,"e2","BootNotification",{"chargePointVendor":"x"}]"#,
            "e2",
            ErrorCode::ProtocolError,
        ),
        (
            r#"[2,"e3","StartTransaction",{"connectorId":true,"idTag":"T","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"}]"#,
            "e3",
            ErrorCode::TypeConstraintViolation,
        ),
        (
            r#"[2,"e4","Heartbeat",[]]"#,
            "e4",
            ErrorCode::FormationViolation,
        ),
        (
            r#"[2,"e5","Heartbeat",{},{}]"#,
            "e5",
            ErrorCode::FormationViolation,
        ),
        (r#"[2,"e6",17,{}]"#, "e6", ErrorCode::FormationViolation),
        (r#"[5,"e7",{}]"#, "e7", ErrorCode::FormationViolation),
    ] {
        let answer = exchange(&charger, frame).await;
        assert_eq!(call_error_code(&answer, id), code.as_str(), "{frame}");
    }
    // None of them closed the connection.
    assert!(charger.heartbeat().await.is_ok());
    app.stop().await;
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_the_server_sends_is_a_four_element_array_with_a_fresh_uuid_id() {
    let app = TestApp::spawn_with(|s| s.fetch_configuration_on_boot = true).await;
    let (id, charger) = quiet_charger(&app, "CP-OUTGOING", true).await;
    charger
        .wait_for_call("GetConfiguration", WAIT)
        .await
        .unwrap();
    for (key, value) in [("HeartbeatInterval", "120"), ("BlinkRepeat", "2")] {
        let (status, body) = app
            .post(
                &format!("/v1.1/chargestations/{id}/configurations"),
                &json!({"key": key, "value": value}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/reset"),
            &json!({"type": "Soft"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(charger.wait_for_reboots(1, Duration::from_secs(10)).await);

    let mut calls = Vec::new();
    while let Some(text) = charger.next_raw(Duration::ZERO).await {
        let value: Value = serde_json::from_str(&text).unwrap();
        if value[0] == 2 {
            calls.push((text, value));
        }
    }
    let actions: BTreeSet<&str> = calls.iter().filter_map(|(_, v)| v[2].as_str()).collect();
    assert_eq!(
        actions,
        BTreeSet::from(["ChangeConfiguration", "GetConfiguration", "Reset"]),
        "{calls:?}"
    );
    let mut ids = BTreeSet::new();
    for (text, value) in &calls {
        let items = value.as_array().unwrap();
        assert_eq!(items.len(), 4, "{text}");
        assert!(items[3].is_object(), "{text}");
        let message_id = items[1]
            .as_str()
            .unwrap_or_else(|| panic!("string id: {text}"));
        assert!(message_id.chars().count() <= ocpp::frame::MAX_MESSAGE_ID_LEN);
        assert!(is_uuid(message_id), "{message_id}");
        assert!(ids.insert(message_id.to_owned()), "id reused: {message_id}");
        assert_eq!(&value.to_string(), text, "compact: {text}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callerrors_from_chargers_are_read_leniently_and_reach_the_waiting_call() {
    let app = TestApp::spawn().await;
    let (id, charger) = quiet_charger(&app, "CP-LENIENT", false).await;
    for (code, details, expected) in [
        // The corrected spelling of 1.6J's `OccurenceConstraintViolation`, no details.
        (
            "OccurrenceConstraintViolation",
            None,
            ErrorCode::OccurenceConstraintViolation,
        ),
        (
            "notsupported",
            Some(json!({"why": 1})),
            ErrorCode::NotSupported,
        ),
        (
            "SomethingElse",
            Some(json!("not an object")),
            ErrorCode::GenericError,
        ),
    ] {
        let gateway = app.gateway.clone();
        let station = id.clone();
        let waiting = tokio::spawn(async move {
            gateway
                .call_raw(&station, "GetConfiguration", json!({}), WAIT)
                .await
        });
        let call = charger
            .wait_for_call("GetConfiguration", WAIT)
            .await
            .unwrap();
        let mut frame = vec![json!(4), json!(call.message_id), json!(code), json!("desc")];
        frame.extend(details);
        charger
            .send_raw(Value::Array(frame).to_string())
            .await
            .unwrap();
        assert_eq!(
            waiting.await.unwrap(),
            Err(CallFailure::CallError {
                code: expected,
                description: "desc".into()
            })
        );
    }
    app.stop().await;
}
