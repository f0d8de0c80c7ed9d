//! One log line per API request: method, path (never the query string or headers, so no
//! key can leak), status, latency and peer address. Probes (`/health`, `/ready`,
//! `/metrics`) log at debug, everything else at info.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::Error;

/// Middleware: logs every request once it is answered.
///
/// # Errors
/// The inner service's error, unchanged.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let peer = req.peer_addr();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if matches!(path.as_str(), "/health" | "/ready" | "/metrics") {
        tracing::debug!(%method, path, status, latency_us, peer = ?peer, "api request");
    } else {
        tracing::info!(%method, path, status, latency_us, peer = ?peer, "api request");
    }
    result
}
