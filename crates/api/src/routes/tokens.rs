//! `/v1.1/tokens` (CONTRACT §9): the idTags Authorize, StartTransaction and
//! StopTransaction answer from. `{id}` is the `_id` or the idTag (case-insensitive).

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use model::time::parse_rfc3339_ms;
use model::tokens::{self, ListFilter, NewToken, TokenPatch, TokenStatus};
use serde_json::Value;

use crate::body::{JsonObject, Query};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

fn status(text: &str, field: &str) -> ApiResult<TokenStatus> {
    TokenStatus::parse(text).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "'{field}' must be Accepted, Blocked, Expired or Invalid"
        ))
    })
}

fn expiry_date(text: &str) -> ApiResult<i64> {
    parse_rfc3339_ms(text).ok_or_else(|| {
        ApiError::Unprocessable(
            "'expiryDate' must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z".into(),
        )
    })
}

/// `Some(None)` when the field is `null` (remove), `Some(Some(_))` when set.
fn nullable<T>(
    body: &JsonObject,
    field: &str,
    read: impl FnOnce(&Value) -> ApiResult<T>,
) -> ApiResult<Option<Option<T>>> {
    match body.raw(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(value) => read(value).map(|v| Some(Some(v))),
    }
}

fn string_of<'a>(value: &'a Value, field: &str) -> ApiResult<&'a str> {
    value
        .as_str()
        .ok_or_else(|| ApiError::Unprocessable(format!("'{field}' must be a string")))
}

fn meta_data(value: &Value) -> ApiResult<Value> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        _ => Err(ApiError::Unprocessable(
            "'meta_data' must be an object".into(),
        )),
    }
}

/// `POST /v1.1/tokens` `{idTag, status?, expiryDate?, parentIdTag?, meta_data?}` → 201.
///
/// # Errors
/// 400, 409 (the idTag exists, in any case), 422 naming the field.
#[utoipa::path(post, path = "/v1.1/tokens", tag = "tokens", request_body = doc::NewToken, responses((status = 201, body = doc::Envelope<doc::Token>), (status = 400), (status = 409), (status = 422)))]
pub async fn create(state: web::Data<ApiState>, body: Bytes) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let new = NewToken {
        id_tag: body.string("idTag")?,
        status: body
            .opt_string("status")?
            .map(|s| status(&s, "status"))
            .transpose()?
            .unwrap_or(TokenStatus::Accepted),
        expiry_date: body
            .opt_string("expiryDate")?
            .map(|d| expiry_date(&d))
            .transpose()?,
        parent_id_tag: body.opt_string("parentIdTag")?,
        meta_data: nullable(&body, "meta_data", meta_data)?.flatten(),
    };
    let token = tokens::create(&state.db, new).await?;
    Ok(envelope::created(
        "Token created",
        token.to_json(state.db.now_ms()),
    ))
}

/// `GET /v1.1/tokens` with `idTag`, `status` and pagination.
///
/// # Errors
/// 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/tokens", tag = "tokens", params(("idTag" = Option<String>, Query, description = "Only this idTag (case-insensitive)."), ("status" = Option<doc::TokenStatus>, Query), doc_params::Pagination), responses((status = 200, body = doc::ListEnvelope<doc::Token>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 422)))]
pub async fn list(state: web::Data<ApiState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = Query::parse(req.query_string());
    let filter = ListFilter {
        id_tag: query.get("idTag").map(str::to_owned),
        status: query
            .get("status")
            .map(|s| status(s, "status"))
            .transpose()?,
    };
    let (items, total) = tokens::list(&state.db, &filter, &query.page()?).await?;
    let now = state.db.now_ms();
    Ok(envelope::list(
        items.iter().map(|t| t.to_json(now)).collect(),
        total,
    ))
}

/// `GET /v1.1/tokens/{id}`.
///
/// # Errors
/// 404.
#[utoipa::path(get, path = "/v1.1/tokens/{id}", tag = "tokens", params(("id" = String, Path, example = "TAG-1", description = "The token's `_id` or its idTag.")), responses((status = 200, body = doc::Envelope<doc::Token>), (status = 404)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let token = tokens::get(&state.db, &id).await?;
    Ok(envelope::ok("Success", token.to_json(state.db.now_ms())))
}

/// `PATCH /v1.1/tokens/{id}` (`status`, `expiryDate`, `parentIdTag`, `meta_data`;
/// `null` removes an optional field).
///
/// # Errors
/// 400, 404, 422 naming the field.
#[utoipa::path(patch, path = "/v1.1/tokens/{id}", tag = "tokens", params(("id" = String, Path, example = "TAG-1", description = "The token's `_id` or its idTag.")), request_body = doc::TokenPatch, responses((status = 200, body = doc::Envelope<doc::Token>), (status = 400), (status = 404), (status = 422)))]
pub async fn patch(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let token = tokens::get(&state.db, &id).await?;
    if body.has("idTag") {
        return Err(ApiError::Unprocessable(
            "'idTag' cannot be changed; create a new token".into(),
        ));
    }
    let patch = TokenPatch {
        status: body
            .opt_string("status")?
            .map(|s| status(&s, "status"))
            .transpose()?,
        expiry_date: nullable(&body, "expiryDate", |v| {
            expiry_date(string_of(v, "expiryDate")?)
        })?,
        parent_id_tag: nullable(&body, "parentIdTag", |v| {
            string_of(v, "parentIdTag").map(str::to_owned)
        })?,
        meta_data: nullable(&body, "meta_data", meta_data)?,
    };
    let updated = tokens::update(&state.db, &token.id, patch).await?;
    Ok(envelope::ok(
        "Token updated",
        updated.to_json(state.db.now_ms()),
    ))
}

/// `DELETE /v1.1/tokens/{id}`.
///
/// # Errors
/// 404.
#[utoipa::path(delete, path = "/v1.1/tokens/{id}", tag = "tokens", params(("id" = String, Path, example = "TAG-1", description = "The token's `_id` or its idTag.")), responses((status = 200, body = doc::Envelope<doc::Token>), (status = 404)))]
pub async fn delete(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let token = tokens::get(&state.db, &id).await?;
    tokens::delete(&state.db, &token.id).await?;
    Ok(envelope::ok(
        "Token deleted",
        token.to_json(state.db.now_ms()),
    ))
}
