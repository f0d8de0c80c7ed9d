//! The end-to-end test harness: the real application on port 0 over a fresh database
//! (a temporary SQLite file, or a fresh PostgreSQL schema when
//! `CSMS_TEST_DATABASE_URL` is set), an HTTP client for the API, and polling helpers.
//! Nothing here sleeps to wait for things: helpers poll with a deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod process;
pub mod receiver;
pub mod schemas;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use csms::Settings;
use model::time::{Clock, SystemClock};
use model::{Db, DbOptions};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The API key every test app accepts.
pub const API_KEY: &str = "test-api-key-0123456789";

/// Where a test's database lives.
enum Storage {
    Sqlite { dir: PathBuf },
    Postgres { url: String, schema: String },
}

/// A running application.
pub struct TestApp {
    /// `http://127.0.0.1:port` (`https` with API TLS settings)
    pub api: String,
    /// `ws://127.0.0.1:port/ocpp` (`wss` with OCPP TLS settings)
    pub ocpp_url: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub gateway: ocpp_gateway::Gateway,
    pub settings: Settings,
    shutdown: CancellationToken,
    join: Option<JoinHandle<()>>,
    storage: Option<Storage>,
}

/// A fresh database URL + schema for one test.
fn fresh_storage() -> (Storage, String, String) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("CSMS_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{}", &tag[..16]);
            (
                Storage::Postgres {
                    url: url.clone(),
                    schema: schema.clone(),
                },
                url,
                schema,
            )
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("csms-test-{tag}"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.join("csms.db").display());
            (Storage::Sqlite { dir }, url, String::new())
        }
    }
}

