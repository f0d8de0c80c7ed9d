//! The load generator: a fleet of lean OCPP 1.6J chargers (one tokio task and one
//! WebSocket each, no recording of frames) that connect — all at once or ramped —, boot,
//! then follow the fleet's [`Phase`]: stay idle, send Heartbeats (at a fixed rate or
//! back-to-back with one outstanding CALL per charger), or send a burst of
//! StatusNotifications. Every charger answers the server's CALLs at any time:
//! GetConfiguration and ChangeConfiguration from a small configuration store (so a
//! read-back after a change reports the value sent), anything else with
//! `{"status":"Accepted"}`.
//!
//! Latencies go into shared HDR histograms; everything is bounded in time by the caller's
//! deadlines, and the fleet connects only to the URL it is given (loopback in the suite).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use ocpp::frame::Frame;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{BenchError, BenchResult};
use crate::stats::{self, Summary};

/// How the fleet of chargers is made.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// WebSocket base URL; a charger connects to `{url}/{identity}`.
    pub url: String,
    /// Identities are `{prefix}{index:05}`.
    pub prefix: String,
    /// How many chargers.
    pub chargers: usize,
    /// New connections per second; `None` connects all at once.
    pub ramp_per_sec: Option<u32>,
    /// Extra keys in each charger's configuration (`BenchKey0001`...), besides
    /// `HeartbeatInterval`; GetConfiguration without keys reports them all.
    pub config_keys: usize,
    /// `firmwareVersion` sent in BootNotification (a marker a persistence check can
    /// look for).
    pub firmware: String,
    /// How long a charger keeps retrying its TCP connection / handshake.
    pub connect_timeout: Duration,
}

impl LoadConfig {
    /// A fleet of `chargers` at `url` with identities `{prefix}00000`..., all at once.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>, chargers: usize) -> Self {
        LoadConfig {
            url: url.into(),
            prefix: prefix.into(),
            chargers,
            ramp_per_sec: None,
            config_keys: 0,
            firmware: "bench-1".into(),
            connect_timeout: Duration::from_secs(60),
        }
    }

    /// The identity of charger `index`.
    pub fn identity(&self, index: usize) -> String {
        format!("{}{index:05}", self.prefix)
    }
}

/// What the booted chargers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing but answering the server.
    Idle,
    /// Heartbeats every `interval_ms` per charger (spread over the interval), or
    /// back-to-back when 0.
    Heartbeats {
        /// Period per charger in ms; 0 = back-to-back.
        interval_ms: u64,
    },
    /// `per_charger` StatusNotifications back-to-back, alternating `Available` and
    /// `Preparing` on connector 1 (each one a `connector_status.updated` event).
    StatusBurst {
        /// How many per charger.
        per_charger: u32,
        /// Distinguishes one burst from the next.
        epoch: u32,
    },
    /// Close the connection and end.
    Stop,
}

/// Counters and histograms shared by the chargers of a fleet.
#[derive(Debug)]
struct Shared {
    connected: AtomicU64,
    booted: AtomicU64,
    failed: AtomicU64,
    connect_retries: AtomicU64,
    server_calls: AtomicU64,
    round_trips: AtomicU64,
    call_errors: AtomicU64,
    status_done: AtomicU64,
    status_chargers_done: AtomicU64,
    outstanding: AtomicU64,
    first_error: Mutex<Option<String>>,
    boot_latency: Mutex<Histogram<u64>>,
    booted_at: Mutex<Histogram<u64>>,
    latency: Mutex<Histogram<u64>>,
    /// Woken on every boot, failure, finished burst and drained call.
    progress: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn new() -> Self {
        Shared {
            connected: AtomicU64::new(0),
            booted: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            connect_retries: AtomicU64::new(0),
            server_calls: AtomicU64::new(0),
            round_trips: AtomicU64::new(0),
            call_errors: AtomicU64::new(0),
            status_done: AtomicU64::new(0),
            status_chargers_done: AtomicU64::new(0),
            outstanding: AtomicU64::new(0),
            first_error: Mutex::new(None),
            boot_latency: Mutex::new(stats::histogram()),
            booted_at: Mutex::new(stats::histogram()),
            latency: Mutex::new(stats::histogram()),
            progress: Notify::new(),
        }
    }

    fn fail(&self, identity: &str, reason: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        lock(&self.first_error).get_or_insert_with(|| format!("{identity}: {reason}"));
        self.progress.notify_one();
    }
}

