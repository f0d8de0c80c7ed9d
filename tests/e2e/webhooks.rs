//! Webhooks end to end (CONTRACT §5, §8): endpoints API, signatures checked independently
//! from the spec text, retries of 500s and timeouts with the same id, per-chargestation
//! order under retries, the three-day give-up with an injected clock, event filters and
//! redelivery — all against a real HTTP receiver.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use e2e_tests::receiver::{poll_until, Received, Receiver, Reply};
use e2e_tests::TestApp;
use hmac::{Hmac, Mac};
use model::time::ManualClock;
use serde_json::{json, Value};
use sha2::Sha256;
use simulator::Charger;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn create_endpoint(app: &TestApp, body: Value) -> Value {
    let (status, json) = app.post("/v1.1/webhooks", &body).await;
    assert_eq!(status, 201, "create endpoint: {json}");
    json["result"].clone()
}

fn id_of(object: &Value) -> String {
    object["_id"].as_str().unwrap().to_owned()
}

/// Every delivery of an endpoint, oldest first.
async fn deliveries(app: &TestApp, endpoint_id: &str) -> Vec<Value> {
    let (status, json) = app
        .get(&format!(
            "/v1.1/webhooks/{endpoint_id}/deliveries?sort_order=asc&paginate_limit=1000"
        ))
        .await;
    assert_eq!(status, 200, "deliveries: {json}");
    json["result"].as_array().unwrap().clone()
}

/// Polls an endpoint's deliveries (oldest first) until `check` accepts them.
async fn wait_for_deliveries(
    app: &TestApp,
    endpoint_id: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let body = app
        .wait_for_get(
            &format!("/v1.1/webhooks/{endpoint_id}/deliveries?sort_order=asc&paginate_limit=1000"),
            what,
            |json| json["result"].as_array().is_some_and(|items| check(items)),
        )
        .await;
    body["result"].as_array().unwrap().clone()
}

async fn connected_station(app: &TestApp, identity: &str) -> Charger {
    app.create_station(json!({"endpoint": identity})).await;
    let charger = Charger::connect(app.charger_config(identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    charger
}

// --- an independent check of both signatures, written from CONTRACT §5 / §8 ------------

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Checks that `request` carries a valid `edrv-signature` and a valid Standard Webhooks
/// signature for `secret`, consistent with its body; says what is wrong otherwise.
fn verify_signatures(request: &Received, secret: &str) -> Result<(), String> {
    if request.header("content-type") != Some("application/json") {
        return Err(format!("content-type {:?}", request.header("content-type")));
    }
    let body = request.body.as_bytes();

    // edrv-signature: t=<unix ms>,v1=<hex HMAC-SHA256(key = secret UTF-8, msg = raw body)>
    let edrv = request
        .header("edrv-signature")
        .ok_or("no edrv-signature")?;
    let (t, v1) = edrv
        .split_once(',')
        .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
        .ok_or_else(|| format!("malformed edrv-signature {edrv}"))?;
    let t_ms: i64 = t.parse().map_err(|_| format!("t={t} is not a number"))?;
    if v1 != hex::encode(hmac_sha256(secret.as_bytes(), body)) {
        return Err("edrv-signature v1 does not verify".into());
    }

    // webhook-id = the event _id; webhook-timestamp = Unix seconds (t is milliseconds).
    let id = request.header("webhook-id").ok_or("no webhook-id")?;
    if Some(id) != request.json()["_id"].as_str() {
        return Err(format!("webhook-id {id} is not the envelope _id"));
    }
    let timestamp = request
        .header("webhook-timestamp")
        .ok_or("no webhook-timestamp")?;
    if timestamp.parse::<i64>().ok() != Some(t_ms.div_euclid(1000)) {
        return Err(format!(
            "webhook-timestamp {timestamp} is not t={t_ms} in seconds"
        ));
    }

    // webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>, key =
    // base64-decoded part after "whsec_" when the secret has that form, else UTF-8 bytes.
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|rest| STANDARD.decode(rest).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &signed)));
    let header = request
        .header("webhook-signature")
        .ok_or("no webhook-signature")?;
    // Standard Webhooks allows several space-separated signatures.
    if !header.split(' ').any(|sig| sig == expected) {
        return Err(format!("webhook-signature {header} does not verify"));
    }
    Ok(())
}

