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
    if !may_hold_secret(text) {
        return text.into();
    }
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

/// Whether a frame's text may hold the value of a write-only key: it names one (any
/// case), or it has a JSON escape that could spell one. Frames that cannot are stored
/// as they are, without being parsed into a tree and written again.
fn may_hold_secret(text: &str) -> bool {
    text.contains('\\')
        || model::config::catalogue::CATALOGUE
            .iter()
            .filter(|key| key.is_write_only())
            .any(|key| contains_ignore_ascii_case(text, key.name))
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty()
        && haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
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
    /// How long the writer waits for more frames before storing a batch that is not
    /// full; zero stores at once.
    pub linger: Duration,
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
            // Large batches: under load each commit rewrites fewer index pages per frame
            // (a batch's frames come from many stations); 10 values a row stays under
            // SQLite's 32766 and PostgreSQL's 65535 bind parameters.
            batch_size: 2048,
            linger: Duration::from_millis(50),
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

/// Runs `work` (a batch's insert, a pruning) so that it does not hold up the tasks
/// queued on the runtime worker it runs on. On SQLite a statement runs in place on the
/// calling thread (ADR 0009), and a batch of a few hundred frames, with its indexes,
/// keeps that thread for milliseconds: on a multi-threaded runtime the worker's other
/// tasks (charger connections answering Heartbeats) are handed to another thread for
/// that time ([`tokio::task::block_in_place`]) instead of waiting behind the batch.
/// Elsewhere (a current-thread runtime, as in tests), or when `in_place` is false (on
/// PostgreSQL the work awaits the network and holds no thread), `work` is simply
/// awaited.
async fn off_the_worker<T>(in_place: bool, work: impl std::future::Future<Output = T>) -> T {
    let handle = tokio::runtime::Handle::current();
    if in_place && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(|| handle.block_on(work))
    } else {
        work.await
    }
}

