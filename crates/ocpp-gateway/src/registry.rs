//! The session registry: which connection currently speaks for each chargestation.
//!
//! The newest connection wins: registering a newer generation replaces (and closes)
//! the older one, and an older connection's clean-up can only remove its own entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::CallFailure;

/// Where a charger's answer to one of our CALLs is delivered.
pub type Responder = oneshot::Sender<Result<Value, CallFailure>>;

/// One of our CALLs awaiting its answer.
pub struct PendingCall {
    /// Where the answer goes.
    pub responder: Responder,
    /// The CALL's action (the message log names answers by it).
    pub action: String,
    /// When the CALL was written (the answer's round trip is measured from here).
    pub sent_at: std::time::Instant,
}

/// The outbound side of one live connection, shared by the connection task (which owns
/// the socket) and callers sending CALLs. One allocation per connection: the registry,
/// the task and callers hold it by `Arc`.
pub struct Session {
    pub station_id: String,
    pub identity: String,
    pub generation: i64,
    /// Our CALL waiting to be written by the connection task (at most one: see
    /// `call_slot`), with `outbox_ready` signalled when it is put there.
    outbox: Mutex<Option<String>>,
    outbox_ready: Notify,
    /// Our CALLs awaiting an answer, by message id (at most one at a time).
    pending: Mutex<HashMap<String, PendingCall>>,
    /// Held while one of our CALLs is outstanding: one CALL in flight per charger.
    pub call_slot: tokio::sync::Mutex<()>,
    /// Cancelled to make the connection task close the socket.
    pub close: CancellationToken,
}

/// A live connection as the registry and callers hold it.
pub type SessionHandle = Arc<Session>;

impl Session {
    /// A connection of `station_id`'s charger, closed when `close` is cancelled.
    pub fn new(
        station_id: String,
        identity: String,
        generation: i64,
        close: CancellationToken,
    ) -> SessionHandle {
        Arc::new(Session {
            station_id,
            identity,
            generation,
            outbox: Mutex::new(None),
            outbox_ready: Notify::new(),
            pending: Mutex::new(HashMap::new()),
            call_slot: tokio::sync::Mutex::new(()),
            close,
        })
    }

    /// Registers `call` as awaiting the answer to `message_id` and hands its frame to the
    /// connection task to write.
    pub fn send_call(&self, message_id: String, call: PendingCall, text: String) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(message_id, call);
        }
        if let Ok(mut outbox) = self.outbox.lock() {
            *outbox = Some(text);
        }
        self.outbox_ready.notify_one();
    }

    /// Resolves when a CALL was put in the outbox (a signal given while nobody waited is
    /// kept for the next wait).
    pub async fn outbox_ready(&self) {
        self.outbox_ready.notified().await;
    }

    /// Takes the CALL waiting to be written, if any.
    pub fn take_outbox(&self) -> Option<String> {
        self.outbox.lock().ok()?.take()
    }

    /// Takes the waiter for `message_id`, if one is waiting.
    pub fn take_pending(&self, message_id: &str) -> Option<PendingCall> {
        self.pending
            .lock()
            .map(|mut p| p.remove(message_id))
            .unwrap_or(None)
    }

    /// Fails every waiter with `Disconnected` (dropping the senders does that) and drops
    /// an unwritten CALL.
    pub fn fail_all_pending(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
        self.take_outbox();
    }
}

/// Live connections by chargestation `_id`.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Mutex<HashMap<String, SessionHandle>>>,
}

/// What happened when a connection registered.
pub enum Registered {
    /// It is now the station's connection; the replaced one (if any) must be closed.
    Current { replaced: Option<SessionHandle> },
    /// A newer connection is already registered: this one lost the race.
    Stale,
}

impl Registry {
    /// Registers a connection unless a newer generation already holds the station.
    pub fn register(&self, handle: SessionHandle) -> Registered {
        let Ok(mut map) = self.inner.lock() else {
            return Registered::Stale;
        };
        if let Some(existing) = map.get(&handle.station_id) {
            if existing.generation > handle.generation {
                return Registered::Stale;
            }
        }
        let replaced = map.insert(handle.station_id.clone(), handle);
        Registered::Current { replaced }
    }

    /// Removes the station's entry only if it is still this generation's.
    pub fn unregister(&self, station_id: &str, generation: i64) -> bool {
        let Ok(mut map) = self.inner.lock() else {
            return false;
        };
        if map
            .get(station_id)
            .is_some_and(|h| h.generation == generation)
        {
            map.remove(station_id);
            return true;
        }
        false
    }

    /// The live connection of a station.
    pub fn get(&self, station_id: &str) -> Option<SessionHandle> {
        self.inner.lock().ok()?.get(station_id).cloned()
    }

    /// How many chargers are connected.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|m| m.len()).unwrap_or(0)
    }
}
