//! End-to-end tests of the simulated charger against a tiny in-test OCPP server built
//! on tokio-tungstenite (port 0), which checks the handshake headers and plays the
//! central system's side frame by frame. No sleeps: every wait has a deadline.

// The handshake callback's error type is fixed by tungstenite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp::frame::{Call, CallResult, Frame};
use ocpp::ErrorCode;
use serde_json::{json, Value};
use simulator::{Charger, ChargerConfig, KeyBehaviour, SimError};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const WAIT: Duration = Duration::from_secs(5);

/// What the server saw in a handshake.
#[derive(Debug, Clone, Default)]
struct Seen {
    path: String,
    protocol: Option<String>,
    authorization: Option<String>,
}

struct TestServer {
    listener: TcpListener,
    url: String,
}

/// The server's end of one accepted connection.
struct Peer {
    seen: Seen,
    ws: WebSocketStream<TcpStream>,
}

impl TestServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
        TestServer { listener, url }
    }

    fn config(&self, identity: &str) -> ChargerConfig {
        ChargerConfig::new(self.url.clone(), identity)
    }

    /// Accepts one connection. Requires the `ocpp1.6` subprotocol (else 400) and, when
    /// `password` is given, matching Basic credentials (else 401).
    async fn accept(&self, password: Option<&str>) -> Result<Peer, Seen> {
        let (tcp, _) = tokio::time::timeout(WAIT, self.listener.accept())
            .await
            .expect("no connection")
            .unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = Arc::clone(&seen);
        let password = password.map(str::to_owned);
        let callback = move |request: &Request, mut response: Response| {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let seen = Seen {
                path: request.uri().path().to_owned(),
                protocol: header("Sec-WebSocket-Protocol"),
                authorization: header("Authorization"),
            };
            *record.lock().unwrap() = seen.clone();
            let refuse = |status: StatusCode| {
                let mut refusal = ErrorResponse::new(None);
                *refusal.status_mut() = status;
                Err(refusal)
            };
            let offered = seen.protocol.clone().unwrap_or_default();
            if !offered.split(',').any(|p| p.trim() == "ocpp1.6") {
                return refuse(StatusCode::BAD_REQUEST);
            }
            if let Some(password) = &password {
                let identity = urlencoded_last_segment(&seen.path);
                let expected = basic(&identity, password);
                if seen.authorization.as_deref() != Some(expected.as_str()) {
                    return refuse(StatusCode::UNAUTHORIZED);
                }
            }
            response.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static("ocpp1.6"),
            );
            Ok(response)
        };
        let accepted = tokio_tungstenite::accept_hdr_async(tcp, callback).await;
        let seen = seen.lock().unwrap().clone();
        match accepted {
            Ok(ws) => Ok(Peer { seen, ws }),
            Err(_) => Err(seen),
        }
    }

    /// Connects `config` and accepts it on the server side.
    async fn connect(&self, config: ChargerConfig) -> (Charger, Peer) {
        let (charger, peer) = tokio::join!(Charger::connect(config), self.accept(None));
        (charger.unwrap(), peer.unwrap())
    }
}

fn basic(identity: &str, password: &str) -> String {
    use base64::Engine as _;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{identity}:{password}"));
    format!("Basic {credentials}")
}

