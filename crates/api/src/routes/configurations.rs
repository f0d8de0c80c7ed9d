//! Configuration routes (CONTRACT §4): change one key, request an upload, read it with
//! metadata, drift against the desired profile, apply it safely, and reset.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use dispatcher::commands::{change_configuration, get_configuration, reset as reset_command};
use model::chargestations;
use model::config;
use serde_json::{json, Value};

use crate::body::{JsonObject, Query};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi::schemas as doc;
use crate::ApiState;

fn meta_data(body: &JsonObject) -> ApiResult<Option<Value>> {
    match body.raw("meta_data") {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Object(_)) => Ok(Some(value.clone())),
        Some(_) => Err(ApiError::Unprocessable(
            "'meta_data' must be an object".into(),
        )),
    }
}

/// `POST` or `PATCH /v1.1/chargestations/{id}/configurations` `{key, value, meta_data?}`
/// (`?force=true` skips the catalogue checks).
///
/// # Errors
/// 400, 404, 406, 422, 429.
#[utoipa::path(method(post, patch), path = "/v1.1/chargestations/{id}/configurations", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity)."), ("force" = Option<bool>, Query, description = "Skip the catalogue checks.")), request_body = doc::ConfigurationChange, responses((status = 200, description = "The queued ChangeConfiguration.", body = doc::Envelope<doc::Action>), (status = 400), (status = 404), (status = 406), (status = 422), (status = 429)))]
pub async fn change(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let query = Query::parse(req.query_string());
    let force = query.opt_bool("force")?.unwrap_or(false);
    let key = body.string("key")?;
    let value = match body.raw("value") {
        None | Some(Value::Null) => {
            return Err(ApiError::Unprocessable("'value' is required".into()))
        }
        Some(value) => value.clone(),
    };
    let meta = meta_data(&body)?;
    let action =
        change_configuration::queue(&state.dispatcher, &id, &key, &value, meta, force).await?;
    Ok(envelope::ok("", action.to_json()))
}

/// `GET /v1.1/chargestations/{id}/configurations[?key=A&key=B]`: requests an upload.
///
/// # Errors
/// 404, 406, 422, 429.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}/configurations", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity)."), ("key" = Option<Vec<String>>, Query, explode, description = "Keys to read (repeat the parameter); all keys when absent.")), responses((status = 200, description = "The queued GetConfiguration; read the result with `/configurations/details`.", body = doc::Envelope<doc::Action>), (status = 404), (status = 406), (status = 422), (status = 429)))]
pub async fn request_upload(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let keys = Query::parse(req.query_string()).all("key");
    let action = get_configuration::queue(&state.dispatcher, &id, keys, None).await?;
    Ok(envelope::ok("", action.to_json()))
}

/// `GET /v1.1/chargestations/{id}/configurations/details`: the last upload with
/// category, description, desired value and writability (`[]` before any upload).
///
/// # Errors
/// 404.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}/configurations/details", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, description = "The last upload with metadata (`[]` before any).", body = doc::Envelope<Vec<doc::ConfigurationDetail>>), (status = 404)))]
pub async fn details(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    let snapshot = station.configuration.unwrap_or_default();
    let rows = config::details(&snapshot, state.dispatcher.desired_profile());
    Ok(envelope::ok("Success", json!(rows)))
}

/// `GET /v1.1/chargestations/{id}/configurations/drift`: profile keys whose reported
/// value differs from the desired one.
///
/// # Errors
/// 404.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}/configurations/drift", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, description = "Profile keys whose reported value differs from the desired one.", body = doc::Envelope<Vec<doc::DriftItem>>), (status = 404)))]
pub async fn drift(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    let snapshot = station.configuration.unwrap_or_default();
    let items = config::drift(&snapshot, state.dispatcher.desired_profile());
    Ok(envelope::ok("Success", json!(items)))
}

/// `POST /v1.1/chargestations/{id}/configurations/apply_desired`: one queued change per
/// drifted writable key, through the safe queue.
///
/// # Errors
/// 404, 406, 429.
#[utoipa::path(post, path = "/v1.1/chargestations/{id}/configurations/apply_desired", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, description = "One queued change per drifted writable key.", body = doc::Envelope<Vec<doc::Action>>), (status = 404), (status = 406), (status = 429)))]
pub async fn apply_desired(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actions = change_configuration::apply_desired(&state.dispatcher, &id).await?;
    let message = format!("{} change(s) queued", actions.len());
    Ok(envelope::ok(
        &message,
        json!(actions.iter().map(|a| a.to_json()).collect::<Vec<_>>()),
    ))
}

/// `POST /v1.1/chargestations/{id}/reset` `{"type": "Hard"|"Soft"}`.
///
/// # Errors
/// 400, 404, 406, 422, 429.
#[utoipa::path(post, path = "/v1.1/chargestations/{id}/reset", tag = "configurations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), request_body = doc::ResetRequest, responses((status = 200, description = "The queued Reset.", body = doc::Envelope<doc::Action>), (status = 400), (status = 404), (status = 406), (status = 422), (status = 429)))]
pub async fn reset(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let reset_type = body.string("type")?;
    let meta = meta_data(&body)?;
    let action = reset_command::queue(&state.dispatcher, &id, &reset_type, meta).await?;
    Ok(envelope::ok("", action.to_json()))
}