/// Settings for tests: port 0 everywhere, one worker, fast pings off by default.
pub fn test_settings() -> Settings {
    Settings {
        api_listen: "127.0.0.1:0".into(),
        ocpp_listen: "127.0.0.1:0".into(),
        api_key: Some(API_KEY.into()),
        workers: 1,
        config_change_gap_ms: 0,
        fetch_configuration_on_boot: false,
        call_timeout_secs: 5,
        log: std::env::var("CSMS_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        ..Settings::default()
    }
}

impl TestApp {
    /// Starts the app with test settings.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts the app with test settings changed by `change`.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> TestApp {
        let (storage, url, schema) = fresh_storage();
        let mut settings = test_settings();
        settings.database_url = url;
        settings.database_schema = schema;
        change(&mut settings);
        TestApp::start(settings, Some(storage)).await
    }

    /// As [`TestApp::spawn_with`], with every timestamp of the app taken from `clock`
    /// (a `model::time::ManualClock` lets the test move time).
    pub async fn spawn_with_clock(
        clock: Arc<dyn Clock>,
        change: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let (storage, url, schema) = fresh_storage();
        let mut settings = test_settings();
        settings.database_url = url;
        settings.database_schema = schema;
        change(&mut settings);
        TestApp::start_with_clock(settings, Some(storage), clock).await
    }

    /// Starts another app on the same database as `self` (restarts, several instances).
    pub async fn spawn_on_same_database(&self, change: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        settings.api_listen = "127.0.0.1:0".into();
        settings.ocpp_listen = "127.0.0.1:0".into();
        change(&mut settings);
        TestApp::start(settings, None).await
    }

    async fn start(settings: Settings, storage: Option<Storage>) -> TestApp {
        TestApp::start_with_clock(settings, storage, Arc::new(SystemClock)).await
    }

    async fn start_with_clock(
        settings: Settings,
        storage: Option<Storage>,
        clock: Arc<dyn Clock>,
    ) -> TestApp {
        csms::telemetry::init(&settings.log, &settings.log_format);
        let mut options = DbOptions::new(settings.database_url.clone());
        if !settings.database_schema.is_empty() {
            options.schema = Some(settings.database_schema.clone());
        }
        let db = Db::connect_with_clock(&options, clock)
            .await
            .expect("test database");
        let app = csms::build_with_db(settings.clone(), db.clone())
            .await
            .expect("app builds");
        // https / wss when the test configured certificates (tests/e2e/tls.rs).
        let (http, ws) = (
            if settings.api_tls_cert.is_some() {
                "https"
            } else {
                "http"
            },
            if settings.ocpp_tls_cert.is_some() {
                "wss"
            } else {
                "ws"
            },
        );
        let api = format!("{http}://{}", app.api_addr());
        let ocpp_url = format!("{ws}://{}/ocpp", app.ocpp_addr());
        let shutdown = app.shutdown_token();
        let gateway = app.gateway().clone();
        let join = tokio::spawn(async move {
            app.run_until_stopped().await.expect("app runs");
        });
        TestApp {
            api,
            ocpp_url,
            client: reqwest::Client::new(),
            db,
            gateway,
            settings,
            shutdown,
            join: Some(join),
            storage,
        }
    }

    /// Stops the app gracefully (keeps the database for a restart on it). `db` stays
    /// usable: its pooled connections belong to the test's runtime, not to the app's
    /// HTTP workers' runtimes that stop with it (`model::conn::PoolConn`).
    pub async fn stop_keep_database(&mut self) {
        self.halt().await;
    }

    /// A connection of its own to the app's database (and schema), for a test that runs
    /// the migrations by hand: the app's `Db` keeps SQLite's one connection to itself.
    pub async fn migration_connection(&self) -> sea_orm::DatabaseConnection {
        let mut options = sea_orm::ConnectOptions::new(self.settings.database_url.clone());
        options.sqlx_logging(false);
        if !self.settings.database_schema.is_empty() {
            options.set_schema_search_path(self.settings.database_schema.clone());
        }
        sea_orm::Database::connect(options)
            .await
            .expect("a migration connection")
    }

    /// Stops the app; `false` when it was stopped already.
    async fn halt(&mut self) -> bool {
        self.shutdown.cancel();
        match self.join.take() {
            Some(join) => {
                let _ = join.await;
                true
            }
            None => false,
        }
    }

    /// Stops the app and removes its database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(storage) = self.storage.take() {
            remove_storage(storage).await;
        }
    }

    /// A request to the API with the test key.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(API_KEY);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("API reachable");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json, headers)
    }

    /// `GET` → (status, body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = self.request(reqwest::Method::GET, path, None).await;
        (status, body)
    }

    /// `POST` with a JSON body → (status, body).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, body, _) = self
            .request(reqwest::Method::POST, path, Some(&body.to_string()))
            .await;
        (status, body)
    }

    /// `PATCH` with a JSON body → (status, body).
    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, body, _) = self
            .request(reqwest::Method::PATCH, path, Some(&body.to_string()))
            .await;
        (status, body)
    }

    /// `DELETE` → (status, body).
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = self.request(reqwest::Method::DELETE, path, None).await;
        (status, body)
    }

    /// Creates a chargestation and returns its API object.
    pub async fn create_station(&self, body: Value) -> Value {
        let (status, json) = self.post("/v1.1/chargestations", &body).await;
        assert_eq!(status, 201, "create station: {json}");
        json["result"].clone()
    }

    /// Creates a station, connects and boots a simulated charger set up by `tune`;
    /// returns the station's `_id` and the charger.
    pub async fn online_charger(
        &self,
        identity: &str,
        tune: impl FnOnce(&mut simulator::ChargerConfig),
    ) -> (String, simulator::Charger) {
        let station = self
            .create_station(serde_json::json!({"endpoint": identity}))
            .await;
        let mut config = self.charger_config(identity);
        tune(&mut config);
        let charger = simulator::Charger::connect(config).await.unwrap();
        charger.boot().await.unwrap();
        (station["_id"].as_str().unwrap().to_owned(), charger)
    }

    /// Polls an action until it is no longer `requested`; returns it.
    pub async fn finished(&self, action_id: &str) -> Value {
        let body = self
            .wait_for_get(
                &format!("/v1.1/actions/{action_id}"),
                "the action to finish",
                |b| {
                    b["result"]["status"]
                        .as_str()
                        .is_some_and(|s| s != "requested")
                },
            )
            .await;
        body["result"].clone()
    }

    /// A simulator configuration pointing at this app.
    pub fn charger_config(&self, identity: &str) -> simulator::ChargerConfig {
        simulator::ChargerConfig::new(self.ocpp_url.clone(), identity)
    }

    /// Polls `GET path` until `check` accepts the result, or panics after 10 s.
    pub async fn wait_for_get(
        &self,
        path: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        let check = &check;
        let found = wait_until(
            what,
            || {
                let path = path.to_owned();
                async move {
                    let (_, body) = self.get(&path).await;
                    let ok = check(&body);
                    (ok, body)
                }
            },
            &mut last,
        )
        .await;
        assert!(found, "timed out waiting for {what}; last body: {last}");
        last
    }
}

/// Polls `probe` (which returns whether it is satisfied, and a value to keep) until it
/// is satisfied or 10 s have passed. Yields between probes; never sleeps a fixed time
/// to wait for an outcome.
pub async fn wait_until<F, Fut, T>(_what: &str, mut probe: F, last: &mut T) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (bool, T)>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (ok, value) = probe().await;
        *last = value;
        if ok {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn remove_storage(storage: Storage) {
    match storage {
        Storage::Sqlite { dir } => {
            let _ = std::fs::remove_dir_all(dir);
        }
        Storage::Postgres { url, schema } => {
            let _ = model::drop_schema(&url, &schema).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(storage) = self.storage.take() {
            // A test that panicked: clean up on a thread of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(remove_storage(storage));
                }
            })
            .join();
        }
    }
}

/// Whether this pass runs on PostgreSQL. Several instances on one database need it
/// (SQLite is one instance per file by design, docs/scaling.md): tests of several
/// instances return at once on SQLite, and the PostgreSQL pass runs them.
pub fn on_postgres() -> bool {
    let pg = std::env::var("CSMS_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"));
    if !pg {
        eprintln!("several instances need PostgreSQL: set CSMS_TEST_DATABASE_URL (the PostgreSQL pass of ./scripts/test does)");
    }
    pg
}
