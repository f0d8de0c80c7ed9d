//! The OCPP message log: `GET /v1.1/chargestations/{id}/messages` (fields, filters,
//! pagination, errors), masking, retention by count and by age, the Server-Sent Events
//! stream, and `message_log_enabled = false`.

use std::time::Duration;

use e2e_tests::{TestApp, API_KEY};
use model::time::{format_ms, ManualClock};
use serde_json::{json, Value};

/// `GET …/messages?query` → (status, body, total from `X-Total-Count`).
async fn messages(app: &TestApp, station: &str, query: &str) -> (u16, Value, Option<u64>) {
    let (status, body, headers) = app
        .request(
            reqwest::Method::GET,
            &format!("/v1.1/chargestations/{station}/messages?{query}"),
            None,
        )
        .await;
    let total = headers
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, body, total)
}

/// Polls the list until `check` accepts its items; returns them.
async fn wait_for_messages(
    app: &TestApp,
    station: &str,
    query: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let body = app
        .wait_for_get(
            &format!("/v1.1/chargestations/{station}/messages?{query}"),
            what,
            |b| b["result"].as_array().is_some_and(|items| check(items)),
        )
        .await;
    body["result"].as_array().cloned().unwrap_or_default()
}

fn find<'a>(items: &'a [Value], direction: &str, kind: &str, action: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|m| m["direction"] == direction && m["type"] == kind && m["action"] == action)
}

fn has(items: &[Value], direction: &str, kind: &str, action: &str) -> bool {
    find(items, direction, kind, action).is_some()
}

fn no_nulls(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => map.values().all(no_nulls),
        Value::Array(items) => items.iter().all(no_nulls),
        _ => true,
    }
}

/// Opens the live stream of a station (Bearer auth).
async fn open_stream(app: &TestApp, station: &str) -> reqwest::Response {
    let response = app
        .client
        .get(format!(
            "{}/v1.1/chargestations/{station}/messages/stream",
            app.api
        ))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("API reachable");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    response
}

/// Reads the stream until `done` accepts the text read so far, or 10 s have passed.
async fn read_stream_until(
    response: &mut reqwest::Response,
    seen: &mut String,
    done: impl Fn(&str) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(seen) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return false,
        }
    }
    true
}

