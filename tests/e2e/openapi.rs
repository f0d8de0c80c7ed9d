//! `GET /openapi.json` and `GET /docs`: the document is OpenAPI 3.1, lists every route
//! the router registers (from `api::registered_routes()`, the same tables that register
//! them) and only routes that answer, real answers match its schemas, it carries the
//! guide's JSON examples and an accepted example per command, and the docs page works
//! offline.

use e2e_tests::TestApp;
use serde_json::Value;

/// The routes that are HTML pages for people, not API operations.
fn is_page(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// `GET path` without an Authorization header (it is public): 200 with `content_type`.
async fn get_public(app: &TestApp, path: &str, content_type: &str) -> reqwest::Response {
    let response = app
        .client
        .get(format!("{}{path}", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type),
        "{path}"
    );
    response
}

async fn document(app: &TestApp) -> Value {
    get_public(app, "/openapi.json", "application/json")
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_bearer_scheme() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let station = &document["paths"]["/v1.1/chargestations/{id}"]["get"];
    assert_eq!(station["security"][0]["bearer"], serde_json::json!([]));
    for status in ["200", "401", "404", "429"] {
        assert!(station["responses"][status].is_object(), "{status}");
    }
    assert!(document["paths"]["/health"]["get"]["security"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn every_registered_route_is_documented_and_every_documented_one_answers() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let paths = document["paths"].as_object().unwrap();

    let registered: Vec<_> = api::registered_routes()
        .into_iter()
        .filter(|r| !is_page(&r.path))
        .collect();
    let missing: Vec<_> = registered
        .iter()
        .filter(|r| !paths[&r.path][r.method.to_lowercase()].is_object())
        .collect();
    assert!(
        missing.is_empty(),
        "registered but not documented: {missing:?}"
    );

    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                registered
                    .iter()
                    .any(|r| &r.path == path && r.method.eq_ignore_ascii_case(method)),
                "documented but not registered: {method} {path}"
            );
            // Path parameters filled with a value no resource has: a real route answers
            // (404 "… not found", 422, ...), never the fallback "no such route".
            let concrete = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "no-such-thing"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body =
                matches!(method, reqwest::Method::POST | reqwest::Method::PATCH).then_some("{}");
            let response = if path.ends_with("/stream") {
                // An event stream never ends: only its status matters.
                let response = app
                    .client
                    .get(format!("{}{concrete}", app.api))
                    .bearer_auth(e2e_tests::API_KEY)
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), Value::Null)
            } else {
                let (status, json, _) = app.request(method.clone(), &concrete, body).await;
                (status, json)
            };
            assert_ne!(
                response,
                (
                    404,
                    serde_json::json!({"ok": false, "message": "no such route", "result": null})
                ),
                "{method} {path} is documented but not served"
            );
            assert_ne!(response.0, 405, "{method} {path}");
        }
    }
    assert_eq!(documented, registered.len());
    // The console's HTML pages are for people: served, but not API operations.
    assert!(paths.keys().all(|p| !is_page(p)));
    app.stop().await;
}

/// The JSON blocks of the eDRV guide, in order: each line starting with `{` begins one.
fn guide_examples() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/reference/edrv-chargestation-configuration.txt"
    );
    let text = std::fs::read_to_string(path).expect("the eDRV guide beside the repository");
    let mut blocks = Vec::new();
    let mut offset = 0;
    while let Some(start) = text[offset..]
        .match_indices("\n{")
        .next()
        .map(|(i, _)| offset + i + 1)
    {
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        blocks.push(stream.next().unwrap().expect("a guide example is JSON"));
        offset = start + stream.byte_offset();
    }
    blocks
}

