//! The OCPP message log, gateway side: capture every text frame in and out of a
//! charger connection, off the hot path, and write them in batches.
//!
//! A connection task only builds a [`CapturedFrame`] (the raw text, direction, the
//! action it knows, timestamp, round trip) and hands it to [`MessageCapture::record`],
//! a non-blocking `try_send` into a bounded channel; when the channel is full the frame
//! is dropped and counted in `csms_message_log_dropped_total`. The [`MessageLogWriter`]
//! task drains the channel with `recv_many`, works out each frame's type and message id,
//! masks secrets with [`mask_secrets`] (the same function the gateway's logs use), stores
//! the batch in one statement, publishes the stored rows on a broadcast channel for the
//! live stream, and enforces the retention (per-station count, age).

use std::collections::HashMap;
use std::time::Duration;

use model::message_log::{self, Direction, FrameType, Message, NewMessage};
use model::Db;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Metrics;

/// What replaces a secret in logs and in the message log (the catalogue's mask).
pub use model::config::catalogue::MASK;

/// Masks secrets anywhere in an OCPP-J frame (or payload): every object whose `key` is a
/// write-only configuration key of the catalogue (`AuthorizationKey`, any case) has its
/// `value` replaced by [`MASK`] — a ChangeConfiguration request, or a GetConfiguration
/// answer that lists the key. Returns whether anything was masked. The gateway's logs
/// and the message log both mask with this one function.
pub fn mask_secrets(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut masked = false;
            let secret = map
                .get("key")
                .and_then(Value::as_str)
                .is_some_and(model::config::catalogue::is_write_only);
            if secret {
                if let Some(v) = map.get_mut("value") {
                    *v = Value::String(MASK.into());
                    masked = true;
                }
            }
            for child in map.values_mut() {
                masked |= mask_secrets(child);
            }
            masked
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |masked, item| mask_secrets(item) | masked),
        _ => false,
    }
}

/// A frame's text as it may be logged: secrets masked (the text unchanged when there
/// are none or it is not JSON).
pub(crate) fn masked_text(text: &str) -> std::borrow::Cow<'_, str> {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            if mask_secrets(&mut value) {
                value.to_string().into()
            } else {
                text.into()
            }
        }
        Err(_) => text.into(),
    }
}

/// One frame as the connection saw it; the writer works out the rest.
#[derive(Debug)]
pub struct CapturedFrame {
    /// The chargestation `_id`.
    pub station_id: String,
    /// The charger identity.
    pub identity: String,
    pub direction: Direction,
    /// The frame's text, unmasked (masked by the writer).
    pub text: String,
    /// The action, for an answer: of the CALL it answers (a CALL carries its own).
    pub action: Option<String>,
    /// When it was read or written, Unix milliseconds from the injected clock.
    pub timestamp: i64,
    /// For the answer of an answered CALL: milliseconds since the CALL.
    pub round_trip_ms: Option<i64>,
}

/// The capture side, held by the gateway: cheap to clone; disabled by default.
#[derive(Debug, Clone, Default)]
pub struct MessageCapture {
    sender: Option<mpsc::Sender<CapturedFrame>>,
}

impl MessageCapture {
    /// A capture that records nothing (`message_log_enabled = false`).
    pub fn disabled() -> MessageCapture {
        MessageCapture::default()
    }