/// The last path segment, percent-decoded (ASCII test identities only).
fn urlencoded_last_segment(path: &str) -> String {
    let segment = path.rsplit('/').next().unwrap();
    let mut bytes = Vec::new();
    let mut iter = segment.bytes();
    while let Some(b) = iter.next() {
        if b == b'%' {
            let hex: String = [iter.next().unwrap(), iter.next().unwrap()]
                .iter()
                .map(|b| char::from(*b))
                .collect();
            bytes.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).unwrap()
}

impl Peer {
    /// The next WebSocket message of any kind.
    async fn next_message(&mut self) -> Option<Message> {
        tokio::time::timeout(WAIT, self.ws.next())
            .await
            .expect("nothing from the charger")
            .map(|m| m.unwrap())
    }

    /// The next OCPP frame (pings and pongs skipped).
    async fn recv(&mut self) -> Frame {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => return Frame::parse(&text).unwrap(),
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    async fn recv_call(&mut self) -> Call {
        match self.recv().await {
            Frame::Call(call) => call,
            other => panic!("expected a CALL, got {other:?}"),
        }
    }

    async fn send(&mut self, frame: Frame) {
        self.ws.send(Message::Text(frame.to_text())).await.unwrap();
    }

    async fn answer(&mut self, call: &Call, payload: Value) {
        self.send(Frame::CallResult(CallResult {
            message_id: call.message_id.clone(),
            payload,
        }))
        .await;
    }

    /// Sends a CALL to the charger and returns its message id.
    async fn send_call(&mut self, action: &str, payload: Value) -> String {
        let message_id = ocpp::frame::new_message_id();
        self.send(Frame::Call(Call {
            message_id: message_id.clone(),
            action: action.to_owned(),
            payload,
        }))
        .await;
        message_id
    }

    /// Sends a CALL and returns the charger's answer.
    async fn call(&mut self, action: &str, payload: Value) -> Frame {
        let message_id = self.send_call(action, payload).await;
        let answer = self.recv().await;
        assert_eq!(answer.message_id(), message_id, "answer to another CALL");
        answer
    }

    async fn call_ok(&mut self, action: &str, payload: Value) -> Value {
        match self.call(action, payload).await {
            Frame::CallResult(result) => result.payload,
            other => panic!("expected a CALLRESULT, got {other:?}"),
        }
    }

    /// Plays the server through a boot: answers BootNotification and the
    /// StatusNotifications that follow, returning them.
    async fn serve_boot(&mut self, connectors: u32) -> (Call, Vec<Call>) {
        let boot = self.recv_call().await;
        assert_eq!(boot.action, "BootNotification");
        self.answer(
            &boot,
            json!({ "status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300 }),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..connectors {
            let status = self.recv_call().await;
            assert_eq!(status.action, "StatusNotification");
            self.answer(&status, json!({})).await;
            statuses.push(status);
        }
        (boot, statuses)
    }
}

fn status_of(frame: &Frame) -> String {
    match frame {
        Frame::CallResult(result) => result.payload["status"].as_str().unwrap().to_owned(),
        other => panic!("expected a CALLRESULT, got {other:?}"),
    }
}

#[tokio::test]
async fn handshake_offers_ocpp16_basic_auth_and_the_encoded_identity() {
    let server = TestServer::start().await;
    let mut config = server.config("CP 1/a");
    config.password = Some("s3cret".into());
    let (charger, peer) = tokio::join!(Charger::connect(config), server.accept(Some("s3cret")));
    let (charger, peer) = (charger.unwrap(), peer.unwrap());
    assert_eq!(peer.seen.path, "/ocpp/CP%201%2Fa");
    assert_eq!(peer.seen.protocol.as_deref(), Some("ocpp1.6"));
    assert_eq!(peer.seen.authorization, Some(basic("CP 1/a", "s3cret")));
    assert_eq!(charger.subprotocol().as_deref(), Some("ocpp1.6"));
    assert!(charger.is_connected());
}

#[tokio::test]
async fn refused_handshakes_report_the_http_status() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.password = Some("wrong".into());
    let (charger, _) = tokio::join!(Charger::connect(config), server.accept(Some("right")));
    assert_eq!(charger.unwrap_err(), SimError::Handshake { status: 401 });

    let mut config = server.config("CP1");
    config.subprotocols.clear();
    let (charger, seen) = tokio::join!(Charger::connect(config), server.accept(None));
    assert_eq!(charger.unwrap_err(), SimError::Handshake { status: 400 });
    assert_eq!(seen.err().unwrap().protocol, None);
}

#[tokio::test]
async fn connecting_to_nothing_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
    drop(listener);
    let error = Charger::connect(ChargerConfig::new(url, "CP1"))
        .await
        .unwrap_err();
    assert!(matches!(error, SimError::Connect(_)), "{error:?}");
}

#[tokio::test]
async fn boot_returns_the_servers_answer_and_callerrors_become_errors() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.serial = Some("SN-1".into());
    let (charger, mut peer) = server.connect(config).await;

    let (answer, boot) = tokio::join!(charger.boot(), peer.serve_boot(0));
    assert_eq!(answer.unwrap()["interval"], 300);
    let payload = boot.0.payload;
    assert_eq!(payload["chargePointVendor"], "CSMS-Sim");
    assert_eq!(payload["chargePointModel"], "Virtual-AC22");
    assert_eq!(payload["chargePointSerialNumber"], "SN-1");

    let server_side = async {
        let status = peer.recv_call().await;
        assert_eq!(
            status.payload,
            json!({ "connectorId": 1, "errorCode": "NoError", "status": "Available" })
        );
        peer.send(Frame::CallError(ocpp::CallError::new(
            status.message_id,
            ErrorCode::FormationViolation,
            "bad",
        )))
        .await;
    };
    let (result, ()) = tokio::join!(
        charger.status_notification(1, "Available", "NoError"),
        server_side
    );
    assert_eq!(
        result.unwrap_err(),
        SimError::CallError {
            code: ErrorCode::FormationViolation,
            description: "bad".into()
        }
    );
}

#[tokio::test]
async fn unanswered_calls_time_out_and_late_answers_are_dropped() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let result = charger
        .call_with_timeout("Heartbeat", json!({}), Duration::from_millis(50))
        .await;
    assert_eq!(result.unwrap_err(), SimError::Timeout);
    let late = peer.recv_call().await;
    peer.answer(&late, json!({ "currentTime": "late" })).await;
    let (result, ()) = tokio::join!(charger.heartbeat(), async {
        let call = peer.recv_call().await;
        peer.answer(&call, json!({ "currentTime": "2024-01-01T00:00:00Z" }))
            .await;
    });
    assert_eq!(result.unwrap()["currentTime"], "2024-01-01T00:00:00Z");
}

