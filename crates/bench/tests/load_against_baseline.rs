//! The load generator against the in-process baseline: a fleet boots, Heartbeats go
//! round (back-to-back and at a fixed rate), a StatusNotification burst is answered,
//! and a wrong URL is reported as a failure instead of hanging.

#![allow(clippy::unwrap_used)] // test helpers

use std::time::Duration;

use bench::load::{Fleet, LoadConfig};

async fn baseline_url() -> String {
    let listener = bench::baseline::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(bench::baseline::serve(listener));
    format!("ws://{addr}/ocpp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_boots_and_its_heartbeats_and_statuses_are_answered() {
    let mut config = LoadConfig::new(baseline_url().await, "T-", 20);
    config.ramp_per_sec = Some(1_000);
    let mut fleet = Fleet::start(config);
    let boot = fleet.wait_booted(Duration::from_secs(30)).await;
    assert!(boot.all_booted(), "{boot:?}");
    assert_eq!(boot.connected, 20);
    assert!(boot.time_to_all_booted.is_some());
    assert_eq!(boot.boot_latency.count, 20);

    let b2b = fleet.heartbeats(0, Duration::from_millis(300)).await;
    assert!(b2b.round_trips > 20, "{b2b:?}");
    assert_eq!(b2b.errors, 0);
    assert_eq!(b2b.latency.count, b2b.round_trips);

    let fixed = fleet.heartbeats(100, Duration::from_millis(500)).await;
    // 20 chargers × 10/s × 0.5 s, give or take the spread of the first period.
    assert!((20..=200).contains(&fixed.round_trips), "{fixed:?}");

    let burst = fleet.status_burst(5, Duration::from_secs(30)).await;
    assert_eq!(burst.round_trips, 100, "{burst:?}");
    assert_eq!(fleet.failed(), 0);
    fleet.close(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn chargers_that_cannot_connect_are_counted_as_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = LoadConfig::new(format!("ws://127.0.0.1:{port}/ocpp"), "X-", 2);
    config.connect_timeout = Duration::from_millis(300);
    let fleet = Fleet::start(config);
    let boot = fleet.wait_booted(Duration::from_secs(10)).await;
    assert_eq!(boot.booted, 0);
    assert_eq!(boot.failed, 2);
    assert!(boot.first_error.is_some_and(|e| e.contains("connect")));
    fleet.close(Duration::from_secs(1)).await;
}
