//! `GET /metrics`: the Prometheus exposition, without authentication, with the csms
//! series moving as a charger connects, calls, is called, and events are delivered.

use std::time::Duration;

use e2e_tests::receiver::{Receiver, Reply};
use e2e_tests::TestApp;
use serde_json::json;
use simulator::KeyBehaviour;

/// The value of the first sample of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// Scrapes until `check` holds, or panics after 10 s with the last exposition.
async fn scrape_until(app: &TestApp, what: &str, check: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    let check = &check;
    let found = e2e_tests::wait_until(
        what,
        || async move {
            let text = scrape(app).await;
            (check(&text), text)
        },
        &mut last,
    )
    .await;
    assert!(
        found,
        "timed out waiting for {what}; last exposition:\n{last}"
    );
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposition_counts_chargers_messages_calls_queues_and_webhook_deliveries() {
    let receiver = Receiver::start().await;
    receiver.respond_with(|r| {
        if r.path == "/failing" {
            Reply::Status(503)
        } else {
            Reply::Status(200)
        }
    });
    let app = TestApp::spawn().await;
    for path in ["/ok", "/failing"] {
        let (status, json) = app
            .post("/v1.1/webhooks", &json!({"url": receiver.url(path)}))
            .await;
        assert_eq!(status, 201, "{json}");
    }

    // Nothing connected yet; the process series are there.
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "csms_connected_chargers", &[]), Some(0.0));
    assert!(sample(&text, "process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(sample(&text, "process_open_fds", &[]).unwrap() > 0.0);

    let (station_id, charger) = app.online_charger("CP-MET", |_| {}).await;
    charger.heartbeat().await.unwrap();
    charger.heartbeat().await.unwrap();
    let _ = charger.call("NoSuchAction", json!({})).await;

    // An answered call, then one the charger never answers.
    let answered = app
        .gateway
        .call_raw(&station_id, "ClearCache", json!({}), Duration::from_secs(5))
        .await;
    assert!(answered.is_ok(), "{answered:?}");
    charger.set_reset_behaviour(KeyBehaviour::NoAnswer);
    let unanswered = app
        .gateway
        .call_raw(
            &station_id,
            "Reset",
            json!({"type": "Soft"}),
            Duration::from_millis(200),
        )
        .await;
    assert!(
        matches!(unanswered, Err(ocpp_gateway::CallFailure::Timeout(_))),
        "{unanswered:?}"
    );

    // Two commands: one on the wire (never answered), one queued behind it.
    for _ in 0..2 {
        let (status, json) = app
            .post(
                &format!("/v1.1/chargestations/{station_id}/reset"),
                &json!({"type": "Soft"}),
            )
            .await;
        assert!(status < 300, "{status} {json}");
    }

    let text = scrape_until(&app, "queue depth, deliveries and outbox lag", |text| {
        sample(
            text,
            "csms_command_queue_depth",
            &[("station", &station_id)],
        ) == Some(2.0)
            && sample(
                text,
                "csms_webhook_deliveries_total",
                &[("outcome", "delivered")],
            )
            .is_some_and(|n| n >= 1.0)
            && sample(
                text,
                "csms_webhook_deliveries_total",
                &[("outcome", "retry")],
            )
            .is_some_and(|n| n >= 1.0)
            && sample(text, "csms_webhook_outbox_lag_seconds", &[]).is_some_and(|s| s > 0.0)
    })
    .await;
    assert_eq!(sample(&text, "csms_connected_chargers", &[]), Some(1.0));
    let inbound = |action: &str, outcome: &str| {
        sample(
            &text,
            "csms_ocpp_inbound_messages_total",
            &[("action", action), ("outcome", outcome)],
        )
    };
    assert_eq!(inbound("BootNotification", "result"), Some(1.0));
    assert_eq!(inbound("Heartbeat", "result"), Some(2.0));
    assert_eq!(
        inbound("other", "error"),
        Some(1.0),
        "unknown actions share a label"
    );
    assert!(!text.contains("NoSuchAction"));
    assert_eq!(
        sample(
            &text,
            "csms_ocpp_outbound_calls_total",
            &[("action", "ClearCache"), ("outcome", "result")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "csms_ocpp_outbound_call_duration_seconds_count",
            &[("action", "ClearCache")]
        ),
        Some(1.0)
    );
    let latency = sample(
        &text,
        "csms_ocpp_outbound_call_duration_seconds_sum",
        &[("action", "ClearCache")],
    )
    .unwrap();
    assert!(latency > 0.0 && latency < 5.0, "{latency}");
    assert_eq!(
        sample(
            &text,
            "csms_ocpp_outbound_call_timeouts_total",
            &[("action", "Reset")]
        ),
        Some(1.0)
    );
    assert!(sample(&text, "csms_ocpp_frames_in_total", &[]).unwrap() >= 4.0);

    charger.disconnect().await;
    scrape_until(&app, "the charger to be gone", |text| {
        sample(text, "csms_connected_chargers", &[]) == Some(0.0)
    })
    .await;
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_no_api_key() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(format!("{}/metrics", app.api)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("# TYPE csms_connected_chargers gauge"));
    app.stop().await;
}