#[tokio::test]
async fn get_configuration_reports_every_key_but_the_write_only_authorization_key() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.connectors = 2;
    let (_charger, mut peer) = server.connect(config).await;
    let answer = peer.call_ok("GetConfiguration", json!({})).await;
    let keys = answer["configurationKey"].as_array().unwrap();
    assert!(keys.len() >= 40, "{} keys", keys.len());
    let find = |name: &str| keys.iter().find(|k| k["key"] == name).cloned();
    assert_eq!(
        find("HeartbeatInterval").unwrap(),
        json!({ "key": "HeartbeatInterval", "readonly": false, "value": "300" })
    );
    assert_eq!(
        find("NumberOfConnectors").unwrap(),
        json!({ "key": "NumberOfConnectors", "readonly": true, "value": "2" })
    );
    assert_eq!(find("GetConfigurationMaxKeys").unwrap()["value"], "20");
    assert!(find("VendorLedBrightness").is_some());
    assert!(find("AuthorizationKey").is_none());
    assert!(answer.get("unknownKey").is_none());
}

#[tokio::test]
async fn get_configuration_of_named_keys_lists_the_unknown_ones() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.get_configuration_max_keys = 2;
    let (charger, mut peer) = server.connect(config).await;
    let answer = peer
        .call_ok(
            "GetConfiguration",
            json!({ "key": ["HeartbeatInterval", "NoSuchKey", "AuthorizationKey"] }),
        )
        .await;
    assert_eq!(
        answer["configurationKey"],
        json!([{ "key": "HeartbeatInterval", "readonly": false, "value": "300" }])
    );
    assert_eq!(
        answer["unknownKey"],
        json!(["NoSuchKey", "AuthorizationKey"])
    );
    assert_eq!(charger.oversized_get_configuration_requests(), 1);
}

