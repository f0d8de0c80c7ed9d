//! Webhook delivery from the transactional outbox (CONTRACT §5, docs/webhooks.md,
//! docs/adr/0004-webhook-outbox.md).
//!
//! - [`signing`]: the `edrv-signature` and Standard Webhooks headers.
//! - [`worker`]: the task that claims due deliveries (with a lease, head-of-line per
//!   endpoint and chargestation), POSTs them with one shared HTTP client and bounded
//!   concurrency, and records the outcomes in batches.
//! - [`RetryPolicy`]: when a failed delivery is tried again, and when it is given up.
//!
//! Events and delivery rows are written by `model` in the transaction of the state change;
//! this module only drains them. The worker is woken by `model`'s outbox signal
//! ([`model::Db::outbox_written`], raised after every commit that wrote an event), so a
//! new event goes out at once; its poll only finds the events of other instances sharing
//! a PostgreSQL database. All scheduling uses the database's injected clock so tests can
//! move time; only the worker's polling uses real time.

pub mod signing;
mod worker;

use std::time::Duration;

use model::webhooks::AttemptOutcome;
use model::Db;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use signing::{sign, SignatureHeaders};

/// About three days: how long a delivery is retried after its first attempt, and how long
/// an endpoint may fail without a single success before it is disabled.
pub const RETRY_WINDOW_MS: i64 = 3 * 24 * 60 * 60 * 1000;

/// The longest pause between two attempts of one delivery.
pub const MAX_RETRY_DELAY_MS: i64 = 6 * 60 * 60 * 1000;

/// When to try a failed delivery again: `base_ms` after the first failure, doubled per
/// attempt, plus up to a quarter of random jitter, never more than `max_delay_ms`; the
/// last attempt falls at the end of the window, after which the delivery is failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_ms: i64,
    pub max_delay_ms: i64,
    pub window_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 5000,
            max_delay_ms: MAX_RETRY_DELAY_MS,
            window_ms: RETRY_WINDOW_MS,
        }
    }
}

impl RetryPolicy {
    /// The pause after the `failures`-th failed attempt of the current window (1-based),
    /// with `jitter` in `[0, 1)` adding up to 25 %.
    pub fn delay_ms(&self, failures: i32, jitter: f64) -> i64 {
        let exponent = u32::try_from(failures.saturating_sub(1).clamp(0, 40)).unwrap_or(0);
        let base = self.base_ms.max(1);
        let doubled = base.saturating_mul(1_i64 << exponent.min(40));
        let capped = doubled.min(self.max_delay_ms.max(base));
        let jitter = jitter.clamp(0.0, 1.0);
        // Float → int: the value is bounded by a quarter of `capped`, far inside i64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let extra = (capped as f64 * 0.25 * jitter) as i64;
        capped
            .saturating_add(extra)
            .min(self.max_delay_ms.max(base))
    }

    /// The outcome of a failed attempt that ended at `now_ms`, the `failures`-th of a
    /// window that opened at `window_start_ms`.
    pub fn after_failure(
        &self,
        window_start_ms: i64,
        failures: i32,
        now_ms: i64,
        jitter: f64,
    ) -> AttemptOutcome {
        let window_end = window_start_ms.saturating_add(self.window_ms);
        if now_ms >= window_end {
            return AttemptOutcome::GiveUp;
        }
        let next = now_ms.saturating_add(self.delay_ms(failures, jitter));
        AttemptOutcome::RetryAt(next.min(window_end))
    }
}

/// The webhook worker's settings, a slice of the binary's `Settings`.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// How long a receiver has to answer (success is a 2xx within it).
    pub timeout: Duration,
    /// How often the worker looks for due deliveries when nothing wakes it: retries
    /// coming due, and events written by other instances on one PostgreSQL database.
    /// Events written by this process wake it at once.
    pub poll_interval: Duration,
    /// The most requests in flight at once.
    pub max_in_flight: usize,
    pub retry: RetryPolicy,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(100),
            max_in_flight: 128,
            retry: RetryPolicy::default(),
        }
    }
}

impl WebhookConfig {
    /// How long a claim holds a delivery: long enough for the request and the bookkeeping
    /// after it; a worker that dies mid-attempt releases it when this runs out.
    pub fn lease_ms(&self) -> i64 {
        let timeout = i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX / 4);
        timeout.saturating_mul(2).saturating_add(5000)
    }
}

/// Why the worker could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The HTTP client could not be set up (TLS roots, ...).
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The delivery worker, built and not yet running.
pub struct WebhookWorker {
    db: Db,
    config: WebhookConfig,
    client: reqwest::Client,
    metrics: Option<ocpp_gateway::Metrics>,
}

