//! Bearer API-key authentication for every `/v1.1` route, with failed attempts
//! rate-limited per source address ([`model::auth_limit::AuthLimiter`]): once an address
//! is over the limit it gets 429 until its window ends, even with a valid key. Failures
//! are logged with the peer and path, never with the presented key.
//!
//! The operator console's cookie ([`CONSOLE_COOKIE`], set by `/console/login`) is
//! accepted instead of the Bearer header for `GET` and `HEAD` only, so the console's
//! `EventSource` and fetches can read; anything that changes state needs the header
//! (or goes through a `/console` form, which checks its origin). The console checks its
//! keys with the same [`check_key`], limiter included.

use std::net::SocketAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::error::ApiError;
use crate::ApiState;

/// The name of the operator console's session cookie; its value is the API key,
/// percent-encoded.
pub const CONSOLE_COOKIE: &str = "csms_console";

/// Middleware: rejects the request with 401 unless it carries a valid
/// `Authorization: Bearer <key>` (or, for `GET`/`HEAD`, the console cookie), or with 429
/// when its address failed too often.
///
/// # Errors
/// 401 or 429 in the envelope, or the inner service's error.
pub async fn require_api_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD);
    let presented = bearer.or_else(|| reads_only.then(|| console_cookie(req.headers())).flatten());
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return Err(ApiError::Internal("API state missing".into()).into());
    };
    check_key(&state, req.peer_addr(), req.path(), presented.as_deref()).await?;
    next.call(req).await
}

/// Checks a presented API key as every authenticated route does: 429 while the peer's
/// address is over the failure limit, 401 (counted as a failure) for a missing or
/// unknown key.
///
/// # Errors
/// [`ApiError::TooManyRequests`], [`ApiError::Unauthorized`], or a database failure.
pub(crate) async fn check_key(
    state: &ApiState,
    peer: Option<SocketAddr>,
    path: &str,
    presented: Option<&str>,
) -> Result<(), ApiError> {
    let ip = peer.map(|p| p.ip());
    let now = state.db.now_ms();
    if ip.is_some_and(|ip| state.auth_limiter.is_blocked(ip, now)) {
        tracing::warn!(peer = ?peer, path, "API call refused: too many failed authentications from this address");
        return Err(too_many());
    }
    let failed = |reason: &str| {
        let blocked = ip.is_some_and(|ip| state.auth_limiter.record_failure(ip, now));
        tracing::warn!(peer = ?peer, path, blocked, "API call {reason}");
    };
    let Some(key) = presented.filter(|k| !k.is_empty()) else {
        failed("without an API key");
        return Err(ApiError::Unauthorized);
    };
    match model::api_keys::authenticate(&state.db, key).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => {
            failed("with an invalid API key");
            Err(ApiError::Unauthorized)
        }
        Err(e) => Err(ApiError::from(e)),
    }
}

/// The API key in the console cookie of a request's `Cookie` headers, decoded.
pub(crate) fn console_cookie(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CONSOLE_COOKIE)
        .map(|(_, value)| cookie_decode(value.trim_matches('"')))
}

/// `text` with every byte outside `A-Z a-z 0-9 - . _ ~` percent-encoded: the console
/// cookie's value (cookie values may not hold `;`, `,`, spaces or quotes), and a URL path
/// segment in the console's links.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The inverse of [`percent_encode`] (a `%` not followed by two hex digits is kept).
fn cookie_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn too_many() -> ApiError {
    ApiError::TooManyRequests("too many failed authentications; retry later".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> header::HeaderMap {
        let mut map = header::HeaderMap::new();
        for cookie in cookies {
            map.append(
                header::COOKIE,
                header::HeaderValue::from_str(cookie).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_console_cookie_is_found_among_others_and_decoded() {
        assert_eq!(
            console_cookie(&headers(&["a=1; csms_console=key%3B1; b=2"])),
            Some("key;1".to_owned())
        );
        assert_eq!(
            console_cookie(&headers(&["a=1", "csms_console=k"])),
            Some("k".to_owned())
        );
        assert_eq!(console_cookie(&headers(&["csms_consolex=k"])), None);
        assert_eq!(console_cookie(&headers(&[])), None);
    }

    #[test]
    fn keys_survive_the_cookie_encoding() {
        for key in ["plain-key_0.9~", "a b;c,d\"e%f+g", "ключ", "%zz"] {
            assert_eq!(cookie_decode(&percent_encode(key)), key);
        }
        assert_eq!(percent_encode("abc-123"), "abc-123");
        assert_eq!(percent_encode("a/b c\"<"), "a%2Fb%20c%22%3C");
        assert_eq!(cookie_decode("50%"), "50%");
    }
}
