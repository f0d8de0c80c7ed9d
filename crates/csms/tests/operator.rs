//! Operator-facing behaviour of the real `csms` binary: the `api-key` sub-commands
//! against the database a server uses, and the logs of an end-to-end run at debug level
//! (every secret the run handled is absent from them). Runs on a temporary SQLite file,
//! or on a fresh PostgreSQL schema when `CSMS_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_tests::process::{call, start_server, start_server_with_stderr, Database, Server};
use e2e_tests::receiver::{poll_until, Receiver};
use serde_json::{json, Value};
use simulator::{Charger, ChargerConfig, SimError};

const CSMS: &str = env!("CARGO_BIN_EXE_csms");

/// Runs `csms api-key <args>` on `db`; returns (success, stdout, stderr).
fn api_key(db: &Database, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(CSMS)
        .env_remove("CSMS_CONFIG")
        .env_remove("CSMS_API_KEY")
        .env("CSMS_DATABASE_URL", &db.url)
        .env("CSMS_DATABASE_SCHEMA", &db.schema)
        .env("CSMS_LOG", "error")
        .arg("api-key")
        .args(args)
        .output()
        .expect("the csms binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn get_with_key(client: &reqwest::Client, server: &Server, key: &str) -> u16 {
    client
        .get(format!("{}/v1.1/chargestations", server.api))
        .bearer_auth(key)
        .send()
        .await
        .expect("API reachable")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_created_on_the_command_line_works_shows_in_the_list_without_its_value_and_stops_working_once_revoked(
) {
    let db = Database::fresh();
    let (ok, out, err) = api_key(&db, &["create", "ci-pipeline"]);
    assert!(ok, "create failed: {out}{err}");
    let key = out.lines().last().unwrap().trim().to_owned();
    assert!(key.len() >= 20, "no key printed: {out}");

    let client = reqwest::Client::new();
    let server = start_server(CSMS, &db, &client, &[]).await;
    assert_eq!(get_with_key(&client, &server, &key).await, 200);

    let (ok, list, err) = api_key(&db, &["list"]);
    assert!(ok, "list failed: {list}{err}");
    let row = list
        .lines()
        .find(|l| l.contains("ci-pipeline"))
        .unwrap_or_else(|| panic!("the key is not listed: {list}"));
    assert!(row.ends_with("active"), "{row}");
    assert!(!list.contains(&key), "the list shows a key: {list}");

    let (ok, out, err) = api_key(&db, &["revoke", "ci-pipeline"]);
    assert!(ok, "revoke failed: {out}{err}");
    assert_eq!(get_with_key(&client, &server, &key).await, 401);
    let (_, list, _) = api_key(&db, &["list"]);
    let row = list.lines().find(|l| l.contains("ci-pipeline")).unwrap();
    assert!(row.ends_with("revoked"), "{row}");

    let (ok, _, _) = api_key(&db, &["revoke", "no-such-key"]);
    assert!(!ok, "revoking an unknown key succeeds");
    drop(server);
    db.remove().await;
}

/// Polls an action until it is no longer `requested`.
async fn finished(client: &reqwest::Client, server: &Server, action_id: &str) -> Value {
    let path = format!("/v1.1/actions/{action_id}");
    let done = poll_until(Duration::from_secs(10), || {
        let request = call(client, server, reqwest::Method::GET, &path, None);
        async move {
            let (_, body) = request.await;
            let status = body["result"]["status"].as_str().unwrap_or("").to_owned();
            (!status.is_empty() && status != "requested", body)
        }
    })
    .await;
    done.unwrap_or_else(|last| panic!("the action did not finish: {last}"))["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_the_debug_logs_of_an_end_to_end_run() {
    let receiver = Receiver::start().await;
    let db = Database::fresh();
    let client = reqwest::Client::new();
    let log_path =
        std::env::temp_dir().join(format!("csms-log-{}.log", uuid::Uuid::new_v4().simple()));
    let log_file = std::fs::File::create(&log_path).unwrap();
    let declared_url = receiver.url("/declared");
    let declared_secret = "declared-webhook-secret-41";
    let server = start_server_with_stderr(
        CSMS,
        &db,
        &client,
        &[
            ("CSMS_LOG", "debug"),
            ("CSMS_WEBHOOK_URL", &declared_url),
            ("CSMS_WEBHOOK_SECRET", declared_secret),
        ],
        Stdio::from(log_file),
    )
    .await;
    let mut secrets = vec![
        e2e_tests::process::PROCESS_API_KEY.to_owned(),
        declared_secret.to_owned(),
    ];

    // A wrong API key.
    let wrong_key = "wrong-api-key-secret-42";
    secrets.push(wrong_key.into());
    assert_eq!(get_with_key(&client, &server, wrong_key).await, 401);

    // A webhook endpoint with its own secret.
    let webhook_secret = "api-webhook-secret-43";
    secrets.push(webhook_secret.into());
    let (status, json) = call(
        &client,
        &server,
        reqwest::Method::POST,
        "/v1.1/webhooks",
        Some(json!({"url": receiver.url("/api"), "secret": webhook_secret})),
    )
    .await;
    assert_eq!(status, 201, "{json}");

    // A Basic-auth station: a wrong password, then the right one.
    let password = "station-password-44";
    let wrong_password = "wrong-password-45";
    secrets.extend([password.to_owned(), wrong_password.to_owned()]);
    let (status, json) = call(
        &client,
        &server,
        reqwest::Method::POST,
        "/v1.1/chargestations",
        Some(
            json!({"endpoint": "CP-LOG", "security": {"type": "basic_auth", "password": password}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let mut config = ChargerConfig::new(server.ocpp.clone(), "CP-LOG");
    config.password = Some(wrong_password.into());
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 401 })
    );
    config.password = Some(password.into());
    let charger = Charger::connect(config).await.unwrap();
    charger.boot().await.unwrap();
    charger.heartbeat().await.unwrap();

    // A new AuthorizationKey, sent to the charger.
    let authorization_key = "authorization-key-46";
    secrets.push(authorization_key.into());
    let (status, json) = call(
        &client,
        &server,
        reqwest::Method::POST,
        "/v1.1/chargestations/CP-LOG/configurations",
        Some(json!({"key": "AuthorizationKey", "value": authorization_key})),
    )
    .await;
    assert!(status < 300, "{status} {json}");
    let action = finished(&client, &server, json["result"]["_id"].as_str().unwrap()).await;
    assert_eq!(action["status"], "completed", "{action}");

    // A generated password, shown once.
    let (status, json) = call(
        &client,
        &server,
        reqwest::Method::PATCH,
        "/v1.1/chargestations/CP-LOG/reset_password",
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let generated = json["result"]["security"]["password"]
        .as_str()
        .unwrap_or_else(|| panic!("no generated password: {json}"))
        .to_owned();
    secrets.push(generated);

    // Both endpoints receive signed events.
    receiver
        .wait_for("events at both endpoints", |got| {
            got.iter().any(|r| r.path == "/declared") && got.iter().any(|r| r.path == "/api")
        })
        .await;
    drop(charger);
    drop(server);
    receiver.stop().await;
    db.remove().await;

    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    // The run was logged at debug level, with identities, actions and message ids.
    for expected in [
        "served charger call",
        "BootNotification",
        "CP-LOG",
        "message_id",
        "ocpp call answered",
        "ChangeConfiguration",
        "api request",
        "handshake refused",
        "DEBUG",
        "direction",
        // The ChangeConfiguration frame itself is logged, with the key masked.
        "********",
    ] {
        assert!(logs.contains(expected), "the logs lack {expected:?}");
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret appears in the logs: {secret}"
        );
    }
}
