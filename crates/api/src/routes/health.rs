//! `GET /health` (liveness) and `GET /ready` (the database answers).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ApiState;

/// Liveness: the process serves HTTP.
pub async fn health() -> HttpResponse {
    envelope::ok("OK", json!({"status": "ok"}))
}

/// Readiness: the database answers.
///
/// # Errors
/// 503 when the database does not answer.
pub async fn ready(state: web::Data<ApiState>) -> ApiResult<HttpResponse> {
    state
        .db
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database unavailable: {e}")))?;
    Ok(envelope::ok("Ready", json!({"status": "ready"})))
}
