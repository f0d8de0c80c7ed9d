//! Hostile chargers: garbage, binary and wrongly shaped frames, frames over the size
//! limit, CALL floods, a charger that stops reading, duplicate and unknown message ids,
//! stalled handshakes, a thousand chargers reconnecting at once and racing connections
//! of one identity.
//!
//! Each test checks that the server answers as OCPP-J says, keeps serving the other
//! chargers, keeps what it stored, and that its connection count and memory (the
//! process RSS, with a generous bound: the test process hosts both sides) come back
//! down afterwards. Raw clients speak WebSocket through tokio-tungstenite directly, so
//! they can send what the simulator never would.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_tests::TestApp;
use futures_util::stream::{self, StreamExt};
use futures_util::SinkExt;
use serde_json::{json, Value};
use simulator::Charger;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Held by the tests that measure memory or open hundreds of sockets, so they do not
/// run at the same time as each other (the RSS is the whole test process's).
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A raw OCPP-J client: no rules, no automatic answers.
struct Raw {
    ws: Socket,
}

impl Raw {
    async fn connect(app: &TestApp, identity: &str) -> Raw {
        let mut request = format!("{}/{identity}", app.ocpp_url)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
        let config = WebSocketConfig {
            max_message_size: None,
            max_frame_size: None,
            ..WebSocketConfig::default()
        };
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .unwrap_or_else(|e| panic!("{identity} connects: {e}"));
        Raw { ws }
    }

    async fn send(&mut self, text: impl Into<String>) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Queues a frame without flushing (to send many back-to-back).
    async fn feed(&mut self, text: String) {
        self.ws.feed(Message::Text(text)).await.unwrap();
    }

    async fn flush(&mut self) {
        self.ws.flush().await.unwrap();
    }

    async fn send_message(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    /// The next text frame from the server (pings are answered by tungstenite).
    async fn next_text(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a frame from the server in time");
            match next {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Waits for the server to close the connection; the close code it sent, if any.
    async fn closed_with(&mut self) -> Option<CloseCode> {
        let deadline = Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => panic!("the server did not close the connection in time"),
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return None,
            }
        }
    }
}

/// The resident set size of this process (server and clients), in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib / 1024
}

/// A booted simulated charger that must keep being served while another misbehaves.
async fn neighbour(app: &TestApp, identity: &str) -> Charger {
    app.create_station(json!({"endpoint": identity})).await;
    let charger = Charger::connect(app.charger_config(identity))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    charger
        .status_notification(1, "Charging", "NoError")
        .await
        .unwrap();
    charger
}

