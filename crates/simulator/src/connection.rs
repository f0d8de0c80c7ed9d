//! The machinery behind a [`Charger`](crate::Charger): the shared state, the WebSocket
//! handshake (URL, subprotocols, Basic auth), one reader task and one writer task per
//! connection, our own CALLs (one outstanding, matched by message id), the automatic
//! answers to server CALLs, and the Reset reboot (close, reconnect, boot).
//!
//! The public API lives in `charger.rs`; this module never decides *what* to answer
//! (that is `handlers.rs`), only carries answers out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use ocpp::frame::{new_message_id, Call, Frame};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::config::ChargerConfig;
use crate::handlers::{self, FollowUp, Reply, Store};
use crate::pong_filter::{FilterSwitches, PongFilter};
use crate::SimError;

/// How long `call()` waits for an answer by default.
pub(crate) const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the TCP connect and the handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a close we start waits for the server's close echo before cutting the socket.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Largest message and frame accepted from the server.
const MAX_MESSAGE_SIZE: usize = 64 << 20;
/// First and longest pause between reconnect attempts after a reboot.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<PongFilter<TcpStream>>;

/// Locks a std mutex, ignoring poisoning (state stays usable after a panicking test).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Our CALL waiting for its answer.
struct Pending {
    message_id: String,
    answer: oneshot::Sender<Frame>,
}

/// The current connection's handles.
struct Conn {
    generation: u64,
    outbound: mpsc::UnboundedSender<Message>,
    /// Stops the reader at once (used when the server does not echo our close).
    kill: Arc<Notify>,
}

/// Everything that changes, behind one std mutex never held across an await.
pub(crate) struct State {
    pub store: Store,
    pub received: Vec<Call>,
    /// Every text frame this charger sent (across reconnects), in order.
    pub sent: Vec<String>,
    /// Per action: index into `received` after the last call returned by wait_for_call.
    pub cursors: HashMap<String, usize>,
    pending: Option<Pending>,
    conn: Option<Conn>,
    generation: u64,
    /// We started closing the current connection.
    closing: bool,
    /// The server (not we) ended the current connection.
    pub server_closed: bool,
    pub pings: u64,
    pub reboots: u64,
    pub subprotocol: Option<String>,
}

impl State {
    pub fn is_connected(&self) -> bool {
        self.conn.is_some() && !self.closing && !self.server_closed
    }
}

/// State shared by the [`Charger`](crate::Charger) handle and its tasks.
pub(crate) struct Shared {
    pub config: ChargerConfig,
    pub state: Mutex<State>,
    /// Bumped on every state change; waiters subscribe to it (no sleeping, no polling).
    changed: watch::Sender<u64>,
    raw_tx: mpsc::UnboundedSender<String>,
    pub raw_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    call_lock: tokio::sync::Mutex<()>,
    reboot_lock: tokio::sync::Mutex<()>,
    pub drop_pongs: Arc<AtomicBool>,
    pub shutdown: AtomicBool,
}