#[tokio::test]
async fn change_configuration_follows_the_defaults_and_configured_behaviours() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.behaviours.insert(
        "MeterValueSampleInterval".into(),
        KeyBehaviour::RebootRequired,
    );
    let (charger, mut peer) = server.connect(config).await;
    let change = |key: &str, value: &str| json!({ "key": key, "value": value });

    let answer = peer
        .call("ChangeConfiguration", change("HeartbeatInterval", "60"))
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    assert_eq!(
        charger.config_value("HeartbeatInterval").as_deref(),
        Some("60")
    );

    let answer = peer
        .call("ChangeConfiguration", change("NumberOfConnectors", "4"))
        .await;
    assert_eq!(status_of(&answer), "Rejected");
    assert_eq!(
        charger.config_value("NumberOfConnectors").as_deref(),
        Some("1")
    );

    let answer = peer
        .call("ChangeConfiguration", change("NoSuchKey", "1"))
        .await;
    assert_eq!(status_of(&answer), "NotSupported");

    let answer = peer
        .call(
            "ChangeConfiguration",
            change("MeterValueSampleInterval", "30"),
        )
        .await;
    assert_eq!(status_of(&answer), "RebootRequired");
    assert_eq!(
        charger.config_value("MeterValueSampleInterval").as_deref(),
        Some("30")
    );

    charger.set_behaviour("LightIntensity", KeyBehaviour::Reject);
    let answer = peer
        .call("ChangeConfiguration", change("LightIntensity", "10"))
        .await;
    assert_eq!(status_of(&answer), "Rejected");
    assert_eq!(
        charger.config_value("LightIntensity").as_deref(),
        Some("50")
    );

    charger.set_behaviour("BlinkRepeat", KeyBehaviour::NotSupported);
    let answer = peer
        .call("ChangeConfiguration", change("BlinkRepeat", "1"))
        .await;
    assert_eq!(status_of(&answer), "NotSupported");

    charger.set_behaviour(
        "ConnectionTimeOut",
        KeyBehaviour::CallError(ErrorCode::InternalError),
    );
    match peer
        .call("ChangeConfiguration", change("ConnectionTimeOut", "30"))
        .await
    {
        Frame::CallError(error) => assert_eq!(error.code, ErrorCode::InternalError),
        other => panic!("expected a CALLERROR, got {other:?}"),
    }

    charger.set_behaviour(
        "ResetRetries",
        KeyBehaviour::Delay(Duration::from_millis(30)),
    );
    let answer = peer
        .call("ChangeConfiguration", change("ResetRetries", "5"))
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    assert_eq!(charger.config_value("ResetRetries").as_deref(), Some("5"));

    // NoAnswer: nothing comes back; the next answer on the wire is the next CALL's.
    charger.set_behaviour("VendorLedBrightness", KeyBehaviour::NoAnswer);
    let silent = peer
        .send_call("ChangeConfiguration", change("VendorLedBrightness", "5"))
        .await;
    let answer = peer
        .call("ChangeConfiguration", change("AuthorizationKey", "0011"))
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    assert_eq!(
        charger.config_value("AuthorizationKey").as_deref(),
        Some("0011")
    );
    // ... and the test may still answer the silent one by hand, late.
    charger
        .answer(&silent, json!({ "status": "Rejected" }))
        .await
        .unwrap();
    let late = peer.recv().await;
    assert_eq!(late.message_id(), silent);
    assert_eq!(status_of(&late), "Rejected");
}

#[tokio::test]
async fn reset_reconnects_with_the_new_authorization_key_and_boots_again() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.password = Some("first-password".into());
    config.connectors = 2;
    let (charger, peer) = tokio::join!(
        Charger::connect(config),
        server.accept(Some("first-password"))
    );
    let (charger, mut peer) = (charger.unwrap(), peer.unwrap());

    let answer = peer
        .call(
            "ChangeConfiguration",
            json!({ "key": "AuthorizationKey", "value": "new-password" }),
        )
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    let answer = peer.call("Reset", json!({ "type": "Soft" })).await;
    assert_eq!(status_of(&answer), "Accepted");
    // The charger closes the old socket itself.
    assert!(matches!(
        peer.next_message().await,
        Some(Message::Close(_)) | None
    ));
    drop(peer);
    assert!(!charger.wait_closed(Duration::ZERO).await);

    let mut rebooted = server.accept(Some("new-password")).await.unwrap();
    assert_eq!(
        rebooted.seen.authorization,
        Some(basic("CP1", "new-password"))
    );
    let (_, statuses) = rebooted.serve_boot(2).await;
    let connectors: Vec<Value> = statuses
        .iter()
        .map(|s| {
            assert_eq!(s.payload["status"], "Available");
            s.payload["connectorId"].clone()
        })
        .collect();
    assert_eq!(connectors, [json!(1), json!(2)]);
    assert!(charger.wait_for_reboots(1, WAIT).await);
    assert_eq!(charger.reboots(), 1);
    assert!(charger.is_connected());
    // The new connection works like the first.
    let answer = rebooted
        .call("GetConfiguration", json!({ "key": ["HeartbeatInterval"] }))
        .await;
    assert!(matches!(answer, Frame::CallResult(_)));
}