fn assert_signed(request: &Received, secret: &str) {
    if let Err(problem) = verify_signatures(request, secret) {
        panic!("{problem}: {request:#?}");
    }
}

fn assert_envelope(request: &Received, event_type: &str) {
    let envelope = request.json();
    let keys: HashSet<&str> = envelope
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["_id", "data", "object", "type", "createdAt"])
    );
    assert_eq!(envelope["type"], event_type);
    assert_eq!(envelope["object"], "chargestation");
    let id = envelope["_id"].as_str().unwrap();
    assert!(id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(model::time::parse_rfc3339_ms(envelope["createdAt"].as_str().unwrap()).is_some());
    assert!(envelope["createdAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_carry_an_edrv_and_a_standard_webhooks_signature_that_verify_independently() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn().await;
    let generated = create_endpoint(&app, json!({"url": receiver.url("/generated")})).await;
    let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    create_endpoint(
        &app,
        json!({"url": receiver.url("/whsec"), "secret": whsec}),
    )
    .await;
    let plain = "a plain secret, not base64!";
    create_endpoint(
        &app,
        json!({"url": receiver.url("/plain"), "secret": plain}),
    )
    .await;
    let generated_secret = generated["secret"].as_str().unwrap().to_owned();

    let _charger = connected_station(&app, "CP1").await;
    let seen = receiver
        .wait_for("the online event at all three endpoints", |log| {
            log.iter().filter(|r| r.accepted()).count() >= 3
        })
        .await;

    let by_path: HashMap<&str, &Received> = seen.iter().map(|r| (r.path.as_str(), r)).collect();
    for (path, secret) in [
        ("/generated", generated_secret.as_str()),
        ("/whsec", whsec),
        ("/plain", plain),
    ] {
        let request = by_path[path];
        assert_envelope(request, "chargestation.online");
        assert_eq!(request.station(), "CP1");
        assert_signed(request, secret);
    }
    // One event, one `_id`, whichever endpoint it goes to.
    let ids: HashSet<String> = seen.iter().map(Received::event_id).collect();
    assert_eq!(ids.len(), 1);
    // The check is not vacuous: another endpoint's secret does not verify.
    assert!(verify_signatures(by_path["/plain"], whsec).is_err());
    assert!(verify_signatures(by_path["/whsec"], &generated_secret).is_err());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_500_is_retried_with_the_same_webhook_id_until_it_answers_200() {
    let receiver = Receiver::start().await;
    let answers = Arc::new(Mutex::new(HashMap::<String, u32>::new()));
    let seen = answers.clone();
    receiver.respond_with(move |request| {
        let mut seen = seen.lock().unwrap();
        let count = seen.entry(request.event_id()).or_default();
        *count += 1;
        if *count <= 2 {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let app = TestApp::spawn_with(|s| s.webhook_retry_base_ms = 50).await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/hook")})).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let _charger = connected_station(&app, "CP1").await;

    let log = receiver
        .wait_for("the online event accepted", |log| {
            log.iter().any(Received::accepted)
        })
        .await;
    assert_eq!(log.len(), 3, "two 500s, then the 200");
    let answered: Vec<Option<u16>> = log.iter().map(|r| r.answered).collect();
    assert_eq!(answered, vec![Some(500), Some(500), Some(200)]);
    let ids: HashSet<&str> = log
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "the same webhook-id on every retry");
    for request in &log {
        assert_eq!(request.body, log[0].body, "the same body on every retry");
        assert_signed(request, &secret);
    }

    let items = wait_for_deliveries(&app, &id_of(&endpoint), "the delivery delivered", |d| {
        d.len() == 1 && d[0]["status"] == "delivered"
    })
    .await;
    let delivery = &items[0];
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["lastResponseCode"], 200);
    assert_eq!(delivery["event"], log[0].event_id());
    assert_eq!(delivery["type"], "chargestation.online");
    assert!(delivery.get("lastError").is_none(), "{delivery}");
    assert!(delivery.get("nextAttemptAt").is_none(), "{delivery}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_answer_in_time_is_retried_with_the_same_id_and_then_delivered() {
    let receiver = Receiver::start().await;
    let answers = Arc::new(Mutex::new(0_u32));
    let count = answers.clone();
    receiver.respond_with(move |_| {
        let mut count = count.lock().unwrap();
        *count += 1;
        if *count <= 2 {
            Reply::Hang
        } else {
            Reply::Status(204)
        }
    });
    let app = TestApp::spawn_with(|s| {
        s.webhook_timeout_ms = 500;
        s.webhook_retry_base_ms = 50;
    })
    .await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/slow")})).await;
    let endpoint_id = id_of(&endpoint);
    let _charger = connected_station(&app, "CP1").await;

    // After the first timeout the delivery waits for its retry, saying why.
    let items = wait_for_deliveries(&app, &endpoint_id, "a timed-out first attempt", |d| {
        d.len() == 1 && d[0]["attempts"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    let first = &items[0];
    if first["attempts"] == 1 {
        assert_eq!(first["status"], "pending");
        assert!(
            first["lastError"].as_str().unwrap().contains("timed out"),
            "{first}"
        );
        assert!(first.get("lastResponseCode").is_none(), "{first}");
        assert!(first.get("nextAttemptAt").is_some(), "{first}");
    }

    let log = receiver
        .wait_for("the event accepted after two timeouts", |log| {
            log.iter().any(Received::accepted)
        })
        .await;
    assert!(log.len() >= 3, "two hung requests, then an answer");
    assert_eq!(log[0].answered, None, "the first request hung");
    assert_eq!(log[1].answered, None, "the second request hung");
    let ids: HashSet<String> = log.iter().map(Received::event_id).collect();
    assert_eq!(ids.len(), 1, "the same event every time");
    let items = wait_for_deliveries(&app, &endpoint_id, "the delivery delivered", |d| {
        d[0]["status"] == "delivered"
    })
    .await;
    // Three attempts, unless a loaded machine made the answer itself miss the deadline.
    assert!(items[0]["attempts"].as_i64().unwrap() >= 3, "{items:#?}");
    assert_eq!(items[0]["lastResponseCode"], 204);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_chargestation_stay_in_order_under_retries_while_other_chargestations_keep_flowing(
) {
    let receiver = Receiver::start().await;
    let failing = Arc::new(AtomicBool::new(true));
    let fail_a = failing.clone();
    receiver.respond_with(move |request| {
        if request.station() == "CPA" && fail_a.load(Ordering::SeqCst) {
            Reply::Status(503)
        } else {
            Reply::Status(200)
        }
    });
    let app = TestApp::spawn_with(|s| s.webhook_retry_base_ms = 50).await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/hook")})).await;
    let endpoint_id = id_of(&endpoint);

    // Station A: four events while the receiver refuses A's events.
    let a = connected_station(&app, "CPA").await;
    a.status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    a.status_notification(1, "Preparing", "NoError")
        .await
        .unwrap();
    a.status_notification(2, "Available", "NoError")
        .await
        .unwrap();
    receiver
        .wait_for("A's first event refused twice", |log| {
            log.iter().filter(|r| r.station() == "CPA").count() >= 2
        })
        .await;

    // Station B: its events flow while A's first event is still being retried.
    let b = connected_station(&app, "CPB").await;
    b.status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    b.status_notification(2, "Available", "NoError")
        .await
        .unwrap();
    let log = receiver
        .wait_for("B's three events accepted", |log| {
            log.iter()
                .filter(|r| r.station() == "CPB" && r.accepted())
                .count()
                == 3
        })
        .await;
    let a_requests: Vec<&Received> = log.iter().filter(|r| r.station() == "CPA").collect();
    assert!(a_requests.iter().all(|r| !r.accepted()));
    let a_ids: HashSet<String> = a_requests.iter().map(|r| r.event_id()).collect();
    assert_eq!(
        a_ids.len(),
        1,
        "only A's oldest event is tried while it fails (head-of-line)"
    );
    let items = wait_for_deliveries(&app, &endpoint_id, "B's deliveries recorded", |d| {
        d.len() == 7 && d.iter().filter(|d| d["status"] == "delivered").count() == 3
    })
    .await;
    let waiting = items
        .iter()
        .filter(|d| d["status"] == "pending" && d["attempts"] == 0)
        .count();
    assert_eq!(
        waiting, 3,
        "A's three later events wait untried: {items:#?}"
    );

    // The receiver recovers: A's events arrive, in the order they happened.
    failing.store(false, Ordering::SeqCst);
    let log = receiver
        .wait_for("A's four events accepted", |log| {
            log.iter()
                .filter(|r| r.station() == "CPA" && r.accepted())
                .count()
                >= 4
        })
        .await;
    let items = wait_for_deliveries(&app, &endpoint_id, "all delivered", |d| {
        d.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let station_of: HashMap<String, String> =
        log.iter().map(|r| (r.event_id(), r.station())).collect();
    for station in ["CPA", "CPB"] {
        let expected: Vec<String> = items
            .iter()
            .map(|d| d["event"].as_str().unwrap().to_owned())
            .filter(|id| station_of.get(id).map(String::as_str) == Some(station))
            .collect();
        // Every request for this station, in arrival order: an event is never sent before
        // the one before it was accepted.
        let mut accepted = 0;
        for request in log.iter().filter(|r| r.station() == station) {
            let index = expected
                .iter()
                .position(|id| *id == request.event_id())
                .unwrap();
            assert!(
                index <= accepted,
                "{station}: event #{index} was sent before #{accepted} was accepted"
            );
            if request.accepted() && index == accepted {
                accepted += 1;
            }
        }
        assert_eq!(accepted, expected.len(), "{station}: every event accepted");
    }
    let first_a_accepted = log
        .iter()
        .position(|r| r.station() == "CPA" && r.accepted())
        .unwrap();
    let last_b_accepted = log
        .iter()
        .rposition(|r| r.station() == "CPB" && r.accepted())
        .unwrap();
    assert!(last_b_accepted < first_a_accepted, "B was not held up by A");
    drop((a, b));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_three_days_ends_in_failed_deliveries_and_a_disabled_endpoint() {
    let receiver = Receiver::start().await;
    receiver.respond_with(|_| Reply::Status(500));
    let clock = ManualClock::new(1_700_000_000_000);
    let app = TestApp::spawn_with_clock(clock.clone(), |s| s.webhook_retry_base_ms = 1000).await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/down")})).await;
    let endpoint_id = id_of(&endpoint);
    let charger = connected_station(&app, "CP1").await;
    charger
        .status_notification(1, "Available", "NoError")
        .await
        .unwrap();

    // The first attempt fails; the retry waits for the (frozen) clock.
    let items = wait_for_deliveries(&app, &endpoint_id, "a first failed attempt", |d| {
        d.len() == 2 && d[0]["attempts"] == 1
    })
    .await;
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["lastResponseCode"], 500);
    assert_eq!(
        items[1]["attempts"], 0,
        "the later event waits behind the first"
    );

    // A day later: retried, still failing, still pending, endpoint still active.
    clock.advance_ms(DAY_MS);
    let items = wait_for_deliveries(&app, &endpoint_id, "a retry a day later", |d| {
        d[0]["attempts"] == 2
    })
    .await;
    assert_eq!(items[0]["status"], "pending");
    let (_, json) = app.get(&format!("/v1.1/webhooks/{endpoint_id}")).await;
    assert_eq!(json["result"]["active"], true);
    assert!(json["result"]["failingSince"].is_string(), "{json}");

    // Past three days: the delivery fails for good and the endpoint is disabled.
    clock.advance_ms(2 * DAY_MS + 60_000);
    let items = wait_for_deliveries(&app, &endpoint_id, "every delivery failed", |d| {
        d.iter().all(|d| d["status"] == "failed")
    })
    .await;
    assert_eq!(items[0]["attempts"], 3);
    assert_eq!(items[1]["attempts"], 0);
    assert!(items[1]["lastError"].as_str().unwrap().contains("disabled"));
    assert!(items.iter().all(|d| d.get("nextAttemptAt").is_none()));
    let (_, json) = app.get(&format!("/v1.1/webhooks/{endpoint_id}")).await;
    assert_eq!(json["result"]["active"], false, "{json}");

    // A disabled endpoint gets no new deliveries.
    charger
        .status_notification(1, "Preparing", "NoError")
        .await
        .unwrap();
    assert_eq!(deliveries(&app, &endpoint_id).await.len(), 2);
    assert_eq!(receiver.requests().len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_filters_select_exact_types_prefixes_and_everything() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn().await;
    let mut endpoints = HashMap::new();
    for (name, events) in [
        ("all", json!(["*"])),
        ("default", Value::Null),
        ("online", json!(["chargestation.online"])),
        ("connector", json!(["chargestation.connector_status.*"])),
        (
            "station",
            json!(["chargestation.*", "chargestation.online"]),
        ),
        ("transactions", json!(["transaction.*"])),
    ] {
        let mut body = json!({"url": receiver.url(&format!("/{name}"))});
        if !events.is_null() {
            body["events"] = events;
        }
        let endpoint = create_endpoint(&app, body).await;
        endpoints.insert(name, id_of(&endpoint));
    }
    let paused = create_endpoint(&app, json!({"url": receiver.url("/paused")})).await;
    let (status, _) = app
        .patch(
            &format!("/v1.1/webhooks/{}", id_of(&paused)),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(status, 200);

    let charger = connected_station(&app, "CP1").await;
    charger
        .status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    charger.disconnect().await;
    let online = "chargestation.online";
    let connector = "chargestation.connector_status.updated";
    let offline = "chargestation.offline";
    let expected: [(&str, Vec<&str>); 6] = [
        ("all", vec![online, connector, offline]),
        ("default", vec![online, connector, offline]),
        ("online", vec![online]),
        ("connector", vec![connector]),
        ("station", vec![online, connector, offline]),
        ("transactions", vec![]),
    ];
    let log = receiver
        .wait_for("every selected event accepted", |log| {
            expected.iter().all(|(name, types)| {
                log.iter()
                    .filter(|r| r.path == format!("/{name}") && r.accepted())
                    .count()
                    == types.len()
            })
        })
        .await;
    for (name, types) in &expected {
        let got: Vec<String> = log
            .iter()
            .filter(|r| r.path == format!("/{name}"))
            .map(Received::event_type)
            .collect();
        assert_eq!(&got, types, "/{name}");
        let items = deliveries(&app, &endpoints[name]).await;
        let listed: Vec<&str> = items.iter().map(|d| d["type"].as_str().unwrap()).collect();
        assert_eq!(&listed, types, "/{name} deliveries");
    }
    assert!(deliveries(&app, &id_of(&paused)).await.is_empty());
    assert!(log.iter().all(|r| r.path != "/paused"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliver_sends_a_delivered_event_again_with_the_same_id() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn().await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/hook")})).await;
    let other = create_endpoint(
        &app,
        json!({"url": receiver.url("/other"), "events": ["transaction.*"]}),
    )
    .await;
    let endpoint_id = id_of(&endpoint);
    let _charger = connected_station(&app, "CP1").await;
    let items = wait_for_deliveries(&app, &endpoint_id, "the online event delivered", |d| {
        d.len() == 1 && d[0]["status"] == "delivered"
    })
    .await;
    let delivery_id = id_of(&items[0]);

    let path = format!("/v1.1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver");
    let (status, json) = app.post(&path, &json!({})).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["result"]["_id"], delivery_id.as_str());
    assert!(
        matches!(
            json["result"]["status"].as_str(),
            Some("pending" | "delivered")
        ),
        "{json}"
    );
    let log = receiver
        .wait_for("the event delivered twice", |log| {
            log.iter().filter(|r| r.accepted()).count() == 2
        })
        .await;
    assert_eq!(log[0].event_id(), log[1].event_id());
    assert_eq!(log[0].body, log[1].body);
    let items = wait_for_deliveries(&app, &endpoint_id, "attempts counted", |d| {
        d[0]["attempts"] == 2 && d[0]["status"] == "delivered"
    })
    .await;
    assert_eq!(items.len(), 1, "a redelivery re-queues, it does not copy");

    for path in [
        format!(
            "/v1.1/webhooks/{endpoint_id}/deliveries/{}/redeliver",
            "0".repeat(24)
        ),
        format!("/v1.1/webhooks/{endpoint_id}/deliveries/nope/redeliver"),
        format!(
            "/v1.1/webhooks/{}/deliveries/{delivery_id}/redeliver",
            id_of(&other)
        ),
        format!(
            "/v1.1/webhooks/{}/deliveries/{delivery_id}/redeliver",
            "0".repeat(24)
        ),
    ] {
        let (status, json) = app.post(&path, &json!({})).await;
        assert_eq!(status, 404, "{path}: {json}");
        assert_eq!(json["ok"], false);
        assert!(json["result"].is_null());
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_created_listed_read_patched_and_deleted() {
    let app = TestApp::spawn().await;
    let first = create_endpoint(&app, json!({"url": "http://127.0.0.1:9/a"})).await;
    assert_eq!(first["events"], json!(["*"]));
    assert_eq!(first["active"], true);
    assert!(
        first.get("description").is_none(),
        "absent, not null: {first}"
    );
    let secret = first["secret"].as_str().unwrap();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(key.len(), 24);
    for field in ["_id", "url", "createdAt", "updatedAt"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }

    let second = create_endpoint(
        &app,
        json!({"url": "https://hooks.example.com/csms", "events": ["chargestation.*"],
               "secret": "my own secret 42", "description": "ops"}),
    )
    .await;
    assert_eq!(second["secret"], "my own secret 42", "kept verbatim");
    assert_eq!(second["description"], "ops");
    create_endpoint(&app, json!({"url": "http://127.0.0.1:9/c"})).await;

    let (status, json, headers) = app
        .request(
            reqwest::Method::GET,
            "/v1.1/webhooks?paginate_limit=2",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-total-count"], "3");
    let items = json["result"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|e| e.get("secret").is_none()), "{json}");
    let (_, json) = app
        .get("/v1.1/webhooks?paginate_limit=2&paginate_page=2")
        .await;
    assert_eq!(json["result"].as_array().unwrap().len(), 1);

    let second_id = id_of(&second);
    let (status, json) = app.get(&format!("/v1.1/webhooks/{second_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(json["result"]["secret"], "my own secret 42");

    let (status, json) = app
        .patch(
            &format!("/v1.1/webhooks/{second_id}"),
            &json!({"url": "https://hooks.example.com/v2", "events": ["chargestation.online"],
                    "active": false, "description": null}),
        )
        .await;
    assert_eq!(status, 200, "{json}");
    let patched = &json["result"];
    assert_eq!(patched["url"], "https://hooks.example.com/v2");
    assert_eq!(patched["events"], json!(["chargestation.online"]));
    assert_eq!(patched["active"], false);
    assert!(patched.get("description").is_none(), "{patched}");
    assert!(patched.get("secret").is_none(), "{patched}");

    let (status, _) = app.delete(&format!("/v1.1/webhooks/{second_id}")).await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/v1.1/webhooks/{second_id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(&format!("/v1.1/webhooks/{second_id}/deliveries"))
        .await;
    assert_eq!(status, 404);
    let (_, json, headers) = app
        .request(reqwest::Method::GET, "/v1.1/webhooks", None)
        .await;
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(json["result"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_api_answers_400_for_malformed_bodies_404_for_unknown_ids_and_422_naming_the_field(
) {
    let app = TestApp::spawn().await;
    for body in ["", "not json", "[1,2]", "\"url\""] {
        let (status, json, _) = app
            .request(reqwest::Method::POST, "/v1.1/webhooks", Some(body))
            .await;
        assert_eq!(status, 400, "{body}: {json}");
        assert_eq!(json["ok"], false);
        assert!(json["result"].is_null());
    }
    let cases = [
        (json!({}), "url"),
        (json!({"url": 5}), "url"),
        (json!({"url": "ftp://example.com/hook"}), "http"),
        (json!({"url": "example.com/hook"}), "url"),
        (json!({"url": "http://"}), "host"),
        (json!({"url": "http://exa mple.com"}), "url"),
        (
            json!({"url": "http://example.com", "events": "*"}),
            "events",
        ),
        (json!({"url": "http://example.com", "events": []}), "events"),
        (
            json!({"url": "http://example.com", "events": [1]}),
            "events",
        ),
        (
            json!({"url": "http://example.com", "events": ["*", "Chargestation Online"]}),
            "events[1]",
        ),
        (
            json!({"url": "http://example.com", "events": ["chargestation.*.accepted"]}),
            "events[0]",
        ),
        (
            json!({"url": "http://example.com", "secret": "short"}),
            "secret",
        ),
        (
            json!({"url": "http://example.com", "secret": "x".repeat(129)}),
            "secret",
        ),
        (
            json!({"url": "http://example.com", "secret": "tab\tinside-secret"}),
            "secret",
        ),
        (
            json!({"url": "http://example.com", "secret": 12345678}),
            "secret",
        ),
        (
            json!({"url": "http://example.com", "description": 1}),
            "description",
        ),
    ];
    for (body, field) in &cases {
        let (status, json) = app.post("/v1.1/webhooks", body).await;
        assert_eq!(status, 422, "{body}: {json}");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: '{message}' names {field}");
        assert!(json["result"].is_null());
    }

    let unknown = "0".repeat(24);
    for path in [
        format!("/v1.1/webhooks/{unknown}"),
        "/v1.1/webhooks/not-an-id".to_owned(),
        format!("/v1.1/webhooks/{unknown}/deliveries"),
    ] {
        let (status, json) = app.get(&path).await;
        assert_eq!(status, 404, "{path}: {json}");
        assert_eq!(json["ok"], false);
    }
    let (status, _) = app.delete(&format!("/v1.1/webhooks/{unknown}")).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .patch(
            &format!("/v1.1/webhooks/{unknown}"),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(status, 404);

    let endpoint = create_endpoint(&app, json!({"url": "http://127.0.0.1:9/x"})).await;
    let path = format!("/v1.1/webhooks/{}", id_of(&endpoint));
    let (status, _, _) = app.request(reqwest::Method::PATCH, &path, Some("[]")).await;
    assert_eq!(status, 400);
    for (body, field) in [
        (json!({"active": "yes"}), "active"),
        (json!({"url": "gopher://x"}), "url"),
        (json!({"events": ["bad filter"]}), "events[0]"),
        (json!({"events": null}), "events"),
        (json!({"secret": "new-secret-123"}), "secret"),
    ] {
        let (status, json) = app.patch(&path, &body).await;
        assert_eq!(status, 422, "{body}: {json}");
        assert!(json["message"].as_str().unwrap().contains(field), "{json}");
    }
    for query in ["paginate_limit=0", "sort_order=up", "status=lost"] {
        let (status, _) = app.get(&format!("{path}/deliveries?{query}")).await;
        assert_eq!(status, 422, "{query}");
    }
    let (status, _) = app.get("/v1.1/webhooks?paginate_limit=1001").await;
    assert_eq!(status, 422);
    // Without the API key nothing is shown.
    let response = reqwest::get(format!("{}/v1.1/webhooks", app.api))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_declared_in_settings_is_created_once_and_updated_on_restart() {
    let receiver = Receiver::start().await;
    let url = receiver.url("/declared");
    let declared = url.clone();
    let mut app = TestApp::spawn_with(|s| {
        s.webhook_url = Some(declared);
        s.webhook_secret = Some("first-secret-123".into());
    })
    .await;
    let (_, json) = app.get("/v1.1/webhooks").await;
    let items = json["result"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["url"], url.as_str());
    assert_eq!(items[0]["events"], json!(["*"]));
    let endpoint_id = id_of(&items[0]);

    let charger = connected_station(&app, "CP1").await;
    let log = receiver
        .wait_for("the online event", |log| log.iter().any(Received::accepted))
        .await;
    assert_signed(&log[0], "first-secret-123");
    charger.disconnect().await;
    app.stop_keep_database().await;

    let restarted = app
        .spawn_on_same_database(|s| s.webhook_secret = Some("second-secret-456".into()))
        .await;
    let (_, json) = restarted.get("/v1.1/webhooks").await;
    let items = json["result"].as_array().unwrap();
    assert_eq!(items.len(), 1, "not duplicated: {json}");
    let (_, json) = restarted
        .get(&format!("/v1.1/webhooks/{endpoint_id}"))
        .await;
    assert_eq!(json["result"]["secret"], "second-secret-456");
    assert_eq!(json["result"]["active"], true);
    restarted.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_waits_for_the_attempt_in_flight_and_records_its_outcome() {
    let receiver = Receiver::start().await;
    receiver.respond_with(|_| Reply::HoldThen(200));
    let mut app = TestApp::spawn().await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/hook")})).await;
    let endpoint_id = id_of(&endpoint);
    let _charger = connected_station(&app, "CP1").await;
    receiver
        .wait_for("the online event in flight", |log| !log.is_empty())
        .await;

    let health = format!("{}/health", app.api);
    let stopping = tokio::spawn(async move {
        app.stop_keep_database().await;
        app
    });
    // The API stops answering: shutdown is under way, the attempt still in flight.
    let client = reqwest::Client::new();
    let api_down = poll_until(Duration::from_secs(10), || {
        let request = client.get(&health).send();
        async move { (request.await.is_err(), ()) }
    })
    .await;
    assert!(api_down.is_ok(), "the API kept answering");
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the attempt in flight"
    );
    receiver.release_held();
    let app = stopping.await.unwrap();

    let page = model::page::Page {
        descending: false,
        ..Default::default()
    };
    // The pool the app used, after it stopped (its HTTP workers' runtimes are gone).
    let (items, _) = model::webhooks::list_deliveries(&app.db, &endpoint_id, None, &page)
        .await
        .unwrap();
    assert_eq!(items[0].event_type, "chargestation.online");
    assert_eq!(items[0].status, "delivered", "{items:#?}");
    assert_eq!(items[0].attempts, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_send_each_event_once_and_in_order() {
    // Two processes writing one SQLite file meet SQLITE_BUSY_SNAPSHOT on read-then-write
    // transactions; several instances are a PostgreSQL setup (docs/scaling.md).
    if !e2e_tests::on_postgres() {
        return;
    }
    let receiver = Receiver::start().await;
    let app = TestApp::spawn().await;
    let other = app.spawn_on_same_database(|_| {}).await;
    let endpoint = create_endpoint(&app, json!({"url": receiver.url("/hook")})).await;
    let endpoint_id = id_of(&endpoint);
    let identities = ["CP1", "CP2", "CP3", "CP4"];
    let mut chargers = Vec::new();
    for (i, identity) in identities.iter().enumerate() {
        app.create_station(json!({"endpoint": identity})).await;
        let instance = if i % 2 == 0 { &app } else { &other };
        let charger = Charger::connect(instance.charger_config(identity))
            .await
            .unwrap();
        charger.boot().await.unwrap();
        for status in ["Available", "Preparing", "Charging"] {
            charger
                .status_notification(1, status, "NoError")
                .await
                .unwrap();
        }
        chargers.push(charger);
    }
    let items = wait_for_deliveries(&app, &endpoint_id, "16 deliveries delivered", |d| {
        d.len() == 16 && d.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(items.iter().all(|d| d["attempts"] == 1), "{items:#?}");
    let log = receiver.requests();
    assert_eq!(log.len(), 16, "each event sent once");
    let ids: HashSet<String> = log.iter().map(Received::event_id).collect();
    assert_eq!(ids.len(), 16);
    for identity in identities {
        let types: Vec<String> = log
            .iter()
            .filter(|r| r.station() == identity)
            .map(Received::event_type)
            .collect();
        assert_eq!(
            types,
            [
                "chargestation.online",
                "chargestation.connector_status.updated",
                "chargestation.connector_status.updated",
                "chargestation.connector_status.updated",
            ],
            "{identity}"
        );
        let statuses: Vec<String> = log
            .iter()
            .filter(|r| r.station() == identity && r.event_type().contains("connector"))
            .map(|r| {
                r.json()["data"]["connector"]["status"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            statuses,
            ["Available", "Preparing", "Charging"],
            "{identity}"
        );
    }
    drop(chargers);
    other.stop().await;
    app.stop().await;
}
