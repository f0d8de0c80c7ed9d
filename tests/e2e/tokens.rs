//! Tokens end to end (CONTRACT §9): `/v1.1/tokens` CRUD with pagination and filters,
//! case-insensitive idTags, 409 on duplicates, and Authorize / StartTransaction /
//! StopTransaction answering from the list with `CSMS_ACCEPT_UNKNOWN_TOKENS`.

use e2e_tests::TestApp;
use serde_json::{json, Value};
use simulator::Charger;

async fn booted(app: &TestApp, identity: &str) -> Charger {
    app.create_station(json!({"endpoint": identity})).await;
    let charger = Charger::connect(app.charger_config(identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    charger
}

async fn create_token(app: &TestApp, body: Value) -> Value {
    let (status, json) = app.post("/v1.1/tokens", &body).await;
    assert_eq!(status, 201, "create token: {json}");
    json["result"].clone()
}

async fn authorize(charger: &Charger, id_tag: &str) -> Value {
    charger
        .call("Authorize", json!({"idTag": id_tag}))
        .await
        .unwrap()["idTagInfo"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_created_listed_filtered_read_patched_and_deleted() {
    let app = TestApp::spawn().await;
    let created = create_token(
        &app,
        json!({"idTag": "AbC123", "expiryDate": "2030-01-01T00:00:00Z", "parentIdTag": "FLEET", "meta_data": {"owner": "ops"}}),
    )
    .await;
    let keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "_id",
            "idTag",
            "status",
            "expiryDate",
            "parentIdTag",
            "meta_data",
            "createdAt",
            "updatedAt"
        ]
    );
    assert_eq!(created["status"], "Accepted", "Accepted by default");
    assert_eq!(created["expiryDate"], "2030-01-01T00:00:00.000Z");
    let id = created["_id"].as_str().unwrap().to_owned();
    create_token(&app, json!({"idTag": "BLOCKED-1", "status": "Blocked"})).await;
    create_token(&app, json!({"idTag": "TAG-3"})).await;

    // An existing idTag, in any case, is a conflict.
    let (status, body) = app.post("/v1.1/tokens", &json!({"idTag": "abc123"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["ok"], false);

    // Field errors name the field.
    for (body, field) in [
        (json!({}), "'idTag'"),
        (json!({"idTag": ""}), "'idTag'"),
        (json!({"idTag": "X".repeat(21)}), "'idTag'"),
        (json!({"idTag": 42}), "'idTag'"),
        (json!({"idTag": "N1", "status": "ConcurrentTx"}), "'status'"),
        (json!({"idTag": "N1", "expiryDate": "soon"}), "'expiryDate'"),
        (
            json!({"idTag": "N1", "parentIdTag": "P".repeat(21)}),
            "'parentIdTag'",
        ),
        (json!({"idTag": "N1", "meta_data": 1}), "'meta_data'"),
    ] {
        let (status, answer) = app.post("/v1.1/tokens", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{answer}"
        );
    }
    let (status, _, _) = app
        .request(reqwest::Method::POST, "/v1.1/tokens", Some("nope"))
        .await;
    assert_eq!(status, 400);

    // Read by _id, or by idTag in any case.
    for key in [id.as_str(), "AbC123", "abc123", "ABC123"] {
        let (status, body) = app.get(&format!("/v1.1/tokens/{key}")).await;
        assert_eq!(status, 200, "{key}");
        assert_eq!(body["result"]["_id"], id.as_str());
    }
    let (status, _) = app.get("/v1.1/tokens/NOPE").await;
    assert_eq!(status, 404);

    // Lists: pagination with the total, filters by idTag and status.
    let (status, page, headers) = app
        .request(
            reqwest::Method::GET,
            "/v1.1/tokens?paginate_limit=2&paginate_page=2&sort_order=asc",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-total-count"], "3");
    assert_eq!(page["result"].as_array().unwrap().len(), 1);
    assert_eq!(page["result"][0]["idTag"], "TAG-3");
    let (_, by_tag) = app.get("/v1.1/tokens?idTag=abc123").await;
    assert_eq!(by_tag["result"].as_array().unwrap().len(), 1);
    let (_, blocked) = app.get("/v1.1/tokens?status=Blocked").await;
    assert_eq!(blocked["result"][0]["idTag"], "BLOCKED-1");
    let (status, _) = app.get("/v1.1/tokens?status=Maybe").await;
    assert_eq!(status, 422);

    // Patch: status, removing optional fields with null; the idTag is fixed.
    let (status, patched) = app
        .patch(
            "/v1.1/tokens/abc123",
            &json!({"status": "Invalid", "expiryDate": null, "parentIdTag": null}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["result"]["status"], "Invalid");
    assert!(patched["result"].get("expiryDate").is_none());
    assert!(patched["result"].get("parentIdTag").is_none());
    assert_eq!(patched["result"]["meta_data"], json!({"owner": "ops"}));
    let (status, _) = app
        .patch("/v1.1/tokens/abc123", &json!({"idTag": "OTHER"}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .patch("/v1.1/tokens/abc123", &json!({"status": "Nope"}))
        .await;
    assert_eq!(status, 422);

    // Delete.
    let (status, deleted) = app.delete("/v1.1/tokens/ABC123").await;
    assert_eq!(status, 200);
    assert_eq!(deleted["result"]["_id"], id.as_str());
    let (status, _) = app.get(&format!("/v1.1/tokens/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.delete(&format!("/v1.1/tokens/{id}")).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_start_and_stop_transaction_answer_from_the_token_list() {
    let app = TestApp::spawn().await;
    let charger = booted(&app, "CP1").await;
    create_token(
        &app,
        json!({"idTag": "Good-Tag", "expiryDate": "2030-01-01T00:00:00Z", "parentIdTag": "FLEET"}),
    )
    .await;
    create_token(&app, json!({"idTag": "BLOCKED", "status": "Blocked"})).await;
    create_token(
        &app,
        json!({"idTag": "OLD", "expiryDate": "2020-01-01T00:00:00Z"}),
    )
    .await;

    assert_eq!(
        authorize(&charger, "GOOD-TAG").await,
        json!({"expiryDate": "2030-01-01T00:00:00.000Z", "parentIdTag": "FLEET", "status": "Accepted"}),
        "idTags compare case-insensitively"
    );
    assert_eq!(authorize(&charger, "blocked").await["status"], "Blocked");
    assert_eq!(
        authorize(&charger, "OLD").await["status"],
        "Expired",
        "past its expiryDate"
    );
    let (_, expired) = app.get("/v1.1/tokens?status=Expired").await;
    assert_eq!(expired["result"][0]["idTag"], "OLD");
    assert_eq!(
        authorize(&charger, "STRANGER").await,
        json!({"status": "Accepted"}),
        "unknown idTags are accepted by default"
    );

    let start = charger
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "blocked", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(start["idTagInfo"]["status"], "Blocked");
    let transaction_id = start["transactionId"].as_i64().unwrap();
    let stop = charger
        .call(
            "StopTransaction",
            json!({"transactionId": transaction_id, "idTag": "Good-Tag", "meterStop": 10, "timestamp": "2026-01-01T00:10:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(stop["idTagInfo"]["status"], "Accepted");
    assert_eq!(stop["idTagInfo"]["parentIdTag"], "FLEET");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_id_tags_are_invalid_when_unknown_tokens_are_not_accepted() {
    let app = TestApp::spawn_with(|s| s.accept_unknown_tokens = false).await;
    let charger = booted(&app, "CP1").await;
    create_token(&app, json!({"idTag": "KNOWN"})).await;
    assert_eq!(
        authorize(&charger, "KNOWN").await,
        json!({"status": "Accepted"})
    );
    assert_eq!(
        authorize(&charger, "STRANGER").await,
        json!({"status": "Invalid"})
    );
    let start = charger
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "STRANGER", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(start["idTagInfo"], json!({"status": "Invalid"}));
    app.stop().await;
}
