//! `GET /metrics`: the Prometheus text exposition (no authentication, like `/health`).
//! Queue depths and the outbox lag are read from the database at scrape time; if it does
//! not answer, the last values are served and the failure is logged.

use actix_web::{web, HttpResponse};

use crate::error::{ApiError, ApiResult};
use crate::ApiState;

/// Renders every series of the process's registry.
///
/// # Errors
/// 500 when the exposition cannot be encoded.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "The Prometheus text exposition.", content_type = "text/plain", body = String), (status = 500)))]
pub async fn metrics(state: web::Data<ApiState>) -> ApiResult<HttpResponse> {
    let metrics = state.dispatcher.gateway().metrics();
    match model::metrics::queue_depths(&state.db).await {
        Ok(depths) => {
            metrics.set_queue_depths(depths.iter().map(|(station, n)| (station.as_str(), *n)))
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read queue depths"),
    }
    match model::metrics::outbox_lag_ms(&state.db).await {
        Ok(lag) => metrics.set_outbox_lag_ms(lag),
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the outbox lag"),
    }
    let body = metrics
        .render()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