    /// Whether frames are captured at all.
    pub fn is_enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Hands a frame to the writer without waiting; when the channel is full, the frame
    /// is dropped and counted.
    pub(crate) fn record(&self, metrics: &Metrics, frame: CapturedFrame) {
        let Some(sender) = &self.sender else {
            return;
        };
        match sender.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => metrics.message_log_dropped(),
            // The writer stopped (shutdown): nothing to do.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

impl crate::Shared {
    /// Captures one frame for the message log (nothing when disabled): the text is
    /// copied and handed over without waiting, timestamped by the injected clock.
    pub(crate) fn capture_frame(
        &self,
        station_id: &str,
        identity: &str,
        direction: Direction,
        text: &str,
        action: Option<&str>,
        round_trip: Option<Duration>,
    ) {
        let capture = &self.config.message_log;
        if !capture.is_enabled() {
            return;
        }
        capture.record(
            &self.metrics,
            CapturedFrame {
                station_id: station_id.to_owned(),
                identity: identity.to_owned(),
                direction,
                text: text.to_owned(),
                action: action.map(str::to_owned),
                timestamp: self.db.now_ms(),
                round_trip_ms: round_trip.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            },
        );
    }
}

/// How the message log is kept.
#[derive(Debug, Clone)]
pub struct MessageLogConfig {
    /// Capture at all (`message_log_enabled`).
    pub enabled: bool,
    /// The most frames kept per chargestation; 0 = no count limit.
    pub max_per_station: u64,
    /// Frames older than this are deleted; zero = no age limit.
    pub max_age: Duration,
    /// Frames waiting for the writer before new ones are dropped.
    pub channel_capacity: usize,
    /// The most frames stored in one statement.
    pub batch_size: usize,
    /// Age pruning runs at least this often (by the injected clock while frames flow,
    /// and on a timer while idle).
    pub prune_interval: Duration,
}

impl Default for MessageLogConfig {
    fn default() -> Self {
        MessageLogConfig {
            enabled: true,
            max_per_station: 10_000,
            max_age: Duration::from_secs(168 * 3600),
            channel_capacity: 16_384,
            batch_size: 256,
            prune_interval: Duration::from_secs(60),
        }
    }
}

/// How many stored frames the live stream buffers per subscriber before a slow one
/// skips ahead.
const LIVE_CAPACITY: usize = 1024;

/// The message log: the capture handle for the gateway, the live feed for the API, and
/// the writer to spawn.
pub struct MessageLog {
    capture: MessageCapture,
    live: broadcast::Sender<Message>,
    writer: Option<MessageLogWriter>,
}

impl MessageLog {
    /// A message log over `db`; counts drops into `metrics`.
    pub fn new(db: Db, config: MessageLogConfig) -> MessageLog {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        if !config.enabled {
            return MessageLog {
                capture: MessageCapture::disabled(),
                live,
                writer: None,
            };
        }
        let (sender, receiver) = mpsc::channel(config.channel_capacity.max(1));
        MessageLog {
            capture: MessageCapture {
                sender: Some(sender),
            },
            writer: Some(MessageLogWriter {
                db,
                receiver,
                live: live.clone(),
                pending_per_station: HashMap::new(),
                last_prune_ms: None,
                config,
            }),
            live,
        }
    }

    /// The capture handle, for [`crate::GatewayConfig::message_log`].
    pub fn capture(&self) -> MessageCapture {
        self.capture.clone()
    }

    /// The live feed of stored frames (subscribe for the stream).
    pub fn live(&self) -> broadcast::Sender<Message> {
        self.live.clone()
    }

    /// Starts the writer (nothing when disabled); it stops, after storing what it
    /// already received, when `shutdown` is cancelled.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        match self.writer {
            Some(writer) => tokio::spawn(writer.run(shutdown)),
            None => tokio::spawn(async {}),
        }
    }
}

/// The task that stores captured frames in batches and prunes.
pub struct MessageLogWriter {
    db: Db,
    receiver: mpsc::Receiver<CapturedFrame>,
    live: broadcast::Sender<Message>,
    /// Frames stored per station since its last count pruning.
    pending_per_station: HashMap<String, u64>,
    /// When (injected clock) the last age pruning ran; `None` before the first.
    last_prune_ms: Option<i64>,
    config: MessageLogConfig,
}