/// Every value under an `example` or `examples` key of the document.
fn examples_in(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("example", _) => found.push(child.clone()),
                    ("examples", Value::Array(items)) => found.extend(items.iter().cloned()),
                    ("examples", Value::Object(named)) => {
                        found.extend(named.values().map(|e| e["value"].clone()))
                    }
                    _ => examples_in(child, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| examples_in(i, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_guide_examples_are_in_the_document() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let guide = guide_examples();
    assert_eq!(guide.len(), 6, "the guide has six JSON examples");
    assert_eq!(
        guide,
        api::openapi::examples::all(),
        "the examples are the guide's"
    );
    let mut found = Vec::new();
    examples_in(&document, &mut found);
    for example in &guide {
        assert!(found.contains(example), "not in the document: {example:#}");
    }
    let change = &document["paths"]["/v1.1/chargestations/{id}/configurations"]["post"];
    assert_eq!(
        change["requestBody"]["content"]["application/json"]["example"],
        guide[0]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_docs_page_is_served_and_needs_nothing_from_outside() {
    let app = TestApp::spawn().await;
    let page = get_public(&app, "/docs", "text/html")
        .await
        .text()
        .await
        .unwrap();
    for attribute in ["src=", "href="] {
        for quote in ["\"", "'", ""] {
            for scheme in ["http://", "https://", "//"] {
                let external = format!("{attribute}{quote}{scheme}");
                assert!(!page.contains(&external), "the page loads {external}…");
            }
        }
    }
    assert!(!page.contains("@import"), "no imported stylesheet");
    assert!(page.contains("fetch(DOCUMENT_URL)"));
    assert!(page.contains("const DOCUMENT_URL = \"/openapi.json\""));
    app.stop().await;
}

/// A validator for one schema of the document, its `$ref`s resolved against the
/// whole document (OpenAPI 3.1 schemas are JSON Schema 2020-12).
fn validator(document: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = document.clone();
    root["allOf"] = serde_json::json!([schema]);
    jsonschema::validator_for(&root).unwrap()
}

/// Calls the API and checks the answer against the document: its status is documented
/// for the operation, and its body matches the documented schema (resolved against the
/// whole document). Returns the body.
async fn checked<P: AsRef<str>>(
    app: &TestApp,
    document: &Value,
    method: reqwest::Method,
    (template, path): (&str, P),
    body: Option<Value>,
) -> (u16, Value) {
    let text = body.map(|b| b.to_string());
    let (status, json, headers) = app
        .request(method.clone(), path.as_ref(), text.as_deref())
        .await;
    let key = method.as_str().to_lowercase();
    let response = &document["paths"][template][&key]["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: {status} is not documented; body {json}"
    );
    let content_type = headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let validator = validator(document, &response["content"]["application/json"]["schema"]);
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: {errors:?}\nbody: {json:#}"
    );
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_match_the_documented_schemas() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let doc = &document;
    let station_schema = serde_json::json!({"$ref": "#/components/schemas/Envelope_Chargestation"});
    let strict = validator(doc, &station_schema);
    assert!(
        !strict.is_valid(&serde_json::json!({"ok": true, "message": ""})),
        "the check can fail"
    );
    let (station, charger) = app.online_charger("CP-DOC", |_| {}).await;
    let station_path = format!("/v1.1/chargestations/{station}");
    let sub = |rest: &str| format!("{station_path}{rest}");

    checked(&app, doc, M::GET, ("/health", "/health"), None).await;
    checked(&app, doc, M::GET, ("/ready", "/ready"), None).await;
    let list = ("/v1.1/chargestations", "/v1.1/chargestations?online=true");
    let (_, stations) = checked(&app, doc, M::GET, list, None).await;
    assert_eq!(stations["result"][0]["online"], true);

    // A webhook endpoint first, so that the events below make deliveries.
    let webhooks = "/v1.1/webhooks";
    let body = serde_json::json!({"url": "http://127.0.0.1:9/events", "description": "doc"});
    let (status, hook) = checked(&app, doc, M::POST, (webhooks, webhooks), Some(body)).await;
    assert_eq!(status, 201);
    let hook_path = format!("/v1.1/webhooks/{}", hook["result"]["_id"].as_str().unwrap());

    // Commands with their outcomes: configuration change, upload, a generated command.
    let change = "/v1.1/chargestations/{id}/configurations";
    let body = api::openapi::examples::change_configuration_request();
    let (status, action) = checked(
        &app,
        doc,
        M::POST,
        (change, &sub("/configurations")),
        Some(body),
    )
    .await;
    assert_eq!(status, 200);
    app.finished(action["result"]["_id"].as_str().unwrap())
        .await;
    let (_, upload) = checked(&app, doc, M::GET, (change, &sub("/configurations")), None).await;
    let upload_id = upload["result"]["_id"].as_str().unwrap().to_owned();
    app.finished(&upload_id).await;
    let (_, done) = checked(
        &app,
        doc,
        M::GET,
        ("/v1.1/actions/{id}", &format!("/v1.1/actions/{upload_id}")),
        None,
    )
    .await;
    assert!(done["result"]["response_data"].is_object(), "{done}");
    let details = "/v1.1/chargestations/{id}/configurations/details";
    let (_, rows) = checked(
        &app,
        doc,
        M::GET,
        (details, &sub("/configurations/details")),
        None,
    )
    .await;
    assert!(!rows["result"].as_array().unwrap().is_empty());
    let drift = "/v1.1/chargestations/{id}/configurations/drift";
    checked(
        &app,
        doc,
        M::GET,
        (drift, &sub("/configurations/drift")),
        None,
    )
    .await;
    let unlock = "/v1.1/chargestations/{id}/unlock_connector";
    let body = serde_json::json!({"connectorId": 1, "meta_data": {"by": "doc"}});
    let (_, unlocked) = checked(
        &app,
        doc,
        M::POST,
        (unlock, &sub("/unlock_connector")),
        Some(body),
    )
    .await;
    app.finished(unlocked["result"]["_id"].as_str().unwrap())
        .await;
    let actions = (
        "/v1.1/actions",
        &format!("/v1.1/actions?chargestation={station}&paginate_limit=5"),
    );
    checked(&app, doc, M::GET, actions, None).await;

    // A transaction from the charger.
    let started = charger
        .call(
            "StartTransaction",
            serde_json::json!({"connectorId": 1, "idTag": "DOC", "meterStart": 10, "timestamp": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap();
    let transaction_id = started["transactionId"].as_i64().unwrap();
    charger
        .call(
            "StopTransaction",
            serde_json::json!({"transactionId": transaction_id, "meterStop": 110, "timestamp": "2026-01-01T01:00:00Z", "reason": "Local"}),
        )
        .await
        .unwrap();
    let transactions = "/v1.1/transactions";
    checked(&app, doc, M::GET, (transactions, transactions), None).await;
    let one = (
        "/v1.1/transactions/{id}",
        &format!("/v1.1/transactions/{transaction_id}"),
    );
    let (_, transaction) = checked(&app, doc, M::GET, one, None).await;
    assert_eq!(transaction["result"]["energy"], 100);

    // The message log of all that (stored in batches, a little after the frames went).
    app.wait_for_get(&sub("/messages"), "the frames of all that", |frames| {
        frames["result"]
            .as_array()
            .is_some_and(|items| items.len() >= 4)
    })
    .await;
    let messages = "/v1.1/chargestations/{id}/messages";
    let (_, frames) = checked(&app, doc, M::GET, (messages, &sub("/messages")), None).await;
    assert!(frames["result"].as_array().unwrap().len() >= 4, "{frames}");

    // Tokens.
    let tokens = "/v1.1/tokens";
    let body = serde_json::json!({"idTag": "DOC-TAG", "expiryDate": "2030-01-01T00:00:00Z"});
    let (status, _) = checked(&app, doc, M::POST, (tokens, tokens), Some(body)).await;
    assert_eq!(status, 201);
    checked(&app, doc, M::GET, (tokens, tokens), None).await;
    let token = ("/v1.1/tokens/{id}", "/v1.1/tokens/DOC-TAG");
    checked(
        &app,
        doc,
        M::PATCH,
        token,
        Some(serde_json::json!({"status": "Blocked", "parentIdTag": "P"})),
    )
    .await;
    checked(&app, doc, M::GET, token, None).await;
    checked(&app, doc, M::DELETE, token, None).await;

    // Webhooks and their deliveries.
    checked(&app, doc, M::GET, (webhooks, webhooks), None).await;
    let hook = ("/v1.1/webhooks/{id}", hook_path.as_str());
    checked(&app, doc, M::GET, hook, None).await;
    checked(
        &app,
        doc,
        M::PATCH,
        hook,
        Some(serde_json::json!({"events": ["*"], "active": true})),
    )
    .await;
    let deliveries_path = format!("{hook_path}/deliveries");
    let deliveries = ("/v1.1/webhooks/{id}/deliveries", deliveries_path.as_str());
    let (_, listed) = checked(&app, doc, M::GET, deliveries, None).await;
    let delivery = listed["result"][0]["_id"]
        .as_str()
        .expect("deliveries were made")
        .to_owned();
    let redeliver = (
        "/v1.1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        &format!("{hook_path}/deliveries/{delivery}/redeliver"),
    );
    checked(&app, doc, M::POST, redeliver, None).await;

    // Errors carry the error envelope with a documented status.
    let (status, _) = checked(
        &app,
        doc,
        M::GET,
        ("/v1.1/chargestations/{id}", "/v1.1/chargestations/nope"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let creates = ("/v1.1/chargestations", "/v1.1/chargestations");
    let (status, _) = checked(&app, doc, M::POST, creates, Some(serde_json::json!([1]))).await;
    assert_eq!(status, 400);
    let (status, _) = checked(
        &app,
        doc,
        M::POST,
        creates,
        Some(serde_json::json!({"endpoint": 5})),
    )
    .await;
    assert_eq!(status, 422);
    let reset_password = (
        "/v1.1/chargestations/{id}/reset_password",
        &sub("/reset_password"),
    );
    let (status, _) = checked(&app, doc, M::PATCH, reset_password, None).await;
    assert_eq!(status, 422, "the station does not use basic_auth");

    // Changes and deletes last.
    let one_station = ("/v1.1/chargestations/{id}", station_path.as_str());
    let body =
        serde_json::json!({"security": {"type": "basic_auth"}, "meta_data": {"site": "doc"}});
    let (_, patched) = checked(&app, doc, M::PATCH, one_station, Some(body)).await;
    assert!(patched["result"]["security"]["password"].is_string());
    checked(&app, doc, M::PATCH, reset_password, None).await;
    checked(&app, doc, M::DELETE, hook, None).await;
    checked(&app, doc, M::DELETE, one_station, None).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_example_is_accepted_and_sends_the_documented_ocpp_action() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let (station, _charger) = app.online_charger("CP-EXAMPLES", |_| {}).await;
    for name in api::routes::commands::COMMANDS {
        let template = format!("/v1.1/chargestations/{{id}}/{name}");
        let operation = &document["paths"][&template]["post"];
        let example = &operation["requestBody"]["content"]["application/json"]["example"];
        let summary = operation["summary"].as_str().unwrap();
        let action = summary
            .strip_prefix("Sends ")
            .and_then(|s| s.strip_suffix(" to the charger"))
            .unwrap();
        let path = format!("/v1.1/chargestations/{station}/{name}");
        let (status, queued) = app.post(&path, example).await;
        assert_eq!(status, 200, "{name} {example}: {queued}");
        app.finished(queued["result"]["_id"].as_str().unwrap())
            .await;
        // The message log stores frames in batches, a little after they went out.
        app.wait_for_get(
            &format!("/v1.1/chargestations/{station}/messages?action={action}&direction=out"),
            &format!("{name} to send {action}"),
            |sent| {
                sent["result"]
                    .as_array()
                    .is_some_and(|items| !items.is_empty())
            },
        )
        .await;
        // The escape hatch takes the same payload for the same action.
        let hatch = format!("/v1.1/chargestations/{station}/ocpp/{action}");
        let (status, queued) = app.post(&hatch, example).await;
        assert_eq!(status, 200, "ocpp/{action}: {queued}");
        app.finished(queued["result"]["_id"].as_str().unwrap())
            .await;
    }
    app.stop().await;
}