/// How the fleet's boot went.
#[derive(Debug, Clone)]
pub struct BootReport {
    /// Chargers in the fleet.
    pub chargers: u64,
    /// Chargers whose WebSocket opened.
    pub connected: u64,
    /// Chargers whose BootNotification was answered `Accepted`.
    pub booted: u64,
    /// Chargers that gave up (connect, handshake, boot refused, connection lost).
    pub failed: u64,
    /// Extra connection attempts after a refused or failed one.
    pub connect_retries: u64,
    /// From the fleet's start until the last charger booted (`None` if not all did).
    pub time_to_all_booted: Option<Duration>,
    /// BootNotification round-trips.
    pub boot_latency: Summary,
    /// The first failure, for the report.
    pub first_error: Option<String>,
}

impl BootReport {
    /// Every charger booted.
    pub fn all_booted(&self) -> bool {
        self.booted == self.chargers
    }
}

/// What a measurement window of round-trips gave.
#[derive(Debug, Clone)]
pub struct RoundTripReport {
    /// Heartbeats (or StatusNotifications) answered in the window.
    pub round_trips: u64,
    /// The window, from the phase change until every outstanding CALL was answered.
    pub elapsed: Duration,
    /// Latencies of those round-trips.
    pub latency: Summary,
    /// CALLERRORs received, chargers lost.
    pub errors: u64,
}

impl RoundTripReport {
    /// Round-trips per second over the window.
    pub fn per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.round_trips as f64 / secs
        } else {
            0.0
        }
    }
}

/// A running fleet.
pub struct Fleet {
    config: Arc<LoadConfig>,
    shared: Arc<Shared>,
    phase: watch::Sender<Phase>,
    tasks: JoinSet<()>,
    started: Instant,
    epoch: u32,
}

impl Fleet {
    /// Starts every charger (connecting at once or at the ramp rate). Returns at once;
    /// follow with [`Fleet::wait_booted`].
    pub fn start(config: LoadConfig) -> Fleet {
        let config = Arc::new(config);
        let shared = Arc::new(Shared::new());
        let (phase, _) = watch::channel(Phase::Idle);
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for index in 0..config.chargers {
            let delay = config.ramp_per_sec.map_or(Duration::ZERO, |rate| {
                Duration::from_secs_f64(index as f64 / f64::from(rate.max(1)))
            });
            let charger = Charger {
                index,
                identity: config.identity(index),
                config: Arc::clone(&config),
                shared: Arc::clone(&shared),
                phase: phase.subscribe(),
                started,
            };
            tasks.spawn(async move {
                tokio::time::sleep_until(started + delay).await;
                let identity = charger.identity.clone();
                let shared = Arc::clone(&charger.shared);
                if let Err(reason) = charger.run().await {
                    shared.fail(&identity, reason);
                }
            });
        }
        Fleet {
            config,
            shared,
            phase,
            tasks,
            started,
            epoch: 0,
        }
    }

    /// The fleet's configuration.
    pub fn config(&self) -> &LoadConfig {
        &self.config
    }

