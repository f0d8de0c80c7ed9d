//! The WebSocket handshake: identity from the last path segment, `ocpp1.6` subprotocol
//! negotiation, chargestation lookup (or auto-registration), Basic auth, then the
//! upgrade and the hand-over to a connection task.
//!
//! Refusals reveal nothing beyond the status: 400 (no `ocpp1.6`, bad identity),
//! 404 (unknown identity), 401 (missing or wrong credentials, or for a
//! `client_certificate` station no verified client certificate with its identity as
//! subject CN), 429 (this address failed authentication too often: after
//! `model::auth_limit` allows no more failures, every handshake from it is refused until
//! its window ends). Credentials are never logged.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use model::chargestations::{self, Chargestation, SecurityType};
use model::ids::ChargestationIdentity;
use model::notify::{self, Signal};

use crate::connection;
use crate::Gateway;

/// The subprotocol we speak.
pub const SUBPROTOCOL: &str = "ocpp1.6";

fn refuse(status: actix_web::http::StatusCode) -> HttpResponse {
    HttpResponse::build(status).finish()
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

/// The identity: the last non-empty path segment, URL-decoded.
pub fn identity_from_path(path: &str) -> Option<String> {
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    if segment.is_empty() {
        return None;
    }
    percent_decode(segment)
}

fn offers_ocpp16(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
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

/// The TLS client certificate a charger presented on this connection, already verified
/// against `CSMS_OCPP_TLS_CLIENT_CA` by the TLS layer. The listener stores it in the
/// connection data (`HttpServer::on_connect`); the handshake reads it for profile 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClientCertificate {
    /// The subject's common name (CN), when the certificate has one.
    pub common_name: Option<String>,
}

fn authorised(req: &HttpRequest, station: &Chargestation) -> bool {
    match station.security_type {
        SecurityType::None => true,
        SecurityType::BasicAuth => basic_credentials(req).is_some_and(|(user, password)| {
            user == station.endpoint && station.password_matches(&password)
        }),
        // Profile 3: a certificate verified by the TLS layer whose subject CN is the
        // identity. Without a verified certificate (plain ws, no CA configured, none
        // presented) the station is refused.
        SecurityType::ClientCertificate => req
            .conn_data::<VerifiedClientCertificate>()
            .and_then(|cert| cert.common_name.as_deref())
            .is_some_and(|cn| cn == station.endpoint),
    }
}

/// The actix handler for every charger path: `GET /<any prefix>/<identity>`.
pub async fn handle_upgrade(
    req: HttpRequest,
    body: web::Payload,
    gateway: web::Data<Gateway>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let shared = gateway.shared.clone();
    let peer_ip = req.peer_addr().map(|p| p.ip());
    if peer_ip.is_some_and(|ip| shared.auth_limiter.is_blocked(ip, shared.db.now_ms())) {
        tracing::warn!(peer = ?req.peer_addr(), path = req.path(), "handshake refused: too many failed authentications from this address");
        return refuse(StatusCode::TOO_MANY_REQUESTS);
    }
    let Some(identity) = identity_from_path(req.path()) else {
        return refuse(StatusCode::BAD_REQUEST);
    };
    if ChargestationIdentity::parse(&identity).is_err() {
        tracing::info!(path = req.path(), "handshake refused: invalid identity");
        return refuse(StatusCode::BAD_REQUEST);
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
                    return refuse(StatusCode::SERVICE_UNAVAILABLE);
                }
            }
        }
        Ok(None) => {
            tracing::info!(identity, "handshake refused: unknown identity");
            return refuse(StatusCode::NOT_FOUND);
        }
        Err(e) => {
            tracing::error!(identity, error = %e, "station lookup failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let offered = offers_ocpp16(&req);
    if !offered && !station.lenient_handshake {
        tracing::info!(
            identity,
            "handshake refused: subprotocol ocpp1.6 not offered"
        );
        return refuse(StatusCode::BAD_REQUEST);
    }
    if !authorised(&req, &station) {
        let blocked =
            peer_ip.is_some_and(|ip| shared.auth_limiter.record_failure(ip, shared.db.now_ms()));
        tracing::warn!(identity, peer = ?req.peer_addr(), blocked, "handshake refused: bad or missing credentials");
        return refuse(StatusCode::UNAUTHORIZED);
    }
    let (mut response, session, stream) = match actix_ws::handle(&req, body) {
        Ok(parts) => parts,
        Err(e) => {
            tracing::info!(identity, error = %e, "handshake refused: not a WebSocket upgrade");
            return refuse(StatusCode::BAD_REQUEST);
        }
    };
    if offered {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
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
        Ok(generation) => {
            // An older connection of this station on another instance must close.
            let takeover = Signal::Takeover {
                station_id: station.id.clone(),
                generation,
            };
            if let Err(e) = notify::publish(&shared.db, &takeover).await {
                tracing::warn!(identity, error = %e, "could not tell other instances about the new connection");
            }
            generation
        }
        Err(e) => {
            tracing::error!(identity, error = %e, "could not record the connection");
            return refuse(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let stream = stream
        .max_frame_size(shared.config.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(shared.config.max_frame_bytes);
    connection::spawn(
        Arc::clone(&gateway.into_inner()),
        station,
        generation,
        session,
        stream,
    );
    response
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
        assert_eq!(identity_from_path("/"), None);
        assert_eq!(identity_from_path("/ocpp/%FF"), None);
    }
}