impl Shared {
    pub fn new(config: ChargerConfig) -> Arc<Self> {
        let (raw_tx, raw_rx) = mpsc::unbounded_channel();
        let store = Store::new(&config);
        Arc::new(Shared {
            config,
            state: Mutex::new(State {
                store,
                received: Vec::new(),
                sent: Vec::new(),
                cursors: HashMap::new(),
                pending: None,
                conn: None,
                generation: 0,
                closing: false,
                server_closed: false,
                pings: 0,
                reboots: 0,
                subprotocol: None,
            }),
            changed: watch::channel(0).0,
            raw_tx,
            raw_rx: tokio::sync::Mutex::new(raw_rx),
            call_lock: tokio::sync::Mutex::new(()),
            reboot_lock: tokio::sync::Mutex::new(()),
            drop_pongs: Arc::new(AtomicBool::new(false)),
            shutdown: AtomicBool::new(false),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Wakes every waiter.
    pub fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until `check` returns `Some`, re-checking on every state change, for at
    /// most `timeout`.
    pub async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut changes = self.changed.subscribe();
        loop {
            if let Some(found) = check(&mut self.lock()) {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return check(&mut self.lock()),
            }
        }
    }

    /// Queues a WebSocket message on the current connection.
    pub fn send_message(&self, message: Message) -> Result<(), SimError> {
        let mut state = self.lock();
        let text = match &message {
            Message::Text(text) => Some(text.clone()),
            _ => None,
        };
        match &state.conn {
            Some(conn) if state.is_connected() => {
                conn.outbound.send(message).map_err(|_| SimError::Closed)?;
            }
            _ => return Err(SimError::Closed),
        }
        state.sent.extend(text);
        Ok(())
    }

    pub fn send_frame(&self, frame: &Frame) -> Result<(), SimError> {
        self.send_message(Message::Text(frame.to_text()))
    }

    /// Sends a CALL and waits for its answer; one of ours outstanding at a time.
    pub async fn call(
        &self,
        action: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<Value, SimError> {
        let _one_at_a_time = self.call_lock.lock().await;
        let message_id = new_message_id();
        let (tx, rx) = oneshot::channel();
        self.lock().pending = Some(Pending {
            message_id: message_id.clone(),
            answer: tx,
        });
        let frame = Frame::Call(Call {
            message_id: message_id.clone(),
            action: action.to_owned(),
            payload,
        });
        if let Err(e) = self.send_frame(&frame) {
            self.lock().pending = None;
            return Err(e);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Frame::CallResult(result))) => Ok(result.payload),
            Ok(Ok(Frame::CallError(error))) => Err(SimError::CallError {
                code: error.code,
                description: error.description,
            }),
            Ok(Ok(Frame::Call(_))) => Err(SimError::Protocol("a CALL matched our CALL".into())),
            Ok(Err(_)) => Err(SimError::Closed),
            Err(_) => {
                let mut state = self.lock();
                if state
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.message_id == message_id)
                {
                    state.pending = None;
                }
                Err(SimError::Timeout)
            }
        }
    }

    /// The BootNotification payload of this charger.
    pub fn boot_payload(&self) -> Value {
        let config = &self.config;
        let mut payload = json!({
            "chargePointVendor": config.vendor,
            "chargePointModel": config.model,
        });
        if let Some(serial) = &config.serial {
            payload["chargePointSerialNumber"] = json!(serial);
        }
        if let Some(firmware) = &config.firmware {
            payload["firmwareVersion"] = json!(firmware);
        }
        payload
    }

