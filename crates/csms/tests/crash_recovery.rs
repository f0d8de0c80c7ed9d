//! The outbox survives a crash: the real `csms` binary is killed with SIGKILL while its
//! webhook deliveries are undelivered (some in flight), restarted on the same database,
//! and every event then reaches the receiver — with its original `_id`, in order per
//! chargestation. Runs on a temporary SQLite file, or on a fresh PostgreSQL schema when
//! `CSMS_TEST_DATABASE_URL` is set. With PostgreSQL, a second test kills one of two
//! instances sharing the database mid-delivery and mid-command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use e2e_tests::process::{call, deliveries, start_server, Database, Server};
use e2e_tests::receiver::{poll_until, Received, Receiver, Reply};
use serde_json::{json, Value};
use simulator::{Charger, ChargerConfig};

const CSMS: &str = env!("CARGO_BIN_EXE_csms");

async fn charger(server: &Server, identity: &str) -> Charger {
    let charger = Charger::connect(ChargerConfig::new(server.ocpp.clone(), identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    charger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_undelivered_when_the_server_is_killed_are_all_delivered_in_order_after_a_restart() {
    // The receiver is up but hangs on every request: the first attempts are in flight
    // (leased) when the server dies, and nothing is ever accepted before the crash.
    let receiver = Receiver::start().await;
    receiver.respond_with(|_| Reply::Hang);
    let db = Database::fresh();
    let client = reqwest::Client::new();
    let server = start_server(CSMS, &db, &client, &[]).await;

    let (status, json) = call(
        &client,
        &server,
        reqwest::Method::POST,
        "/v1.1/webhooks",
        Some(json!({"url": receiver.url("/crash")})),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let endpoint_id = json["result"]["_id"].as_str().unwrap().to_owned();
    for identity in ["CP1", "CP2"] {
        let (status, json) = call(
            &client,
            &server,
            reqwest::Method::POST,
            "/v1.1/chargestations",
            Some(json!({"endpoint": identity})),
        )
        .await;
        assert_eq!(status, 201, "{json}");
    }

    // CP1: online, three status notifications, offline. CP2: online, two notifications,
    // and still connected when the server dies.
    let cp1 = charger(&server, "CP1").await;
    cp1.status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    cp1.status_notification(1, "Preparing", "NoError")
        .await
        .unwrap();
    cp1.status_notification(1, "Charging", "NoError")
        .await
        .unwrap();
    cp1.disconnect().await;
    let cp2 = charger(&server, "CP2").await;
    cp2.status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    cp2.status_notification(1, "Faulted", "GroundFailure")
        .await
        .unwrap();

    let recorded = poll_until(Duration::from_secs(10), || async {
        let items = deliveries(&client, &server, &endpoint_id).await;
        (items.len() == 8, items)
    })
    .await
    .unwrap_or_else(|items| panic!("expected 8 deliveries, got {items:#?}"));
    let expected: Vec<String> = recorded
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_owned())
        .collect();
    receiver
        .wait_for("both heads of line in flight", |log| {
            log.iter()
                .map(Received::station)
                .collect::<HashSet<_>>()
                .len()
                == 2
        })
        .await;

    // SIGKILL: no graceful shutdown, leases left behind.
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    drop(cp2);
    assert!(
        receiver.accepted().is_empty(),
        "nothing was delivered before the crash"
    );

    // The receiver recovers; the server restarts on the same database. The restart may
    // record events of its own (CP2, connected at the crash, is released: offline).
    receiver.respond_with(|_| Reply::Status(200));
    let server = start_server(CSMS, &db, &client, &[]).await;
    let settled = poll_until(Duration::from_secs(45), || async {
        let items = deliveries(&client, &server, &endpoint_id).await;
        (
            items.len() >= expected.len() && items.iter().all(|d| d["status"] == "delivered"),
            items,
        )
    })
    .await
    .unwrap_or_else(|items| panic!("not everything was delivered after the restart: {items:#?}"));
    let order: Vec<String> = settled
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order[..expected.len()],
        expected[..],
        "the events from before the crash keep their `_id`s and their place"
    );
    let log = receiver
        .wait_for("every event accepted after the restart", |log| {
            let accepted: HashSet<String> = log
                .iter()
                .filter(|r| r.accepted())
                .map(Received::event_id)
                .collect();
            order.iter().all(|id| accepted.contains(id))
        })
        .await;
    // Nothing but recorded events was delivered (a release of CP2 may add an `offline`
    // after `order` was read; it is in the list read now).
    let latest: Vec<String> = deliveries(&client, &server, &endpoint_id)
        .await
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(latest[..order.len()], order[..]);
    let accepted: HashSet<String> = log
        .iter()
        .filter(|r| r.accepted())
        .map(Received::event_id)
        .collect();
    assert!(
        accepted.iter().all(|id| latest.contains(id)),
        "only recorded events are delivered"
    );

    // Per chargestation, in the order they happened: an event is never sent before the
    // one before it was accepted.
    let station_of: HashMap<String, String> =
        log.iter().map(|r| (r.event_id(), r.station())).collect();
    for station in ["CP1", "CP2"] {
        let station_order: Vec<&String> = latest
            .iter()
            .filter(|id| station_of.get(*id).map(String::as_str) == Some(station))
            .collect();
        let mut done = 0;
        for request in log.iter().filter(|r| r.station() == station) {
            let index = station_order
                .iter()
                .position(|id| **id == request.event_id())
                .unwrap();
            assert!(
                index <= done,
                "{station}: event #{index} sent before #{done} was accepted"
            );
            if request.accepted() && index == done {
                done += 1;
            }
        }
        let before_crash = expected
            .iter()
            .filter(|id| station_of.get(*id).map(String::as_str) == Some(station))
            .count();
        assert!(
            done >= before_crash,
            "{station}: every event from before the crash, in order"
        );
    }
    let types = |station: &str| -> Vec<String> {
        log.iter()
            .filter(|r| r.accepted() && r.station() == station)
            .map(Received::event_type)
            .collect()
    };
    let status = "chargestation.connector_status.updated";
    assert_eq!(
        types("CP1"),
        [
            "chargestation.online",
            status,
            status,
            status,
            "chargestation.offline"
        ]
    );
    assert_eq!(types("CP2")[..3], ["chargestation.online", status, status]);
    drop(server);
    receiver.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_instances_loses_no_event_and_its_charger_moves_with_its_queue() {
    let db = Database::fresh();
    if !db.is_postgres() {
        eprintln!("several instances need PostgreSQL: set CSMS_TEST_DATABASE_URL (the PostgreSQL pass of ./scripts/test does)");
        db.remove().await;
        return;
    }
    let receiver = Receiver::start().await;
    receiver.respond_with(|_| Reply::Hang);
    let client = reqwest::Client::new();
    let lease = [
        ("CSMS_INSTANCE_LEASE_SECS", "3"),
        ("CSMS_CALL_TIMEOUT_SECS", "60"),
    ];
    let a = start_server(CSMS, &db, &client, &lease).await;
    let b = start_server(CSMS, &db, &client, &lease).await;
    let (status, json) = call(
        &client,
        &b,
        reqwest::Method::POST,
        "/v1.1/webhooks",
        Some(json!({"url": receiver.url("/failover")})),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let endpoint_id = json["result"]["_id"].as_str().unwrap().to_owned();
    let (status, json) = call(
        &client,
        &b,
        reqwest::Method::POST,
        "/v1.1/chargestations",
        Some(json!({"endpoint": "CP-FAIL"})),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let station_id = json["result"]["_id"].as_str().unwrap().to_owned();

    // The charger on A; a command on the wire (never answered) and one queued behind it.
    let mut config = ChargerConfig::new(a.ocpp.clone(), "CP-FAIL");
    config
        .behaviours
        .insert("BlinkRepeat".into(), simulator::KeyBehaviour::NoAnswer);
    let on_a = Charger::connect(config.clone()).await.unwrap();
    on_a.boot().await.unwrap();
    on_a.status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    let path = format!("/v1.1/chargestations/{station_id}/configurations");
    let (status, stuck) = call(
        &client,
        &b,
        reqwest::Method::POST,
        &path,
        Some(json!({"key": "BlinkRepeat", "value": "2"})),
    )
    .await;
    assert_eq!(status, 200, "{stuck}");
    let (_, queued) = call(
        &client,
        &b,
        reqwest::Method::POST,
        &path,
        Some(json!({"key": "HeartbeatInterval", "value": "450"})),
    )
    .await;
    on_a.wait_for_call("ChangeConfiguration", Duration::from_secs(10))
        .await
        .unwrap();
    receiver
        .wait_for("a delivery in flight", |log| !log.is_empty())
        .await;
    let before_kill: HashSet<String> = receiver.requests().iter().map(Received::event_id).collect();

    // A dies; the receiver recovers; the charger comes back through B.
    a.kill();
    drop(on_a);
    receiver.respond_with(|_| Reply::Status(200));
    config.url = b.ocpp.clone();
    config.behaviours.clear();
    let on_b = Charger::connect(config).await.unwrap();
    on_b.boot().await.unwrap();

    let action = |id: String| {
        let client = client.clone();
        let api = b.api.clone();
        async move {
            let response = client
                .get(format!("{api}/v1.1/actions/{id}"))
                .bearer_auth(e2e_tests::process::PROCESS_API_KEY)
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            body["result"].clone()
        }
    };
    let stuck_id = stuck["result"]["_id"].as_str().unwrap().to_owned();
    let queued_id = queued["result"]["_id"].as_str().unwrap().to_owned();
    let ended = poll_until(Duration::from_secs(30), || {
        let (a1, a2) = (action(stuck_id.clone()), action(queued_id.clone()));
        async move {
            let (a1, a2) = (a1.await, a2.await);
            (
                a1["status"] != "requested" && a2["status"] == "completed",
                (a1, a2),
            )
        }
    })
    .await
    .unwrap_or_else(|last| panic!("the commands did not end: {last:#?}"));
    assert_eq!(ended.0["status"], "failed");
    assert_eq!(
        ended.0["response_data"]["error"], "Interrupted",
        "{}",
        ended.0
    );
    let sent: Vec<Value> = on_b
        .received_calls()
        .into_iter()
        .filter(|c| c.action == "ChangeConfiguration")
        .map(|c| c.payload)
        .collect();
    assert_eq!(
        sent,
        vec![json!({"key": "HeartbeatInterval", "value": "450"})],
        "the queue moved to B; the interrupted one is not re-sent"
    );

    // Every recorded event is delivered; only those in flight at the kill may come twice.
    let settled = poll_until(Duration::from_secs(45), || async {
        let items = deliveries(&client, &b, &endpoint_id).await;
        (
            !items.is_empty() && items.iter().all(|d| d["status"] == "delivered"),
            items,
        )
    })
    .await
    .unwrap_or_else(|items| panic!("not everything was delivered: {items:#?}"));
    let recorded: Vec<String> = settled
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_owned())
        .collect();
    let log = receiver
        .wait_for("every event accepted", |log| {
            let accepted: HashSet<String> = log
                .iter()
                .filter(|r| r.accepted())
                .map(Received::event_id)
                .collect();
            recorded.iter().all(|id| accepted.contains(id))
        })
        .await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in log.iter().filter(|r| r.accepted()) {
        *counts.entry(r.event_id()).or_default() += 1;
    }
    for (event, n) in &counts {
        assert!(
            *n == 1 || before_kill.contains(event),
            "{event} was delivered {n} times without being in flight at the kill"
        );
    }
    drop(b);
    receiver.stop().await;
    db.remove().await;
}
