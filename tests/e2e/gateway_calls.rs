//! Outbound CALLs through the `Gateway` handle: one in flight per charger, deadlines,
//! disconnects, CALLERRORs, and late answers that are never handed to another waiter.

use std::time::Duration;

use e2e_tests::TestApp;
use ocpp::ErrorCode;
use ocpp_gateway::CallFailure;
use serde_json::json;
use simulator::Charger;

async fn manual_charger(app: &TestApp, identity: &str) -> (String, Charger) {
    let station = app.create_station(json!({"endpoint": identity})).await;
    let mut config = app.charger_config(identity);
    config.auto_answer = false;
    let charger = Charger::connect(config).await.unwrap();
    charger.boot().await.unwrap();
    (station["_id"].as_str().unwrap().to_owned(), charger)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_call_is_sent_only_after_the_first_is_answered() {
    let app = TestApp::spawn().await;
    let (id, charger) = manual_charger(&app, "CP1").await;
    let gw = app.gateway.clone();
    let (id1, id2) = (id.clone(), id.clone());
    let gw1 = gw.clone();
    let first = tokio::spawn(async move {
        gw1.call_raw(
            &id1,
            "GetConfiguration",
            json!({"key": ["A"]}),
            Duration::from_secs(10),
        )
        .await
    });
    let call1 = charger
        .wait_for_call("GetConfiguration", Duration::from_secs(5))
        .await
        .unwrap();
    let gw2 = gw.clone();
    let second = tokio::spawn(async move {
        gw2.call_raw(
            &id2,
            "GetConfiguration",
            json!({"key": ["B"]}),
            Duration::from_secs(10),
        )
        .await
    });
    // While the first is unanswered the second must not be on the wire. The charger
    // still gets answers to its own calls meanwhile.
    assert!(charger.heartbeat().await.is_ok());
    assert_eq!(charger.received_calls().len(), 1, "only one CALL in flight");
    charger
        .answer(&call1.message_id, json!({"unknownKey": ["A"]}))
        .await
        .unwrap();
    let call2 = charger
        .wait_for_call("GetConfiguration", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(call2.payload, json!({"key": ["B"]}));
    charger
        .answer(&call2.message_id, json!({"unknownKey": ["B"]}))
        .await
        .unwrap();
    assert_eq!(first.await.unwrap().unwrap(), json!({"unknownKey": ["A"]}));
    assert_eq!(second.await.unwrap().unwrap(), json!({"unknownKey": ["B"]}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_call_times_out_and_its_late_answer_is_dropped_not_given_to_the_next() {
    let app = TestApp::spawn().await;
    let (id, charger) = manual_charger(&app, "CP1").await;
    let result = app
        .gateway
        .call_raw(
            &id,
            "GetConfiguration",
            json!({}),
            Duration::from_millis(300),
        )
        .await;
    assert!(matches!(result, Err(CallFailure::Timeout(_))), "{result:?}");
    let late = charger
        .wait_for_call("GetConfiguration", Duration::from_secs(5))
        .await
        .unwrap();

    let gw = app.gateway.clone();
    let id2 = id.clone();
    let next = tokio::spawn(async move {
        gw.call_raw(
            &id2,
            "Reset",
            json!({"type": "Soft"}),
            Duration::from_secs(10),
        )
        .await
    });
    let reset = charger
        .wait_for_call("Reset", Duration::from_secs(5))
        .await
        .unwrap();
    // The late answer to the first call arrives now: it must not complete the Reset.
    charger
        .answer(&late.message_id, json!({"configurationKey": []}))
        .await
        .unwrap();
    charger
        .answer(&reset.message_id, json!({"status": "Accepted"}))
        .await
        .unwrap();
    assert_eq!(next.await.unwrap().unwrap(), json!({"status": "Accepted"}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_fails_the_waiting_call_with_disconnected() {
    let app = TestApp::spawn().await;
    let (id, charger) = manual_charger(&app, "CP1").await;
    let gw = app.gateway.clone();
    let id2 = id.clone();
    let waiting = tokio::spawn(async move {
        gw.call_raw(&id2, "GetConfiguration", json!({}), Duration::from_secs(30))
            .await
    });
    charger
        .wait_for_call("GetConfiguration", Duration::from_secs(5))
        .await
        .unwrap();
    charger.disconnect().await;
    assert_eq!(waiting.await.unwrap(), Err(CallFailure::Disconnected));
    let not_connected = app
        .gateway
        .call_raw(&id, "GetConfiguration", json!({}), Duration::from_secs(1))
        .await;
    assert_eq!(not_connected, Err(CallFailure::NotConnected));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callerror_answer_is_returned_with_its_code() {
    let app = TestApp::spawn().await;
    let (id, charger) = manual_charger(&app, "CP1").await;
    let gw = app.gateway.clone();
    let id2 = id.clone();
    let waiting = tokio::spawn(async move {
        gw.call_raw(&id2, "GetConfiguration", json!({}), Duration::from_secs(10))
            .await
    });
    let call = charger
        .wait_for_call("GetConfiguration", Duration::from_secs(5))
        .await
        .unwrap();
    charger
        .answer_error(&call.message_id, ErrorCode::NotSupported, "nope")
        .await
        .unwrap();
    assert_eq!(
        waiting.await.unwrap(),
        Err(CallFailure::CallError {
            code: ErrorCode::NotSupported,
            description: "nope".into()
        })
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_parse_the_chargers_answer() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP1"})).await;
    let charger = Charger::connect(app.charger_config("CP1")).await.unwrap();
    charger.boot().await.unwrap();
    let id = station["_id"].as_str().unwrap();
    let answer = app
        .gateway
        .call(
            id,
            &ocpp::v16::GetConfigurationRequest {
                key: Some(vec!["HeartbeatInterval".into(), "Nope".into()]),
            },
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    let keys = answer.configuration_key.unwrap();
    assert_eq!(keys[0].key, "HeartbeatInterval");
    assert_eq!(answer.unknown_key.unwrap(), vec!["Nope".to_owned()]);
    app.stop().await;
}