    /// Opens a new connection (handshake) and starts its reader and writer tasks.
    pub async fn open(self: &Arc<Self>) -> Result<(), SimError> {
        let password = self
            .lock()
            .store
            .new_password
            .clone()
            .or_else(|| self.config.password.clone());
        let request = build_request(&self.config, password.as_deref())?;
        let (host, port) = host_and_port(&request)?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|_| SimError::Connect(format!("connecting to {host}:{port} timed out")))?
            .map_err(|e| SimError::Connect(format!("{host}:{port}: {e}")))?;
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let switches = FilterSwitches {
            framing: Arc::new(AtomicBool::new(false)),
            drop_pongs: Arc::clone(&self.drop_pongs),
        };
        let stream = PongFilter::new(tcp, switches.clone());
        let (socket, response) = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config())),
        )
        .await
        .map_err(|_| SimError::Connect("handshake timed out".into()))?
        .map_err(map_handshake_error)?;
        switches.framing.store(true, Ordering::SeqCst);
        let subprotocol = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (sink, stream) = socket.split();
        let (outbound, outbound_rx) = mpsc::unbounded_channel();
        let kill = Arc::new(Notify::new());
        let generation = {
            let mut state = self.lock();
            state.generation += 1;
            state.conn = Some(Conn {
                generation: state.generation,
                outbound,
                kill: Arc::clone(&kill),
            });
            state.closing = false;
            state.server_closed = false;
            state.subprotocol = subprotocol;
            state.generation
        };
        tracing::info!(identity = %self.config.identity, generation, "connected");
        tokio::spawn(write_loop(sink, outbound_rx));
        tokio::spawn(read_loop(Arc::clone(self), generation, stream, kill));
        self.bump();
        Ok(())
    }

    /// Starts closing the current connection without waiting (used on drop): sends a
    /// close frame, then stops the reader at once.
    pub fn abort(&self) {
        let mut state = self.lock();
        if let Some(conn) = &state.conn {
            // The close frame is already queued when the reader stops; the writer
            // still sends it before the socket is dropped.
            let _ = conn.outbound.send(Message::Close(None));
            conn.kill.notify_one();
        }
        state.closing = true;
    }

    /// Closes the current connection: close frame, wait up to `grace` for the server's
    /// echo, then cut the socket.
    pub async fn close(&self, grace: Duration) {
        let (generation, kill) = {
            let mut state = self.lock();
            let Some(conn) = &state.conn else { return };
            let _ = conn.outbound.send(Message::Close(None));
            let target = (conn.generation, Arc::clone(&conn.kill));
            state.closing = true;
            target
        };
        self.bump();
        let ended = |state: &mut State| {
            (state.conn.as_ref().map(|c| c.generation) != Some(generation)).then_some(())
        };
        if self.wait_until(grace, ended).await.is_none() {
            kill.notify_one();
            let _ = self.wait_until(grace, ended).await;
        }
    }

    /// Carries out the reply to a server CALL.
    fn execute(self: &Arc<Self>, reply: Reply) {
        if reply.delay.is_none() && !reply.reboot && reply.follow_up.is_none() {
            if let Some(frame) = &reply.frame {
                self.send_answer(frame);
            }
            return;
        }
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            if let Some(delay) = reply.delay {
                tokio::time::sleep(delay).await;
            }
            if let Some(frame) = &reply.frame {
                shared.send_answer(frame);
            }
            if reply.reboot {
                shared.reboot().await;
            }
            if let Some(follow_up) = reply.follow_up {
                shared.follow_up(follow_up).await;
            }
        });
    }

    fn send_answer(&self, frame: &Frame) {
        if let Err(e) = self.send_frame(frame) {
            tracing::warn!(error = %e, message_id = frame.message_id(), "answer not sent");
        }
    }

    async fn follow_up(&self, follow_up: FollowUp) {
        let connectors = self.config.connectors;
        let result = match follow_up {
            FollowUp::Boot => {
                self.call(
                    "BootNotification",
                    self.boot_payload(),
                    DEFAULT_CALL_TIMEOUT,
                )
                .await
            }
            FollowUp::Heartbeat => {
                self.call("Heartbeat", json!({}), DEFAULT_CALL_TIMEOUT)
                    .await
            }
            FollowUp::Status(Some(connector)) => self.status_available(connector).await,
            FollowUp::Status(None) => {
                let mut result = self.status_available(0).await;
                for connector in 1..=connectors {
                    result = result.and(self.status_available(connector).await);
                }
                result
            }
            FollowUp::DiagnosticsStatus => {
                let payload = json!({ "status": "Idle" });
                self.call(
                    "DiagnosticsStatusNotification",
                    payload,
                    DEFAULT_CALL_TIMEOUT,
                )
                .await
            }
            FollowUp::FirmwareStatus => {
                let payload = json!({ "status": "Idle" });
                self.call("FirmwareStatusNotification", payload, DEFAULT_CALL_TIMEOUT)
                    .await
            }
            FollowUp::StartTransaction { connector, id_tag } => {
                self.start_transaction(connector, &id_tag).await
            }
            FollowUp::StopTransaction {
                transaction_id,
                reason,
            } => self.stop_transaction(transaction_id, reason).await,
            FollowUp::FirmwareUpdate => self.firmware_update().await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "triggered message failed");
        }
    }

    async fn status_available(&self, connector: u32) -> Result<Value, SimError> {
        let payload = json!({
            "connectorId": connector,
            "errorCode": "NoError",
            "status": "Available",
        });
        self.call("StatusNotification", payload, DEFAULT_CALL_TIMEOUT)
            .await
    }

    /// A Reset-triggered reboot: close, reconnect (backing off while refused), send
    /// BootNotification and StatusNotification(Available) per connector, count it.
    pub async fn reboot(self: &Arc<Self>) {
        let _one_reboot_at_a_time = self.reboot_lock.lock().await;
        tracing::info!(identity = %self.config.identity, "rebooting");
        self.close(CLOSE_GRACE).await;
        let mut backoff = BACKOFF_START;
        loop {
            if self.shutdown.load(Ordering::SeqCst) {
                return;
            }
            match self.open().await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, ?backoff, "reconnect after reboot failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        if self.shutdown.load(Ordering::SeqCst) {
            self.abort();
            return;
        }
        let boot = self
            .call(
                "BootNotification",
                self.boot_payload(),
                DEFAULT_CALL_TIMEOUT,
            )
            .await;
        if let Err(e) = boot {
            tracing::warn!(error = %e, "BootNotification after reboot failed");
        }
        for connector in 1..=self.config.connectors {
            if let Err(e) = self.status_available(connector).await {
                tracing::warn!(error = %e, connector, "StatusNotification after reboot failed");
            }
        }
        self.lock().reboots += 1;
        self.bump();
    }

    fn on_text(self: &Arc<Self>, text: String) {
        let parsed = Frame::parse(&text);
        // Every text frame goes to the raw inbox, answers included.
        let _ = self.raw_tx.send(text);
        match parsed {
            Ok(Frame::Call(call)) => {
                tracing::info!(
                    identity = %self.config.identity,
                    action = %call.action,
                    message_id = %call.message_id,
                    payload = %call.payload,
                    "CALL from the server"
                );
                let reply = {
                    let mut state = self.lock();
                    state.received.push(call.clone());
                    self.config
                        .auto_answer
                        .then(|| handlers::handle(&call, &mut state.store))
                };
                if let Some(reply) = reply {
                    self.execute(reply);
                }
            }
            Ok(answer) => {
                let mut state = self.lock();
                let ours = state
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.message_id == answer.message_id());
                let pending = if ours { state.pending.take() } else { None };
                match pending {
                    Some(pending) => {
                        let _ = pending.answer.send(answer);
                    }
                    None => {
                        tracing::debug!(
                            message_id = answer.message_id(),
                            "answer to no outstanding CALL dropped"
                        );
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "unparsable frame from the server");
                if self.config.auto_answer {
                    if let Some(error) = e.to_call_error() {
                        self.send_answer(&Frame::CallError(error));
                    }
                }
            }
        }
        self.bump();
    }
}

