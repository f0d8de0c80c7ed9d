//! The public handle of one connected simulated charger: [`Charger`].
//!
//! Every method is cheap and usable from any tokio runtime (`#[tokio::test]`,
//! `#[actix_web::test]`); waiting methods take a deadline and never sleep-poll. The
//! socket work itself happens in tasks owned by `connection.rs`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ocpp::frame::{Call, CallError, CallResult, Frame};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::config::{ChargerConfig, KeyBehaviour};
use crate::connection::{Shared, CLOSE_GRACE, DEFAULT_CALL_TIMEOUT};
use crate::SimError;

/// A connected simulated OCPP 1.6J charger.
///
/// Dropping it closes the connection (a close frame, then the socket) and stops any
/// reboot in progress; [`Charger::disconnect`] does the same but waits for the server's
/// close echo.
pub struct Charger {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Charger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Charger")
            .field("identity", &self.shared.config.identity)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Charger {
    /// Opens the WebSocket connection (handshake only; nothing is sent).
    ///
    /// # Errors
    /// [`SimError::Handshake`] with the HTTP status when the server refuses the upgrade
    /// (400, 401, 404, ...); [`SimError::Connect`] when the URL is unusable (only
    /// `ws://` is supported) or the server cannot be reached; [`SimError::Protocol`]
    /// when the server's answer breaks the WebSocket handshake rules (e.g. it picks a
    /// subprotocol that was not offered, or none although one was offered).
    pub async fn connect(config: ChargerConfig) -> Result<Charger, SimError> {
        let shared = Shared::new(config);
        shared.open().await?;
        Ok(Charger { shared })
    }

    /// The identity this charger connects as.
    pub fn identity(&self) -> &str {
        &self.shared.config.identity
    }

    /// The subprotocol the server selected in the handshake, if any.
    pub fn subprotocol(&self) -> Option<String> {
        self.shared.lock().subprotocol.clone()
    }

    /// Sends BootNotification (vendor, model, serial and firmware from the config) and
    /// returns the CALLRESULT payload.
    ///
    /// # Errors
    /// As [`Charger::call`].
    pub async fn boot(&self) -> Result<Value, SimError> {
        self.call("BootNotification", self.shared.boot_payload())
            .await
    }

    /// Sends Heartbeat and returns the CALLRESULT payload.
    ///
    /// # Errors
    /// As [`Charger::call`].
    pub async fn heartbeat(&self) -> Result<Value, SimError> {
        self.call("Heartbeat", json!({})).await
    }

    /// Sends StatusNotification for `connector_id` (0 = the whole charger).
    ///
    /// # Errors
    /// As [`Charger::call`].
    pub async fn status_notification(
        &self,
        connector_id: u32,
        status: &str,
        error_code: &str,
    ) -> Result<Value, SimError> {
        let payload = json!({
            "connectorId": connector_id,
            "errorCode": error_code,
            "status": status,
        });
        self.call("StatusNotification", payload).await
    }

    /// Sends a CALL and waits up to 10 s for its answer. Only one of our CALLs is
    /// outstanding at a time: concurrent callers queue.
    ///
    /// # Errors
    /// [`SimError::CallError`] when the server answers a CALLERROR;
    /// [`SimError::Timeout`] without an answer in time (a late answer is then dropped);
    /// [`SimError::Closed`] when not connected or the connection ends while waiting.
    pub async fn call(&self, action: &str, payload: Value) -> Result<Value, SimError> {
        self.call_with_timeout(action, payload, DEFAULT_CALL_TIMEOUT)
            .await
    }

    /// [`Charger::call`] with an explicit deadline.
    ///
    /// # Errors
    /// As [`Charger::call`].
    pub async fn call_with_timeout(
        &self,
        action: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<Value, SimError> {
        self.shared.call(action, payload, timeout).await
    }

    /// Sends any text frame as it is (for hostile tests).
    ///
    /// # Errors
    /// [`SimError::Closed`] when not connected.
    pub async fn send_raw(&self, text: String) -> Result<(), SimError> {
        self.shared.send_message(Message::Text(text))
    }

    /// Sends a binary frame (which OCPP-J does not allow; for hostile tests).
    ///
    /// # Errors
    /// [`SimError::Closed`] when not connected.
    pub async fn send_binary(&self, bytes: Vec<u8>) -> Result<(), SimError> {
        self.shared.send_message(Message::Binary(bytes))
    }

    /// The next text frame from the server's "raw inbox", waiting up to `timeout`.
    ///
    /// **Every** text frame the server sends is pushed to this unbounded inbox, in
    /// arrival order, whatever else happens to it: CALLs (also when auto-answered),
    /// answers to our own [`Charger::call`]s, late or unknown answers, and unparsable
    /// text. Frames stay in the inbox until read here, across reconnects.
    pub async fn next_raw(&self, timeout: Duration) -> Option<String> {
        tokio::time::timeout(timeout, async {
            self.shared.raw_rx.lock().await.recv().await
        })
        .await
        .ok()
        .flatten()
    }

    /// Every CALL the server sent this charger (across reconnects), in order.
    pub fn received_calls(&self) -> Vec<Call> {
        self.shared.lock().received.clone()
    }

    /// Every text frame this charger sent (across reconnects), in order: its CALLs, its
    /// answers to the server's CALLs (automatic or by hand) and raw frames.
    pub fn sent_frames(&self) -> Vec<String> {
        self.shared.lock().sent.clone()
    }

    /// The first CALL with `action` received and not yet returned by this method (a
    /// cursor per action, so successive calls return successive CALLs), waiting up to
    /// `timeout` for it to arrive.
    ///
    /// # Errors
    /// [`SimError::Timeout`] when none arrives in time.
    pub async fn wait_for_call(&self, action: &str, timeout: Duration) -> Result<Call, SimError> {
        self.shared
            .wait_until(timeout, |state| {
                let start = state.cursors.get(action).copied().unwrap_or(0);
                let (index, call) = state
                    .received
                    .iter()
                    .enumerate()
                    .skip(start)
                    .find(|(_, call)| call.action == action)?;
                let call = call.clone();
                state.cursors.insert(action.to_owned(), index + 1);
                Some(call)
            })
            .await
            .ok_or(SimError::Timeout)
    }

    /// The current value of `key` in the configuration store (the write-only
    /// `AuthorizationKey` included).
    pub fn config_value(&self, key: &str) -> Option<String> {
        self.shared.lock().store.value(key)
    }

    /// Sets how ChangeConfiguration of `key` is answered from now on.
    pub fn set_behaviour(&self, key: &str, behaviour: KeyBehaviour) {
        self.shared
            .lock()
            .store
            .behaviours
            .insert(key.to_owned(), behaviour);
    }

    /// Sets how Reset is answered from now on.
    pub fn set_reset_behaviour(&self, behaviour: KeyBehaviour) {
        self.shared.lock().store.reset_behaviour = behaviour;
    }

    /// How many GetConfiguration requests named more keys than
    /// `get_configuration_max_keys` (they were answered anyway).
    pub fn oversized_get_configuration_requests(&self) -> u64 {
        self.shared.lock().store.oversized_requests
    }

    /// Answers a server CALL with a CALLRESULT by hand.
    ///
    /// # Errors
    /// [`SimError::Closed`] when not connected.
    pub async fn answer(&self, message_id: &str, payload: Value) -> Result<(), SimError> {
        self.shared.send_frame(&Frame::CallResult(CallResult {
            message_id: message_id.to_owned(),
            payload,
        }))
    }

    /// Answers a server CALL with a CALLERROR by hand.
    ///
    /// # Errors
    /// [`SimError::Closed`] when not connected.
    pub async fn answer_error(
        &self,
        message_id: &str,
        code: ocpp::ErrorCode,
        description: &str,
    ) -> Result<(), SimError> {
        self.shared.send_frame(&Frame::CallError(CallError::new(
            message_id,
            code,
            description,
        )))
    }

    /// Whether a connection is open (false while a reboot reconnects).
    pub fn is_connected(&self) -> bool {
        self.shared.lock().is_connected()
    }

    /// Waits up to `timeout` for the server to close (or drop) the current connection;
    /// `true` when it did. A close we started ourselves (reboot, disconnect) does not
    /// count.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| state.server_closed.then_some(()))
            .await
            .is_some()
    }

    /// How many WebSocket pings the server sent (across reconnects).
    pub fn pings_received(&self) -> u64 {
        self.shared.lock().pings
    }

    /// Waits up to `timeout` until at least `count` pings were received.
    pub async fn wait_for_pings(&self, count: u64, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| (state.pings >= count).then_some(()))
            .await
            .is_some()
    }

