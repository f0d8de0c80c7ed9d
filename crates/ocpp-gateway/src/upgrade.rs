//! The WebSocket handshake, read and answered on the raw connection: the HTTP/1.1
//! request head, identity from the last path segment, chargestation lookup (or
//! auto-registration), `ocpp1.6` subprotocol negotiation, Basic auth or the TLS client
//! certificate, the upgrade checks of RFC 6455 §4.2.1, and the `101 Switching Protocols`.
//!
//! Refusals reveal nothing beyond the status and close the connection: 400 (no `ocpp1.6`,
//! bad identity, not a WebSocket upgrade), 404 (unknown identity), 401 (missing or wrong
//! credentials, or for a `client_certificate` station no verified client certificate
//! with its identity as subject CN), 429 (this address failed authentication too often:
//! after `model::auth_limit` allows no more failures, every handshake from it is refused
//! until its window ends), 431 (a request head over [`MAX_HEAD_BYTES`]), 503 (the
//! database could not answer). Credentials are never logged.

use std::net::IpAddr;

use base64::Engine;
use model::chargestations::{self, Chargestation, SecurityType};
use model::ids::ChargestationIdentity;
use model::notify::{self, Signal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Gateway;

/// The subprotocol we speak.
pub const SUBPROTOCOL: &str = "ocpp1.6";

/// The longest request head accepted (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The most header lines a request head may have.
const MAX_HEADERS: usize = 64;

/// The TLS client certificate a charger presented on this connection, already verified
/// against `CSMS_OCPP_TLS_CLIENT_CA` by the TLS layer; the handshake reads it for
/// security profile 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClientCertificate {
    /// The subject's common name (CN), when the certificate has one.
    pub common_name: Option<String>,
}

/// An HTTP status the handshake answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    BadRequest,
    Unauthorized,
    NotFound,
    RequestTimeout,
    TooManyRequests,
    HeadTooLarge,
    Unavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::BadRequest => "400 Bad Request",
            Status::Unauthorized => "401 Unauthorized",
            Status::NotFound => "404 Not Found",
            Status::RequestTimeout => "408 Request Timeout",
            Status::TooManyRequests => "429 Too Many Requests",
            Status::HeadTooLarge => "431 Request Header Fields Too Large",
            Status::Unavailable => "503 Service Unavailable",
        }
    }
}

/// Writes a refusal (no body) and shuts the connection's sending side.
pub(crate) async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, status: Status) {
    let response = format!(
        "HTTP/1.1 {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        status.line()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A parsed request head: what the handshake decides on.
#[derive(Debug)]
pub(crate) struct RequestHead {
    method: String,
    path: String,
    /// Header names in lower case, values as sent (lossy UTF-8).
    headers: Vec<(String, String)>,
}

impl RequestHead {
    /// Every value of a header, in order.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.values(name).next()
    }

    /// Whether a comma-separated header lists `token` (case-insensitively).
    fn lists(&self, name: &str, token: &str) -> bool {
        self.values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The connection closed (or failed) before a whole head came.
    Closed,
    /// Not an HTTP/1.1 request.
    Malformed,
    /// Longer than [`MAX_HEAD_BYTES`] or more than [`MAX_HEADERS`] lines.
    TooLarge,
}

/// Reads the request head; also returns the bytes read past it (a charger may send its
/// first frame right behind the request), which belong to the WebSocket stream.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(RequestHead, Vec<u8>), HeadError> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if read == 0 {
            return Err(HeadError::Closed);
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer) {
            Ok(httparse::Status::Complete(length)) => {
                let head = RequestHead {
                    method: request.method.unwrap_or_default().to_owned(),
                    path: request.path.unwrap_or_default().to_owned(),
                    headers: request
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                };
                if request.version != Some(1) {
                    return Err(HeadError::Malformed);
                }
                return Ok((head, buffer.split_off(length)));
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD_BYTES => {}
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                return Err(HeadError::TooLarge)
            }
            Err(_) => return Err(HeadError::Malformed),
        }
    }
}

/// Percent-decodes a path segment; `None` for invalid UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The identity: the last non-empty path segment (query string aside), URL-decoded.
pub fn identity_from_path(path: &str) -> Option<String> {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    if segment.is_empty() {
        return None;
    }
    percent_decode(segment)
}