async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut outbound: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(message) = outbound.recv().await {
        let is_close = matches!(message, Message::Close(_));
        if let Err(e) = sink.send(message).await {
            tracing::debug!(error = %e, "write failed");
            return;
        }
        if is_close {
            return;
        }
    }
    // Every handle is gone: end politely.
    let _ = sink.close().await;
}

async fn read_loop(
    shared: Arc<Shared>,
    generation: u64,
    mut stream: SplitStream<Socket>,
    kill: Arc<Notify>,
) {
    loop {
        let next = tokio::select! {
            biased;
            () = kill.notified() => break,
            next = stream.next() => next,
        };
        match next {
            None => break,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "read ended");
                break;
            }
            Some(Ok(Message::Text(text))) => shared.on_text(text),
            Some(Ok(Message::Ping(_))) => {
                shared.lock().pings += 1;
                shared.bump();
            }
            Some(Ok(Message::Close(frame))) => {
                tracing::info!(?frame, "close frame received");
                // The connection is over for us now, even if the server is slow to
                // drop the TCP connection after our close echo.
                let mut state = shared.lock();
                let we_closed = state.closing;
                if state.generation == generation && !we_closed {
                    state.server_closed = true;
                    state.pending = None;
                }
                drop(state);
                shared.bump();
                if we_closed {
                    // The echo of our close: the closing handshake is complete.
                    break;
                }
            }
            Some(Ok(Message::Binary(bytes))) => {
                tracing::warn!(len = bytes.len(), "binary frame from the server ignored");
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
        }
    }
    {
        let mut state = shared.lock();
        if state
            .conn
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            if !state.closing {
                state.server_closed = true;
            }
            state.conn = None;
            // Our outstanding CALL, if any, fails with Closed.
            state.pending = None;
        }
    }
    tracing::info!(identity = %shared.config.identity, generation, "disconnected");
    shared.bump();
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig {
        max_message_size: Some(MAX_MESSAGE_SIZE),
        max_frame_size: Some(MAX_MESSAGE_SIZE),
        ..WebSocketConfig::default()
    }
}

