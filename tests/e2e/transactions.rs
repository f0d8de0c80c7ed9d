//! Transactions end to end (CONTRACT §9): a remote start, meter values and a remote
//! stop leave a transaction with its meter values in the API and
//! `transaction.started` / `transaction.ended` events; transaction ids come from the
//! database and stay unique across restarts; an unknown StopTransaction is answered.

use e2e_tests::TestApp;
use serde_json::{json, Value};
use simulator::Charger;

async fn booted(app: &TestApp, identity: &str) -> (String, Charger) {
    let station = app.create_station(json!({"endpoint": identity})).await;
    let charger = Charger::connect(app.charger_config(identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    (station["_id"].as_str().unwrap().to_owned(), charger)
}

/// Starts a transaction on connector 1; returns its transactionId.
async fn start(charger: &Charger) -> i64 {
    charger
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap()["transactionId"]
        .as_i64()
        .unwrap()
}

async fn transaction_events(app: &TestApp, station: &str) -> Vec<Value> {
    model::events::for_chargestation(&app.db, station)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["object"] == "transaction")
        .collect()
}

fn sample(timestamp: &str, wh: &str) -> Value {
    json!({"timestamp": timestamp, "sampledValue": [
        {"value": wh, "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_start_charges_and_a_remote_stop_ends_the_transaction_visible_with_its_meter_values_and_events(
) {
    let app = TestApp::spawn().await;
    let (id, _charger) = booted(&app, "CP1").await;
    let (status, started) = app
        .post(
            &format!("/v1.1/chargestations/{id}/remote_start"),
            &json!({"connectorId": 1, "idTag": "TAG-1"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let done = app
        .finished(started["result"]["_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed");

    // The simulated charger starts charging and reports a meter value.
    let active = app
        .wait_for_get(
            "/v1.1/transactions?chargestation=CP1&active=true",
            "the charging session",
            |b| b["result"].as_array().is_some_and(|a| a.len() == 1),
        )
        .await;
    let tx = active["result"][0]["transactionId"].as_i64().unwrap();
    assert_eq!(active["result"][0]["idTag"], "TAG-1");
    assert_eq!(active["result"][0]["connectorId"], 1);
    app.wait_for_get(&format!("/v1.1/transactions/{tx}"), "a meter value", |b| {
        b["result"]["meterValues"]
            .as_array()
            .is_some_and(|v| v.len() == 1)
    })
    .await;

    let (status, stopped) = app
        .post(
            &format!("/v1.1/chargestations/{id}/remote_stop"),
            &json!({"transactionId": tx}),
        )
        .await;
    assert_eq!(status, 200, "{stopped}");
    let done = app
        .finished(stopped["result"]["_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed");
    let ended = app
        .wait_for_get(
            &format!("/v1.1/transactions/{tx}"),
            "the session to end",
            |b| b["result"]["active"] == false,
        )
        .await;
    let transaction = &ended["result"];
    assert_eq!(transaction["stopReason"], "Remote");
    assert_eq!(transaction["meterStart"], 0);
    assert_eq!(transaction["meterStop"], 3000);
    assert_eq!(transaction["energy"], 3000);
    let values = transaction["meterValues"].as_array().unwrap();
    assert_eq!(
        values.len(),
        2,
        "MeterValues and transactionData: {values:?}"
    );
    assert_eq!(values[0]["sampledValue"][0]["value"], "1500");
    assert_eq!(values[1]["sampledValue"][0]["context"], "Transaction.End");

    let events = transaction_events(&app, &id).await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["transaction.started", "transaction.ended"]);
    assert!(events.iter().all(|e| e["data"]["transactionId"] == tx));
    // A remote stop of a transaction that is not running is rejected by the charger.
    let (_, again) = app
        .post(
            &format!("/v1.1/chargestations/{id}/remote_stop"),
            &json!({"transactionId": tx}),
        )
        .await;
    let done = app.finished(again["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "rejected");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_meter_values_and_stop_from_a_charger_leave_a_transaction_with_every_meter_value_and_its_events(
) {
    let app = TestApp::spawn().await;
    let (id, charger) = booted(&app, "CP1").await;

    // A charger reports a session of its own (started locally, by RFID).
    let start = charger
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": "2026-01-01T10:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(start["idTagInfo"]["status"], "Accepted");
    let tx = start["transactionId"].as_i64().unwrap();
    for (timestamp, wh) in [
        ("2026-01-01T10:15:00Z", "3500"),
        ("2026-01-01T10:30:00Z", "6000"),
    ] {
        let answer = charger
            .call(
                "MeterValues",
                json!({"connectorId": 1, "transactionId": tx, "meterValue": [sample(timestamp, wh)]}),
            )
            .await
            .unwrap();
        assert_eq!(answer, json!({}));
    }
    let (_, active) = app
        .get("/v1.1/transactions?chargestation=CP1&active=true")
        .await;
    assert_eq!(active["result"].as_array().unwrap().len(), 1);
    assert_eq!(active["result"][0]["transactionId"], tx);
    assert_eq!(active["result"][0]["active"], true);
    assert!(active["result"][0].get("meterValues").is_none());

    let stop = charger
        .call(
            "StopTransaction",
            json!({
                "transactionId": tx,
                "idTag": "TAG-1",
                "meterStop": 7000,
                "timestamp": "2026-01-01T10:40:00Z",
                "reason": "Remote",
                "transactionData": [sample("2026-01-01T10:40:00Z", "7000")]
            }),
        )
        .await
        .unwrap();
    assert_eq!(stop, json!({"idTagInfo": {"status": "Accepted"}}));

    let (status, body) = app.get(&format!("/v1.1/transactions/{tx}")).await;
    assert_eq!(status, 200, "{body}");
    let transaction = &body["result"];
    assert_eq!(transaction["chargestation"], id.as_str());
    assert_eq!(transaction["connectorId"], 1);
    assert_eq!(transaction["idTag"], "TAG-1");
    assert_eq!(transaction["idTagStatus"], "Accepted");
    assert_eq!(transaction["meterStart"], 1000);
    assert_eq!(transaction["meterStop"], 7000);
    assert_eq!(transaction["energy"], 6000);
    assert_eq!(transaction["startTimestamp"], "2026-01-01T10:00:00Z");
    assert_eq!(transaction["stopTimestamp"], "2026-01-01T10:40:00Z");
    assert_eq!(transaction["stopReason"], "Remote");
    assert_eq!(transaction["active"], false);
    assert_eq!(
        transaction["meterValues"],
        json!([
            sample("2026-01-01T10:15:00Z", "3500"),
            sample("2026-01-01T10:30:00Z", "6000"),
            sample("2026-01-01T10:40:00Z", "7000")
        ])
    );
    let (_, by_object_id) = app
        .get(&format!(
            "/v1.1/transactions/{}",
            transaction["_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_object_id["result"]["transactionId"], tx);

    let (_, active) = app.get("/v1.1/transactions?active=true").await;
    assert_eq!(active["result"], json!([]));
    let (_, ended) = app
        .get(&format!(
            "/v1.1/transactions?chargestation={id}&active=false"
        ))
        .await;
    assert_eq!(ended["result"][0]["transactionId"], tx);

    let events = transaction_events(&app, &id).await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["transaction.started", "transaction.ended"]);
    assert_eq!(events[0]["data"]["transactionId"], tx);
    assert_eq!(events[0]["data"]["active"], true);
    assert_eq!(events[1]["data"]["meterStop"], 7000);
    assert_eq!(events[1]["data"]["active"], false);
    // A repeated StopTransaction is answered and changes nothing.
    charger
        .call(
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 9999, "timestamp": "2026-01-01T11:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(transaction_events(&app, &id).await.len(), 2);
    let (_, again) = app.get(&format!("/v1.1/transactions/{tx}")).await;
    assert_eq!(again["result"]["meterStop"], 7000);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_ids_stay_unique_across_restarts_and_unknown_stops_are_still_answered() {
    let mut app = TestApp::spawn().await;
    let (id, charger) = booted(&app, "CP1").await;
    let first = start(&charger).await;
    let second = start(&charger).await;
    assert!(second > first);
    charger.disconnect().await;
    app.stop_keep_database().await;

    let restarted = app.spawn_on_same_database(|_| {}).await;
    let charger = Charger::connect(restarted.charger_config("CP1"))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    let third = start(&charger).await;
    assert!(third > second, "{third} after {second}");

    let unknown = charger
        .call(
            "StopTransaction",
            json!({"transactionId": 999_999, "meterStop": 1, "timestamp": "2026-01-01T01:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(unknown, json!({}));
    let (status, _) = restarted.get("/v1.1/transactions/999999").await;
    assert_eq!(status, 404);
    let (_, list, headers) = restarted
        .request(reqwest::Method::GET, "/v1.1/transactions", None)
        .await;
    assert_eq!(headers["x-total-count"], "3");
    assert_eq!(list["result"].as_array().unwrap().len(), 3);
    let ended: Vec<_> = transaction_events(&restarted, &id)
        .await
        .into_iter()
        .filter(|e| e["type"] == "transaction.ended")
        .collect();
    assert!(ended.is_empty(), "an unknown stop ends nothing");
    restarted.stop().await;
    app.stop().await;
}