    /// Waits until every charger booted or gave up, or the deadline passed.
    pub async fn wait_booted(&self, timeout: Duration) -> BootReport {
        let deadline = Instant::now() + timeout;
        let total = self.config.chargers as u64;
        loop {
            let notified = self.shared.progress.notified();
            let done = self.shared.booted.load(Ordering::Relaxed)
                + self.shared.failed.load(Ordering::Relaxed);
            if done >= total || tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        self.boot_report()
    }

    /// The boot figures so far.
    pub fn boot_report(&self) -> BootReport {
        let chargers = self.config.chargers as u64;
        let booted = self.shared.booted.load(Ordering::Relaxed);
        let booted_at = lock(&self.shared.booted_at);
        BootReport {
            chargers,
            connected: self.shared.connected.load(Ordering::Relaxed),
            booted,
            failed: self.shared.failed.load(Ordering::Relaxed),
            connect_retries: self.shared.connect_retries.load(Ordering::Relaxed),
            time_to_all_booted: (booted == chargers && chargers > 0)
                .then(|| Duration::from_micros(booted_at.max())),
            boot_latency: Summary::of(&lock(&self.shared.boot_latency)),
            first_error: lock(&self.shared.first_error).clone(),
        }
    }

    /// Chargers that gave up so far.
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// The first failure so far.
    pub fn first_error(&self) -> Option<String> {
        lock(&self.shared.first_error).clone()
    }

    /// CALLs the server sent to the fleet so far.
    pub fn server_calls(&self) -> u64 {
        self.shared.server_calls.load(Ordering::Relaxed)
    }

    /// Heartbeats for `window` (every `interval_ms` per charger, back-to-back when 0),
    /// then back to idle once every outstanding Heartbeat is answered (at most 10 s more).
    pub async fn heartbeats(&mut self, interval_ms: u64, window: Duration) -> RoundTripReport {
        self.reset_counters();
        let errors_before = self.errors();
        let start = Instant::now();
        self.phase.send_replace(Phase::Heartbeats { interval_ms });
        tokio::time::sleep(window).await;
        self.phase.send_replace(Phase::Idle);
        self.drain(Duration::from_secs(10)).await;
        self.window_report(start, errors_before)
    }

    /// `per_charger` StatusNotifications per charger, back-to-back; returns when every
    /// charger has had all answered (or `timeout`).
    pub async fn status_burst(&mut self, per_charger: u32, timeout: Duration) -> RoundTripReport {
        self.reset_counters();
        let errors_before = self.errors();
        self.epoch += 1;
        let start = Instant::now();
        self.phase.send_replace(Phase::StatusBurst {
            per_charger,
            epoch: self.epoch,
        });
        let deadline = start + timeout;
        let live = self
            .shared
            .booted
            .load(Ordering::Relaxed)
            .saturating_sub(self.failed());
        loop {
            let notified = self.shared.progress.notified();
            let done = self.shared.status_chargers_done.load(Ordering::Relaxed);
            if done >= live || tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        self.phase.send_replace(Phase::Idle);
        self.window_report(start, errors_before)
    }

    fn errors(&self) -> u64 {
        self.shared.call_errors.load(Ordering::Relaxed) + self.failed()
    }

    fn reset_counters(&self) {
        self.shared.round_trips.store(0, Ordering::Relaxed);
        self.shared.status_done.store(0, Ordering::Relaxed);
        self.shared.status_chargers_done.store(0, Ordering::Relaxed);
        lock(&self.shared.latency).reset();
    }

    async fn drain(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.progress.notified();
            if self.shared.outstanding.load(Ordering::Relaxed) == 0
                || tokio::time::timeout_at(deadline, notified).await.is_err()
            {
                break;
            }
        }
    }

    fn window_report(&self, start: Instant, errors_before: u64) -> RoundTripReport {
        RoundTripReport {
            round_trips: self.shared.round_trips.load(Ordering::Relaxed),
            elapsed: start.elapsed(),
            latency: Summary::of(&lock(&self.shared.latency)),
            errors: self.errors().saturating_sub(errors_before),
        }
    }

    /// Closes every connection and waits (at most `timeout`) for the tasks to end.
    pub async fn close(mut self, timeout: Duration) {
        self.phase.send_replace(Phase::Stop);
        let deadline = Instant::now() + timeout;
        while tokio::time::timeout_at(deadline, self.tasks.join_next())
            .await
            .ok()
            .flatten()
            .is_some()
        {}
        self.tasks.abort_all();
    }

    /// When the fleet started.
    pub fn started(&self) -> Instant {
        self.started
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What our one outstanding CALL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Boot,
    Heartbeat,
    Status,
}

struct Outstanding {
    message_id: String,
    kind: CallKind,
    sent: Instant,
}

/// One charger's task.
struct Charger {
    index: usize,
    identity: String,
    config: Arc<LoadConfig>,
    shared: Arc<Shared>,
    phase: watch::Receiver<Phase>,
    started: Instant,
}

/// The per-connection state of a charger.
struct Session {
    socket: Socket,
    outstanding: Option<Outstanding>,
    next_id: u64,
    booted: bool,
    /// Values changed by the server (ChangeConfiguration), over the generated defaults.
    overrides: HashMap<String, String>,
    /// StatusNotifications still to send in the current burst.
    status_left: u32,
    status_epoch: u32,
}

impl Charger {
    async fn run(mut self) -> Result<(), String> {
        let socket = self.connect().await?;
        self.shared.connected.fetch_add(1, Ordering::Relaxed);
        let mut session = Session {
            socket,
            outstanding: None,
            next_id: 0,
            booted: false,
            overrides: HashMap::new(),
            status_left: 0,
            status_epoch: 0,
        };
        let boot = json!({
            "chargePointVendor": "csms-bench",
            "chargePointModel": "load",
            "firmwareVersion": self.config.firmware,
        });
        self.send_call(&mut session, CallKind::Boot, "BootNotification", boot)
            .await?;
        let mut phase = Phase::Idle;
        let mut next_beat: Option<Instant> = None;
        let far = Duration::from_secs(86_400 * 365);
        loop {
            let beat_at = next_beat.unwrap_or_else(|| Instant::now() + far);
            let can_beat = next_beat.is_some() && session.outstanding.is_none() && session.booted;
            tokio::select! {
                frame = session.socket.next() => {
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None => {
                            return Err("the server closed the connection".into());
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Err(format!("connection lost: {e}")),
                    };
                    self.on_text(&mut session, &text, phase).await?;
                }
                changed = self.phase.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    phase = *self.phase.borrow_and_update();
                    next_beat = None;
                    match phase {
                        Phase::Stop => {
                            // A clean close: send ours, wait (briefly) for the echo.
                            let _ = session.socket.close(None).await;
                            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                                while let Some(Ok(_)) = session.socket.next().await {}
                            })
                            .await;
                            return Ok(());
                        }
                        Phase::Idle => {}
                        Phase::Heartbeats { interval_ms: 0 } => {
                            if session.booted && session.outstanding.is_none() {
                                self.send_heartbeat(&mut session).await?;
                            }
                        }
                        Phase::Heartbeats { interval_ms } => {
                            // Spread the fleet over one period.
                            let offset = (self.index as u64 * 7_919) % interval_ms;
                            next_beat = Some(Instant::now() + Duration::from_millis(offset));
                        }
                        Phase::StatusBurst { per_charger, epoch } => {
                            if epoch != session.status_epoch {
                                session.status_epoch = epoch;
                                session.status_left = per_charger;
                                if session.booted && session.outstanding.is_none() {
                                    self.next_status(&mut session).await?;
                                }
                            }
                        }
                    }
                }
                () = tokio::time::sleep_until(beat_at), if can_beat => {
                    if let (Some(at), Phase::Heartbeats { interval_ms }) = (next_beat, phase) {
                        next_beat = Some(at + Duration::from_millis(interval_ms));
                    }
                    self.send_heartbeat(&mut session).await?;
                }
            }
        }
    }

    async fn connect(&self) -> Result<Socket, String> {
        let url = format!("{}/{}", self.config.url, self.identity);
        let deadline = Instant::now() + self.config.connect_timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(|e| format!("bad URL {url}: {e}"))?;
            request
                .headers_mut()
                .insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("ocpp1.6"));
            let attempt = tokio::time::timeout_at(
                deadline,
                tokio_tungstenite::connect_async_with_config(request, None, true),
            )
            .await;
            match attempt {
                Ok(Ok((socket, _))) => return Ok(socket),
                Ok(Err(e)) if Instant::now() + pause < deadline && retryable(&e) => {
                    self.shared.connect_retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Ok(Err(e)) => return Err(format!("connect: {e}")),
                Err(_) => return Err("connect: timed out".into()),
            }
        }
    }

    async fn send_call(
        &self,
        session: &mut Session,
        kind: CallKind,
        action: &str,
        payload: Value,
    ) -> Result<(), String> {
        session.next_id += 1;
        let message_id = session.next_id.to_string();
        let text = json!([2, message_id, action, payload]).to_string();
        session.outstanding = Some(Outstanding {
            message_id,
            kind,
            sent: Instant::now(),
        });
        if kind != CallKind::Boot {
            self.shared.outstanding.fetch_add(1, Ordering::Relaxed);
        }
        session
            .socket
            .send(Message::Text(text))
            .await
            .map_err(|e| format!("send {action}: {e}"))
    }

    async fn send_heartbeat(&self, session: &mut Session) -> Result<(), String> {
        self.send_call(session, CallKind::Heartbeat, "Heartbeat", json!({}))
            .await
    }

    async fn next_status(&self, session: &mut Session) -> Result<(), String> {
        session.status_left -= 1;
        let status = if session.status_left.is_multiple_of(2) {
            "Available"
        } else {
            "Preparing"
        };
        let payload = json!({"connectorId": 1, "errorCode": "NoError", "status": status});
        self.send_call(session, CallKind::Status, "StatusNotification", payload)
            .await
    }

    async fn on_text(&self, session: &mut Session, text: &str, phase: Phase) -> Result<(), String> {
        let frame = match Frame::parse(text) {
            Ok(frame) => frame,
            Err(e) => return Err(format!("unreadable frame from the server: {e}")),
        };
        let (message_id, answer, is_error) = match frame {
            Frame::Call(call) => {
                self.shared.server_calls.fetch_add(1, Ordering::Relaxed);
                let payload = self.answer(session, &call.action, &call.payload);
                let reply = json!([3, call.message_id, payload]).to_string();
                return session
                    .socket
                    .send(Message::Text(reply))
                    .await
                    .map_err(|e| format!("answer {}: {e}", call.action));
            }
            Frame::CallResult(result) => (result.message_id, result.payload, false),
            Frame::CallError(error) => (error.message_id, Value::Null, true),
        };
        let Some(ours) = session.outstanding.take_if(|o| o.message_id == message_id) else {
            return Ok(()); // a late or unknown answer
        };
        let elapsed = ours.sent.elapsed();
        match ours.kind {
            CallKind::Boot => {
                if is_error || answer["status"] != "Accepted" {
                    return Err(format!("BootNotification not accepted: {answer}"));
                }
                session.booted = true;
                stats::record(&mut lock(&self.shared.boot_latency), elapsed);
                stats::record(&mut lock(&self.shared.booted_at), self.started.elapsed());
                self.shared.booted.fetch_add(1, Ordering::Relaxed);
                self.shared.progress.notify_one();
                // A phase set while we were booting.
                if let Phase::StatusBurst { per_charger, epoch } = phase {
                    if epoch != session.status_epoch {
                        session.status_epoch = epoch;
                        session.status_left = per_charger;
                        self.next_status(session).await?;
                    }
                } else if phase == (Phase::Heartbeats { interval_ms: 0 }) {
                    self.send_heartbeat(session).await?;
                }
            }
            CallKind::Heartbeat | CallKind::Status => {
                self.shared.outstanding.fetch_sub(1, Ordering::Relaxed);
                // A Heartbeat sent just before the burst began (the charger saw the end
                // of the Heartbeat phase late) is not part of the burst's round-trips.
                let late_beat =
                    ours.kind == CallKind::Heartbeat && matches!(phase, Phase::StatusBurst { .. });
                if is_error {
                    self.shared.call_errors.fetch_add(1, Ordering::Relaxed);
                } else if !late_beat {
                    self.shared.round_trips.fetch_add(1, Ordering::Relaxed);
                    stats::record(&mut lock(&self.shared.latency), elapsed);
                }
                if ours.kind == CallKind::Status {
                    self.shared.status_done.fetch_add(1, Ordering::Relaxed);
                    if session.status_left > 0 {
                        self.next_status(session).await?;
                    } else {
                        self.shared
                            .status_chargers_done
                            .fetch_add(1, Ordering::Relaxed);
                        self.shared.progress.notify_one();
                    }
                } else if phase == (Phase::Heartbeats { interval_ms: 0 }) {
                    self.send_heartbeat(session).await?;
                } else if late_beat && session.status_left > 0 {
                    // The burst began while this Heartbeat was out: start it now.
                    self.next_status(session).await?;
                } else {
                    self.shared.progress.notify_one();
                }
            }
        }
        Ok(())
    }

    /// The answer to a server CALL.
    fn answer(&self, session: &mut Session, action: &str, payload: &Value) -> Value {
        match action {
            "GetConfiguration" => {
                let requested: Option<Vec<String>> = payload["key"].as_array().map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                });
                configuration_answer(&self.config, &session.overrides, requested)
            }
            "ChangeConfiguration" => {
                if let (Some(key), Some(value)) =
                    (payload["key"].as_str(), payload["value"].as_str())
                {
                    session.overrides.insert(key.to_owned(), value.to_owned());
                }
                json!({"status": "Accepted"})
            }
            _ => json!({"status": "Accepted"}),
        }
    }
}

