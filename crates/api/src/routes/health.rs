//! `GET /health` (liveness) and `GET /ready` (the database answers).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi::schemas as doc;
use crate::ApiState;

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "The process serves HTTP.", body = doc::Envelope<doc::Status>)))]
pub async fn health() -> HttpResponse {
    envelope::ok("OK", json!({"status": "ok"}))
}

/// Readiness: the database answers.
///
/// # Errors
/// 503 when the database does not answer.
#[utoipa::path(get, path = "/ready", tag = "service", responses((status = 200, description = "The database answers.", body = doc::Envelope<doc::Status>), (status = 503)))]
pub async fn ready(state: web::Data<ApiState>) -> ApiResult<HttpResponse> {
    state
        .db
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database unavailable: {e}")))?;
    Ok(envelope::ok("Ready", json!({"status": "ready"})))
}
