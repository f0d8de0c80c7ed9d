//! The configuration API end to end (CONTRACT §3, §4, §8): the guide's happy path with
//! exact shapes, every outcome, the safe queue, validation that sends nothing, uploads,
//! details, drift, apply_desired, reset, and restarts.

use std::time::Duration;

use e2e_tests::TestApp;
use ocpp::ErrorCode;
use reqwest::Method;
use serde_json::{json, Value};
use simulator::{Charger, ConfigKey, KeyBehaviour};

const WAIT: Duration = Duration::from_secs(10);

async fn change(app: &TestApp, station: &str, body: Value) -> (u16, Value) {
    app.post(
        &format!("/v1.1/chargestations/{station}/configurations"),
        &body,
    )
    .await
}

/// The event types recorded for a station, oldest first, with the action ids.
async fn events(app: &TestApp, station: &str) -> Vec<(String, Value)> {
    model::events::for_chargestation(&app.db, station)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e))
        .collect()
}

async fn action_events(app: &TestApp, station: &str) -> Vec<(String, Value)> {
    events(app, station)
        .await
        .into_iter()
        .filter(|(_, e)| e["object"] == "action")
        .collect()
}

fn change_calls(charger: &Charger) -> Vec<Value> {
    charger
        .received_calls()
        .into_iter()
        .filter(|c| c.action == "ChangeConfiguration")
        .map(|c| c.payload)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_happy_path_has_the_guides_exact_shapes_and_verifies_the_change() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    let (status, body) = change(
        &app,
        &id,
        json!({"key": "HeartbeatInterval", "value": "901"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true);
    assert_eq!(body["message"], "");
    let result = &body["result"];
    let keys: Vec<_> = result.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "_id",
            "type",
            "status",
            "chargestation",
            "data",
            "createdAt",
            "updatedAt"
        ]
    );
    assert_eq!(result["type"], "chargestation.update_configuration");
    assert_eq!(result["status"], "requested");
    assert_eq!(result["chargestation"], id.as_str());
    assert_eq!(
        result["data"],
        json!({"key": "HeartbeatInterval", "value": "901"})
    );

    let action = app.finished(result["_id"].as_str().unwrap()).await;
    assert_eq!(action["status"], "completed");
    assert_eq!(
        action["response_data"],
        json!({"status": "Accepted", "verified": true, "reportedValue": "901"})
    );
    assert_eq!(
        change_calls(&charger),
        vec![json!({"key": "HeartbeatInterval", "value": "901"})]
    );
    assert_eq!(
        charger.config_value("HeartbeatInterval").as_deref(),
        Some("901")
    );

    let events = action_events(&app, &id).await;
    let types: Vec<_> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "chargestation.update_configuration.requested",
            "chargestation.update_configuration.accepted"
        ]
    );
    let (_, requested) = &events[0];
    assert_eq!(requested["object"], "action");
    assert_eq!(requested["data"]["status"], "requested");
    assert!(requested["data"].get("response_data").is_none());
    let (_, accepted) = &events[1];
    assert_eq!(accepted["data"]["status"], "completed");
    assert_eq!(accepted["data"]["_id"], result["_id"]);
    let env_keys: Vec<_> = accepted.as_object().unwrap().keys().cloned().collect();
    assert_eq!(env_keys, ["_id", "data", "object", "type", "createdAt"]);
    // The snapshot follows the verified value.
    let (_, station) = app.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(
        station["result"]["configuration"]["HeartbeatInterval"],
        "901"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_behaves_as_post_and_numbers_and_booleans_are_sent_as_strings() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    let path = format!("/v1.1/chargestations/{id}/configurations");
    let (status, body) = app
        .patch(
            &path,
            &json!({"key": "HeartbeatInterval", "value": 120, "meta_data": {"who": "ops"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["data"]["value"], "120");
    assert_eq!(body["result"]["meta_data"], json!({"who": "ops"}));
    app.finished(body["result"]["_id"].as_str().unwrap()).await;
    let (_, body) = app
        .patch(
            &path,
            &json!({"key": "LocalAuthorizeOffline", "value": false}),
        )
        .await;
    app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        change_calls(&charger),
        vec![
            json!({"key": "HeartbeatInterval", "value": "120"}),
            json!({"key": "LocalAuthorizeOffline", "value": "false"})
        ]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_and_not_supported_end_rejected_with_the_chargers_answer() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("BlinkRepeat".into(), KeyBehaviour::NotSupported);
            c.behaviours
                .insert("LightIntensity".into(), KeyBehaviour::Reject);
        })
        .await;
    let (_, a) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "3"})).await;
    let (_, b) = change(&app, &id, json!({"key": "LightIntensity", "value": "50"})).await;
    let a = app.finished(a["result"]["_id"].as_str().unwrap()).await;
    let b = app.finished(b["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        (a["status"].clone(), a["response_data"].clone()),
        (json!("rejected"), json!({"status": "NotSupported"}))
    );
    assert_eq!(
        (b["status"].clone(), b["response_data"].clone()),
        (json!("rejected"), json!({"status": "Rejected"}))
    );
    let types: Vec<_> = action_events(&app, &id)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(types.iter().filter(|t| t.ends_with(".rejected")).count(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_disconnects_and_callerrors_end_failed_with_the_reason() {
    let app = TestApp::spawn_with(|s| s.call_timeout_secs = 1).await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("BlinkRepeat".into(), KeyBehaviour::NoAnswer);
            c.behaviours.insert(
                "LightIntensity".into(),
                KeyBehaviour::CallError(ErrorCode::InternalError),
            );
        })
        .await;
    let (_, a) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "3"})).await;
    let a = app.finished(a["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(a["status"], "failed");
    assert_eq!(a["response_data"]["error"], "Timeout");
    assert!(a["response_data"]["description"].is_string());

    let (_, b) = change(&app, &id, json!({"key": "LightIntensity", "value": "50"})).await;
    let b = app.finished(b["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        (b["status"].clone(), b["response_data"]["error"].clone()),
        (json!("failed"), json!("InternalError"))
    );

    let (_, c) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "4"})).await;
    charger
        .wait_for_call("ChangeConfiguration", WAIT)
        .await
        .unwrap();
    charger
        .wait_for_call("ChangeConfiguration", WAIT)
        .await
        .unwrap();
    charger
        .wait_for_call("ChangeConfiguration", WAIT)
        .await
        .unwrap();
    charger.disconnect().await;
    let c = app.finished(c["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        (c["status"].clone(), c["response_data"]["error"].clone()),
        (json!("failed"), json!("Disconnected"))
    );
    let outcome_types: Vec<_> = action_events(&app, &id)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| !t.ends_with(".requested"))
        .collect();
    assert_eq!(
        outcome_types,
        vec!["chargestation.update_configuration.rejected"; 3]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_validation_error_answers_before_anything_reaches_the_charger() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.keys.push(ConfigKey::new("VendorLock", true, "1"));
        })
        .await;
    // An upload so the station's snapshot knows VendorLock is read-only.
    let (_, up) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    app.finished(up["result"]["_id"].as_str().unwrap()).await;

    let path = format!("/v1.1/chargestations/{id}/configurations");
    for bad in ["not json", "[]", "\"x\""] {
        let (s, b, _) = app.request(Method::POST, &path, Some(bad)).await;
        assert_eq!(
            (s, b["ok"].clone(), b["result"].clone()),
            (400, json!(false), Value::Null),
            "{bad}"
        );
    }
    let cases = [
        (json!({"value": "1"}), "key"),
        (json!({"key": "HeartbeatInterval"}), "value"),
        (json!({"key": 5, "value": "1"}), "key"),
        (json!({"key": "", "value": "1"}), "key"),
        (json!({"key": "k".repeat(51), "value": "1"}), "key"),
        (json!({"key": "VendorX", "value": "v".repeat(501)}), "value"),
        (json!({"key": "VendorX", "value": [1]}), "value"),
        (json!({"key": "VendorLock", "value": "0"}), "read-only"),
        (
            json!({"key": "NumberOfConnectors", "value": "2"}),
            "read-only",
        ),
        (
            json!({"key": "HeartbeatInterval", "value": "often"}),
            "HeartbeatInterval",
        ),
        (
            json!({"key": "AllowOfflineTxForUnknownId", "value": "maybe"}),
            "AllowOfflineTxForUnknownId",
        ),
        (
            json!({"key": "MeterValuesSampledData", "value": "Energy.Active.Import.Register,Bogus"}),
            "Bogus",
        ),
        (
            json!({"key": "AuthorizationKey", "value": "short"}),
            "AuthorizationKey",
        ),
        (
            json!({"key": "HeartbeatInterval", "value": "1", "meta_data": 3}),
            "meta_data",
        ),
    ];
    for (body, named) in cases {
        let (s, b) = change(&app, &id, body.clone()).await;
        assert_eq!(s, 422, "{body} → {b}");
        assert!(
            b["message"].as_str().unwrap().contains(named),
            "{body}: message names {named}: {b}"
        );
    }
    let (s, _) = change(
        &app,
        "645e58b1a448ff6e42285ceb",
        json!({"key": "HeartbeatInterval", "value": "1"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = change(
        &app,
        "NOPE",
        json!({"key": "HeartbeatInterval", "value": "1"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post(
            &format!("{path}?force=maybe"),
            &json!({"key": "HeartbeatInterval", "value": "1"}),
        )
        .await;
    assert_eq!(s, 422);

    // Inactive and offline stations: 406.
    app.patch(
        &format!("/v1.1/chargestations/{id}"),
        &json!({"active": false}),
    )
    .await;
    let (s, b) = change(&app, &id, json!({"key": "HeartbeatInterval", "value": "1"})).await;
    assert_eq!(s, 406, "{b}");
    app.patch(
        &format!("/v1.1/chargestations/{id}"),
        &json!({"active": true}),
    )
    .await;
    app.create_station(json!({"endpoint": "OFF"})).await;
    let (s, _) = change(
        &app,
        "OFF",
        json!({"key": "HeartbeatInterval", "value": "1"}),
    )
    .await;
    assert_eq!(s, 406);
    let (s, _) = app.get("/v1.1/chargestations/OFF/configurations").await;
    assert_eq!(s, 406);

    assert!(
        change_calls(&charger).is_empty(),
        "nothing reached the charger: {:?}",
        change_calls(&charger)
    );
    let (_, list) = app
        .get(&format!(
            "/v1.1/actions?chargestation={id}&type=chargestation.update_configuration"
        ))
        .await;
    assert_eq!(list["result"], json!([]), "no action was stored");

    // force skips the catalogue checks, not the limits.
    let (s, b) = app
        .post(
            &format!("{path}?force=true"),
            &json!({"key": "HeartbeatInterval", "value": "often"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = app
        .post(
            &format!("{path}?force=true"),
            &json!({"key": "k".repeat(51), "value": "1"}),
        )
        .await;
    assert_eq!(s, 422);
    app.finished(b["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        change_calls(&charger),
        vec![json!({"key": "HeartbeatInterval", "value": "often"})]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_changes_go_one_at_a_time_in_order_each_finished_before_the_next() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            for key in [
                "BlinkRepeat",
                "LightIntensity",
                "ResetRetries",
                "MeterValueSampleInterval",
                "ConnectionTimeOut",
            ] {
                c.behaviours
                    .insert(key.into(), KeyBehaviour::Delay(Duration::from_millis(100)));
            }
        })
        .await;
    let keys = [
        "BlinkRepeat",
        "LightIntensity",
        "ResetRetries",
        "MeterValueSampleInterval",
        "ConnectionTimeOut",
    ];
    let requests = keys
        .iter()
        .map(|key| change(&app, &id, json!({"key": key, "value": "7"})));
    let answers = futures_util::future::join_all(requests).await;
    let mut ids = Vec::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        ids.push(body["result"]["_id"].as_str().unwrap().to_owned());
    }
    for action in &ids {
        assert_eq!(app.finished(action).await["status"], "completed");
    }
    // The queue order is the order the API accepted them (their creation order).
    let (_, list) = app
        .get(&format!(
            "/v1.1/actions?chargestation={id}&sort_order=asc&paginate_limit=100"
        ))
        .await;
    let queued_keys: Vec<String> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["data"]["key"].as_str().unwrap().to_owned())
        .collect();
    let sent_keys: Vec<String> = change_calls(&charger)
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent_keys, queued_keys);
    // Each finished (verification included) before the next was sent.
    let events = action_events(&app, &id).await;
    let sequence: Vec<(String, String)> = events
        .iter()
        .map(|(t, e)| {
            (
                t.rsplit('.').next().unwrap().to_owned(),
                e["data"]["_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for pair in sequence.chunks(2) {
        assert_eq!(pair[0].0, "requested");
        assert_eq!(pair[1].0, "accepted");
        assert_eq!(
            pair[0].1, pair[1].1,
            "an outcome follows its own request before any other is sent"
        );
    }
    let created: Vec<String> = self::events(&app, &id)
        .await
        .iter()
        .map(|(_, e)| e["createdAt"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] <= w[1]),
        "createdAt never goes backwards: {created:?}"
    );
    let calls: Vec<_> = charger
        .received_calls()
        .into_iter()
        .map(|c| c.action)
        .collect();
    let expected: Vec<&str> = std::iter::repeat_n(["ChangeConfiguration", "GetConfiguration"], 5)
        .flatten()
        .collect();
    assert_eq!(
        calls, expected,
        "each change is read back before the next change"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_required_holds_the_queue_until_the_next_boot() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("WebSocketPingInterval".into(), KeyBehaviour::RebootRequired);
        })
        .await;
    let (_, a) = change(
        &app,
        &id,
        json!({"key": "WebSocketPingInterval", "value": "10"}),
    )
    .await;
    let a = app.finished(a["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        (a["status"].clone(), a["response_data"].clone()),
        (json!("completed"), json!({"status": "RebootRequired"}))
    );
    let (_, b) = change(
        &app,
        &id,
        json!({"key": "HeartbeatInterval", "value": "600"}),
    )
    .await;
    let b_id = b["result"]["_id"].as_str().unwrap().to_owned();
    // Held: the charger keeps talking, but nothing more is sent.
    for _ in 0..3 {
        charger.heartbeat().await.unwrap();
    }
    let (_, still) = app.get(&format!("/v1.1/actions/{b_id}")).await;
    assert_eq!(still["result"]["status"], "requested");
    assert_eq!(change_calls(&charger).len(), 1);
    // A new BootNotification releases the hold.
    charger.boot().await.unwrap();
    assert_eq!(app.finished(&b_id).await["status"], "completed");
    assert_eq!(change_calls(&charger).len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_reset_releases_a_held_queue_and_goes_first() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("WebSocketPingInterval".into(), KeyBehaviour::RebootRequired);
        })
        .await;
    let (_, a) = change(
        &app,
        &id,
        json!({"key": "WebSocketPingInterval", "value": "10"}),
    )
    .await;
    app.finished(a["result"]["_id"].as_str().unwrap()).await;
    let (_, b) = change(
        &app,
        &id,
        json!({"key": "HeartbeatInterval", "value": "600"}),
    )
    .await;
    let (s, reset) = app
        .post(
            &format!("/v1.1/chargestations/{id}/reset"),
            &json!({"type": "Soft"}),
        )
        .await;
    assert_eq!(s, 200, "{reset}");
    assert_eq!(reset["result"]["type"], "chargestation.reset");
    assert_eq!(reset["result"]["data"], json!({"type": "Soft"}));
    let reset = app.finished(reset["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        (reset["status"].clone(), reset["response_data"].clone()),
        (json!("completed"), json!({"status": "Accepted"}))
    );
    assert_eq!(
        app.finished(b["result"]["_id"].as_str().unwrap()).await["status"],
        "completed"
    );
    let calls: Vec<_> = charger
        .received_calls()
        .into_iter()
        .map(|c| c.action)
        .filter(|a| a != "GetConfiguration")
        .collect();
    assert_eq!(
        calls,
        ["ChangeConfiguration", "Reset", "ChangeConfiguration"]
    );
    assert!(charger.wait_for_reboots(1, WAIT).await);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_types_other_than_hard_or_soft_are_refused() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    let (s, b) = app
        .post(
            &format!("/v1.1/chargestations/{id}/reset"),
            &json!({"type": "Medium"}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = app
        .post(&format!("/v1.1/chargestations/{id}/reset"), &json!({}))
        .await;
    assert_eq!(s, 422);
    let (s, _, _) = app
        .request(
            Method::POST,
            &format!("/v1.1/chargestations/{id}/reset"),
            Some("["),
        )
        .await;
    assert_eq!(s, 400);
    assert!(charger.received_calls().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_stored_and_shown_in_the_guides_details_shape() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app
        .online_charger("CP1", |c| {
            c.keys
                .push(ConfigKey::new("VendorLedBrightnessX", false, "80"));
        })
        .await;
    let (_, details) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations/details"))
        .await;
    assert_eq!(
        details,
        json!({"ok": true, "message": "Success", "result": []}),
        "no upload yet"
    );
    let (s, up) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up["result"]["type"], "chargestation.get_configuration");
    let done = app.finished(up["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    let reported = done["response_data"]["configurationKey"]
        .as_array()
        .unwrap();
    assert!(reported.iter().any(|k| k["key"] == "HeartbeatInterval"));
    assert!(done["response_data"]["unknownKey"].is_array());

    let (_, details) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations/details"))
        .await;
    let rows = details["result"].as_array().unwrap();
    assert_eq!(rows.len(), reported.len());
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap().clone();
    let heartbeat = row("HeartbeatInterval");
    let names: Vec<_> = heartbeat.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        names,
        [
            "category",
            "description",
            "name",
            "desiredValue",
            "value",
            "writable",
            "editable"
        ]
    );
    assert_eq!(heartbeat["category"], "core");
    assert_eq!(heartbeat["desiredValue"], 900);
    assert_eq!(heartbeat["value"], "300");
    assert_eq!(
        (heartbeat["writable"].clone(), heartbeat["editable"].clone()),
        (json!(true), json!(false))
    );
    let vendor = row("VendorLedBrightnessX");
    assert_eq!(vendor["category"], "Unknown");
    assert_eq!(vendor["description"], "Unknown");
    assert_eq!(vendor["desiredValue"], "Not Defined");
    assert_eq!(vendor["editable"], true);
    let connectors = row("NumberOfConnectors");
    assert_eq!(connectors["writable"], false);
    assert!(connectors.get("desiredValue").is_none());
    let (_, station) = app.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(
        station["result"]["configuration"]["HeartbeatInterval"],
        "300"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_keys_are_requested_in_chunks_of_get_configuration_max_keys() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.get_configuration_max_keys = 2;
        })
        .await;
    let (_, full) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    app.finished(full["result"]["_id"].as_str().unwrap()).await;
    let (_, named) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations?key=HeartbeatInterval&key=BlinkRepeat&key=LightIntensity&key=Nope"))
        .await;
    assert_eq!(
        named["result"]["data"],
        json!({"key": ["HeartbeatInterval", "BlinkRepeat", "LightIntensity", "Nope"]})
    );
    let done = app.finished(named["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(
        done["response_data"]["configurationKey"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(done["response_data"]["unknownKey"], json!(["Nope"]));
    let requests: Vec<_> = charger
        .received_calls()
        .into_iter()
        .filter(|c| c.action == "GetConfiguration")
        .map(|c| c.payload)
        .collect();
    assert_eq!(
        requests,
        vec![
            json!({}),
            json!({"key": ["HeartbeatInterval", "BlinkRepeat"]}),
            json!({"key": ["LightIntensity", "Nope"]})
        ]
    );
    assert_eq!(charger.oversized_get_configuration_requests(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_thousand_key_upload_of_several_mebibytes_works_end_to_end() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app
        .online_charger("CP1", |c| {
            c.keys = (0..2000)
                .map(|i| ConfigKey::new(format!("VendorKey{i:04}"), i % 3 == 0, "v".repeat(1200)))
                .collect();
        })
        .await;
    let (_, up) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    let done = app.finished(up["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{}", done["response_data"]);
    assert_eq!(
        done["response_data"]["configurationKey"]
            .as_array()
            .unwrap()
            .len(),
        2000
    );
    let (_, details) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations/details"))
        .await;
    let rows = details["result"].as_array().unwrap();
    assert_eq!(rows.len(), 2000);
    assert_eq!(rows[3]["writable"], false);
    assert_eq!(rows[4]["writable"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_differences_and_apply_desired_queues_one_change_per_writable_drifted_key() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.keys = vec![
                ConfigKey::new("HeartbeatInterval", false, "300"),
                ConfigKey::new("MeterValueSampleInterval", false, "30"),
                ConfigKey::new("AuthorizeRemoteTxRequests", false, "True"),
                ConfigKey::new("LocalAuthorizeOffline", false, "TRUE"),
                ConfigKey::new("WebSocketPingInterval", true, "60"),
            ];
        })
        .await;
    let (_, up) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    app.finished(up["result"]["_id"].as_str().unwrap()).await;
    let (_, drift) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations/drift"))
        .await;
    let mut drifted: Vec<_> = drift["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap().to_owned())
        .collect();
    drifted.sort();
    assert_eq!(
        drifted,
        [
            "AuthorizeRemoteTxRequests",
            "HeartbeatInterval",
            "WebSocketPingInterval"
        ]
    );

    let (s, applied) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations/apply_desired"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{applied}");
    let queued = applied["result"].as_array().unwrap();
    assert_eq!(
        queued.len(),
        2,
        "read-only WebSocketPingInterval is not changed: {applied}"
    );
    for action in queued {
        assert_eq!(
            app.finished(action["_id"].as_str().unwrap()).await["status"],
            "completed"
        );
    }
    let mut sent = change_calls(&charger);
    sent.sort_by_key(|p| p["key"].as_str().unwrap().to_owned());
    assert_eq!(
        sent,
        vec![
            json!({"key": "AuthorizeRemoteTxRequests", "value": "false"}),
            json!({"key": "HeartbeatInterval", "value": "900"})
        ]
    );
    let (_, drift) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations/drift"))
        .await;
    assert_eq!(
        drift["result"].as_array().unwrap().len(),
        1,
        "only the read-only key still drifts: {drift}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_key_is_masked_everywhere_and_becomes_the_stations_password() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP-K", "security": {"type": "basic_auth", "password": "first-password"}})).await;
    let mut config = app.charger_config("CP-K");
    config.password = Some("first-password".into());
    let charger = Charger::connect(config.clone()).await.unwrap();
    charger.boot().await.unwrap();
    let (s, body) = change(
        &app,
        "CP-K",
        json!({"key": "AuthorizationKey", "value": "second-password"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["result"]["data"],
        json!({"key": "AuthorizationKey", "value": "********"})
    );
    let done = app.finished(body["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["data"]["value"], "********");
    let station_id = done["chargestation"].as_str().unwrap().to_owned();
    for (_, event) in events(&app, &station_id).await {
        assert!(
            !event.to_string().contains("second-password"),
            "an event leaked the key: {event}"
        );
    }
    let (_, actions) = app.get("/v1.1/actions").await;
    assert!(!actions.to_string().contains("second-password"));
    // The charger got the real value, and its next connection must use it.
    assert_eq!(change_calls(&charger)[0]["value"], "second-password");
    charger.disconnect().await;
    assert!(
        Charger::connect(config.clone()).await.is_err(),
        "the old password no longer works"
    );
    config.password = Some("second-password".into());
    assert!(Charger::connect(config).await.is_ok());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_429() {
    let app = TestApp::spawn_with(|s| {
        s.max_queue_per_station = 2;
        s.call_timeout_secs = 30;
    })
    .await;
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("BlinkRepeat".into(), KeyBehaviour::NoAnswer);
        })
        .await;
    let (s1, _) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "1"})).await;
    let (s2, _) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "2"})).await;
    let (s3, b3) = change(&app, &id, json!({"key": "BlinkRepeat", "value": "3"})).await;
    assert_eq!((s1, s2, s3), (200, 200, 429), "{b3}");
    assert_eq!(b3["ok"], false);
    charger.disconnect().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_boot_triggers_a_full_upload_when_enabled() {
    let app = TestApp::spawn_with(|s| s.fetch_configuration_on_boot = true).await;
    let (id, charger) = app.online_charger("CP1", |_| {}).await;
    charger
        .wait_for_call("GetConfiguration", WAIT)
        .await
        .unwrap();
    let body = app
        .wait_for_get(
            &format!("/v1.1/chargestations/{id}/configurations/details"),
            "the upload",
            |b| b["result"].as_array().is_some_and(|r| !r.is_empty()),
        )
        .await;
    assert!(body["result"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "HeartbeatInterval"));
    // A second boot does not upload again.
    charger.boot().await.unwrap();
    charger.heartbeat().await.unwrap();
    let (_, list) = app
        .get(&format!(
            "/v1.1/actions?chargestation={id}&type=chargestation.get_configuration"
        ))
        .await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// A charger `CP1` that never answers ChangeConfiguration of `BlinkRepeat`: one change
/// on the wire (unanswered) and one queued behind it. Returns the station id, the
/// charger, and the two action ids.
async fn one_on_the_wire_one_queued(app: &TestApp) -> (String, Charger, String, String) {
    let (id, charger) = app
        .online_charger("CP1", |c| {
            c.behaviours
                .insert("BlinkRepeat".into(), KeyBehaviour::NoAnswer);
        })
        .await;
    let (_, on_wire) = change(app, &id, json!({"key": "BlinkRepeat", "value": "1"})).await;
    let (_, queued) = change(
        app,
        &id,
        json!({"key": "HeartbeatInterval", "value": "700"}),
    )
    .await;
    charger
        .wait_for_call("ChangeConfiguration", WAIT)
        .await
        .unwrap();
    let action_id = |body: &Value| body["result"]["_id"].as_str().unwrap().to_owned();
    (id, charger, action_id(&on_wire), action_id(&queued))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_in_flight_commands_fail_interrupted_and_queued_ones_are_sent() {
    let mut first = TestApp::spawn_with(|s| s.call_timeout_secs = 30).await;
    let (_id, charger, on_wire, queued) = one_on_the_wire_one_queued(&first).await;
    first.stop_keep_database().await;
    charger.disconnect().await;

    let second = first.spawn_on_same_database(|_| {}).await;
    let interrupted = second.finished(&on_wire).await;
    assert_eq!(interrupted["status"], "failed");
    assert_eq!(interrupted["response_data"]["error"], "Interrupted");
    let queued_id = queued.as_str();
    let (_, still) = second.get(&format!("/v1.1/actions/{queued_id}")).await;
    assert_eq!(
        still["result"]["status"], "requested",
        "waits for the charger"
    );

    let mut config = second.charger_config("CP1");
    config
        .behaviours
        .insert("BlinkRepeat".into(), KeyBehaviour::NoAnswer);
    let again = Charger::connect(config).await.unwrap();
    again.boot().await.unwrap();
    assert_eq!(second.finished(queued_id).await["status"], "completed");
    assert_eq!(
        change_calls(&again),
        vec![json!({"key": "HeartbeatInterval", "value": "700"})],
        "the interrupted one is not re-sent"
    );
    second.stop().await;
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_station_cancels_its_queued_commands() {
    let app = TestApp::spawn_with(|s| s.call_timeout_secs = 30).await;
    let (id, _charger, on_wire, queued) = one_on_the_wire_one_queued(&app).await;
    let (s, _) = app.delete(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(s, 200);
    let cancelled = app.finished(&queued).await;
    assert_eq!(
        (
            cancelled["status"].clone(),
            cancelled["response_data"]["error"].clone()
        ),
        (json!("failed"), json!("Cancelled"))
    );
    let disconnected = app.finished(&on_wire).await;
    assert_eq!(disconnected["response_data"]["error"], "Disconnected");
    let types: Vec<_> = action_events(&app, &id)
        .await
        .into_iter()
        .filter(|(_, e)| e["data"]["_id"] == queued.as_str())
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        types,
        ["chargestation.update_configuration.rejected"],
        "a never-sent command emits only its outcome"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_can_be_listed_filtered_and_fetched() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app.online_charger("CP1", |_| {}).await;
    let (_, a) = change(
        &app,
        &id,
        json!({"key": "HeartbeatInterval", "value": "901"}),
    )
    .await;
    app.finished(a["result"]["_id"].as_str().unwrap()).await;
    let (_, b) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    app.finished(b["result"]["_id"].as_str().unwrap()).await;
    let (_, list, headers) = app
        .request(
            Method::GET,
            "/v1.1/actions?chargestation=CP1&status=completed",
            None,
        )
        .await;
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(list["result"].as_array().unwrap().len(), 2);
    let (_, list) = app
        .get("/v1.1/actions?type=chargestation.get_configuration")
        .await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    let (s, _) = app.get("/v1.1/actions?status=bogus").await;
    assert_eq!(s, 422);
    let (s, _) = app.get("/v1.1/actions/645e58b1a448ff6e42285ceb").await;
    assert_eq!(s, 404);
    app.stop().await;
}