/// The value of a key of the generated configuration, `None` for unknown keys.
fn key_value(
    config: &LoadConfig,
    overrides: &HashMap<String, String>,
    key: &str,
) -> Option<String> {
    if let Some(value) = overrides.get(key) {
        return Some(value.clone());
    }
    if key == "HeartbeatInterval" {
        return Some("900".into());
    }
    let n: usize = key.strip_prefix("BenchKey")?.parse().ok()?;
    (1..=config.config_keys)
        .contains(&n)
        .then(|| format!("value-{n:04}"))
}

/// A GetConfiguration answer: every key, or the requested ones (unknown ones listed in
/// `unknownKey`).
fn configuration_answer(
    config: &LoadConfig,
    overrides: &HashMap<String, String>,
    requested: Option<Vec<String>>,
) -> Value {
    let keys = requested.filter(|k| !k.is_empty()).unwrap_or_else(|| {
        let mut all: Vec<String> = std::iter::once("HeartbeatInterval".to_owned())
            .chain((1..=config.config_keys).map(|n| format!("BenchKey{n:04}")))
            .collect();
        all.extend(
            overrides
                .keys()
                .filter(|k| !all_generated(config, k))
                .cloned(),
        );
        all
    });
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for key in keys {
        match key_value(config, overrides, &key) {
            Some(value) => known.push(json!({"key": key, "readonly": false, "value": value})),
            None => unknown.push(Value::String(key)),
        }
    }
    let mut answer = json!({"configurationKey": known});
    if !unknown.is_empty() {
        answer["unknownKey"] = Value::Array(unknown);
    }
    answer
}

