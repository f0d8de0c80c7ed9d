//! A local webhook receiver: a minimal HTTP/1.1 server (keep-alive, `content-length`
//! bodies) that answers every POST with `200` and records, per event, its type, the
//! `_id` of its object, its `createdAt` and when it arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

/// One event received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `type` of the envelope.
    pub event_type: String,
    /// `data._id` (the action or chargestation).
    pub object_id: Option<String>,
    /// `createdAt` of the envelope, Unix ms.
    pub created_at_ms: Option<i64>,
    /// When it arrived (monotonic).
    pub at: Instant,
    /// When it arrived, Unix ms.
    pub at_unix_ms: i64,
}

#[derive(Default)]
struct Log {
    events: Vec<Received>,
    /// (type, object id) → index into `events` of the first such event.
    index: HashMap<(String, String), usize>,
    /// Events received, by type.
    counts: HashMap<String, usize>,
    /// Tasks waiting in [`Receiver::wait_for`], by (type, object id): only they are
    /// woken when that event arrives (waking every waiter at every arrival cost the
    /// benchmark process more CPU than csms's side of the configuration path).
    waiting: HashMap<(String, String), Vec<oneshot::Sender<()>>>,
}

impl Log {
    /// The first event received under `key` (type, object id).
    fn first(&self, key: &(String, String)) -> Option<&Received> {
        self.index.get(key).and_then(|&i| self.events.get(i))
    }
}

