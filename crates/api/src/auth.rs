//! Bearer API-key authentication for every `/v1.1` route, with failed attempts
//! rate-limited per source address ([`model::auth_limit::AuthLimiter`]): once an address
//! is over the limit it gets 429 until its window ends, even with a valid key. Failures
//! are logged with the peer and path, never with the presented key.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::error::ApiError;
use crate::ApiState;

/// Middleware: rejects the request with 401 unless it carries a valid
/// `Authorization: Bearer <key>`, or with 429 when its address failed too often.
///
/// # Errors
/// 401 or 429 in the envelope, or the inner service's error.
pub async fn require_api_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return Err(ApiError::Internal("API state missing".into()).into());
    };
    let peer = req.peer_addr();
    let ip = peer.map(|p| p.ip());
    let now = state.db.now_ms();
    if ip.is_some_and(|ip| state.auth_limiter.is_blocked(ip, now)) {
        tracing::warn!(peer = ?peer, path = req.path(), "API call refused: too many failed authentications from this address");
        return Err(too_many().into());
    }
    let failed = |reason: &str| {
        let blocked = ip.is_some_and(|ip| state.auth_limiter.record_failure(ip, now));
        tracing::warn!(peer = ?peer, path = req.path(), blocked, "API call {reason}");
    };
    let Some(key) = presented.filter(|k| !k.is_empty()) else {
        failed("without an API key");
        return Err(ApiError::Unauthorized.into());
    };
    match model::api_keys::authenticate(&state.db, &key).await {
        Ok(Some(_)) => next.call(req).await,
        Ok(None) => {
            failed("with an invalid API key");
            Err(ApiError::Unauthorized.into())
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

fn too_many() -> ApiError {
    ApiError::TooManyRequests("too many failed authentications; retry later".into())
}
