//! The one API error type and its mapping to the `{ok:false,message,result:null}`
//! envelope and the status codes of CONTRACT §1.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use model::ModelError;
use serde_json::json;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON or not a JSON object, or the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or invalid API key.
    #[error("missing or invalid API key")]
    Unauthorized,
    /// 404: unknown resource or route.
    #[error("{0}")]
    NotFound(String),
    /// 406: the chargestation is offline or inactive.
    #[error("{0}")]
    NotAcceptable(String),
    /// 409: already exists.
    #[error("{0}")]
    Conflict(String),
    /// 422: a field is missing, of the wrong type or out of range; the message names it.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: the chargestation's queue is full.
    #[error("{0}")]
    TooManyRequests(String),
    /// 500: our own fault; details are logged, not shown.
    #[error("internal error")]
    Internal(String),
    /// 503: a dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(String),
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            ModelError::Conflict(message) => ApiError::Conflict(message),
            ModelError::Invalid(message) => ApiError::Unprocessable(message),
            ModelError::QueueFull(message) => ApiError::TooManyRequests(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<dispatcher::DispatchError> for ApiError {
    fn from(e: dispatcher::DispatchError) -> Self {
        use dispatcher::DispatchError as D;
        match e {
            D::NotFound => ApiError::NotFound("chargestation not found".into()),
            D::NotAcceptable(message) => ApiError::NotAcceptable(message),
            D::Invalid(message) => ApiError::Unprocessable(message),
            D::QueueFull(message) => ApiError::TooManyRequests(message),
            D::Model(e) => ApiError::from(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error answering an API call");
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(json!({"ok": false, "message": self.to_string(), "result": null}))
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