impl MessageLogWriter {
    async fn run(mut self, shutdown: CancellationToken) {
        let batch_size = self.config.batch_size.max(1);
        let in_place = !self.db.is_postgres();
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
                    gather(&mut self.receiver, &mut batch, batch_size, self.config.linger).await;
                    off_the_worker(in_place, async {
                        self.store(&mut batch).await;
                        self.prune_if_due().await;
                    })
                    .await;
                }
                _ = idle_prune.tick() => off_the_worker(in_place, self.prune_if_due()).await,
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
        match message_log::insert_batch(&self.db, &rows).await {
            Ok(ids) => {
                // Stored before the check: a stream opening later misses none of its frames.
                let watched = self.live.receiver_count() > 0;
                for (row, id) in rows.into_iter().zip(ids) {
                    match self.pending_per_station.get_mut(&row.chargestation_id) {
                        Some(grown) => *grown += 1,
                        None => {
                            self.pending_per_station
                                .insert(row.chargestation_id.clone(), 1);
                        }
                    }
                    if watched {
                        // A lagging subscriber skips (never blocks us).
                        let _ = self.live.send(row.into_stored(id));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, frames = rows.len(), "could not store message-log frames; dropped");
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

/// Reads a captured frame: its type, message id and (for a CALL) action from the JSON
/// (validated, not built into a tree), secrets masked in the frames that may hold one;
/// the text is stored as it is otherwise. A frame that is not JSON (or is `null`: absent
/// values are never `null` in the API) is kept as a JSON string of its text.
fn to_new_message(frame: CapturedFrame) -> NewMessage {
    let (payload, head) = match Head::read(&frame.text) {
        Some(head) if !head.null => (masked_payload(frame.text), head),
        _ => (Value::String(frame.text).to_string(), Head::default()),
    };
    NewMessage {
        chargestation_id: frame.station_id,
        identity: frame.identity,
        direction: frame.direction,
        frame_type: head.frame_type,
        action: head.action.or(frame.action),
        message_id: head.message_id,
        payload,
        timestamp: frame.timestamp,
        round_trip_ms: frame.round_trip_ms,
    }
}

/// [`masked_text`] keeping the frame's own `String` when nothing was masked.
fn masked_payload(text: String) -> String {
    match masked_text(&text) {
        std::borrow::Cow::Owned(masked) => masked,
        std::borrow::Cow::Borrowed(_) => text,
    }
}

/// What the writer reads of a frame's JSON without building a tree of it: the value is
/// validated and skipped, only the array head is kept.
#[derive(Debug, Default, PartialEq)]
struct Head {
    /// The JSON is `null`.
    null: bool,
    frame_type: Option<FrameType>,
    message_id: Option<String>,
    /// The third item of a CALL.
    action: Option<String>,
}

impl Head {
    /// The head of `text`; `None` when it is not JSON.
    fn read(text: &str) -> Option<Head> {
        serde_json::from_str(text).ok()
    }
}

impl<'de> serde::Deserialize<'de> for Head {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Head, D::Error> {
        deserializer.deserialize_any(HeadVisitor)
    }
}

struct HeadVisitor;

impl<'de> serde::de::Visitor<'de> for HeadVisitor {
    type Value = Head;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Head, E> {
        Ok(Head {
            null: true,
            ..Head::default()
        })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Head, A::Error> {
        let mut head = Head::default();
        if let Some(Scalar::U64(number)) = items.next_element::<Scalar>()? {
            head.frame_type = FrameType::from_number(number);
        }
        if let Some(Scalar::Str(id)) = items.next_element::<Scalar>()? {
            head.message_id = Some(id);
        }
        if let Some(Scalar::Str(action)) = items.next_element::<Scalar>()? {
            if head.frame_type == Some(FrameType::Call) {
                head.action = Some(action);
            }
        }
        while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(head)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Head::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Head, E> {
        Ok(Head::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Head, E> {
        Ok(Head::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Head, E> {
        Ok(Head::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Head, E> {
        Ok(Head::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Head, E> {
        Ok(Head::default())
    }
}

/// One item of the head: a non-negative integer, a string, or anything else (skipped).
enum Scalar {
    U64(u64),
    Str(String),
    Other,
}

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
        Ok(Scalar::U64(n))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(s.to_owned()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Scalar, A::Error> {
        while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Other)
    }
}

/// Waits up to `linger` for more frames (or a full batch) before a batch is stored, so
/// that frames go in a few large commits rather than many small ones (each commit
/// rewrites the index pages its frames touch: a frame of each of 1,000 stations touches
/// about 1,000 leaf pages, in one commit or in a thousand). While SQLite's statements
/// were handed to sqlx's thread, frames gathered during that round trip by themselves;
/// run in place (ADR 0009), the insert would otherwise start as soon as one frame
/// waits. Frames are on no charger's path: they only reach the log (and its live stream)
/// this much later.
async fn gather<T>(
    receiver: &mut mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    batch_size: usize,
    linger: Duration,
) {
    if linger.is_zero() {
        return;
    }
    let deadline = tokio::time::sleep(linger);
    tokio::pin!(deadline);
    while batch.len() < batch_size {
        tokio::select! {
            () = &mut deadline => return,
            received = receiver.recv_many(batch, batch_size - batch.len()) => {
                if received == 0 {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn work_off_the_worker_lets_the_workers_other_tasks_run_meanwhile() {
        // One worker: a task blocking it in place would leave no thread for the other.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answered = runtime.block_on(async {
            let (sender, receiver) = std::sync::mpsc::channel();
            // Blocks its thread (as a batch insert on SQLite does) until the next task ran.
            let blocking = tokio::spawn(off_the_worker(true, async move {
                receiver.recv_timeout(Duration::from_secs(10))
            }));
            tokio::spawn(async move { sender.send(()) });
            blocking.await.unwrap()
        });
        assert_eq!(
            answered,
            Ok(()),
            "the other task ran while the work held its thread"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_waits_the_linger_for_more_frames_unless_it_fills_up() {
        let linger = Duration::from_millis(10);
        let (sender, mut receiver) = mpsc::channel(16);
        let late = sender.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(4)).await;
            sender.send(2).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            late.send(3).await.unwrap();
        });
        let started = tokio::time::Instant::now();
        let mut batch = vec![1];
        gather(&mut receiver, &mut batch, 100, linger).await;
        assert_eq!(
            batch,
            [1, 2],
            "the frame within the linger joins, the later one not"
        );
        assert_eq!(started.elapsed(), linger);

        // A full batch goes at once; no linger goes at once too.
        let (sender, mut receiver) = mpsc::channel(16);
        sender.send(5).await.unwrap();
        let started = tokio::time::Instant::now();
        let mut batch = vec![4];
        gather(&mut receiver, &mut batch, 2, linger).await;
        assert_eq!((batch, started.elapsed()), (vec![4, 5], Duration::ZERO));
        let mut batch = vec![6];
        gather(&mut receiver, &mut batch, 100, Duration::ZERO).await;
        assert_eq!((batch, started.elapsed()), (vec![6], Duration::ZERO));
    }

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
            json!("null").to_string()
        );
        let garbage = to_new_message(captured("{not json", None));
        assert_eq!(garbage.frame_type, None);
        assert_eq!(garbage.payload, json!("{not json").to_string());
        let odd = to_new_message(captured(r#"[2.0,"1","Heartbeat",{}]"#, None));
        assert_eq!((odd.frame_type, odd.action), (None, None));
        assert_eq!(odd.message_id.as_deref(), Some("1"));
        let object = to_new_message(captured(r#"{"a":[1,{"b":2}]}"#, None));
        assert_eq!((object.frame_type, object.message_id), (None, None));
        let nested = to_new_message(captured(r#"[[3],{"x":1},"y"]"#, None));
        assert_eq!((nested.frame_type, nested.message_id), (None, None));
    }

    #[test]
    fn frames_without_secrets_are_stored_as_sent_without_re_serialising() {
        let text = r#"[2, "19", "Heartbeat", {}]"#;
        assert_eq!(to_new_message(captured(text, None)).payload, text);
        let config = r#"[2,"1","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}]"#;
        assert_eq!(to_new_message(captured(config, None)).payload, config);
    }

    #[test]
    fn secrets_are_masked_however_the_key_is_spelled() {
        for text in [
            r#"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"s3cret"}]"#,
            r#"[2,"1","ChangeConfiguration",{"key":"AUTHORIZATIONKEY","value":"s3cret"}]"#,
            r#"[3,"1",{"configurationKey":[{"key":"Authorization\u004bey","value":"s3cret"}]}]"#,
        ] {
            let stored = to_new_message(captured(text, None));
            assert!(!stored.payload.contains("s3cret"), "{text}");
            assert!(stored.payload.contains(MASK), "{text}");
            assert!(!masked_text(text).contains("s3cret"), "{text}");
        }
    }
}