#[tokio::test]
async fn rejected_reset_does_not_reboot() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.reset_behaviour = KeyBehaviour::Reject;
    let (charger, mut peer) = server.connect(config).await;
    let answer = peer.call("Reset", json!({ "type": "Hard" })).await;
    assert_eq!(status_of(&answer), "Rejected");
    assert_eq!(charger.reboots(), 0);
    assert!(charger.is_connected());
}

#[tokio::test]
async fn raw_inbox_holds_every_text_frame_including_answers() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let (answer, ()) = tokio::join!(charger.heartbeat(), async {
        let call = peer.recv_call().await;
        peer.answer(&call, json!({ "currentTime": "2024-01-01T00:00:00Z" }))
            .await;
    });
    answer.unwrap();
    peer.ws
        .send(Message::Text("not json".into()))
        .await
        .unwrap();
    peer.call_ok("ClearCache", json!({})).await;

    let first = charger.next_raw(WAIT).await.unwrap();
    assert!(first.starts_with("[3,"), "{first}");
    assert_eq!(charger.next_raw(WAIT).await.unwrap(), "not json");
    let third = charger.next_raw(WAIT).await.unwrap();
    assert!(third.contains("ClearCache"), "{third}");
    assert_eq!(charger.next_raw(Duration::from_millis(10)).await, None);
}

#[tokio::test]
async fn wait_for_call_returns_successive_calls_of_an_action() {
    let server = TestServer::start().await;
    let mut config = server.config("CP1");
    config.auto_answer = false;
    let (charger, mut peer) = server.connect(config).await;
    let first = peer
        .send_call("GetConfiguration", json!({ "key": ["A"] }))
        .await;
    let reset = peer.send_call("Reset", json!({ "type": "Soft" })).await;
    let second = peer
        .send_call("GetConfiguration", json!({ "key": ["B"] }))
        .await;

    let call = charger
        .wait_for_call("GetConfiguration", WAIT)
        .await
        .unwrap();
    assert_eq!(call.message_id, first);
    let call = charger
        .wait_for_call("GetConfiguration", WAIT)
        .await
        .unwrap();
    assert_eq!(call.message_id, second);
    let call = charger.wait_for_call("Reset", WAIT).await.unwrap();
    assert_eq!(call.message_id, reset);
    assert_eq!(
        charger
            .wait_for_call("GetConfiguration", Duration::from_millis(20))
            .await,
        Err(SimError::Timeout)
    );
    let ids: Vec<String> = charger
        .received_calls()
        .into_iter()
        .map(|c| c.message_id)
        .collect();
    assert_eq!(ids, [first.clone(), reset, second]);

    // Nothing was answered automatically; answer by hand.
    charger
        .answer_error(&first, ErrorCode::GenericError, "by hand")
        .await
        .unwrap();
    match peer.recv().await {
        Frame::CallError(error) => {
            assert_eq!(error.message_id, first);
            assert_eq!(error.code, ErrorCode::GenericError);
        }
        other => panic!("expected a CALLERROR, got {other:?}"),
    }
    assert_eq!(charger.reboots(), 0);
}

#[tokio::test]
async fn a_call_sent_while_ours_waits_is_still_answered() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let server_side = async {
        let heartbeat = peer.recv_call().await;
        let answer = peer
            .call_ok("GetConfiguration", json!({ "key": ["HeartbeatInterval"] }))
            .await;
        assert_eq!(answer["configurationKey"][0]["value"], "300");
        peer.answer(&heartbeat, json!({ "currentTime": "2024-01-01T00:00:00Z" }))
            .await;
    };
    let (result, ()) = tokio::join!(charger.heartbeat(), server_side);
    result.unwrap();
}

#[tokio::test]
async fn unknown_actions_are_answered_not_implemented() {
    let server = TestServer::start().await;
    let (_charger, mut peer) = server.connect(server.config("CP1")).await;
    match peer.call("Teleport", json!({})).await {
        Frame::CallError(error) => assert_eq!(error.code, ErrorCode::NotImplemented),
        other => panic!("expected a CALLERROR, got {other:?}"),
    }
    let answer = peer
        .call("TriggerMessage", json!({ "requestedMessage": "Heartbeat" }))
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    let heartbeat = peer.recv_call().await;
    assert_eq!(heartbeat.action, "Heartbeat");
}

