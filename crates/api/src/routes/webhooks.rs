//! `/v1.1/webhooks`: endpoints (create, list, get, patch, delete) and their deliveries
//! (list, redeliver) — CONTRACT §5. The secret is shown by create and get only.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use model::webhooks::{self, DeliveryStatus, EndpointPatch, NewEndpoint};
use serde_json::Value;

use crate::body::{JsonObject, Query};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

/// `description`: absent → `None`; `null` → `Some(None)` (remove); a string → set.
fn description(body: &JsonObject) -> ApiResult<Option<Option<String>>> {
    if !body.has("description") {
        return Ok(None);
    }
    match body.raw("description") {
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) if text.chars().count() <= 1000 => Ok(Some(Some(text.clone()))),
        Some(Value::String(_)) => Err(ApiError::Unprocessable(
            "'description' must be at most 1000 characters".into(),
        )),
        _ => Err(ApiError::Unprocessable(
            "'description' must be a string".into(),
        )),
    }
}

/// `POST /v1.1/webhooks` `{url, events?, secret?, description?}` → 201 with the secret.
///
/// # Errors
/// 400 for a body that is not a JSON object; 422 naming a bad field.
#[utoipa::path(post, path = "/v1.1/webhooks", tag = "webhooks", request_body = doc::NewWebhook, responses((status = 201, description = "Created, with its secret.", body = doc::Envelope<doc::Webhook>), (status = 400), (status = 422)))]
pub async fn create(state: web::Data<ApiState>, body: Bytes) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let new = NewEndpoint {
        url: body.string("url")?,
        events: body.opt_string_array("events")?,
        secret: body.opt_string("secret")?,
        description: description(&body)?.flatten(),
    };
    let endpoint = webhooks::create(&state.db, new).await?;
    Ok(envelope::created(
        "Webhook endpoint created",
        endpoint.to_json(true),
    ))
}

/// `GET /v1.1/webhooks` with pagination; secrets are not shown.
///
/// # Errors
/// 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/webhooks", tag = "webhooks", params(doc_params::Pagination), responses((status = 200, body = doc::ListEnvelope<doc::Webhook>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 422)))]
pub async fn list(state: web::Data<ApiState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let page = Query::parse(req.query_string()).page()?;
    let (endpoints, total) = webhooks::list(&state.db, &page).await?;
    let items = endpoints.iter().map(|e| e.to_json(false)).collect();
    Ok(envelope::list(items, total))
}

/// `GET /v1.1/webhooks/{id}`, with the secret.
///
/// # Errors
/// 404 for an unknown endpoint.
#[utoipa::path(get, path = "/v1.1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint's `_id`.")), responses((status = 200, body = doc::Envelope<doc::Webhook>), (status = 404)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let endpoint = webhooks::get(&state.db, &id).await?;
    Ok(envelope::ok("Success", endpoint.to_json(true)))
}

/// `PATCH /v1.1/webhooks/{id}` (`url`, `events`, `active`, `description`). The secret
/// cannot be changed: create a new endpoint to rotate it.
///
/// # Errors
/// 400, 404, 422.
#[utoipa::path(patch, path = "/v1.1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint's `_id`.")), request_body = doc::WebhookPatch, responses((status = 200, body = doc::Envelope<doc::Webhook>), (status = 400), (status = 404), (status = 422)))]
pub async fn patch(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    webhooks::get(&state.db, &id).await?;
    if body.has("secret") {
        return Err(ApiError::Unprocessable(
            "'secret' cannot be changed; create a new endpoint to rotate it".into(),
        ));
    }
    if body.raw("events").is_some_and(Value::is_null) {
        return Err(ApiError::Unprocessable(
            "'events' must be an array of strings".into(),
        ));
    }
    let patch = EndpointPatch {
        url: body.opt_string("url")?,
        events: body.opt_string_array("events")?,
        active: body.opt_bool("active")?,
        description: description(&body)?,
    };
    let endpoint = webhooks::update(&state.db, &id, patch).await?;
    Ok(envelope::ok(
        "Webhook endpoint updated",
        endpoint.to_json(false),
    ))
}

/// `DELETE /v1.1/webhooks/{id}`: the endpoint and its deliveries.
///
/// # Errors
/// 404 for an unknown endpoint.
#[utoipa::path(delete, path = "/v1.1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint's `_id`.")), responses((status = 200, body = doc::Envelope<doc::Webhook>), (status = 404)))]
pub async fn delete(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let endpoint = webhooks::delete(&state.db, &id).await?;
    Ok(envelope::ok(
        "Webhook endpoint deleted",
        endpoint.to_json(false),
    ))
}

/// `GET /v1.1/webhooks/{id}/deliveries`: newest first, pagination, optional `status`.
///
/// # Errors
/// 404 for an unknown endpoint; 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path, description = "The endpoint's `_id`."), ("status" = Option<String>, Query, description = "`pending`, `delivered` or `failed`."), doc_params::Pagination), responses((status = 200, description = "Newest first.", body = doc::ListEnvelope<doc::Delivery>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 404), (status = 422)))]
pub async fn deliveries(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = Query::parse(req.query_string());
    let page = query.page()?;
    let status = query
        .get("status")
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::Unprocessable("'status' must be pending, delivered or failed".into())
            })
        })
        .transpose()?;
    let (items, total) = webhooks::list_deliveries(&state.db, &id, status, &page).await?;
    Ok(envelope::list(
        items.iter().map(webhooks::Delivery::to_json).collect(),
        total,
    ))
}

/// `POST /v1.1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: re-queues the delivery
/// as pending, due now (same event `_id`).
///
/// # Errors
/// 404 for an unknown endpoint or delivery.
#[utoipa::path(post, path = "/v1.1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks", params(("id" = String, Path, description = "The endpoint's `_id`."), ("delivery_id" = String, Path, description = "The delivery's `_id`.")), responses((status = 200, description = "Re-queued as pending, due now.", body = doc::Envelope<doc::Delivery>), (status = 404)))]
pub async fn redeliver(
    state: web::Data<ApiState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = path.into_inner();
    let delivery = webhooks::redeliver(&state.db, &id, &delivery_id).await?;
    Ok(envelope::ok("Delivery re-queued", delivery.to_json()))
}
