//! `/v1.1/chargestations`: create, list, get, patch, delete, reset_password (CONTRACT §2).

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use model::chargestations::{
    self, Chargestation, ChargestationPatch, ListFilter, NewChargestation, SecurityType,
};
use serde_json::{json, Value};

use crate::body::{JsonObject, Query};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

fn parse_security_type(text: &str) -> ApiResult<SecurityType> {
    match text {
        "none" => Ok(SecurityType::None),
        "basic_auth" => Ok(SecurityType::BasicAuth),
        "client_certificate" => Ok(SecurityType::ClientCertificate),
        _ => Err(ApiError::Unprocessable(
            "'security.type' must be none, basic_auth or client_certificate".into(),
        )),
    }
}

fn meta_data(body: &JsonObject) -> ApiResult<Option<Option<Value>>> {
    if !body.has("meta_data") {
        return Ok(None);
    }
    match body.raw("meta_data") {
        Some(Value::Null) => Ok(Some(None)),
        Some(value @ Value::Object(_)) => Ok(Some(Some(value.clone()))),
        _ => Err(ApiError::Unprocessable(
            "'meta_data' must be an object".into(),
        )),
    }
}

/// The station's JSON, with `security.password` added when one was just generated.
fn view(state: &ApiState, station: &Chargestation, password: Option<String>) -> Value {
    let mut json = station.to_json(&state.ocpp_base_url);
    if let (Some(password), Some(security)) = (password, json.get_mut("security")) {
        security["password"] = json!(password);
    }
    json
}

/// `POST /v1.1/chargestations`.
///
/// # Errors
/// 400, 409, 422 as CONTRACT §1.
#[utoipa::path(post, path = "/v1.1/chargestations", tag = "chargestations", request_body = doc::NewChargestation, responses((status = 201, description = "Created; `security.password` is shown this once.", body = doc::Envelope<doc::Chargestation>), (status = 400), (status = 409), (status = 422)))]
pub async fn create(state: web::Data<ApiState>, body: Bytes) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let security = body.opt_object("security")?;
    let (security_type, password) = match &security {
        Some(s) => (
            s.opt_string("type")?
                .map(|t| parse_security_type(&t))
                .transpose()?,
            s.opt_string("password")?,
        ),
        None => (None, None),
    };
    if let (None, Some(_)) = (security_type, &password) {
        return Err(ApiError::Unprocessable(
            "'security.type' is required with 'security.password'".into(),
        ));
    }
    let new = NewChargestation {
        endpoint: body.string("endpoint")?,
        protocol: body.opt_string("protocol")?,
        active: body.opt_bool("active")?,
        security_type,
        password,
        meta_data: meta_data(&body)?.flatten(),
        lenient_handshake: body.opt_bool("lenient_handshake")?,
    };
    let (station, generated) = chargestations::create(&state.db, new).await?;
    Ok(envelope::created(
        "Chargestation created",
        view(&state, &station, generated),
    ))
}

/// `GET /v1.1/chargestations` with `online`, `endpoint` and pagination.
///
/// # Errors
/// 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/chargestations", tag = "chargestations", params(("online" = Option<bool>, Query, description = "Only connected (or not connected) stations."), ("endpoint" = Option<String>, Query, description = "Only this endpoint."), doc_params::Pagination), responses((status = 200, body = doc::ListEnvelope<doc::Chargestation>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 422)))]
pub async fn list(state: web::Data<ApiState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = Query::parse(req.query_string());
    let filter = ListFilter {
        online: query.opt_bool("online")?,
        endpoint: query.get("endpoint").map(str::to_owned),
    };
    let page = query.page()?;
    let (stations, total) = chargestations::list(&state.db, &filter, &page).await?;
    let items = stations.iter().map(|s| view(&state, s, None)).collect();
    Ok(envelope::list(items, total))
}

/// `GET /v1.1/chargestations/{id}`.
///
/// # Errors
/// 404 for an unknown station.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}", tag = "chargestations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, body = doc::Envelope<doc::Chargestation>), (status = 404)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    Ok(envelope::ok("Success", view(&state, &station, None)))
}

/// `PATCH /v1.1/chargestations/{id}` (`active`, `meta_data`, `security`).
///
/// # Errors
/// 400, 404, 422.
#[utoipa::path(patch, path = "/v1.1/chargestations/{id}", tag = "chargestations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), request_body = doc::ChargestationPatch, responses((status = 200, body = doc::Envelope<doc::Chargestation>), (status = 400), (status = 404), (status = 422)))]
pub async fn patch(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = JsonObject::parse(&body)?;
    let station = chargestations::get(&state.db, &id).await?;
    let security = body.opt_object("security")?;
    let mut patch = ChargestationPatch {
        active: body.opt_bool("active")?,
        meta_data: meta_data(&body)?,
        lenient_handshake: body.opt_bool("lenient_handshake")?,
        ..Default::default()
    };
    if let Some(security) = security {
        patch.security_type = security
            .opt_string("type")?
            .map(|t| parse_security_type(&t))
            .transpose()?;
        patch.password = security.opt_string("password")?;
    }
    let (updated, generated) = chargestations::update(&state.db, &station.id, patch).await?;
    if !updated.active && station.active {
        state.dispatcher.station_deactivated(&updated.id);
    }
    Ok(envelope::ok(
        "Chargestation updated",
        view(&state, &updated, generated),
    ))
}

/// `DELETE /v1.1/chargestations/{id}`: also closes its connection and cancels its queue.
///
/// # Errors
/// 404 for an unknown station.
#[utoipa::path(delete, path = "/v1.1/chargestations/{id}", tag = "chargestations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, description = "Deleted: its connection is closed and its queue cancelled.", body = doc::Envelope<doc::Chargestation>), (status = 404)))]
pub async fn delete(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    state.dispatcher.station_deleted(&station.id).await?;
    chargestations::delete(&state.db, &station.id).await?;
    Ok(envelope::ok(
        "Chargestation deleted",
        view(&state, &station, None),
    ))
}

/// `PATCH /v1.1/chargestations/{id}/reset_password`: a new generated password, shown once.
///
/// # Errors
/// 404; 422 when the station does not use basic_auth.
#[utoipa::path(patch, path = "/v1.1/chargestations/{id}/reset_password", tag = "chargestations", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity).")), responses((status = 200, description = "A new password, in `security.password`, shown this once.", body = doc::Envelope<doc::Chargestation>), (status = 404), (status = 422)))]
pub async fn reset_password(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    let (updated, password) = chargestations::reset_password(&state.db, &station.id).await?;
    Ok(envelope::ok(
        "Password reset",
        view(&state, &updated, Some(password)),
    ))
}