fn basic_credentials(head: &RequestHead) -> Option<(String, String)> {
    let value = head.value("authorization")?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    // OCPP allows any byte in the password (AuthorizationKey); read it as lossy UTF-8.
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn authorised(
    head: &RequestHead,
    certificate: Option<&VerifiedClientCertificate>,
    station: &Chargestation,
) -> bool {
    match station.security_type {
        SecurityType::None => true,
        SecurityType::BasicAuth => basic_credentials(head).is_some_and(|(user, password)| {
            user == station.endpoint && station.password_matches(&password)
        }),
        // Profile 3: a certificate verified by the TLS layer whose subject CN is the
        // identity. Without a verified certificate (plain ws, no CA configured, none
        // presented) the station is refused.
        SecurityType::ClientCertificate => certificate
            .and_then(|cert| cert.common_name.as_deref())
            .is_some_and(|cn| cn == station.endpoint),
    }
}

/// The `Sec-WebSocket-Accept` value when the head is a valid WebSocket upgrade
/// (RFC 6455 §4.2.1: `GET`, `Upgrade: websocket`, `Connection: Upgrade`, version 13, a
/// key).
fn websocket_accept(head: &RequestHead) -> Option<String> {
    let valid = head.method == "GET"
        && head.lists("upgrade", "websocket")
        && head.lists("connection", "upgrade")
        && head.value("sec-websocket-version").map(str::trim) == Some("13");
    let key = head.value("sec-websocket-key")?.trim();
    valid.then(|| tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()))
}

/// An admitted charger: its station and the generation its connection was recorded with.
pub(crate) struct Admitted {
    pub(crate) station: Chargestation,
    pub(crate) generation: i64,
}

/// Decides on a request head and answers it on `stream`: `101 Switching Protocols` and
/// the admitted station, or a refusal (already written) and `None`.
pub(crate) async fn answer<S: AsyncWrite + Unpin>(
    gateway: &Gateway,
    stream: &mut S,
    head: &RequestHead,
    peer_ip: IpAddr,
    certificate: Option<&VerifiedClientCertificate>,
) -> Option<Admitted> {
    match admit(gateway, head, peer_ip, certificate).await {
        Ok((admitted, accept, offered)) => {
            let protocol = if offered {
                "Sec-WebSocket-Protocol: ocpp1.6\r\n"
            } else {
                ""
            };
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
            );
            // A charger gone before the answer is cleaned up by its connection task,
            // whose first read fails.
            let _ = stream.write_all(response.as_bytes()).await;
            Some(admitted)
        }
        Err(status) => {
            refuse(stream, status).await;
            None
        }
    }
}