/// The running receiver.
#[derive(Clone)]
pub struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    arrived: Arc<Notify>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Unix time in ms now.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Receiver {
    /// Listens on a free loopback port.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start() -> std::io::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let receiver = Receiver {
            addr: listener.local_addr()?,
            log: Arc::new(Mutex::new(Log::default())),
            arrived: Arc::new(Notify::new()),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().connection(stream));
            }
        });
        Ok(receiver)
    }

    /// The URL to give csms (`CSMS_WEBHOOK_URL`).
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Events received so far.
    pub fn count(&self) -> usize {
        lock(&self.log).events.len()
    }

    /// A copy of every event received so far.
    pub fn events(&self) -> Vec<Received> {
        lock(&self.log).events.clone()
    }

    /// The first event `event_type` about object `object_id`, if it arrived.
    pub fn find(&self, event_type: &str, object_id: &str) -> Option<Received> {
        lock(&self.log)
            .first(&(event_type.to_owned(), object_id.to_owned()))
            .cloned()
    }

    /// Events of a type received so far.
    pub fn count_of(&self, event_type: &str) -> usize {
        lock(&self.log).counts.get(event_type).copied().unwrap_or(0)
    }

    /// The first event `event_type` about object `object_id` (its `at` is when it
    /// arrived), waiting for it until `deadline`.
    pub async fn wait_for(
        &self,
        event_type: &str,
        object_id: &str,
        deadline: Instant,
    ) -> Option<Received> {
        let key = (event_type.to_owned(), object_id.to_owned());
        let arrived = {
            let mut log = lock(&self.log);
            if let Some(event) = log.first(&key) {
                return Some(event.clone());
            }
            let (tx, rx) = oneshot::channel();
            log.waiting.entry(key.clone()).or_default().push(tx);
            rx
        };
        // Woken by `record` once the event is in the index (or never: timeout).
        if tokio::time::timeout_at(deadline, arrived).await.is_err() {
            lock(&self.log).waiting.remove(&key);
            return None;
        }
        lock(&self.log).first(&key).cloned()
    }

    /// Waits until at least `count` events of `event_type` arrived, or `deadline`.
    /// Returns how many did.
    pub async fn wait_count(&self, event_type: &str, count: usize, deadline: Instant) -> usize {
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.count_of(event_type);
            if now >= count || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count_of(event_type);
            }
        }
    }

    fn record(&self, body: &[u8]) {
        let at = Instant::now();
        let at_unix_ms = unix_ms();
        let envelope: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let event = Received {
            event_type: envelope["type"].as_str().unwrap_or("").to_owned(),
            object_id: envelope["data"]["_id"].as_str().map(str::to_owned),
            created_at_ms: envelope["createdAt"].as_str().and_then(parse_rfc3339_ms),
            at,
            at_unix_ms,
        };
        let mut log = lock(&self.log);
        let i = log.events.len();
        let mut waiters = Vec::new();
        if let Some(id) = &event.object_id {
            let key = (event.event_type.clone(), id.clone());
            waiters = log.waiting.remove(&key).unwrap_or_default();
            log.index.entry(key).or_insert(i);
        }
        *log.counts.entry(event.event_type.clone()).or_default() += 1;
        log.events.push(event);
        drop(log);
        for waiter in waiters {
            let _ = waiter.send(());
        }
        self.arrived.notify_waiters();
    }

    async fn connection(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut stream = BufReader::new(stream);
        let mut head = Vec::with_capacity(1024);
        loop {
            head.clear();
            // Read the request head up to the blank line.
            loop {
                let mut byte = [0u8; 1];
                match stream.read(&mut byte).await {
                    Ok(1) => head.push(byte[0]),
                    _ => return,
                }
                if head.ends_with(b"\r\n\r\n") {
                    break;
                }
                if head.len() > 64 * 1024 {
                    return;
                }
            }
            let head_text = String::from_utf8_lossy(&head);
            let length = head_text
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            if stream.read_exact(&mut body).await.is_err() {
                return;
            }
            self.record(&body);
            let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
            if stream.get_mut().write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

/// `2023-05-12T15:18:09.613Z` → Unix ms.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// How long after `createdAt` each event arrived (events without one are skipped).
pub fn lags(events: &[Received]) -> Vec<Duration> {
    events
        .iter()
        .filter_map(|e| {
            let created = e.created_at_ms?;
            Some(Duration::from_millis(
                u64::try_from(e.at_unix_ms - created).unwrap_or(0),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_read_in_unix_ms() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01.250Z"), Some(1_250));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }

    #[tokio::test]
    async fn posts_are_answered_200_and_recorded_by_type_and_object() {
        let receiver = Receiver::start().await.unwrap();
        let mut stream = TcpStream::connect(receiver.addr).await.unwrap();
        for id in ["a1", "a2"] {
            let body = format!(
                r#"{{"type":"x.accepted","data":{{"_id":"{id}"}},"createdAt":"2024-01-01T00:00:00.000Z"}}"#
            );
            let request = format!(
                "POST /hook HTTP/1.1\r\nhost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut reply = [0u8; 38];
            stream.read_exact(&mut reply).await.unwrap();
            assert!(reply.starts_with(b"HTTP/1.1 200 OK"));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(receiver
            .wait_for("x.accepted", "a2", deadline)
            .await
            .is_some());
        assert_eq!(receiver.count(), 2);
        assert_eq!(receiver.events()[0].created_at_ms, Some(1_704_067_200_000));
    }

    #[tokio::test]
    async fn a_waiter_is_answered_when_its_event_arrives_and_not_before() {
        let receiver = Receiver::start().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let waiting = {
            let receiver = receiver.clone();
            tokio::spawn(async move { receiver.wait_for("x.accepted", "b2", deadline).await })
        };
        // Wait until the waiter is registered, then deliver another object's event
        // first: the waiter must still be waiting afterwards.
        while lock(&receiver.log).waiting.is_empty() {
            tokio::task::yield_now().await;
        }
        receiver.record(br#"{"type":"x.accepted","data":{"_id":"b1"}}"#);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(receiver.count_of("x.accepted"), 1);
        receiver.record(br#"{"type":"x.accepted","data":{"_id":"b2"}}"#);
        assert!(waiting.await.unwrap().is_some());
        assert_eq!(
            receiver.find("x.accepted", "b2").map(|e| e.object_id),
            Some(Some("b2".to_owned()))
        );
        assert!(receiver.find("x.accepted", "b9").is_none());
        assert_eq!(receiver.count_of("x.accepted"), 2);
        assert!(lock(&receiver.log).waiting.is_empty());
        // A wait that times out leaves nothing behind.
        let past = Instant::now();
        assert!(receiver.wait_for("x.accepted", "b3", past).await.is_none());
        assert!(lock(&receiver.log).waiting.is_empty());
    }
}
