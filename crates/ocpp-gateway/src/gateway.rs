//! The `Gateway` handle: the narrow interface other crates use to reach chargers
//! (send a CALL and await its answer) and to learn about connections and boots.

use std::sync::Arc;
use std::time::Duration;

use ocpp::frame::{new_message_id, Call, Frame};
use ocpp::OcppRequest;
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use crate::message_log::masked_text;
use crate::registry::{PendingCall, Registry};
use crate::CallFailure;
use model::message_log::Direction;

/// Something that happened on the charger side that other parts react to.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    /// A charger connected (and is registered as the station's connection).
    Connected { station_id: String },
    /// A charger sent a BootNotification; `boot_count` is 1 for the first boot ever seen.
    Booted { station_id: String, boot_count: i64 },
    /// A charger's connection ended (and no newer one replaced it).
    Disconnected { station_id: String },
}

/// A cheap, cloneable handle to the connected chargers.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) registry: Registry,
    pub(crate) events: broadcast::Sender<GatewayEvent>,
    pub(crate) shared: Arc<crate::Shared>,
}

impl Gateway {
    /// Whether a station is connected to this instance.
    pub fn is_connected(&self, station_id: &str) -> bool {
        self.registry.get(station_id).is_some()
    }

    /// How many chargers are connected to this instance.
    pub fn connected_count(&self) -> usize {
        self.registry.len()
    }

    /// Subscribes to connection and boot events.
    pub fn subscribe(&self) -> broadcast::Receiver<GatewayEvent> {
        self.events.subscribe()
    }

    /// Sends a typed CALL and awaits its typed answer.
    ///
    /// # Errors
    /// See [`Gateway::call_raw`]; also [`CallFailure::BadResponse`] when the answer does
    /// not parse as `R::Response`.
    pub async fn call<R: OcppRequest>(
        &self,
        station_id: &str,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, CallFailure> {
        let payload = serde_json::to_value(request)
            .map_err(|e| CallFailure::BadResponse(format!("cannot serialise request: {e}")))?;
        let answer = self
            .call_raw(station_id, R::ACTION, payload, timeout)
            .await?;
        ocpp::parse_payload::<R::Response>(&answer)
            .map_err(|e| CallFailure::BadResponse(e.description))
    }

    /// Sends a CALL with a JSON payload and awaits the answer's payload. At most one of
    /// our CALLs is outstanding per charger: later calls wait their turn (for at most
    /// `timeout`), then the answer is awaited for `timeout`.
    ///
    /// # Errors
    /// `NotConnected`, `Timeout`, `Disconnected`, or `CallError` with the charger's code.
    pub async fn call_raw(
        &self,
        station_id: &str,
        action: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<Value, CallFailure> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let metrics = &self.shared.metrics;
        let Some(handle) = self.registry.get(station_id) else {
            metrics.outbound(action, "not_connected", None);
            return Err(CallFailure::NotConnected);
        };
        let Ok(_slot) = tokio::time::timeout(timeout, handle.call_slot.lock()).await else {
            metrics.outbound(action, "timeout", None);
            return Err(CallFailure::Timeout(timeout_ms));
        };
        let message_id = new_message_id();
        let (tx, rx) = oneshot::channel();
        let frame = Frame::Call(Call {
            message_id: message_id.clone(),
            action: action.to_owned(),
            payload,
        });
        let text = frame.to_text();
        tracing::debug!(identity = %handle.identity, action, message_id, direction = "out", frame = %masked_text(&text), "ocpp call");
        self.shared.capture_frame(
            &handle.station_id,
            &handle.identity,
            Direction::Out,
            &text,
            Some(action),
            None,
        );
        // The connection task writes it; a charger that stopped reading makes that task
        // end the connection, which fails this call as `Disconnected`.
        let sent = std::time::Instant::now();
        handle.send_call(
            message_id.clone(),
            PendingCall {
                responder: tx,
                action: action.to_owned(),
                sent_at: sent,
            },
            text,
        );
        let result = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(CallFailure::Disconnected),
            Err(_) => {
                // Withdrawn: not awaited any more, and not written later if the
                // connection task has not got to it (we still hold the call slot, so
                // the outbox holds nothing but this call).
                handle.take_pending(&message_id);
                handle.take_outbox();
                tracing::warn!(identity = %handle.identity, action, message_id, "ocpp call timed out");
                Err(CallFailure::Timeout(timeout_ms))
            }
        };
        let latency = sent.elapsed();
        let (outcome, answered) = match &result {
            Ok(_) => ("result", true),
            Err(CallFailure::CallError { .. }) => ("callerror", true),
            Err(CallFailure::Timeout(_)) => ("timeout", false),
            Err(_) => ("disconnected", false),
        };
        metrics.outbound(action, outcome, answered.then_some(latency.as_secs_f64()));
        tracing::info!(
            identity = %handle.identity,
            action,
            message_id,
            outcome,
            latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            "ocpp call answered"
        );
        result
    }

    /// Closes this instance's connection of a station if it is older than `generation`
    /// (the station connected again, to another instance).
    pub fn close_if_older(&self, station_id: &str, generation: i64) {
        if let Some(handle) = self.registry.get(station_id) {
            if handle.generation < generation {
                tracing::info!(identity = %handle.identity, "the charger connected to another instance; closing here");
                handle.close.cancel();
            }
        }
    }

    /// The charger-facing base URL (for `connection_url` in events).
    pub fn public_base_url(&self) -> &str {
        &self.shared.config.public_base_url
    }

    /// This instance's id.
    pub fn instance_id(&self) -> &str {
        &self.shared.config.instance_id
    }

    /// Closes a station's connection (e.g. after the station was deleted).
    pub fn disconnect(&self, station_id: &str) {
        if let Some(handle) = self.registry.get(station_id) {
            handle.close.cancel();
        }
    }
}