impl WebhookWorker {
    /// A worker over the database with one shared HTTP client (connections are reused;
    /// redirects are not followed: a 3xx is a failed attempt).
    ///
    /// # Errors
    /// [`WebhookError::Client`] when the HTTP client cannot be built.
    pub fn new(db: Db, config: WebhookConfig) -> Result<WebhookWorker, WebhookError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("csms-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookWorker {
            db,
            config,
            client,
            metrics: None,
        })
    }

    /// Counts every attempt's outcome in `metrics` (`csms_webhook_deliveries_total`).
    #[must_use]
    pub fn with_metrics(mut self, metrics: ocpp_gateway::Metrics) -> WebhookWorker {
        self.metrics = Some(metrics);
        self
    }

    /// Runs the worker until `shutdown` is cancelled; the task then finishes (and
    /// records) the attempts in flight before it ends.
    ///
    /// Run one worker per [`Db`]: they share its outbox signal, which wakes one waiter.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(worker::run(self, shutdown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_with_at_most_a_quarter_of_jitter() {
        let policy = RetryPolicy {
            base_ms: 1000,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay_ms(1, 0.0), 1000);
        assert_eq!(policy.delay_ms(2, 0.0), 2000);
        assert_eq!(policy.delay_ms(5, 0.0), 16_000);
        assert_eq!(policy.delay_ms(1, 0.999_999), 1249);
        assert_eq!(policy.delay_ms(200, 0.5), MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn retries_stop_three_days_after_the_first_attempt_with_a_last_try_at_the_end() {
        let policy = RetryPolicy::default();
        let start = 1_000_000;
        assert_eq!(
            policy.after_failure(start, 1, start, 0.0),
            AttemptOutcome::RetryAt(start + 5000)
        );
        let near_end = start + RETRY_WINDOW_MS - 60_000;
        assert_eq!(
            policy.after_failure(start, 20, near_end, 0.0),
            AttemptOutcome::RetryAt(start + RETRY_WINDOW_MS)
        );
        assert_eq!(
            policy.after_failure(start, 21, start + RETRY_WINDOW_MS, 0.0),
            AttemptOutcome::GiveUp
        );
    }

    #[test]
    fn the_default_schedule_spans_about_three_days() {
        let policy = RetryPolicy::default();
        let start = 0;
        let mut now = start;
        let mut attempts = 1;
        while let AttemptOutcome::RetryAt(next) = policy.after_failure(start, attempts, now, 0.5) {
            now = next;
            attempts += 1;
        }
        assert_eq!(now, RETRY_WINDOW_MS);
        assert!((15..=40).contains(&attempts), "{attempts} attempts");
    }
}

/// The worker against a temporary SQLite database and a minimal local HTTP receiver.
#[cfg(test)]
mod worker_tests {
    use std::time::{Duration, Instant};

    use model::chargestations::{self, ConnectorStatus, NewChargestation};
    use model::webhooks::{self, NewEndpoint};
    use model::DbOptions;
    use serde_json::Value;
    use std::sync::Arc;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use tokio::sync::{mpsc, Semaphore};

    use super::*;

