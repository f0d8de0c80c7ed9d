//! Handshake rules: subprotocol, identity, unknown stations, Basic auth, newest wins.

use std::time::Duration;

use e2e_tests::TestApp;
use serde_json::json;
use simulator::{Charger, SimError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_charger_connects_with_ocpp16_and_is_shown_online_with_boot_info_and_connectors() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP001"})).await;
    let charger = Charger::connect(app.charger_config("CP001")).await.unwrap();
    assert_eq!(charger.subprotocol().as_deref(), Some("ocpp1.6"));
    let boot = charger.boot().await.unwrap();
    assert_eq!(boot["status"], "Accepted");
    charger
        .status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    let id = station["_id"].as_str().unwrap();
    let shown = app
        .wait_for_get(
            &format!("/v1.1/chargestations/{id}"),
            "station online",
            |b| {
                b["result"]["online"] == true
                    && b["result"]["connectors"][0]["status"] == "Available"
            },
        )
        .await;
    let result = &shown["result"];
    assert_eq!(result["bootInfo"]["chargePointVendor"], "CSMS-Sim");
    assert_eq!(result["bootInfo"]["chargePointModel"], "Virtual-AC22");
    assert_eq!(result["connectors"][0]["connectorId"], 1);
    assert_eq!(result["connectors"][0]["errorCode"], "NoError");
    assert!(result["lastConnectAt"].is_string());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_without_the_ocpp16_subprotocol_is_refused_with_400() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP001"})).await;
    let mut config = app.charger_config("CP001");
    config.subprotocols = vec![];
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 400 })
    );
    config.subprotocols = vec!["ocpp2.0.1".into()];
    assert_eq!(
        Charger::connect(config).await.err(),
        Some(SimError::Handshake { status: 400 })
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_flagged_lenient_may_connect_without_a_subprotocol() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP001", "lenient_handshake": true}))
        .await;
    let mut config = app.charger_config("CP001");
    config.subprotocols = vec![];
    let charger = Charger::connect(config).await.unwrap();
    assert_eq!(charger.boot().await.unwrap()["status"], "Accepted");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_identity_is_refused_with_404_unless_auto_registration_is_on() {
    let app = TestApp::spawn().await;
    let refused = Charger::connect(app.charger_config("NOPE")).await.err();
    assert_eq!(refused, Some(SimError::Handshake { status: 404 }));
    app.stop().await;

    let app = TestApp::spawn_with(|s| s.auto_register = true).await;
    let charger = Charger::connect(app.charger_config("NEW-1")).await.unwrap();
    charger.boot().await.unwrap();
    let (status, body) = app.get("/v1.1/chargestations/NEW-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["endpoint"], "NEW-1");
    assert_eq!(body["result"]["online"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_longer_than_48_characters_is_refused_with_400() {
    let app = TestApp::spawn_with(|s| s.auto_register = true).await;
    let refused = Charger::connect(app.charger_config(&"X".repeat(49)))
        .await
        .err();
    assert_eq!(refused, Some(SimError::Handshake { status: 400 }));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_stations_refuse_missing_or_wrong_credentials_with_401() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP-AUTH", "security": {"type": "basic_auth", "password": "correct-horse-1"}}))
        .await;
    let mut config = app.charger_config("CP-AUTH");
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 401 })
    );
    config.password = Some("wrong-password".into());
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 401 })
    );
    config.password = Some("correct-horse-1".into());
    let charger = Charger::connect(config).await.unwrap();
    assert_eq!(charger.boot().await.unwrap()["status"], "Accepted");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_password_is_shown_once_and_lets_the_charger_in() {
    let app = TestApp::spawn().await;
    let station = app
        .create_station(json!({"endpoint": "CP-GEN", "security": {"type": "basic_auth"}}))
        .await;
    let password = station["security"]["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 20);
    let (_, shown) = app.get("/v1.1/chargestations/CP-GEN").await;
    assert!(
        shown["result"]["security"].get("password").is_none(),
        "{shown}"
    );
    let mut config = app.charger_config("CP-GEN");
    config.password = Some(password);
    Charger::connect(config).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_connection_wins_and_the_old_ones_clean_up_never_marks_it_offline() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP-DUP"})).await;
    let first = Charger::connect(app.charger_config("CP-DUP"))
        .await
        .unwrap();
    first.boot().await.unwrap();
    let second = Charger::connect(app.charger_config("CP-DUP"))
        .await
        .unwrap();
    assert!(
        first.wait_closed(Duration::from_secs(5)).await,
        "old connection closed"
    );
    // The new connection keeps working and the station stays online.
    assert!(second.heartbeat().await.unwrap()["currentTime"].is_string());
    let (_, body) = app.get("/v1.1/chargestations/CP-DUP").await;
    assert_eq!(body["result"]["online"], true);
    assert!(app
        .gateway
        .call_raw(
            body["result"]["_id"].as_str().unwrap(),
            "GetConfiguration",
            json!({}),
            Duration::from_secs(5)
        )
        .await
        .is_ok());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_reconnects_of_one_identity_leave_exactly_the_last_connection_online() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-RACE"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let mut chargers = Vec::new();
    for _ in 0..8 {
        chargers.push(
            Charger::connect(app.charger_config("CP-RACE"))
                .await
                .unwrap(),
        );
    }
    // Drop all but the last one at once: their clean-ups race with nothing to spoil.
    let last = chargers.pop().unwrap();
    for old in chargers {
        old.disconnect().await;
    }
    last.heartbeat().await.unwrap();
    app.wait_for_get(&format!("/v1.1/chargestations/{id}"), "still online", |b| {
        b["result"]["online"] == true
    })
    .await;
    assert!(app.gateway.is_connected(&id));
    last.disconnect().await;
    app.wait_for_get(&format!("/v1.1/chargestations/{id}"), "offline", |b| {
        b["result"]["online"] == false
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_that_stops_answering_pings_is_marked_offline() {
    let app = TestApp::spawn_with(|s| {
        s.ocpp_ping_interval_secs = 1;
        s.ocpp_missed_pongs = 2;
    })
    .await;
    let station = app.create_station(json!({"endpoint": "CP-PING"})).await;
    let charger = Charger::connect(app.charger_config("CP-PING"))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    assert!(
        charger.wait_for_pings(1, Duration::from_secs(5)).await,
        "server pings"
    );
    charger.set_answer_pings(false);
    let id = station["_id"].as_str().unwrap();
    app.wait_for_get(
        &format!("/v1.1/chargestations/{id}"),
        "offline after missed pongs",
        |b| b["result"]["online"] == false,
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_offering_ocpp01_only_is_refused_and_one_offering_ocpp01_then_ocpp16_gets_ocpp16()
{
    // OCTT TC_088_CSMS "WebSocket Subprotocol negotiation".
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP088"})).await;
    let mut config = app.charger_config("CP088");
    config.subprotocols = vec!["ocpp0.1".into()];
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 400 })
    );
    config.subprotocols = vec!["ocpp0.1".into(), "ocpp1.6".into()];
    let charger = Charger::connect(config).await.unwrap();
    assert_eq!(charger.subprotocol().as_deref(), Some("ocpp1.6"));
    assert_eq!(charger.boot().await.unwrap()["status"], "Accepted");
    app.stop().await;
}
