//! Real `csms` processes for crash and failover tests: a fresh database (a temporary
//! SQLite file, or a fresh PostgreSQL schema when `CSMS_TEST_DATABASE_URL` is set), a
//! server started from the binary with its settings in the environment (killed with
//! SIGKILL when dropped), and small API helpers.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::receiver::poll_until;

/// The API key every test process accepts.
pub const PROCESS_API_KEY: &str = "crash-test-api-key-0123456789";

/// Where the database lives, and how to remove it afterwards.
pub struct Database {
    pub url: String,
    pub schema: String,
    dir: PathBuf,
}

impl Database {
    /// A fresh database for one test.
    pub fn fresh() -> Database {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("csms-crash-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        match std::env::var("CSMS_TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Database {
                url,
                schema: format!("crash_{}", &tag[..16]),
                dir,
            },
            _ => Database {
                url: format!("sqlite://{}?mode=rwc", dir.join("csms.db").display()),
                schema: String::new(),
                dir,
            },
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// Removes the database.
    pub async fn remove(self) {
        if !self.schema.is_empty() {
            let _ = model::drop_schema(&self.url, &self.schema).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `csms` process; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub api: String,
    pub ocpp: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Kills the process with SIGKILL: no graceful shutdown, leases left behind.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary `bin` on `db` with test settings plus `extra` variables, and waits
/// until it answers `/health`.
pub async fn start_server(
    bin: &str,
    db: &Database,
    client: &reqwest::Client,
    extra: &[(&str, &str)],
) -> Server {
    start_server_with_stderr(bin, db, client, extra, Stdio::inherit()).await
}

/// As [`start_server`], with the process's stderr (its logs) sent to `stderr`.
pub async fn start_server_with_stderr(
    bin: &str,
    db: &Database,
    client: &reqwest::Client,
    extra: &[(&str, &str)],
    stderr: Stdio,
) -> Server {
    let (api_port, ocpp_port) = (free_port(), free_port());
    let mut command = Command::new(bin);
    command
        .env_remove("CSMS_CONFIG")
        .env("CSMS_API_KEY", PROCESS_API_KEY)
        .env("CSMS_API_LISTEN", format!("127.0.0.1:{api_port}"))
        .env("CSMS_OCPP_LISTEN", format!("127.0.0.1:{ocpp_port}"))
        .env("CSMS_DATABASE_URL", &db.url)
        .env("CSMS_DATABASE_SCHEMA", &db.schema)
        .env("CSMS_WEBHOOK_TIMEOUT_MS", "1000")
        .env("CSMS_WEBHOOK_RETRY_BASE_MS", "200")
        .env("CSMS_FETCH_CONFIGURATION_ON_BOOT", "false")
        .env("CSMS_WORKERS", "1")
        .env(
            "CSMS_LOG",
            std::env::var("CSMS_TEST_LOG").unwrap_or_else(|_| "error".into()),
        );
    for (name, value) in extra {
        command.env(name, value);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the csms binary starts");
    let server = Server {
        child,
        api: format!("http://127.0.0.1:{api_port}"),
        ocpp: format!("ws://127.0.0.1:{ocpp_port}/ocpp"),
    };
    let health = format!("{}/health", server.api);
    let up = poll_until(Duration::from_secs(30), || {
        let request = client.get(&health).send();
        async move { (request.await.is_ok_and(|r| r.status().is_success()), ()) }
    })
    .await;
    assert!(up.is_ok(), "csms did not come up at {}", server.api);
    server
}

/// An API call → (status, body).
pub async fn call(
    client: &reqwest::Client,
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client
        .request(method, format!("{}{path}", server.api))
        .bearer_auth(PROCESS_API_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("API reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An endpoint's deliveries, oldest first.
pub async fn deliveries(
    client: &reqwest::Client,
    server: &Server,
    endpoint_id: &str,
) -> Vec<Value> {
    let (status, json) = call(
        client,
        server,
        reqwest::Method::GET,
        &format!("/v1.1/webhooks/{endpoint_id}/deliveries?sort_order=asc&paginate_limit=1000"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json["result"].as_array().unwrap().clone()
}