    /// Whether pings are answered with pongs (default `true`). When `false`, pings are
    /// still read and counted, but the automatic pongs are removed from the outgoing
    /// byte stream, so the server sees a charger that has gone silent at the WebSocket
    /// level and its missed-pong logic fires; everything else keeps flowing.
    pub fn set_answer_pings(&self, answer: bool) {
        self.shared.drop_pongs.store(!answer, Ordering::SeqCst);
    }

    /// How many Reset-triggered reboots completed (reconnected, booted, statuses sent).
    pub fn reboots(&self) -> u64 {
        self.shared.lock().reboots
    }

    /// Waits up to `timeout` until at least `count` reboots completed.
    pub async fn wait_for_reboots(&self, count: u64, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| (state.reboots >= count).then_some(()))
            .await
            .is_some()
    }

    /// Closes the current connection (if any) and opens a new one with the same
    /// identity (and the newest AuthorizationKey as password, if one was set). Sends
    /// nothing after the handshake.
    ///
    /// # Errors
    /// As [`Charger::connect`].
    pub async fn reconnect(&self) -> Result<(), SimError> {
        self.shared.close(CLOSE_GRACE).await;
        self.shared.open().await
    }

    /// Closes the connection gracefully (close frame, wait for the echo) and ends
    /// every task of this charger.
    pub async fn disconnect(self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.close(CLOSE_GRACE).await;
    }
}

impl Drop for Charger {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.abort();
    }
}