impl MessageLogWriter {
    async fn run(mut self, shutdown: CancellationToken) {
        let batch_size = self.config.batch_size.max(1);
        let mut batch = Vec::with_capacity(batch_size);
        let mut idle_prune =
            tokio::time::interval(self.config.prune_interval.max(Duration::from_secs(1)));
        idle_prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                received = self.receiver.recv_many(&mut batch, batch_size) => {
                    if received == 0 {
                        break;
                    }
                    self.store(&mut batch).await;
                    self.prune_if_due().await;
                }
                _ = idle_prune.tick() => self.prune_if_due().await,
            }
        }
        // Store what is already captured, without waiting for more.
        while let Ok(frame) = self.receiver.try_recv() {
            batch.push(frame);
            if batch.len() >= batch_size {
                self.store(&mut batch).await;
            }
        }
        self.store(&mut batch).await;
    }

    async fn store(&mut self, batch: &mut Vec<CapturedFrame>) {
        if batch.is_empty() {
            return;
        }
        let rows: Vec<NewMessage> = batch.drain(..).map(to_new_message).collect();
        let count = rows.len();
        match message_log::insert_batch(&self.db, rows).await {
            Ok(stored) => {
                for message in stored {
                    *self
                        .pending_per_station
                        .entry(message.chargestation_id.clone())
                        .or_default() += 1;
                    // No subscriber is fine; a lagging one skips (never blocks us).
                    let _ = self.live.send(message);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, frames = count, "could not store message-log frames; dropped");
            }
        }
        self.prune_stations().await;
    }

    /// Count pruning of the stations that grew by a tenth of the limit (at least one
    /// frame) since their last pruning: a station holds at most 110 % of the limit.
    async fn prune_stations(&mut self) {
        let max = self.config.max_per_station;
        if max == 0 {
            self.pending_per_station.clear();
            return;
        }
        let slack = (max / 10).max(1);
        let due: Vec<String> = self
            .pending_per_station
            .iter()
            .filter(|(_, grown)| **grown >= slack)
            .map(|(station, _)| station.clone())
            .collect();
        for station in due {
            self.pending_per_station.remove(&station);
            if let Err(e) = message_log::prune_station(&self.db, &station, max).await {
                tracing::warn!(error = %e, station, "could not prune the message log");
            }
        }
    }

    /// Age pruning (and, the first time, count pruning of every station) once the
    /// injected clock moved `prune_interval` since the last one.
    async fn prune_if_due(&mut self) {
        let now = self.db.now_ms();
        let interval = i64::try_from(self.config.prune_interval.as_millis()).unwrap_or(i64::MAX);
        let first = self.last_prune_ms.is_none();
        if self
            .last_prune_ms
            .is_some_and(|last| now.saturating_sub(last) < interval)
        {
            return;
        }
        self.last_prune_ms = Some(now);
        if first && self.config.max_per_station > 0 {
            // Settings may have lowered the limit since the last run.
            match message_log::stations_over(&self.db, self.config.max_per_station).await {
                Ok(stations) => {
                    for station in stations {
                        if let Err(e) = message_log::prune_station(
                            &self.db,
                            &station,
                            self.config.max_per_station,
                        )
                        .await
                        {
                            tracing::warn!(error = %e, station, "could not prune the message log");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not prune the message log"),
            }
        }
        if self.config.max_age.is_zero() {
            return;
        }
        let max_age = i64::try_from(self.config.max_age.as_millis()).unwrap_or(i64::MAX);
        match message_log::prune_older_than(&self.db, now.saturating_sub(max_age)).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "message log pruned by age"),
            Err(e) => tracing::warn!(error = %e, "could not prune the message log"),
        }
    }
}

