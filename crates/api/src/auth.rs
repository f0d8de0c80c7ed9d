//! Bearer API-key authentication for every `/v1.1` route.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::error::ApiError;
use crate::ApiState;

/// Middleware: rejects the request with 401 unless it carries a valid
/// `Authorization: Bearer <key>`.
///
/// # Errors
/// 401 in the envelope, or the inner service's error.
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
    let Some(key) = presented.filter(|k| !k.is_empty()) else {
        tracing::warn!(peer = ?req.peer_addr(), path = req.path(), "API call without an API key");
        return Err(ApiError::Unauthorized.into());
    };
    match model::api_keys::authenticate(&state.db, &key).await {
        Ok(Some(_)) => next.call(req).await,
        Ok(None) => {
            tracing::warn!(peer = ?req.peer_addr(), path = req.path(), "API call with an invalid API key");
            Err(ApiError::Unauthorized.into())
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