    /// Passes each request's body on, then answers `200` once it gets a permit of `gate`.
    async fn receiver(gate: Arc<Semaphore>) -> (String, mpsc::UnboundedReceiver<Value>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let tx = tx.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    let mut socket = BufReader::new(socket);
                    loop {
                        let mut length = 0;
                        loop {
                            let mut line = String::new();
                            if socket.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end();
                            if line.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':') {
                                if name.eq_ignore_ascii_case("content-length") {
                                    length = value.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                        let mut body = vec![0; length];
                        if socket.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                        match gate.acquire().await {
                            Ok(permit) => permit.forget(),
                            Err(_) => return,
                        }
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if socket.get_mut().write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, rx)
    }

    async fn status(db: &Db, station: &str, status: &str) {
        chargestations::record_connector_status(
            db,
            station,
            ConnectorStatus {
                connector_id: 1,
                status: status.to_owned(),
                error_code: "NoError".into(),
                info: None,
                vendor_error_code: None,
                timestamp: "2026-01-01T00:00:00.000Z".into(),
            },
            "ws://localhost/ocpp",
        )
        .await
        .unwrap();
    }

    /// Waits (polling, with a deadline) until every delivery of the only endpoint is
    /// recorded as delivered; returns how many there are.
    async fn all_recorded(db: &Db) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let page = model::page::Page {
            limit: 100,
            ..model::page::Page::default()
        };
        loop {
            let (endpoints, _) = webhooks::list(db, &model::page::Page::default())
                .await
                .unwrap();
            let (items, total) = webhooks::list_deliveries(db, &endpoints[0].id, None, &page)
                .await
                .unwrap();
            if items
                .iter()
                .all(|d| d.status == "delivered" && d.attempts == 1)
            {
                return total;
            }
            assert!(Instant::now() < deadline, "not all recorded: {items:#?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The next body the receiver got, within `limit`.
    async fn next(bodies: &mut mpsc::UnboundedReceiver<Value>, limit: Duration) -> Option<Value> {
        tokio::time::timeout(limit, bodies.recv())
            .await
            .ok()
            .flatten()
    }

    /// A worker with an hour-long poll, sending to a receiver answering when `gate`
    /// lets it, for the events of two chargestations (`stations`) in a fresh database.
    struct Running {
        dir: std::path::PathBuf,
        db: Db,
        stations: Vec<String>,
        bodies: mpsc::UnboundedReceiver<Value>,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    impl Running {
        async fn start(gate: Arc<Semaphore>) -> Running {
            let dir = std::env::temp_dir()
                .join(format!("csms-dispatcher-{:016x}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.join("csms.db").display());
            let db = Db::connect(&DbOptions::new(url)).await.unwrap();
            let (hook, bodies) = receiver(gate).await;
            webhooks::create(
                &db,
                NewEndpoint {
                    url: hook,
                    ..NewEndpoint::default()
                },
            )
            .await
            .unwrap();
            let mut stations = Vec::new();
            for endpoint in ["CP1", "CP2"] {
                let (station, _) = chargestations::create(
                    &db,
                    NewChargestation {
                        endpoint: endpoint.into(),
                        protocol: None,
                        active: None,
                        security_type: None,
                        password: None,
                        meta_data: None,
                        lenient_handshake: None,
                    },
                )
                .await
                .unwrap();
                stations.push(station.id);
            }
            let config = WebhookConfig {
                poll_interval: Duration::from_secs(3600),
                ..WebhookConfig::default()
            };
            let shutdown = CancellationToken::new();
            let task = WebhookWorker::new(db.clone(), config)
                .unwrap()
                .spawn(shutdown.clone());
            Running {
                dir,
                db,
                stations,
                bodies,
                shutdown,
                task,
            }
        }

        /// The status of the next body received, within 10 s.
        async fn next_status(&mut self, what: &str) -> String {
            let body = next(&mut self.bodies, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("{what}: no delivery within 10 s"));
            body["data"]["connector"]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }

        /// Stops the worker; checks every attempt was recorded before it ended.
        async fn stop(self, deliveries: u64) {
            self.shutdown.cancel();
            self.task.await.unwrap();
            assert_eq!(all_recorded(&self.db).await, deliveries);
            self.db.close().await.unwrap();
            let _ = std::fs::remove_dir_all(self.dir);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_committed_by_model_wake_the_worker_at_once_even_with_an_hour_long_poll() {
        let mut w = Running::start(Arc::new(Semaphore::new(Semaphore::MAX_PERMITS))).await;
        let (db, stations) = (w.db.clone(), w.stations.clone());
        // One at a time, each written while the worker waits for its hour-long poll: only
        // the signal raised after the commit can bring it out in time.
        for (round, state) in ["Available", "Preparing", "Charging"].iter().enumerate() {
            // The worker has recorded the previous round and gone back to waiting.
            assert_eq!(all_recorded(&db).await, round as u64);
            status(&db, &stations[0], state).await;
            assert_eq!(w.next_status(&format!("round {round}")).await, *state);
        }

        // A burst from two stations: every event arrives, in order per station, while
        // attempts are recorded in batches.
        let mut expected = Vec::new();
        for n in 0..40 {
            let station = &stations[n % 2];
            let state = format!("S{n}");
            status(&db, station, &state).await;
            expected.push((station.clone(), state));
        }
        let mut got: Vec<(String, String)> = Vec::new();
        while got.len() < expected.len() {
            let body = next(&mut w.bodies, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("only {} of {} delivered", got.len(), expected.len()));
            got.push((
                body["data"]["_id"].as_str().unwrap().to_owned(),
                body["data"]["connector"]["status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
        for station in &stations {
            let sent: Vec<&String> = expected
                .iter()
                .filter(|(s, _)| s == station)
                .map(|(_, v)| v)
                .collect();
            let arrived: Vec<&String> = got
                .iter()
                .filter(|(s, _)| s == station)
                .map(|(_, v)| v)
                .collect();
            assert_eq!(arrived, sent, "order of {station}");
        }
        w.stop(43).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_chargestations_next_event_goes_out_once_the_one_in_flight_is_recorded_without_a_poll(
    ) {
        let gate = Arc::new(Semaphore::new(0));
        let mut w = Running::start(gate.clone()).await;
        let (db, stations) = (w.db.clone(), w.stations.clone());
        status(&db, &stations[0], "Available").await;
        assert_eq!(w.next_status("CP1's first").await, "Available");
        // CP1's second event is committed while its first waits for the receiver's
        // answer: the claim its commit wakes cannot take it. CP2's event, written after
        // it and delivered, shows a claim has run since.
        status(&db, &stations[0], "Preparing").await;
        status(&db, &stations[1], "Available").await;
        assert_eq!(w.next_status("CP2's").await, "Available");
        // Both answered: CP1's second event goes out when its first is recorded — no
        // further event is written and the poll is an hour away.
        gate.add_permits(2);
        assert_eq!(w.next_status("CP1's second").await, "Preparing");
        gate.add_permits(1);
        w.stop(3).await;
    }
}