/// Reads a captured frame: its type, message id and (for a CALL) action from the JSON,
/// secrets masked; a frame that is not JSON is kept as a JSON string of its text.
fn to_new_message(frame: CapturedFrame) -> NewMessage {
    let (payload, frame_type, message_id, call_action) =
        match serde_json::from_str::<Value>(&frame.text) {
            // Absent values are never `null` in the API: a `null` frame is kept as text.
            Ok(Value::Null) => (Value::String(frame.text), None, None, None),
            Ok(mut value) => {
                mask_secrets(&mut value);
                let (frame_type, message_id, action) = match value.as_array() {
                    Some(items) => {
                        let frame_type = items
                            .first()
                            .and_then(Value::as_u64)
                            .and_then(FrameType::from_number);
                        let message_id = items.get(1).and_then(Value::as_str).map(str::to_owned);
                        let action = match frame_type {
                            Some(FrameType::Call) => {
                                items.get(2).and_then(Value::as_str).map(str::to_owned)
                            }
                            _ => None,
                        };
                        (frame_type, message_id, action)
                    }
                    None => (None, None, None),
                };
                (value, frame_type, message_id, action)
            }
            Err(_) => (Value::String(frame.text), None, None, None),
        };
    NewMessage {
        chargestation_id: frame.station_id,
        identity: frame.identity,
        direction: frame.direction,
        frame_type,
        action: call_action.or(frame.action),
        message_id,
        payload,
        timestamp: frame.timestamp,
        round_trip_ms: frame.round_trip_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn captured(text: &str, action: Option<&str>) -> CapturedFrame {
        CapturedFrame {
            station_id: "s".into(),
            identity: "CP-1".into(),
            direction: Direction::Out,
            text: text.into(),
            action: action.map(str::to_owned),
            timestamp: 1,
            round_trip_ms: None,
        }
    }

    #[test]
    fn a_full_channel_drops_and_counts_instead_of_waiting() {
        let metrics = Metrics::new().unwrap();
        let (sender, mut receiver) = mpsc::channel(1);
        let capture = MessageCapture {
            sender: Some(sender),
        };
        capture.record(&metrics, captured("[2,\"1\",\"Heartbeat\",{}]", None));
        capture.record(&metrics, captured("[2,\"2\",\"Heartbeat\",{}]", None));
        assert_eq!(metrics.message_log_dropped_total(), 1);
        assert!(metrics
            .render()
            .unwrap()
            .contains("csms_message_log_dropped_total 1"));
        assert!(receiver.try_recv().unwrap().text.contains("\"1\""));
        MessageCapture::disabled().record(&metrics, captured("x", None));
        assert_eq!(metrics.message_log_dropped_total(), 1);
    }

    #[test]
    fn masks_authorization_key_in_a_change_and_in_a_configuration_listing() {
        let mut change =
            json!([2, "1", "ChangeConfiguration", {"key": "authorizationkey", "value": "s3cret"}]);
        assert!(mask_secrets(&mut change));
        assert_eq!(change[3]["value"], MASK);
        let mut listing = json!([3, "1", {"configurationKey": [
            {"key": "AuthorizationKey", "readonly": false, "value": "s3cret"},
            {"key": "HeartbeatInterval", "readonly": false, "value": "60"}
        ]}]);
        assert!(mask_secrets(&mut listing));
        assert_eq!(listing[2]["configurationKey"][0]["value"], MASK);
        assert_eq!(listing[2]["configurationKey"][1]["value"], "60");
        let mut plain =
            json!([2, "1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}]);
        assert!(!mask_secrets(&mut plain));
    }

    #[test]
    fn masked_text_keeps_frames_without_secrets_as_they_are() {
        let text = r#"[2,"1","Heartbeat",{}]"#;
        assert_eq!(masked_text(text), text);
        assert_eq!(masked_text("not json"), "not json");
        assert!(!masked_text(
            r#"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"s3cret"}]"#
        )
        .contains("s3cret"));
    }

    #[test]
    fn reads_type_message_id_and_action_of_frames() {
        let call = to_new_message(captured(r#"[2,"19","Heartbeat",{}]"#, None));
        assert_eq!(call.frame_type, Some(FrameType::Call));
        assert_eq!(call.message_id.as_deref(), Some("19"));
        assert_eq!(call.action.as_deref(), Some("Heartbeat"));
        let answer = to_new_message(captured(
            r#"[3,"19",{"currentTime":"x"}]"#,
            Some("Heartbeat"),
        ));
        assert_eq!(answer.frame_type, Some(FrameType::CallResult));
        assert_eq!(answer.action.as_deref(), Some("Heartbeat"));
        let error = to_new_message(captured(r#"[4,"7","NotImplemented","",{}]"#, None));
        assert_eq!(error.frame_type, Some(FrameType::CallError));
        assert_eq!(error.action, None);
        assert_eq!(
            to_new_message(captured("null", None)).payload,
            json!("null")
        );
        let garbage = to_new_message(captured("{not json", None));
        assert_eq!(garbage.frame_type, None);
        assert_eq!(garbage.payload, json!("{not json"));
    }
}