fn all_generated(config: &LoadConfig, key: &str) -> bool {
    key == "HeartbeatInterval"
        || key
            .strip_prefix("BenchKey")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=config.config_keys).contains(&n))
}

/// Connection failures worth another try in a storm (refused, reset, timed out) — not
/// an HTTP refusal of the handshake.
fn retryable(error: &tokio_tungstenite::tungstenite::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    matches!(
        error,
        Error::Io(_) | Error::ConnectionClosed | Error::AlreadyClosed
    )
}

/// Refuses a URL whose host is not on this machine (`localhost`, 127.0.0.0/8, `::1`):
/// the load generator is for loopback only.
///
/// # Errors
/// When the URL cannot be read or points elsewhere.
pub fn ensure_loopback(url: &str) -> BenchResult<()> {
    let uri: tokio_tungstenite::tungstenite::http::Uri = url
        .parse()
        .map_err(|e| BenchError::failed(format!("bad URL {url}: {e}")))?;
    let host = uri.host().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(BenchError::failed(format!(
            "{url}: the load generator only targets loopback addresses (127.0.0.0/8, ::1, localhost)"
        )))
    }
}

/// Runs a standalone load against `url` (the `csms-bench load` command): boots the fleet,
/// then Heartbeats for `window` (back-to-back when `interval_ms` is 0), then closes.
///
/// # Errors
/// When not every charger booted within `boot_timeout`.
pub async fn run_standalone(
    config: LoadConfig,
    boot_timeout: Duration,
    interval_ms: u64,
    window: Duration,
) -> BenchResult<(BootReport, RoundTripReport)> {
    ensure_loopback(&config.url)?;
    let mut fleet = Fleet::start(config);
    let boot = fleet.wait_booted(boot_timeout).await;
    if !boot.all_booted() {
        let first = boot
            .first_error
            .clone()
            .unwrap_or_else(|| "timed out".into());
        fleet.close(Duration::from_secs(5)).await;
        return Err(BenchError::failed(format!(
            "{} of {} chargers booted: {first}",
            boot.booted, boot.chargers
        )));
    }
    let beats = fleet.heartbeats(interval_ms, window).await;
    fleet.close(Duration::from_secs(10)).await;
    Ok((boot, beats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_configuration_reports_every_generated_key_or_the_requested_ones() {
        let mut config = LoadConfig::new("ws://x", "CP", 1);
        config.config_keys = 3;
        let mut overrides = HashMap::new();
        let all = configuration_answer(&config, &overrides, None);
        assert_eq!(all["configurationKey"].as_array().map(Vec::len), Some(4));
        assert!(all.get("unknownKey").is_none());

        overrides.insert("HeartbeatInterval".into(), "30".into());
        let some = configuration_answer(
            &config,
            &overrides,
            Some(vec!["HeartbeatInterval".into(), "Nope".into()]),
        );
        assert_eq!(some["configurationKey"][0]["value"], "30");
        assert_eq!(some["unknownKey"], json!(["Nope"]));
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        for ok in [
            "ws://127.0.0.1:9000/ocpp",
            "ws://localhost:1/x",
            "ws://[::1]:9000/ocpp",
            "ws://127.9.9.9/",
        ] {
            assert!(ensure_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ws://10.0.0.1:9000/ocpp",
            "ws://example.com/ocpp",
            "not a url",
        ] {
            assert!(ensure_loopback(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identities_are_numbered_with_the_prefix() {
        assert_eq!(
            LoadConfig::new("ws://x", "BENCH-", 2).identity(7),
            "BENCH-00007"
        );
    }
}
