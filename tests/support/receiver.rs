//! A real HTTP webhook receiver for tests: an actix-web server on port 0 that records
//! every request (path, headers, raw body) and answers as the test tells it — a status
//! code, or hanging (a receiver too slow to answer) — possibly depending on the request.
//! Waiting helpers poll with a deadline; nothing sleeps to wait for an outcome.

use std::collections::HashMap;
use std::future::Future;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request path, e.g. `/hooks/a`.
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The raw body, byte for byte (UTF-8).
    pub body: String,
    /// The status answered; `None` when the receiver hung (the sender gave up).
    pub answered: Option<u16>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body parsed as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The envelope's `_id`.
    pub fn event_id(&self) -> String {
        self.json()["_id"].as_str().unwrap_or_default().to_owned()
    }

    /// The envelope's `type`.
    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    /// The OCPP identity of the chargestation the event is about (`data.endpoint` of
    /// chargestation events), or `""`.
    pub fn station(&self) -> String {
        self.json()["data"]["endpoint"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether the receiver answered 2xx.
    pub fn accepted(&self) -> bool {
        self.answered.is_some_and(|s| (200..300).contains(&s))
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this status code (and a short text body).
    Status(u16),
    /// Do not answer until the receiver stops (or 60 s pass), then answer 503.
    Hang,
    /// Hold the request until [`Receiver::release_held`] is called, then answer with
    /// this status (a receiver that is busy while the test does something else).
    HoldThen(u16),
}

type Responder = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

struct State {
    log: Mutex<Vec<Received>>,
    responder: Mutex<Responder>,
    stopping: CancellationToken,
    released: CancellationToken,
}

/// A running webhook receiver.
pub struct Receiver {
    base: String,
    state: Arc<State>,
    handle: ServerHandle,
}

async fn handle(state: web::Data<Arc<State>>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let mut received = Received {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: None,
    };
    let responder = state.responder.lock().unwrap().clone();
    let reply = responder(&received);
    match reply {
        Reply::Status(code) => {
            received.answered = Some(code);
            state.log.lock().unwrap().push(received);
            let status = actix_web::http::StatusCode::from_u16(code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status).body(format!("receiver says {code}"))
        }
        Reply::Hang => {
            state.log.lock().unwrap().push(received);
            // Simulates a receiver that is too slow: the sender's timeout decides.
            tokio::select! {
                () = state.stopping.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
            HttpResponse::ServiceUnavailable().finish()
        }
        Reply::HoldThen(code) => {
            let index = {
                let mut log = state.log.lock().unwrap();
                log.push(received);
                log.len() - 1
            };
            tokio::select! {
                () = state.stopping.cancelled() => return HttpResponse::ServiceUnavailable().finish(),
                () = state.released.cancelled() => {}
            }
            state.log.lock().unwrap()[index].answered = Some(code);
            let status = actix_web::http::StatusCode::from_u16(code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status).body(format!("receiver says {code}"))
        }
    }
}

impl Receiver {
    /// Starts a receiver on `127.0.0.1:0` that answers 200 to everything.
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0").await
    }

    /// Starts a receiver on the given address (a fixed port, for a receiver that comes
    /// up late).
    pub async fn start_on(addr: &str) -> Receiver {
        let listener = TcpListener::bind(addr).expect("receiver binds");
        let port = listener.local_addr().unwrap().port();
        let always_ok: Responder = Arc::new(|_| Reply::Status(200));
        let state = Arc::new(State {
            log: Mutex::new(Vec::new()),
            responder: Mutex::new(always_ok),
            stopping: CancellationToken::new(),
            released: CancellationToken::new(),
        });
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("receiver listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// The URL of `path` on this receiver (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Changes how requests are answered from now on.
    pub fn respond_with(&self, responder: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.state.responder.lock().unwrap() = Arc::new(responder);
    }

    /// Answers every request held by [`Reply::HoldThen`] (now and from now on).
    pub fn release_held(&self) {
        self.state.released.cancel();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.state.log.lock().unwrap().clone()
    }

    /// The requests answered 2xx, in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(Received::accepted)
            .collect()
    }

    /// Polls the request log until `check` accepts it, or panics after 10 s.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        self.wait_for_within(Duration::from_secs(10), what, check)
            .await
    }

    /// [`Receiver::wait_for`] with an explicit deadline.
    pub async fn wait_for_within(
        &self,
        limit: Duration,
        what: &str,
        check: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let log = poll_until(limit, || {
            let log = self.requests();
            let ok = check(&log);
            async move { (ok, log) }
        })
        .await;
        match log {
            Ok(log) => log,
            Err(log) => panic!(
                "timed out waiting for {what}; the receiver saw {} request(s): {:#?}",
                log.len(),
                log.iter()
                    .map(|r| format!("{} {} {:?}", r.path, r.event_type(), r.answered))
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Stops the receiver (hanging requests are released).
    pub async fn stop(self) {
        self.state.stopping.cancel();
        self.handle.stop(false).await;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.state.stopping.cancel();
        // Sends the stop command now; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// Polls `probe` until it is satisfied or `limit` has passed; `Ok` with the last value
/// when satisfied, `Err` with it otherwise. Yields between probes.
pub async fn poll_until<F, Fut, T>(limit: Duration, mut probe: F) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (bool, T)>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (ok, value) = probe().await;
        if ok {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(value);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