/// The neighbour is still online, answered, and its stored state is intact.
async fn assert_intact(app: &TestApp, charger: &Charger) {
    assert!(charger.heartbeat().await.is_ok(), "neighbour still served");
    let (status, body) = app
        .get(&format!("/v1.1/chargestations/{}", charger.identity()))
        .await;
    assert_eq!(status, 200, "{body}");
    let station = &body["result"];
    assert_eq!(station["online"], true, "{station}");
    assert_eq!(station["bootInfo"]["chargePointVendor"], "CSMS-Sim");
    assert_eq!(station["connectors"][0]["status"], "Charging", "{station}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_binary_and_wrongly_shaped_frames_are_answered_as_ocpp_j_says_and_nothing_closes() {
    let app = TestApp::spawn().await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    app.create_station(json!({"endpoint": "CP-HOSTILE"})).await;
    let mut raw = Raw::connect(&app, "CP-HOSTILE").await;

    let deep = "[".repeat(100_000);
    let dropped = [
        "",
        " ",
        "not json",
        "\u{feff}[2,\"bom\",\"Heartbeat\",{}]",
        "null",
        "42",
        "\"text\"",
        "{}",
        "[]",
        "[2]",
        r#"[2,null,"Heartbeat",{}]"#,
        r#"[2,true,"Heartbeat",{}]"#,
        r#"[2,{"id":1},"Heartbeat",{}]"#,
        r#"[2,1e400,"Heartbeat",{}]"#,
        r#"[3,"r1"]"#,
        r#"[3,"unknown-id",{}]"#,
        r#"[4,"r3"]"#,
        r#"[4,"unknown-id","GenericError","",{}]"#,
        &deep,
        "[2,\"cut\",\"Heartbeat\",{",
    ];
    // CALL-like frames with a readable id: each is answered with a FormationViolation.
    let answered = [
        ("s1", r#"[2,"s1"]"#),
        ("s2", r#"[2,"s2","Heartbeat"]"#),
        ("s3", r#"[2,"s3","Heartbeat",{},{}]"#),
        ("s4", r#"[2,"s4",42,{}]"#),
        ("s5", r#"[2,"s5","",{}]"#),
        ("s6", r#"[2,"s6","Heartbeat",null]"#),
        ("s7", r#"[2,"s7","Heartbeat","{}"]"#),
        ("s8", r#"[9,"s8",{}]"#),
        ("s9", r#"["2","s9","Heartbeat",{}]"#),
    ];
    let mut expected = Vec::new();
    for (i, frame) in dropped.iter().enumerate() {
        raw.send(*frame).await;
        let (id, malformed) = answered[i % answered.len()];
        raw.send(malformed).await;
        expected.push(id.to_owned());
    }
    // Binary frames are not OCPP-J: dropped, even when they hold a valid CALL.
    raw.send_message(Message::Binary(vec![0, 159, 146, 150]))
        .await;
    raw.send_message(Message::Binary(br#"[2,"bin","Heartbeat",{}]"#.to_vec()))
        .await;
    raw.send(r#"[2,"last","Heartbeat",{}]"#).await;

    let mut errors = Vec::new();
    loop {
        let frame = raw.next_text().await;
        if frame[1] == "last" {
            assert_eq!(frame[0], 3, "{frame}");
            break;
        }
        assert_eq!(frame.as_array().map(Vec::len), Some(5), "{frame}");
        assert_eq!(
            (&frame[0], &frame[2]),
            (&json!(4), &json!("FormationViolation"))
        );
        assert_eq!(frame[4], json!({}));
        errors.push(frame[1].as_str().unwrap().to_owned());
    }
    assert_eq!(
        errors, expected,
        "one FormationViolation per CALL-like frame, in order"
    );
    assert_intact(&app, &other).await;
    let (_, station) = app.get("/v1.1/chargestations/CP-HOSTILE").await;
    assert_eq!(
        station["result"]["online"], true,
        "the hostile charger is still connected"
    );

    // Text that is not UTF-8 breaks WebSocket itself (RFC 6455 §8.1): that connection
    // alone is closed, with 1007.
    raw.send_message(Message::Frame(WsFrame::message(
        vec![b'[', 0xff, 0xfe, b']'],
        OpCode::Data(Data::Text),
        true,
    )))
    .await;
    assert_eq!(raw.closed_with().await, Some(CloseCode::Invalid));
    assert_intact(&app, &other).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_only_that_connection_with_1009() {
    let _heavy = HEAVY.lock().await;
    const LIMIT: usize = 256 * 1024;
    let app = TestApp::spawn_with(|s| s.ocpp_max_frame_bytes = LIMIT).await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    app.create_station(json!({"endpoint": "CP-BIG"})).await;
    let before = rss_mib();

    let payload = |len: usize| {
        let data = "d".repeat(len);
        json!([2, "big", "DataTransfer", {"vendorId": "v", "data": data}]).to_string()
    };
    // Just under the limit: answered, in one frame and in fragments.
    let mut raw = Raw::connect(&app, "CP-BIG").await;
    let fits = payload(LIMIT - 100);
    assert!(fits.len() <= LIMIT);
    raw.send(fits.clone()).await;
    assert_eq!(raw.next_text().await[1], "big");
    let bytes = fits.into_bytes();
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    raw.send_message(Message::Frame(WsFrame::message(
        head.to_vec(),
        OpCode::Data(Data::Text),
        false,
    )))
    .await;
    raw.send_message(Message::Frame(WsFrame::message(
        tail.to_vec(),
        OpCode::Data(Data::Continue),
        true,
    )))
    .await;
    assert_eq!(raw.next_text().await[1], "big");

    // One frame over the limit (the server may close before the last byte is written).
    let _ = raw.ws.send(Message::Text(payload(4 * LIMIT))).await;
    assert_eq!(raw.closed_with().await, Some(CloseCode::Size));
    app.wait_for_get("/v1.1/chargestations/CP-BIG", "offline", |b| {
        b["result"]["online"] == false
    })
    .await;
    assert_intact(&app, &other).await;

    // Fragments that add up to more than the limit.
    let mut raw = Raw::connect(&app, "CP-BIG").await;
    for (i, last) in [(0, false), (1, false), (2, true)] {
        let opcode = if i == 0 { Data::Text } else { Data::Continue };
        raw.send_message(Message::Frame(WsFrame::message(
            vec![b' '; LIMIT / 2],
            OpCode::Data(opcode),
            last,
        )))
        .await;
    }
    assert_eq!(raw.closed_with().await, Some(CloseCode::Size));
    assert_intact(&app, &other).await;

    // The charger comes back and is served as before.
    let mut raw = Raw::connect(&app, "CP-BIG").await;
    raw.send(r#"[2,"back","Heartbeat",{}]"#).await;
    assert_eq!(raw.next_text().await[1], "back");
    let after = rss_mib();
    eprintln!("RSS around oversized messages: {before} MiB -> {after} MiB");
    assert!(
        after < before + 256,
        "RSS grew from {before} MiB to {after} MiB"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_floods_sent_without_waiting_are_all_answered_in_order_and_memory_returns() {
    let _heavy = HEAVY.lock().await;
    const FLOOD: usize = 500;
    let app = TestApp::spawn().await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    app.create_station(json!({"endpoint": "CP-FLOOD"})).await;
    let mut raw = Raw::connect(&app, "CP-FLOOD").await;
    let statuses = [
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "Finishing",
    ];

    let mut baseline = 0;
    for round in 0..4 {
        if round == 1 {
            baseline = rss_mib();
        }
        let mut expected = Vec::with_capacity(FLOOD);
        for i in 0..FLOOD {
            let id = format!("r{round}-{i}");
            let frame = if i % 5 == 0 {
                let status = statuses[(i / 5) % statuses.len()];
                json!([2, id, "StatusNotification",
                    {"connectorId": 2, "errorCode": "NoError", "status": status}])
            } else {
                json!([2, id, "Heartbeat", {}])
            };
            raw.feed(frame.to_string()).await;
            expected.push(id);
        }
        raw.flush().await;
        // The neighbour is served while the flood is being worked through.
        assert!(other.heartbeat().await.is_ok());
        let mut answered = Vec::with_capacity(FLOOD);
        for _ in 0..FLOOD {
            let frame = raw.next_text().await;
            assert_eq!(frame[0], 3, "{frame}");
            answered.push(frame[1].as_str().unwrap().to_owned());
        }
        assert_eq!(answered, expected, "every CALL answered once, in order");
    }
    // The last StatusNotification of the flood is the one stored.
    let last = statuses[((FLOOD - 5) / 5) % statuses.len()];
    let (_, station) = app.get("/v1.1/chargestations/CP-FLOOD").await;
    let connectors = station["result"]["connectors"].as_array().unwrap().clone();
    assert!(
        connectors
            .iter()
            .any(|c| c["connectorId"] == 2 && c["status"] == last),
        "{connectors:?}"
    );
    assert_intact(&app, &other).await;
    let after = rss_mib();
    eprintln!("RSS around three floods: {baseline} MiB -> {after} MiB");
    assert!(
        after < baseline + 256,
        "RSS grew from {baseline} MiB to {after} MiB over three floods of {FLOOD} CALLs"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_message_ids_are_each_answered_and_answers_to_unknown_ids_complete_nothing() {
    let app = TestApp::spawn().await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    let station = app.create_station(json!({"endpoint": "CP-DUP-IDS"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let mut raw = Raw::connect(&app, "CP-DUP-IDS").await;

    // The same id three times in a row: three answers with that id.
    raw.send(r#"[2,"dup","Heartbeat",{}]"#).await;
    raw.send(r#"[2,"dup","Heartbeat",{}]"#).await;
    raw.send(r#"[2,"dup","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#)
        .await;
    let answers = [
        raw.next_text().await,
        raw.next_text().await,
        raw.next_text().await,
    ];
    assert!(
        answers.iter().all(|a| a[0] == 3 && a[1] == "dup"),
        "{answers:?}"
    );
    assert!(answers[0][2]["currentTime"].is_string());
    assert_eq!(answers[2][2], json!({}));

    // Our CALL waits; answers with other ids, twice the right id, and a CALLERROR for
    // an id we never used must neither complete it twice nor complete the next one.
    let call = |action: &'static str, payload: Value| {
        let gateway = app.gateway.clone();
        let station = id.clone();
        tokio::spawn(async move { gateway.call_raw(&station, action, payload, WAIT).await })
    };
    let first = call("GetConfiguration", json!({"key": ["A"]}));
    let incoming = raw.next_text().await;
    assert_eq!(
        (&incoming[0], &incoming[2]),
        (&json!(2), &json!("GetConfiguration"))
    );
    let message_id = incoming[1].as_str().unwrap().to_owned();
    raw.send(r#"[3,"not-ours",{"unknownKey":["X"]}]"#).await;
    raw.send(r#"[4,"not-ours-either","GenericError","",{}]"#)
        .await;
    raw.send(json!([3, message_id.to_uppercase(), {"unknownKey": ["Y"]}]).to_string())
        .await;
    raw.send(json!([3, message_id, {"unknownKey": ["A"]}]).to_string())
        .await;
    assert_eq!(first.await.unwrap(), Ok(json!({"unknownKey": ["A"]})));
    let second = call("Reset", json!({"type": "Soft"}));
    let incoming = raw.next_text().await;
    assert_eq!(incoming[2], "Reset");
    // The first CALL's id again: dropped, the Reset still waits for its own answer.
    raw.send(json!([3, message_id, {"unknownKey": ["A"]}]).to_string())
        .await;
    raw.send(json!([3, incoming[1], {"status": "Accepted"}]).to_string())
        .await;
    assert_eq!(second.await.unwrap(), Ok(json!({"status": "Accepted"})));
    assert_intact(&app, &other).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_that_keeps_sending_but_stops_reading_is_closed_and_marked_offline() {
    let _heavy = HEAVY.lock().await;
    let app = TestApp::spawn_with(|s| {
        s.ocpp_ping_interval_secs = 1;
        s.ocpp_missed_pongs = 2;
    })
    .await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    let station = app.create_station(json!({"endpoint": "CP-DEAF"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let mut raw = Raw::connect(&app, "CP-DEAF").await;
    // Heartbeats as fast as the socket takes them, never reading a single answer: the
    // answers fill the socket buffers until the server cannot write any more.
    let started = Instant::now();
    let flood = tokio::spawn(async move {
        for i in 0u64.. {
            let frame = format!(r#"[2,"h{i}","Heartbeat",{{}}]"#);
            if raw.ws.feed(Message::Text(frame)).await.is_err() {
                break;
            }
        }
    });
    // Our own CALL to it ends within its deadline instead of hanging.
    let call = app
        .gateway
        .call_raw(&id, "GetConfiguration", json!({}), Duration::from_secs(2))
        .await;
    assert!(call.is_err(), "{call:?}");
    let deadline = started + Duration::from_secs(30);
    loop {
        let (_, body) = app.get("/v1.1/chargestations/CP-DEAF").await;
        if body["result"]["online"] == false && !app.gateway.is_connected(&id) {
            break;
        }
        assert!(Instant::now() < deadline, "still online: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "a charger that stopped reading was offline after {:?}",
        started.elapsed()
    );
    assert_intact(&app, &other).await;
    flood.abort();
    app.stop().await;
}

/// Reads from a raw TCP socket until the server closes it; what it sent.
async fn read_until_closed(socket: &mut TcpStream, deadline: Instant) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Err(_) => panic!("the server kept a stalled connection open"),
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_handshakes_are_dropped_by_the_request_timeout_while_others_are_served() {
    let app = TestApp::spawn().await;
    let other = neighbour(&app, "CP-NEIGHBOUR").await;
    app.create_station(json!({"endpoint": "CP-SLOW"})).await;
    let address = app.ocpp_url["ws://".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let mut stalled = Vec::new();
    for i in 0..40 {
        let mut socket = TcpStream::connect(&address).await.unwrap();
        if i % 2 == 0 {
            // Half an upgrade request, then nothing.
            socket
                .write_all(
                    b"GET /ocpp/CP-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n",
                )
                .await
                .unwrap();
        }
        stalled.push(socket);
    }

    // Meanwhile: the neighbour is served and new chargers connect.
    assert_intact(&app, &other).await;
    let newcomer = neighbour(&app, "CP-NEWCOMER").await;
    assert_intact(&app, &newcomer).await;
    // A slow but complete handshake (sent in pieces) is accepted.
    let mut slow = TcpStream::connect(&address).await.unwrap();
    let request = "GET /ocpp/CP-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    for piece in request.as_bytes().chunks(16) {
        slow.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut head = [0u8; 12];
    slow.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");

    // The server's request timeout (10 s) ends every stalled one.
    let deadline = started + Duration::from_secs(30);
    for (i, socket) in stalled.iter_mut().enumerate() {
        let sent = read_until_closed(socket, deadline).await;
        assert!(
            sent.is_empty() || sent.starts_with("HTTP/1.1 408"),
            "stalled connection {i} got: {sent:?}"
        );
    }
    assert_intact(&app, &other).await;
    assert_eq!(app.gateway.connected_count(), 3);
    app.stop().await;
}

/// Connects and boots `identity`, trying the connection up to six times as a real
/// charger would (a thousand handshakes at once on a loaded machine — CI runs the
/// PostgreSQL pass with other tests beside it — may each wait past the simulator's 10 s
/// handshake timeout; a real charger keeps retrying).
async fn connect_and_boot(app: &TestApp, identity: String) -> Charger {
    let mut attempt = 1;
    let charger = loop {
        match Charger::connect(app.charger_config(&identity)).await {
            Ok(charger) => break charger,
            Err(e) if attempt < 6 => {
                eprintln!("{identity}: connection attempt {attempt} failed: {e:?}");
                attempt += 1;
            }
            Err(e) => panic!("{identity} connects: {e:?}"),
        }
    };
    let boot = charger.boot().await;
    assert_eq!(
        boot.as_ref().map(|b| b["status"].clone()).ok(),
        Some(json!("Accepted")),
        "{identity}: {boot:?}"
    );
    charger
}

/// Polls `probe` (satisfied?, value) until it is satisfied or `within` has passed:
/// `Ok(value)`, or `Err(last value)`.
async fn poll_until<T, F, Fut>(within: Duration, mut probe: F) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, T)>,
{
    let deadline = Instant::now() + within;
    loop {
        let (done, value) = probe().await;
        if done {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(value);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn online_count(app: &TestApp) -> u64 {
    let (status, _, headers) = app
        .request(
            reqwest::Method::GET,
            "/v1.1/chargestations?online=true&paginate_limit=1",
            None,
        )
        .await;
    assert_eq!(status, 200);
    headers["x-total-count"].to_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_chargers_reconnecting_at_once_are_all_served_and_shown_online() {
    let _heavy = HEAVY.lock().await;
    const CHARGERS: usize = 1000;
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let identities: Vec<String> = (0..CHARGERS).map(|i| format!("CP-{i:04}")).collect();
    stream::iter(&identities)
        .for_each_concurrent(16, |identity| {
            let app = &app;
            async move {
                app.create_station(json!({"endpoint": identity})).await;
            }
        })
        .await;

    let connect_all = || async {
        stream::iter(identities.clone())
            .map(|identity| connect_and_boot(&app, identity))
            .buffer_unordered(CHARGERS)
            .collect::<Vec<Charger>>()
            .await
    };
    let chargers = connect_all().await;
    assert_eq!(chargers.len(), CHARGERS);
    let baseline = rss_mib();

    // All connections drop at once (a network blip) and every charger reconnects at
    // once: the old connections' clean-up races with the new connections.
    drop(chargers);
    let chargers = connect_all().await;
    let all_heartbeats: Vec<bool> = stream::iter(&chargers)
        .map(|c| async move { c.heartbeat().await.is_ok() })
        .buffer_unordered(CHARGERS)
        .collect()
        .await;
    assert!(
        all_heartbeats.iter().all(|ok| *ok),
        "every charger is served"
    );
    let settled = poll_until(Duration::from_secs(30), || async {
        let online = online_count(&app).await;
        (
            online == CHARGERS as u64 && app.gateway.connected_count() == CHARGERS,
            online,
        )
    })
    .await;
    assert!(
        settled.is_ok(),
        "{settled:?} online, {} connected",
        app.gateway.connected_count()
    );

    // Everyone leaves: nothing stays online or registered, and memory comes back.
    stream::iter(chargers)
        .for_each_concurrent(CHARGERS, |c| c.disconnect())
        .await;
    let settled = poll_until(Duration::from_secs(30), || async {
        let online = online_count(&app).await;
        (online == 0 && app.gateway.connected_count() == 0, online)
    })
    .await;
    assert!(settled.is_ok(), "{settled:?} still online");
    let after = rss_mib();
    eprintln!(
        "RSS with 1000 chargers connected: {baseline} MiB; after a mass reconnect and all \
         leaving: {after} MiB; {:?} so far",
        started.elapsed()
    );
    assert!(
        after < baseline + 256,
        "RSS grew from {baseline} MiB to {after} MiB"
    );
    let (_, body) = app.get("/v1.1/chargestations/CP-0999").await;
    assert_eq!(body["result"]["bootInfo"]["chargePointVendor"], "CSMS-Sim");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_connections_of_one_identity_leave_exactly_one_live_connection_each() {
    const RACERS: usize = 20;
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for identity in ["CP-RACE-A", "CP-RACE-B"] {
        let station = app.create_station(json!({"endpoint": identity})).await;
        ids.push(station["_id"].as_str().unwrap().to_owned());
        // Booted once before, so there is stored state to keep.
        connect_and_boot(&app, identity.to_owned())
            .await
            .disconnect()
            .await;
    }
    let racers: Vec<Charger> = stream::iter((0..2 * RACERS).map(|i| {
        let identity = if i % 2 == 0 { "CP-RACE-A" } else { "CP-RACE-B" };
        Charger::connect(app.charger_config(identity))
    }))
    .buffer_unordered(2 * RACERS)
    .filter_map(|r| async move { r.ok() })
    .collect()
    .await;
    assert_eq!(racers.len(), 2 * RACERS, "every handshake succeeds");

    // The server closes every replaced connection: one survivor per identity.
    let mut live: Vec<String> = Vec::new();
    let settled = e2e_tests::wait_until(
        "one survivor per identity",
        || async {
            let names: Vec<String> = racers
                .iter()
                .filter(|c| c.is_connected())
                .map(|c| c.identity().to_owned())
                .collect();
            let distinct: BTreeSet<&String> = names.iter().collect();
            (names.len() == 2 && distinct.len() == 2, names)
        },
        &mut live,
    )
    .await;
    assert!(settled, "still connected: {live:?}");
    assert_eq!(app.gateway.connected_count(), 2);
    for survivor in racers.iter().filter(|c| c.is_connected()) {
        assert!(survivor.heartbeat().await.is_ok());
    }
    for id in &ids {
        assert!(app.gateway.is_connected(id));
        let body = app
            .wait_for_get(&format!("/v1.1/chargestations/{id}"), "online", |b| {
                b["result"]["online"] == true
            })
            .await;
        assert_eq!(body["result"]["bootInfo"]["chargePointVendor"], "CSMS-Sim");
    }
    drop(racers);
    for id in &ids {
        app.wait_for_get(&format!("/v1.1/chargestations/{id}"), "offline", |b| {
            b["result"]["online"] == false
        })
        .await;
    }
    assert_eq!(app.gateway.connected_count(), 0);
    app.stop().await;
}
