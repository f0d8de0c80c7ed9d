//! The baseline: the least a WebSocket server can do for an OCPP charger, the practical
//! limit every csms figure is compared with. It accepts the `ocpp1.6` subprotocol and
//! answers every CALL with a fixed CALLRESULT (for BootNotification a valid `Accepted`
//! one): no validation, no storage, no per-charger state.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// The fixed answers (the current time is the same on every answer).
const BOOT_PAYLOAD: &str =
    r#"{"status":"Accepted","currentTime":"2025-01-01T00:00:00.000Z","interval":900}"#;
const HEARTBEAT_PAYLOAD: &str = r#"{"currentTime":"2025-01-01T00:00:00.000Z"}"#;
const EMPTY_PAYLOAD: &str = "{}";

/// The CALLRESULT text for a CALL, or `None` for anything that is not a CALL.
pub fn answer(text: &str) -> Option<String> {
    let frame: Value = serde_json::from_str(text).ok()?;
    let frame = frame.as_array()?;
    if frame.first()?.as_u64()? != 2 {
        return None;
    }
    let message_id = frame.get(1)?;
    let payload = match frame.get(2)?.as_str()? {
        "BootNotification" => BOOT_PAYLOAD,
        "Heartbeat" => HEARTBEAT_PAYLOAD,
        _ => EMPTY_PAYLOAD,
    };
    Some(format!("[3,{message_id},{payload}]"))
}

/// Serves chargers on `listener` until the process ends.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream));
    }
}

/// Binds `addr` with a deep accept queue.
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // As deep an accept queue as csms's (actix: 2,048) or deeper, so a storm is not
    // slowed by SYN retransmits (1 s) that only the baseline suffers.
    socket.listen(4_096)
}

/// The handshake callback: selects `ocpp1.6` when the charger offers it.
#[allow(clippy::result_large_err)] // the signature tungstenite's `Callback` requires
fn choose_subprotocol(
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "ocpp1.6");
    if offered {
        response.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("ocpp1.6"),
        );
    }
    Ok(response)
}

async fn connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, choose_subprotocol).await
    else {
        return;
    };
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if let Some(reply) = answer(&text) {
                if socket.send(Message::Text(reply)).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_gets_a_fixed_callresult_with_its_message_id() {
        let boot = answer(r#"[2,"b1","BootNotification",{}]"#).unwrap();
        let boot: Value = serde_json::from_str(&boot).unwrap();
        assert_eq!(boot[0], 3);
        assert_eq!(boot[1], "b1");
        assert_eq!(boot[2]["status"], "Accepted");
        assert_eq!(
            answer(r#"[2,"7","Heartbeat",{}]"#).unwrap(),
            format!("[3,\"7\",{HEARTBEAT_PAYLOAD}]")
        );
        assert_eq!(
            answer(r#"[2,"8","Authorize",{"idTag":"x"}]"#).unwrap(),
            "[3,\"8\",{}]"
        );
        assert_eq!(answer(r#"[3,"8",{}]"#), None);
        assert_eq!(answer("nonsense"), None);
    }
}
