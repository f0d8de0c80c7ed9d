//! The session registry: which connection currently speaks for each chargestation.
//!
//! The newest connection wins: registering a newer generation replaces (and closes)
//! the older one, and an older connection's clean-up can only remove its own entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::oneshot;
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

/// The outbound side of one live connection, shared by the connection task and callers.
#[derive(Clone)]
pub struct SessionHandle {
    pub station_id: String,
    pub identity: String,
    pub generation: i64,
    pub session: actix_ws::Session,
    /// Our CALLs awaiting an answer, by message id (at most one at a time).
    pub pending: Arc<Mutex<HashMap<String, PendingCall>>>,
    /// Held while one of our CALLs is outstanding: one CALL in flight per charger.
    pub call_slot: Arc<tokio::sync::Mutex<()>>,
    /// Cancelled to make the connection task close the socket.
    pub close: CancellationToken,
}

impl SessionHandle {
    /// Takes the waiter for `message_id`, if one is waiting.
    pub fn take_pending(&self, message_id: &str) -> Option<PendingCall> {
        self.pending
            .lock()
            .map(|mut p| p.remove(message_id))
            .unwrap_or(None)
    }

    /// Fails every waiter with `Disconnected` (dropping the senders does that).
    pub fn fail_all_pending(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
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
