//! Several instances on one PostgreSQL database (CONTRACT §7): a charger connected to
//! one instance is configured through another's API with the full webhook sequence,
//! every webhook is delivered once per endpoint, a charger that reconnects to another
//! instance keeps its queue and closes its stale socket there, and a dead instance's
//! chargers are released. These tests need PostgreSQL: on SQLite (one instance per
//! database file by design) they return at once — the PostgreSQL pass runs them.

use std::collections::HashMap;
use std::time::Duration;

use e2e_tests::receiver::Receiver;
use e2e_tests::{on_postgres, TestApp};
use serde_json::{json, Value};
use simulator::{Charger, KeyBehaviour};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_on_one_instance_is_configured_through_another_and_each_webhook_arrives_once() {
    if !on_postgres() {
        return;
    }
    let receiver = Receiver::start().await;
    let a = TestApp::spawn().await;
    let b = a.spawn_on_same_database(|_| {}).await;
    let c = a.spawn_on_same_database(|_| {}).await;
    let (s, _) = a
        .post(
            "/v1.1/webhooks",
            &json!({"url": receiver.url("/hook"), "events": ["*"]}),
        )
        .await;
    assert_eq!(s, 201);
    let station = a.create_station(json!({"endpoint": "CP-MULTI"})).await;
    let id = station["_id"].as_str().unwrap();
    let charger = Charger::connect(a.charger_config("CP-MULTI"))
        .await
        .unwrap();
    charger.boot().await.unwrap();

    // Through B's API; A holds the socket.
    let (s, body) = b
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "HeartbeatInterval", "value": "901"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let action_id = body["result"]["_id"].as_str().unwrap().to_owned();
    let done = c.finished(&action_id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["response_data"]["verified"], true);
    assert_eq!(
        charger.config_value("HeartbeatInterval").as_deref(),
        Some("901")
    );

    let delivered = receiver
        .wait_for("the action's webhooks", |got| {
            got.iter()
                .filter(|r| r.accepted() && r.json()["data"]["_id"] == action_id.as_str())
                .count()
                >= 2
        })
        .await;
    let sequence: Vec<String> = delivered
        .iter()
        .filter(|r| r.json()["data"]["_id"] == action_id.as_str())
        .map(|r| r.event_type())
        .collect();
    assert_eq!(
        sequence,
        [
            "chargestation.update_configuration.requested",
            "chargestation.update_configuration.accepted"
        ]
    );

    // Every event of the station arrives, and none twice, though three workers run.
    let events = model::events::for_chargestation(&a.db, id).await.unwrap();
    for event in &events {
        let event_id = event["_id"].as_str().unwrap();
        receiver
            .wait_for("every event of the station", |got| {
                got.iter().any(|r| r.accepted() && r.event_id() == event_id)
            })
            .await;
    }
    let all = receiver.requests();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in all.iter().filter(|r| r.accepted()) {
        *counts.entry(r.event_id()).or_default() += 1;
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "an event was delivered twice: {counts:?}"
    );
    assert_eq!(counts.len(), events.len());
    c.stop().await;
    b.stop().await;
    a.stop().await;
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_reconnecting_to_another_instance_keeps_its_queue_and_closes_its_old_socket() {
    if !on_postgres() {
        return;
    }
    let a = TestApp::spawn_with(|s| s.call_timeout_secs = 2).await;
    let b = a.spawn_on_same_database(|_| {}).await;
    let station = a.create_station(json!({"endpoint": "CP-MOVE"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let mut config = a.charger_config("CP-MOVE");
    config
        .behaviours
        .insert("BlinkRepeat".into(), KeyBehaviour::NoAnswer);
    let on_a = Charger::connect(config.clone()).await.unwrap();
    on_a.boot().await.unwrap();
    let path = format!("/v1.1/chargestations/{id}/configurations");
    let (_, stuck) = a
        .post(&path, &json!({"key": "BlinkRepeat", "value": "1"}))
        .await;
    let (_, queued) = a
        .post(&path, &json!({"key": "HeartbeatInterval", "value": "777"}))
        .await;
    on_a.wait_for_call("ChangeConfiguration", WAIT)
        .await
        .unwrap();

    // The charger comes back through B (a new socket; the old one is half-open on A).
    config.url = b.ocpp_url.clone();
    config.behaviours.clear();
    let on_b = Charger::connect(config).await.unwrap();
    assert!(
        on_a.wait_closed(WAIT).await,
        "A closes the stale socket when told of the takeover"
    );
    on_b.boot().await.unwrap();
    let stuck = b.finished(stuck["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(stuck["status"], "failed");
    let queued = b.finished(queued["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(queued["status"], "completed", "{queued}");
    let sent: Vec<Value> = on_b
        .received_calls()
        .into_iter()
        .filter(|c| c.action == "ChangeConfiguration")
        .map(|c| c.payload)
        .collect();
    assert_eq!(
        sent,
        vec![json!({"key": "HeartbeatInterval", "value": "777"})]
    );
    let (_, shown) = b.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(
        shown["result"]["online"], true,
        "the old socket's clean-up did not mark it offline"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instances_chargers_are_released_by_the_survivors() {
    if !on_postgres() {
        return;
    }
    let survivor = TestApp::spawn_with(|s| s.instance_lease_secs = 3).await;
    let station = survivor
        .create_station(json!({"endpoint": "CP-ORPHAN"}))
        .await;
    let id = station["_id"].as_str().unwrap().to_owned();
    // An instance that registered, took the charger, and then died without a word:
    // simulated in the database exactly as a killed process leaves it.
    model::instances::register(&survivor.db, "dead-instance")
        .await
        .unwrap();
    model::chargestations::mark_connected(&survivor.db, &id, "ws://x/ocpp", "dead-instance")
        .await
        .unwrap();
    let (_, shown) = survivor.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(shown["result"]["online"], true);
    survivor
        .wait_for_get(
            &format!("/v1.1/chargestations/{id}"),
            "the orphan released",
            |b| b["result"]["online"] == false,
        )
        .await;
    let types: Vec<String> = model::events::for_chargestation(&survivor.db, &id)
        .await
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["chargestation.online", "chargestation.offline"]);
    survivor.stop().await;
}