/// The `message` events in a stream's text: (`id` line, parsed `data`).
fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = serde_json::from_str::<Value>(v).ok();
                }
            }
            (event.as_deref() == Some("message")).then_some(())?;
            Some((id?, data?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_in_and_out_are_logged_with_their_fields() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-LOG-1", |_| {}).await;
    charger.heartbeat().await.unwrap();
    change_heartbeat_interval(&app, &id).await;

    // By identity as well as by _id.
    let items = wait_for_messages(
        &app,
        "CP-LOG-1",
        "paginate_limit=100",
        "the ChangeConfiguration answer",
        |items| has(items, "in", "CALLRESULT", "ChangeConfiguration"),
    )
    .await;
    assert!(items.iter().all(no_nulls), "absent values are omitted");
    for item in &items {
        assert_eq!(item["chargestation"], id.as_str());
        assert_eq!(item["identity"], "CP-LOG-1");
        assert!(item["_id"].is_string() && item["message_id"].is_string());
    }
    // Newest first.
    let times: Vec<i64> = items
        .iter()
        .map(|m| model::time::parse_rfc3339_ms(m["timestamp"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // The charger's CALL and our answer, named by its action, with the round trip.
    let boot = find(&items, "in", "CALL", "BootNotification").expect("boot CALL");
    assert_eq!(boot["payload"][0], 2);
    assert_eq!(boot["payload"][2], "BootNotification");
    assert_eq!(boot["payload"][1], boot["message_id"]);
    assert!(boot.get("round_trip_ms").is_none());
    let boot_answer = find(&items, "out", "CALLRESULT", "BootNotification").expect("boot answer");
    assert_eq!(boot_answer["message_id"], boot["message_id"]);
    assert_eq!(boot_answer["payload"][2]["status"], "Accepted");
    assert!(boot_answer["round_trip_ms"]
        .as_i64()
        .is_some_and(|ms| ms >= 0));
    assert!(has(&items, "in", "CALL", "Heartbeat"));
    assert!(has(&items, "out", "CALLRESULT", "Heartbeat"));

    // Our CALL and the charger's answer, named by the CALL's action, with the round trip.
    let change = find(&items, "out", "CALL", "ChangeConfiguration").expect("our CALL");
    assert_eq!(change["payload"][3]["key"], "HeartbeatInterval");
    assert!(change.get("round_trip_ms").is_none());
    let answer = find(&items, "in", "CALLRESULT", "ChangeConfiguration").expect("answer");
    assert_eq!(answer["message_id"], change["message_id"]);
    assert_eq!(answer["payload"][2]["status"], "Accepted");
    assert!(answer["round_trip_ms"].as_i64().is_some_and(|ms| ms >= 0));
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_and_callerrors_are_logged() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-LOG-2", |_| {}).await;
    charger.send_raw("this is not json".into()).await.unwrap();
    charger
        .send_raw(r#"[2,"odd-1","NoSuchAction",{}]"#.into())
        .await
        .unwrap();
    let items = wait_for_messages(
        &app,
        &id,
        "paginate_limit=100",
        "the NotImplemented answer",
        |items| has(items, "out", "CALLERROR", "NoSuchAction"),
    )
    .await;
    let garbage = items
        .iter()
        .find(|m| m["payload"] == "this is not json")
        .expect("the frame that is not JSON, stored as a JSON string");
    assert_eq!(garbage["direction"], "in");
    assert!(garbage.get("type").is_none() && garbage.get("message_id").is_none());
    let error = find(&items, "out", "CALLERROR", "NoSuchAction").unwrap();
    assert_eq!(error["message_id"], "odd-1");
    assert_eq!(error["payload"][2], "NotImplemented");
    assert!(error["round_trip_ms"].is_i64());
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_pagination() {
    let start = 1_790_000_000_000;
    let clock = ManualClock::new(start);
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let (id, charger) = app.online_charger("CP-LOG-3", |_| {}).await;
    wait_for_messages(&app, &id, "", "the boot answer", |items| {
        has(items, "out", "CALLRESULT", "BootNotification")
    })
    .await;
    clock.advance_ms(60_000);
    charger.heartbeat().await.unwrap();
    charger.heartbeat().await.unwrap();
    wait_for_messages(&app, &id, "action=Heartbeat", "both heartbeats", |items| {
        items.len() == 4
    })
    .await;

    let (status, body, total) = messages(&app, &id, "action=Heartbeat").await;
    assert_eq!(status, 200);
    assert_eq!(total, Some(4));
    assert!(body["result"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["action"] == "Heartbeat"));

    let (_, body, total) = messages(&app, &id, "direction=in&action=Heartbeat").await;
    assert_eq!(total, Some(2));
    assert!(body["result"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["direction"] == "in" && m["type"] == "CALL"));
    let (_, body, _) = messages(&app, &id, "direction=out&paginate_limit=100").await;
    assert!(body["result"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["direction"] == "out"));

    // The time range: the boot happened at `start`, the heartbeats a minute later.
    let later = format_ms(start + 30_000);
    let (_, body, total) = messages(&app, &id, &format!("from={later}")).await;
    assert_eq!(total, Some(4), "{body}");
    // An offset's `+` left unencoded in the query string is still a `+`.
    let offset = format_ms(start + 30_000).replace('Z', "+00:00");
    let (status, body, total) = messages(&app, &id, &format!("from={offset}")).await;
    assert_eq!((status, total), (200, Some(4)), "{body}");
    let (_, body, _) = messages(&app, &id, &format!("to={later}&paginate_limit=100")).await;
    let before: Vec<&Value> = body["result"].as_array().unwrap().iter().collect();
    assert!(before.iter().any(|m| m["action"] == "BootNotification"));
    assert!(before.iter().all(|m| m["action"] != "Heartbeat"));
    let exact = format_ms(start + 60_000);
    let (_, _, total) = messages(&app, &id, &format!("from={exact}&to={exact}")).await;
    assert_eq!(total, Some(4), "both ends are inclusive");

    // Pagination: pages of the same newest-first order, the total in the header.
    let (_, all, all_total) = messages(&app, &id, "paginate_limit=100").await;
    let all = all["result"].as_array().unwrap().clone();
    assert_eq!(all_total, Some(all.len() as u64));
    let (_, page2, total) = messages(&app, &id, "paginate_limit=2&paginate_page=2").await;
    assert_eq!(total, all_total);
    let page2 = page2["result"].as_array().unwrap();
    assert_eq!(page2.len(), 2);
    assert_eq!(page2[0]["_id"], all[2]["_id"]);
    assert_eq!(page2[1]["_id"], all[3]["_id"]);
    let (_, oldest, _) = messages(&app, &id, "paginate_limit=1&sort_order=asc").await;
    assert_eq!(oldest["result"][0]["_id"], all.last().unwrap()["_id"]);
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_stations_are_404_and_bad_filters_422() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-LOG-4"})).await;
    let id = station["_id"].as_str().unwrap();
    let (status, body, _) = messages(&app, "no-such-station", "").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["ok"], false);
    let (status, _) = app
        .get("/v1.1/chargestations/no-such-station/messages/stream")
        .await;
    assert_eq!(status, 404);
    for (query, field) in [
        ("direction=sideways", "direction"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("paginate_limit=0", "paginate_limit"),
        ("paginate_page=0", "paginate_page"),
    ] {
        let (status, body, _) = messages(&app, id, query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["ok"], false);
        assert!(body["result"].is_null());
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let (status, body, total) = messages(&app, id, "").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!([]));
    assert_eq!(total, Some(0));
    // Without credentials, as the rest of /v1.1.
    let response = app
        .client
        .get(format!("{}/v1.1/chargestations/{id}/messages", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_key_is_masked_in_the_list_and_the_stream() {
    let secret = "very-secret-key-0042";
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-LOG-5", |_| {}).await;
    let mut stream = open_stream(&app, &id).await;
    let (status, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "AuthorizationKey", "value": secret}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        charger.config_value("AuthorizationKey").as_deref(),
        Some(secret)
    );

    let items = wait_for_messages(
        &app,
        &id,
        "paginate_limit=100",
        "the ChangeConfiguration answer",
        |items| has(items, "in", "CALLRESULT", "ChangeConfiguration"),
    )
    .await;
    let call = find(&items, "out", "CALL", "ChangeConfiguration").unwrap();
    assert_eq!(call["payload"][3]["key"], "AuthorizationKey");
    assert_eq!(call["payload"][3]["value"], "********");
    let (_, body, _) = messages(&app, &id, "paginate_limit=100").await;
    assert!(!body.to_string().contains(secret), "{body}");

    let mut seen = String::new();
    let found = read_stream_until(&mut stream, &mut seen, |text| {
        events(text)
            .iter()
            .any(|(_, m)| m["action"] == "ChangeConfiguration" && m["type"] == "CALLRESULT")
    })
    .await;
    assert!(found, "the stream shows the change: {seen}");
    assert!(!seen.contains(secret), "{seen}");
    assert!(seen.contains("********"));
    drop(stream);
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_delivers_new_frames_of_its_station_and_ends_when_the_app_stops() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-LOG-6", |_| {}).await;
    let (_other_id, other) = app.online_charger("CP-LOG-6B", |_| {}).await;
    // By identity.
    let mut stream = open_stream(&app, "CP-LOG-6").await;
    other.heartbeat().await.unwrap();
    charger.heartbeat().await.unwrap();
    let mut seen = String::new();
    let found = read_stream_until(&mut stream, &mut seen, |text| {
        events(text)
            .iter()
            .any(|(_, m)| m["action"] == "Heartbeat" && m["direction"] == "out")
    })
    .await;
    assert!(found, "heartbeat and its answer streamed: {seen}");
    assert!(seen.starts_with(": keep-alive\n\n"), "{seen}");
    let streamed = events(&seen);
    assert!(streamed
        .iter()
        .all(|(_, m)| m["chargestation"] == id.as_str() && m["identity"] == "CP-LOG-6"));
    let call = streamed
        .iter()
        .find(|(_, m)| m["action"] == "Heartbeat" && m["type"] == "CALL")
        .expect("the heartbeat CALL");
    assert_eq!(call.0, call.1["_id"].as_str().unwrap());
    // The streamed item is the stored one.
    let (_, body, _) = messages(&app, &id, "action=Heartbeat&direction=in").await;
    assert_eq!(body["result"][0], call.1);

    // The app stops: the stream ends (rather than holding the shutdown).
    let reader = tokio::spawn(async move {
        let mut rest = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
        rest
    });
    charger.disconnect().await;
    other.disconnect().await;
    let stopped_at = tokio::time::Instant::now();
    app.stop().await;
    tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the stream ended")
        .unwrap();
    // The server's graceful stop gives open responses 5 s; the stream ends well before.
    assert!(stopped_at.elapsed() < Duration::from_secs(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_newest_frames_per_station() {
    let app = TestApp::spawn_with(|s| s.message_log_max_per_charger = 5).await;
    let (id, charger) = app.online_charger("CP-LOG-7", |_| {}).await;
    let (other_id, other) = app.online_charger("CP-LOG-7B", |_| {}).await;
    for _ in 0..6 {
        charger.heartbeat().await.unwrap();
    }
    let last = charger
        .sent_frames()
        .into_iter()
        .rev()
        .find(|f| f.contains("Heartbeat"))
        .unwrap();
    let last_id = serde_json::from_str::<Value>(&last).unwrap()[1].clone();
    // 14 frames of this station went through; the newest 5 stay.
    let (app_ref, id_ref, last_id_ref) = (&app, &id, &last_id);
    let mut last = (None, Value::Null);
    let settled = e2e_tests::wait_until(
        "pruning to 5",
        || async move {
            let (_, body, total) = messages(app_ref, id_ref, "paginate_limit=100").await;
            let ok = total == Some(5)
                && find(
                    body["result"].as_array().unwrap(),
                    "out",
                    "CALLRESULT",
                    "Heartbeat",
                )
                .is_some_and(|m| m["message_id"] == *last_id_ref);
            (ok, (total, body))
        },
        &mut last,
    )
    .await;
    assert!(settled, "total {:?}: {}", last.0, last.1);
    // The other station's frames are its own count.
    let (_, _, total) = messages(&app, &other_id, "").await;
    assert!(total.is_some_and(|t| (2..=5).contains(&t)), "{total:?}");
    charger.disconnect().await;
    other.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_frames_older_than_the_age_limit() {
    let clock = ManualClock::new(1_790_000_000_000);
    let app = TestApp::spawn_with_clock(clock.clone(), |s| s.message_log_max_age_hours = 1).await;
    let (id, charger) = app.online_charger("CP-LOG-8", |_| {}).await;
    wait_for_messages(&app, &id, "", "the boot frames", |items| {
        has(items, "out", "CALLRESULT", "BootNotification")
    })
    .await;
    clock.advance_ms(3_600_000 + 60_000);
    charger.heartbeat().await.unwrap();
    let items = wait_for_messages(
        &app,
        &id,
        "paginate_limit=100",
        "the boot frames pruned",
        |items| {
            has(items, "out", "CALLRESULT", "Heartbeat")
                && items.iter().all(|m| m["action"] != "BootNotification")
        },
    )
    .await;
    assert_eq!(items.len(), 2, "{items:?}");
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_message_log_stores_nothing() {
    let app = TestApp::spawn_with(|s| s.message_log_enabled = false).await;
    let (id, charger) = app.online_charger("CP-LOG-9", |_| {}).await;
    charger.heartbeat().await.unwrap();
    change_heartbeat_interval(&app, &id).await;
    let (status, body, total) = messages(&app, &id, "").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!([]));
    assert_eq!(total, Some(0));
    let filter = model::message_log::ListFilter {
        chargestation_id: id.clone(),
        ..Default::default()
    };
    let (_, stored) = model::message_log::list(&app.db, &filter, &Default::default())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_stream_resumes_after_its_last_event_id() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-LOG-10", |_| {}).await;
    let mut stream = open_stream(&app, &id).await;
    charger.heartbeat().await.unwrap();
    let mut seen = String::new();
    assert!(
        read_stream_until(&mut stream, &mut seen, |text| {
            events(text).iter().any(|(_, m)| m["action"] == "Heartbeat")
        })
        .await
    );
    let (last_id, _) = events(&seen).into_iter().next().unwrap();
    drop(stream);

    // Missed while disconnected: a StatusNotification and its answer.
    charger
        .status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    wait_for_messages(
        &app,
        &id,
        "action=StatusNotification",
        "the missed frames",
        |items| items.len() == 2,
    )
    .await;
    let mut resumed = app
        .client
        .get(format!(
            "{}/v1.1/chargestations/{id}/messages/stream",
            app.api
        ))
        .bearer_auth(API_KEY)
        .header("Last-Event-ID", last_id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let mut seen = String::new();
    assert!(
        read_stream_until(&mut resumed, &mut seen, |text| {
            events(text)
                .iter()
                .any(|(_, m)| m["action"] == "StatusNotification" && m["direction"] == "out")
        })
        .await,
        "{seen}"
    );
    let replayed = events(&seen);
    assert!(replayed.iter().all(|(event_id, _)| *event_id != last_id));
    assert!(replayed
        .iter()
        .any(|(_, m)| m["action"] == "StatusNotification" && m["type"] == "CALL"));
    // Nothing is sent twice.
    let mut ids: Vec<&str> = replayed.iter().map(|(i, _)| i.as_str()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count);
    drop(resumed);
    charger.disconnect().await;
    app.stop().await;
}

/// Changes `HeartbeatInterval` on `id` through the API and waits for it to complete: a
/// ChangeConfiguration CALL out and its answer in (plus the read-back when verifying).
async fn change_heartbeat_interval(app: &TestApp, id: &str) {
    let (status, body) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "HeartbeatInterval", "value": "120"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
}
