//! `/v1.1/chargestations` per CONTRACT §2, the envelope and status codes of §1 and §8,
//! API-key auth, `/health` and `/ready`.

use e2e_tests::{TestApp, API_KEY};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_chargestation_answers_201_with_the_contract_shape() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/v1.1/chargestations",
            &json!({"endpoint": "CP001", "meta_data": {"site": "A"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["ok"], true);
    let r = &body["result"];
    let id = r["_id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(r["endpoint"], "CP001");
    assert_eq!(r["protocol"], "ocpp1.6");
    assert_eq!(r["online"], false);
    assert_eq!(r["active"], true);
    assert_eq!(r["connectors"], json!([]));
    assert_eq!(r["security"], json!({"type": "none"}));
    assert_eq!(r["meta_data"], json!({"site": "A"}));
    assert!(r["connection_url"]
        .as_str()
        .unwrap()
        .ends_with("/ocpp/CP001"));
    assert!(
        r.get("bootInfo").is_none() && r.get("lastConnectAt").is_none(),
        "absent fields are omitted: {r}"
    );
    assert!(r["createdAt"].as_str().unwrap().ends_with('Z'));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_create_requests_get_400_409_and_422() {
    let app = TestApp::spawn().await;
    let (s, b, _) = app
        .request(Method::POST, "/v1.1/chargestations", Some("{not json"))
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["ok"], false);
    assert_eq!(b["result"], serde_json::Value::Null);
    assert!(b["message"].as_str().unwrap().len() > 5);
    let (s, _, _) = app
        .request(Method::POST, "/v1.1/chargestations", Some("[1,2]"))
        .await;
    assert_eq!(s, 400);
    for (body, field) in [
        (json!({}), "endpoint"),
        (json!({"endpoint": 5}), "endpoint"),
        (json!({"endpoint": "x".repeat(49)}), "endpoint"),
        (json!({"endpoint": "CP", "active": "yes"}), "active"),
        (
            json!({"endpoint": "CP", "protocol": "ocpp2.0.1"}),
            "protocol",
        ),
        (
            json!({"endpoint": "CP", "security": {"type": "magic"}}),
            "security.type",
        ),
        (
            json!({"endpoint": "CP", "security": {"type": "basic_auth", "password": "short"}}),
            "password",
        ),
        (json!({"endpoint": "CP", "meta_data": 3}), "meta_data"),
    ] {
        let (s, b) = app.post("/v1.1/chargestations", &body).await;
        assert_eq!(s, 422, "{body} → {b}");
        assert!(
            b["message"].as_str().unwrap().contains(field),
            "message names {field}: {b}"
        );
    }
    app.create_station(json!({"endpoint": "CP"})).await;
    let (s, b) = app
        .post("/v1.1/chargestations", &json!({"endpoint": "CP"}))
        .await;
    assert_eq!(s, 409, "{b}");
    let (_, list) = app.get("/v1.1/chargestations").await;
    assert_eq!(
        list["result"].as_array().unwrap().len(),
        1,
        "failed requests changed nothing"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_is_found_by_id_or_endpoint_and_unknown_ones_are_404() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP001"})).await;
    let id = station["_id"].as_str().unwrap();
    let (s, by_id) = app.get(&format!("/v1.1/chargestations/{id}")).await;
    assert_eq!(s, 200);
    let (_, by_endpoint) = app.get("/v1.1/chargestations/CP001").await;
    assert_eq!(by_id["result"], by_endpoint["result"]);
    let (s, b) = app
        .get("/v1.1/chargestations/645e58b1a448ff6e42285ceb")
        .await;
    assert_eq!(
        (s, b["ok"].clone(), b["result"].clone()),
        (404, json!(false), serde_json::Value::Null)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_paginate_sort_filter_and_count_in_a_header() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.create_station(json!({"endpoint": format!("CP{i}")}))
            .await;
    }
    let (s, b, h) = app
        .request(
            Method::GET,
            "/v1.1/chargestations?paginate_limit=2&paginate_page=2&sort_order=asc",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(h["x-total-count"], "5");
    let names: Vec<_> = b["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["CP2", "CP3"]);
    let (_, b) = app
        .get("/v1.1/chargestations?sort_order=desc&paginate_limit=1")
        .await;
    assert_eq!(b["result"][0]["endpoint"], "CP4");
    let (_, b, h) = app
        .request(Method::GET, "/v1.1/chargestations?endpoint=CP3", None)
        .await;
    assert_eq!(
        (
            h["x-total-count"].to_str().unwrap(),
            b["result"][0]["endpoint"].clone()
        ),
        ("1", json!("CP3"))
    );
    let (_, b) = app.get("/v1.1/chargestations?online=true").await;
    assert_eq!(b["result"], json!([]));
    for bad in [
        "paginate_limit=0",
        "paginate_limit=1001",
        "paginate_page=0",
        "online=maybe",
        "sort_by=colour",
        "sort_order=sideways",
    ] {
        let (s, b) = app.get(&format!("/v1.1/chargestations?{bad}")).await;
        assert_eq!(s, 422, "{bad}: {b}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_changes_active_meta_data_and_security() {
    let app = TestApp::spawn().await;
    let station = app
        .create_station(json!({"endpoint": "CP001", "meta_data": {"a": 1}}))
        .await;
    let path = format!("/v1.1/chargestations/{}", station["_id"].as_str().unwrap());
    let (s, b) = app
        .patch(&path, &json!({"active": false, "meta_data": {"b": 2}}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["result"]["active"], false);
    assert_eq!(b["result"]["meta_data"], json!({"b": 2}));
    let (s, b) = app
        .patch(
            &path,
            &json!({"security": {"type": "basic_auth", "password": "a-good-password"}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        b["result"]["security"],
        json!({"type": "basic_auth"}),
        "a given password is not echoed"
    );
    let (s, b) = app.patch(&path, &json!({"active": "no"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = app
        .patch("/v1.1/chargestations/NOPE", &json!({"active": true}))
        .await;
    assert_eq!(s, 404);
    let (s, _, _) = app.request(Method::PATCH, &path, Some("nope")).await;
    assert_eq!(s, 400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_shows_a_new_password_once() {
    let app = TestApp::spawn().await;
    app.create_station(
        json!({"endpoint": "CP-A", "security": {"type": "basic_auth", "password": "initial-pass"}}),
    )
    .await;
    let (s, b, _) = app
        .request(
            Method::PATCH,
            "/v1.1/chargestations/CP-A/reset_password",
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let password = b["result"]["security"]["password"].as_str().unwrap();
    assert_eq!(password.len(), 20);
    let mut config = app.charger_config("CP-A");
    config.password = Some("initial-pass".into());
    assert!(
        simulator::Charger::connect(config.clone()).await.is_err(),
        "old password no longer works"
    );
    config.password = Some(password.to_owned());
    assert!(simulator::Charger::connect(config).await.is_ok());
    app.create_station(json!({"endpoint": "CP-N"})).await;
    let (s, _, _) = app
        .request(
            Method::PATCH,
            "/v1.1/chargestations/CP-N/reset_password",
            None,
        )
        .await;
    assert_eq!(s, 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_station_and_closes_its_connection() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP-D"})).await;
    let charger = simulator::Charger::connect(app.charger_config("CP-D"))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    let (s, b) = app.delete("/v1.1/chargestations/CP-D").await;
    assert_eq!(s, 200, "{b}");
    assert!(charger.wait_closed(std::time::Duration::from_secs(5)).await);
    let (s, _) = app.get("/v1.1/chargestations/CP-D").await;
    assert_eq!(s, 404);
    let (s, _) = app.delete("/v1.1/chargestations/CP-D").await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v11_route_needs_a_valid_api_key() {
    let app = TestApp::spawn().await;
    let url = format!("{}/v1.1/chargestations", app.api);
    let none = app.client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "message": "missing or invalid API key", "result": null})
    );
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(&url)
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_404_in_the_envelope_and_health_and_ready_answer() {
    let app = TestApp::spawn().await;
    let (s, b) = app.get("/v1.1/nothing-here").await;
    assert_eq!((s, b["ok"].clone()), (404, json!(false)));
    let (s, b) = app.get("/nothing").await;
    assert_eq!((s, b["ok"].clone()), (404, json!(false)));
    let health = app
        .client
        .get(format!("{}/health", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/ready", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_is_generated_once_when_none_is_configured() {
    let app = TestApp::spawn_with(|s| s.api_key = None).await;
    let keys = model::api_keys::list(&app.db).await.unwrap();
    assert_eq!(keys.len(), 1, "one key generated at first start");
    let again = model::api_keys::ensure_initial(&app.db, None)
        .await
        .unwrap();
    assert!(again.is_none(), "no second key on the next start");
    app.stop().await;
}