#[tokio::test]
async fn large_frames_from_the_server_are_accepted() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let data = "x".repeat(5 << 20);
    let answer = peer
        .call("DataTransfer", json!({ "vendorId": "big", "data": data }))
        .await;
    assert_eq!(status_of(&answer), "Accepted");
    assert!(charger.next_raw(WAIT).await.unwrap().len() > 5 << 20);
}

#[tokio::test]
async fn pings_are_counted_and_pongs_can_be_withheld() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;

    peer.ws.send(Message::Ping(b"one".to_vec())).await.unwrap();
    assert!(charger.wait_for_pings(1, WAIT).await);
    assert_eq!(
        peer.next_message().await,
        Some(Message::Pong(b"one".to_vec()))
    );

    charger.set_answer_pings(false);
    peer.ws.send(Message::Ping(b"two".to_vec())).await.unwrap();
    assert!(charger.wait_for_pings(2, WAIT).await);
    // Without the filter the pong would come before this frame.
    charger.send_raw("after".into()).await.unwrap();
    assert_eq!(
        peer.next_message().await,
        Some(Message::Text("after".into()))
    );

    charger.set_answer_pings(true);
    peer.ws
        .send(Message::Ping(b"three".to_vec()))
        .await
        .unwrap();
    assert!(charger.wait_for_pings(3, WAIT).await);
    assert_eq!(
        peer.next_message().await,
        Some(Message::Pong(b"three".to_vec()))
    );
    assert_eq!(charger.pings_received(), 3);
}

#[tokio::test]
async fn wait_closed_sees_the_server_closing() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    assert!(!charger.wait_closed(Duration::from_millis(10)).await);
    peer.ws.close(None).await.unwrap();
    assert!(charger.wait_closed(WAIT).await);
    assert!(!charger.is_connected());
    assert_eq!(charger.heartbeat().await.unwrap_err(), SimError::Closed);
    assert_eq!(
        charger.send_raw("x".into()).await.unwrap_err(),
        SimError::Closed
    );
}

#[tokio::test]
async fn hostile_frames_are_sent_as_they_are() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    charger.send_raw("[2,\"x\"".into()).await.unwrap();
    charger.send_binary(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        peer.next_message().await,
        Some(Message::Text("[2,\"x\"".into()))
    );
    assert_eq!(
        peer.next_message().await,
        Some(Message::Binary(vec![1, 2, 3]))
    );
}

#[tokio::test]
async fn disconnect_closes_the_socket_politely() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let server_side = async {
        let message = peer.next_message().await;
        // Reading on sends the close echo; then the stream ends.
        let after = peer.next_message().await;
        (message, after)
    };
    let (_, (message, after)) = tokio::join!(charger.disconnect(), server_side);
    assert!(matches!(message, Some(Message::Close(_))), "{message:?}");
    assert_eq!(after, None);
}

#[tokio::test]
async fn dropping_the_charger_closes_the_socket() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    drop(charger);
    let message = peer.next_message().await;
    assert!(
        matches!(message, Some(Message::Close(_)) | None),
        "{message:?}"
    );
}

#[test]
fn chargers_and_their_futures_can_move_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: T) {}
    send_sync::<Charger>();
    send_sync::<SimError>();
    let _never_called = |charger: &'static Charger| {
        send(charger.boot());
        send(charger.call("Heartbeat", json!({})));
        send(charger.wait_for_call("Reset", WAIT));
        send(charger.next_raw(WAIT));
        send(charger.wait_closed(WAIT));
        send(charger.reconnect());
    };
    let _never_called_either = |charger: Charger| send(charger.disconnect());
}

#[actix_web::test]
async fn chargers_work_inside_an_actix_test_runtime() {
    let server = TestServer::start().await;
    let (charger, mut peer) = server.connect(server.config("CP1")).await;
    let (answer, _) = tokio::join!(charger.boot(), peer.serve_boot(0));
    assert_eq!(answer.unwrap()["status"], "Accepted");
    let answer = peer.call("Reset", json!({ "type": "Hard" })).await;
    assert_eq!(status_of(&answer), "Accepted");
    drop(peer);
    let mut rebooted = server.accept(None).await.unwrap();
    rebooted.serve_boot(1).await;
    assert!(charger.wait_for_reboots(1, WAIT).await);
}