/// The checks, in the order that reveals least: the address's failure count, the
/// identity, the station, the subprotocol, the credentials, the upgrade itself; then the
/// connection is recorded. Ok: the admitted station, the accept key, whether `ocpp1.6`
/// was offered.
async fn admit(
    gateway: &Gateway,
    head: &RequestHead,
    peer_ip: IpAddr,
    certificate: Option<&VerifiedClientCertificate>,
) -> Result<(Admitted, String, bool), Status> {
    let shared = &gateway.shared;
    let path = head.path.as_str();
    if shared.auth_limiter.is_blocked(peer_ip, shared.db.now_ms()) {
        tracing::warn!(peer = %peer_ip, path, "handshake refused: too many failed authentications from this address");
        return Err(Status::TooManyRequests);
    }
    let Some(identity) = identity_from_path(path) else {
        return Err(Status::BadRequest);
    };
    if ChargestationIdentity::parse(&identity).is_err() {
        tracing::info!(path, "handshake refused: invalid identity");
        return Err(Status::BadRequest);
    }
    // Answered together with the other handshakes' lookups arriving meanwhile.
    let station = match shared.group_commit.find_by_endpoint(&identity).await {
        Ok(Some(station)) => station,
        Ok(None) if shared.config.auto_register => {
            match chargestations::auto_register(&shared.db, &identity).await {
                Ok(station) => {
                    tracing::info!(identity, "auto-registered a new chargestation");
                    station
                }
                Err(e) => {
                    tracing::error!(identity, error = %e, "auto-registration failed");
                    return Err(Status::Unavailable);
                }
            }
        }
        Ok(None) => {
            tracing::info!(identity, "handshake refused: unknown identity");
            return Err(Status::NotFound);
        }
        Err(e) => {
            tracing::error!(identity, error = %e, "station lookup failed");
            return Err(Status::Unavailable);
        }
    };
    let offered = head.lists("sec-websocket-protocol", SUBPROTOCOL);
    if !offered && !station.lenient_handshake {
        tracing::info!(
            identity,
            "handshake refused: subprotocol ocpp1.6 not offered"
        );
        return Err(Status::BadRequest);
    }
    if !authorised(head, certificate, &station) {
        let blocked = shared
            .auth_limiter
            .record_failure(peer_ip, shared.db.now_ms());
        tracing::warn!(identity, peer = %peer_ip, blocked, "handshake refused: bad or missing credentials");
        return Err(Status::Unauthorized);
    }
    let Some(accept) = websocket_accept(head) else {
        tracing::info!(
            identity,
            method = head.method,
            "handshake refused: not a WebSocket upgrade"
        );
        return Err(Status::BadRequest);
    };
    // Committed together with the other connections and boots arriving meanwhile.
    let generation = match shared
        .group_commit
        .mark_connected(
            &station.id,
            &shared.config.public_base_url,
            &shared.config.instance_id,
        )
        .await
    {
        Ok(generation) => generation,
        Err(e) => {
            tracing::error!(identity, error = %e, "could not record the connection");
            return Err(Status::Unavailable);
        }
    };
    // An older connection of this station on another instance must close.
    let takeover = Signal::Takeover {
        station_id: station.id.clone(),
        generation,
    };
    if let Err(e) = notify::publish(&shared.db, &takeover).await {
        tracing::warn!(identity, error = %e, "could not tell other instances about the new connection");
    }
    Ok((
        Admitted {
            station,
            generation,
        },
        accept,
        offered,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_last_path_segment_url_decoded() {
        assert_eq!(identity_from_path("/ocpp/CP001").as_deref(), Some("CP001"));
        assert_eq!(
            identity_from_path("/a/b/c/CP%20001/").as_deref(),
            Some("CP 001")
        );
        assert_eq!(identity_from_path("/CP1").as_deref(), Some("CP1"));
        assert_eq!(identity_from_path("/ocpp/CP1?x=1").as_deref(), Some("CP1"));
        assert_eq!(identity_from_path("/"), None);
        assert_eq!(identity_from_path("/ocpp/%FF"), None);
    }

    async fn parse(bytes: &[u8]) -> Result<(RequestHead, Vec<u8>), HeadError> {
        read_head(&mut &bytes[..]).await
    }

    const UPGRADE: &str = "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: ocpp2.0, ocpp1.6\r\n\r\n";

    #[tokio::test]
    async fn a_valid_upgrade_head_gives_the_rfc_6455_accept_key_and_keeps_what_follows_it() {
        let mut bytes = UPGRADE.as_bytes().to_vec();
        bytes.extend_from_slice(b"\x81\x00");
        let (head, rest) = parse(&bytes).await.unwrap();
        assert_eq!(head.path, "/ocpp/CP1");
        assert!(head.lists("sec-websocket-protocol", "ocpp1.6"));
        assert!(!head.lists("sec-websocket-protocol", "ocpp2.0.1"));
        // The example of RFC 6455 §1.3.
        assert_eq!(
            websocket_accept(&head).as_deref(),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(rest, b"\x81\x00");
    }

    #[tokio::test]
    async fn heads_that_are_not_websocket_upgrades_have_no_accept_key() {
        for (from, to) in [
            ("GET ", "POST "),
            ("Upgrade: WebSocket", "Upgrade: h2c"),
            ("keep-alive, Upgrade", "keep-alive"),
            ("Version: 13", "Version: 8"),
            ("Sec-WebSocket-Key", "X-Key"),
        ] {
            let text = UPGRADE.replace(from, to);
            let (head, _) = parse(text.as_bytes()).await.unwrap();
            assert_eq!(websocket_accept(&head), None, "{from} -> {to}");
        }
    }

    #[tokio::test]
    async fn malformed_truncated_and_oversized_heads_are_refused() {
        assert!(matches!(
            parse(b"NOT HTTP AT ALL\r\n\r\n").await,
            Err(HeadError::Malformed)
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.0\r\n\r\n").await,
            Err(HeadError::Malformed)
        ));
        assert!(matches!(
            parse(b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\n").await,
            Err(HeadError::Closed)
        ));
        let long = format!(
            "GET /ocpp/CP1 HTTP/1.1\r\nX-Long: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert!(matches!(
            parse(long.as_bytes()).await,
            Err(HeadError::TooLarge)
        ));
        let many = format!(
            "GET /ocpp/CP1 HTTP/1.1\r\n{}\r\n",
            "X-A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert!(matches!(
            parse(many.as_bytes()).await,
            Err(HeadError::TooLarge)
        ));
    }

    #[test]
    fn basic_credentials_are_read_from_the_authorization_header() {
        let head = |value: &str| RequestHead {
            method: "GET".into(),
            path: "/".into(),
            headers: vec![("authorization".into(), value.into())],
        };
        // "CP1:secret"
        assert_eq!(
            basic_credentials(&head("Basic Q1AxOnNlY3JldA==")),
            Some(("CP1".into(), "secret".into()))
        );
        assert_eq!(
            basic_credentials(&head("basic Q1AxOnNlY3JldA== ")).map(|c| c.1),
            Some("secret".into())
        );
        assert_eq!(basic_credentials(&head("Bearer Q1AxOnNlY3JldA==")), None);
        assert_eq!(basic_credentials(&head("Basic !!!")), None);
    }
}