fn map_handshake_error(error: WsError) -> SimError {
    match error {
        WsError::Http(response) => SimError::Handshake {
            status: response.status().as_u16(),
        },
        WsError::Protocol(e) => SimError::Protocol(e.to_string()),
        other => SimError::Connect(other.to_string()),
    }
}

/// Percent-encodes `segment` for use as one URL path segment (RFC 3986 unreserved
/// characters stay as they are).
pub(crate) fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The full URL a charger connects to: base URL + `/` + encoded identity.
pub(crate) fn charger_url(config: &ChargerConfig) -> String {
    format!(
        "{}/{}",
        config.url.trim_end_matches('/'),
        encode_path_segment(&config.identity)
    )
}

fn build_request(config: &ChargerConfig, password: Option<&str>) -> Result<Request, SimError> {
    use base64::Engine as _;
    let url = charger_url(config);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| SimError::Connect(format!("bad URL {url}: {e}")))?;
    let header = |value: String| {
        HeaderValue::from_str(&value).map_err(|e| SimError::Connect(format!("bad header: {e}")))
    };
    if !config.subprotocols.is_empty() {
        // No spaces: tungstenite splits the offer on ',' when checking the answer.
        let offer = header(config.subprotocols.join(","))?;
        request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, offer);
    }
    if let Some(password) = password {
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", config.identity));
        let value = header(format!("Basic {credentials}"))?;
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(request)
}

fn host_and_port(request: &Request) -> Result<(String, u16), SimError> {
    let uri = request.uri();
    match uri.scheme_str() {
        Some("ws") => {}
        Some(other) => {
            return Err(SimError::Connect(format!(
                "scheme {other} not supported (only ws://)"
            )))
        }
        None => return Err(SimError::Connect("URL has no scheme".into())),
    }
    let host = uri
        .host()
        .ok_or_else(|| SimError::Connect("URL has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, uri.port_u16().unwrap_or(80)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_percent_encoded_as_last_segment() {
        let config = ChargerConfig::new("ws://127.0.0.1:9000/ocpp/", "CP 1/ü");
        assert_eq!(
            charger_url(&config),
            "ws://127.0.0.1:9000/ocpp/CP%201%2F%C3%BC"
        );
    }

    #[test]
    fn request_carries_subprotocols_and_basic_auth() {
        let mut config = ChargerConfig::new("ws://127.0.0.1:9000/ocpp", "CP1");
        config.subprotocols = vec!["ocpp1.6".into(), "ocpp2.0.1".into()];
        let request = build_request(&config, Some("secret")).unwrap();
        assert_eq!(
            request.headers()[SEC_WEBSOCKET_PROTOCOL],
            "ocpp1.6,ocpp2.0.1"
        );
        // base64("CP1:secret")
        assert_eq!(request.headers()[AUTHORIZATION], "Basic Q1AxOnNlY3JldA==");
        config.subprotocols.clear();
        let request = build_request(&config, None).unwrap();
        assert!(request.headers().get(SEC_WEBSOCKET_PROTOCOL).is_none());
        assert!(request.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn only_ws_urls_are_supported() {
        let config = ChargerConfig::new("wss://example.com/ocpp", "CP1");
        let request = build_request(&config, None).unwrap();
        assert!(matches!(host_and_port(&request), Err(SimError::Connect(_))));
        let config = ChargerConfig::new("ws://[::1]/ocpp", "CP1");
        let request = build_request(&config, None).unwrap();
        assert_eq!(host_and_port(&request).unwrap(), ("::1".to_owned(), 80));
    }
}
