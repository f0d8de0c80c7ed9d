//! The outbox survives a crash: the real `csms` binary is killed with SIGKILL while its
//! webhook deliveries are undelivered (some in flight), restarted on the same database,
//! and every event then reaches the receiver — with its original `_id`, in order per
//! chargestation. Runs on a temporary SQLite file, or on a fresh PostgreSQL schema when
//! `CSMS_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use e2e_tests::receiver::{poll_until, Received, Receiver, Reply};
use serde_json::{json, Value};
use simulator::{Charger, ChargerConfig};

const API_KEY: &str = "crash-test-api-key-0123456789";

/// Where the database lives, and how to remove it afterwards.
struct Database {
    url: String,
    schema: String,
    dir: PathBuf,
}

impl Database {
    fn fresh() -> Database {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("csms-crash-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        match std::env::var("CSMS_TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Database {
                url,
                schema: format!("crash_{}", &tag[..16]),
                dir,
            },
            _ => Database {
                url: format!("sqlite://{}?mode=rwc", dir.join("csms.db").display()),
                schema: String::new(),
                dir,
            },
        }
    }

    async fn remove(self) {
        if !self.schema.is_empty() {
            let _ = model::drop_schema(&self.url, &self.schema).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `csms` process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    api: String,
    ocpp: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(db: &Database, client: &reqwest::Client) -> Server {
    let (api_port, ocpp_port) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_csms"))
        .env_remove("CSMS_CONFIG")
        .env("CSMS_API_KEY", API_KEY)
        .env("CSMS_API_LISTEN", format!("127.0.0.1:{api_port}"))
        .env("CSMS_OCPP_LISTEN", format!("127.0.0.1:{ocpp_port}"))
        .env("CSMS_DATABASE_URL", &db.url)
        .env("CSMS_DATABASE_SCHEMA", &db.schema)
        .env("CSMS_WEBHOOK_TIMEOUT_MS", "1000")
        .env("CSMS_WEBHOOK_RETRY_BASE_MS", "200")
        .env("CSMS_FETCH_CONFIGURATION_ON_BOOT", "false")
        .env("CSMS_WORKERS", "1")
        .env(
            "CSMS_LOG",
            std::env::var("CSMS_TEST_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdout(Stdio::null())
        .spawn()
        .expect("the csms binary starts");
    let server = Server {
        child,
        api: format!("http://127.0.0.1:{api_port}"),
        ocpp: format!("ws://127.0.0.1:{ocpp_port}/ocpp"),
    };
    let health = format!("{}/health", server.api);
    let up = poll_until(Duration::from_secs(30), || {
        let request = client.get(&health).send();
        async move { (request.await.is_ok_and(|r| r.status().is_success()), ()) }
    })
    .await;
    assert!(up.is_ok(), "csms did not come up at {}", server.api);
    server
}

async fn call(
    client: &reqwest::Client,
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client
        .request(method, format!("{}{path}", server.api))
        .bearer_auth(API_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("API reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn deliveries(client: &reqwest::Client, server: &Server, endpoint_id: &str) -> Vec<Value> {
    let (status, json) = call(
        client,
        server,
        reqwest::Method::GET,
        &format!("/v1.1/webhooks/{endpoint_id}/deliveries?sort_order=asc&paginate_limit=1000"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json["result"].as_array().unwrap().clone()
}

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
    let server = start_server(&db, &client).await;

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
    let server = start_server(&db, &client).await;
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
